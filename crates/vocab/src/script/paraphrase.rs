//! Writing a script one sentence at a time, for models too small to rewrite a whole transcript
//! without copying it: each transcript sentence is said anew, more sentences continue the idea
//! until the length is reached, and a call to action closes. Every sentence a model offers is
//! checked here before it is kept.

use super::{
    call_to_action,
    prompt::language_name,
    words::{alphabet_of, alphabet_share, count_words, five_gram_reuse, normalized_words},
};

/// Words that give away a model talking about its task instead of doing it.
const ABOUT_THE_TASK: &[&str] = &[
    "предложени",
    "перефраз",
    "переформул",
    "переписа",
    "оригинал",
    "sentence",
    "rewrite",
    "rephrase",
    "paraphras",
    "original",
];

/// Words of the requests themselves that a small model echoes before its answer ("Та же мысль
/// другими словами: ..."): a sentence holding one is about the task, not of the script.
const ECHOES: &[&str] = &[
    "другими словами",
    "другие слова",
    "та же мысль",
    "ту же мысль",
    "одним предложением",
    "следующее предложение",
    "этим советом",
    "давайте продолжим",
    "in other words",
    "the same idea",
    "in one sentence",
    "next sentence",
    "this tip",
    "let's continue",
];

/// How an answer may not begin: a preamble, not a sentence of the script.
const PREAMBLES: &[&str] = &[
    "вот",
    "итак",
    "конечно",
    "хорошо",
    "пожалуйста",
    "here",
    "sure",
    "certainly",
    "okay",
];

/// Why a sentence a model offered is not kept, if it is not.
pub fn rejection(
    sentence: &str,
    transcript: &str,
    kept: &[String],
    language: &str,
) -> Option<String> {
    let words = normalized_words(sentence);
    if !(3..=30).contains(&words.len()) {
        return Some(format!("{} words; a sentence has 3 to 30", words.len()));
    }
    if five_gram_reuse(sentence, transcript) > 0.0 {
        return Some("copies five words in a row from the transcript".into());
    }
    let source_sentences: Vec<Vec<String>> = super::words::sentences(transcript)
        .iter()
        .map(|s| normalized_words(s))
        .collect();
    if source_sentences.contains(&words) {
        return Some("repeats a transcript sentence".into());
    }
    // Four words in a row already written: a small model carrying an idea on tends to say
    // the same sentence again with a tail.
    let grams =
        |words: &[String]| -> Vec<String> { words.windows(4).map(|w| w.join(" ")).collect() };
    let written: std::collections::HashSet<String> = kept
        .iter()
        .flat_map(|k| grams(&normalized_words(k)))
        .collect();
    if kept.iter().any(|k| normalized_words(k) == words)
        || grams(&words).iter().any(|gram| written.contains(gram))
    {
        return Some("repeats what is already written".into());
    }
    if words
        .first()
        .is_some_and(|first| PREAMBLES.contains(&first.as_str()))
    {
        return Some("starts like a preamble".into());
    }
    let joined = format!(" {} ", words.join(" "));
    if words
        .iter()
        .any(|word| ABOUT_THE_TASK.iter().any(|stem| word.starts_with(stem)))
        || ECHOES
            .iter()
            .any(|echo| joined.contains(&format!(" {echo} ")))
    {
        return Some("talks about the task".into());
    }
    if let Some(alphabet) = alphabet_of(language) {
        if alphabet_share(sentence, alphabet) < 0.9 {
            return Some(format!("not in {}", language_name(language)));
        }
    }
    if let Some(clause) = super::loops::repeated_clause(sentence, kept, language) {
        return Some(format!("says `{clause}` again"));
    }
    if let Some(unknown) = super::spelling::unknown_words(sentence, transcript, language)
        .filter(|unknown| !unknown.is_empty())
    {
        return Some(format!(
            "uses words that do not exist: {}",
            unknown.join(", ")
        ));
    }
    None
}

/// Whether a closing sentence asks the viewer to act.
pub fn is_call_to_action(sentence: &str, language: &str) -> bool {
    call_to_action::in_sentence(sentence, language) == Some(true)
}

/// The system prompt of every one-sentence request.
pub fn system(language: &str) -> String {
    if language.starts_with("ru") {
        "Ты пишешь текст для короткого вертикального видео. Отвечай одним предложением на русском \
         языке, простыми словами, обращаясь к зрителю на «ты». Без вступлений и пояснений."
            .into()
    } else {
        format!(
            "You write the voiceover of a short vertical video. Answer with one sentence in {}, \
             in plain words, speaking to the viewer as \"you\". No introduction, no explanation.",
            language_name(language)
        )
    }
}

/// Asks for `sentence` said in other words.
pub fn say_again(sentence: &str, language: &str) -> String {
    if language.starts_with("ru") {
        format!("Скажи ту же мысль другими словами, одним предложением: {sentence}")
    } else {
        format!("Say the same idea in other words, in one sentence: {sentence}")
    }
}

/// Asks for one more sentence after `previous`, with something new on `topic` (a sentence of
/// the transcript): told only to take `previous` further, a small model drifts off the reel or
/// says `previous` again in other endings.
pub fn carry_on(previous: &str, topic: &str, language: &str) -> String {
    if language.starts_with("ru") {
        format!(
            "Предыдущее предложение: {previous}\nНапиши следующее предложение: один новый \
             практический совет зрителю на эту тему: {topic}"
        )
    } else {
        format!(
            "Previous sentence: {previous}\nWrite the next sentence: one new practical tip for \
             the viewer on this topic: {topic}"
        )
    }
}

/// Asks for the closing call to action.
pub fn call_to_action(language: &str) -> String {
    if language.starts_with("ru") {
        "Напиши одно короткое предложение, которое призывает зрителя подписаться и сохранить это \
         видео."
            .into()
    } else {
        "Write one short sentence asking the viewer to follow and save this video.".into()
    }
}

/// Words written so far.
pub fn total_words(kept: &[String]) -> usize {
    kept.iter().map(|s| count_words(s)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRANSCRIPT: &str = "Каждое утро я встаю в пять утра и пью воду. Потом я делаю зарядку.";

    #[test]
    fn copies_preambles_and_talk_about_the_task_are_refused() {
        let kept = vec!["Ранний подъём меняет весь день.".to_owned()];
        let reason = |s: &str| rejection(s, TRANSCRIPT, &kept, "ru");
        assert_eq!(reason("Вставай рано и начинай день со стакана воды."), None);
        assert!(reason("Каждое утро я встаю в пять утра и бегу.")
            .unwrap()
            .contains("copies"));
        assert!(reason("Потом я делаю зарядку.")
            .unwrap()
            .contains("repeats a transcript"));
        assert!(reason("Ранний подъём меняет весь день.")
            .unwrap()
            .contains("already written"));
        assert!(reason("Ранний подъём меняет весь день и настроение тоже.")
            .unwrap()
            .contains("already written"));
        assert!(reason("Вот новое утро для тебя сегодня.")
            .unwrap()
            .contains("preamble"));
        assert!(reason("Это предложение звучит иначе теперь.")
            .unwrap()
            .contains("task"));
        // bench/writer's sample of 2026-12-07: the request said back before the answer.
        assert!(
            reason("Та же мысль на другие слова: главное регулярность каждый день.")
                .unwrap()
                .contains("task")
        );
        assert!(reason("О, итак, давайте продолжим с этим советом!")
            .unwrap()
            .contains("task"));
        assert!(reason("Start your morning with water today.")
            .unwrap()
            .contains("Russian"));
        assert!(reason("Да.").unwrap().contains("words"));
        assert_eq!(
            reason("Ты пересталась откладывать мечту на потом.").unwrap(),
            "uses words that do not exist: пересталась"
        );
        let kept = vec!["Нет, ты не сможешь сдаться сегодня.".to_owned()];
        assert!(rejection(
            "Скорее всего, ты не сможешь уснуть.",
            TRANSCRIPT,
            &kept,
            "ru"
        )
        .unwrap()
        .contains("`ты не сможешь` again"));
    }

    #[test]
    fn a_closing_sentence_must_ask_for_action() {
        assert!(is_call_to_action("Подпишись и сохрани это видео.", "ru"));
        assert!(!is_call_to_action("Утро решает всё.", "ru"));
    }
}
