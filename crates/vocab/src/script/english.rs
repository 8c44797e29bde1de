//! The prompts of writing through English: a small model writes English well and Russian
//! poorly, so the transcript is put into English, the script written there sentence by
//! sentence (`paraphrase`), and each sentence put back into the script's language, where the
//! same gates as any sentence (spelling, loops, copying) decide whether it is kept.

use super::prompt::language_name;

/// The language the script is drafted in.
pub const ENGLISH: &str = "en";

/// Whether a script in `language` needs no way through English: it is English.
pub fn is_english(language: &str) -> bool {
    language.split(['-', '_']).next() == Some(ENGLISH)
}

/// The system prompt that puts a transcript into English.
pub fn to_english(language: &str) -> String {
    format!(
        "You translate the transcript of a short video from {} into plain English. Keep every \
         idea and name, sentence by sentence. Answer with the translation only.",
        language_name(language)
    )
}

/// The system prompt that puts one English sentence into `language`.
pub fn back_system(language: &str) -> String {
    if language.starts_with("ru") {
        "Ты переводишь текст короткого видео с английского языка на русский. Переводи одно \
         предложение грамотно и естественно, простыми словами, обращаясь к зрителю на «ты». \
         Отвечай только переводом."
            .into()
    } else {
        format!(
            "You translate the voiceover of a short video from English into {}. Translate one \
             sentence correctly and naturally, in plain words, speaking to the viewer as \"you\". \
             Answer with the translation only.",
            language_name(language)
        )
    }
}

/// Asks for `sentence` in `language`.
pub fn back(sentence: &str, language: &str) -> String {
    if language.starts_with("ru") {
        format!("Переведи на русский язык: {sentence}")
    } else {
        format!("Translate into {}: {sentence}", language_name(language))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_english_is_written_directly() {
        assert!(is_english("en") && is_english("en-GB") && !is_english("ru"));
        assert!(back("Wake up early.", "ru").ends_with(": Wake up early."));
        assert!(to_english("ru").contains("from Russian into plain English"));
    }
}
