//! Whether a script's close asks the viewer to act. Markers are matched on whole words, never
//! inside one (`take` is not in `mistakes`, `постав` not in `поставил`), because fitting keeps
//! the sentence that holds one last: a false match buries the real call to action mid-script.

use super::words::sentences;

/// How a marker must stand in a sentence to count.
enum Marker {
    /// These words, one after another, anywhere: imperative forms and fixed phrases.
    Words(&'static str),
    /// A word starting with this, anywhere: nouns such as `комментариях` or `comments`.
    Stem(&'static str),
    /// This word where a clause starts: English imperatives share their form with other uses
    /// (`like it` against `if you like it`).
    Imperative(&'static str),
}

use Marker::{Imperative, Stem, Words};

const RU: &[Marker] = &[
    Words("подпишись"),
    Words("подпишитесь"),
    Words("подписывайся"),
    Words("подписывайтесь"),
    Words("сохрани"),
    Words("сохраните"),
    Words("сохраняй"),
    Words("сохраняйте"),
    Words("поделись"),
    Words("поделитесь"),
    Words("делись"),
    Words("делитесь"),
    Words("напиши"),
    Words("напишите"),
    Words("пиши"),
    Words("пишите"),
    Words("поставь"),
    Words("поставьте"),
    Words("ставь"),
    Words("ставьте"),
    Words("жми"),
    Words("жмите"),
    Words("нажми"),
    Words("нажмите"),
    Words("перейди"),
    Words("перейдите"),
    Words("переходи"),
    Words("переходите"),
    Words("начни"),
    Words("начните"),
    Words("начинай"),
    Words("начинайте"),
    Words("сделай"),
    Words("сделайте"),
    Words("делай"),
    Words("делайте"),
    Words("попробуй"),
    Words("попробуйте"),
    Words("действуй"),
    Words("действуйте"),
    Words("отправь"),
    Words("отправьте"),
    Words("расскажи"),
    Words("расскажите"),
    Words("присоединяйся"),
    Words("присоединяйтесь"),
    Words("присоединись"),
    Words("присоединитесь"),
    Words("отметь"),
    Words("отметьте"),
    Words("перешли"),
    Words("перешлите"),
    Words("запомни"),
    Words("запомните"),
    Words("вперед"),
    Words("не забудь"),
    Words("не забудьте"),
    Words("не забывай"),
    Words("не забывайте"),
    // Infinitives after `призываю`, `рекомендую` and the like; a bare `сохранить` is left out,
    // as in `сохранять спокойствие`.
    Words("подписаться"),
    Words("подписываться"),
    Words("сохранить это видео"),
    Words("сохранить видео"),
    Stem("коммент"),
    Stem("ссылк"),
    Stem("лайк"),
    Stem("подписк"),
];

const EN: &[Marker] = &[
    Stem("subscrib"),
    Stem("comment"),
    Words("let me know"),
    Words("tell me"),
    Words("don't forget"),
    Words("do not forget"),
    Words("make sure to"),
    Words("link in"),
    Words("link below"),
    Words("in bio"),
    Words("in my bio"),
    Words("be sure to"),
    Words("make sure you"),
    Words("remember to"),
    Words("feel free to"),
    Words("like button"),
    Words("give it a like"),
    Imperative("follow"),
    Imperative("save"),
    Imperative("share"),
    Imperative("like"),
    Imperative("start"),
    Imperative("try"),
    Imperative("click"),
    Imperative("tap"),
    Imperative("hit"),
    Imperative("join"),
    Imperative("check"),
    Imperative("take"),
    Imperative("begin"),
    Imperative("go"),
    Imperative("send"),
    Imperative("write"),
    Imperative("act"),
    Imperative("drop"),
    Imperative("tag"),
    Imperative("do it"),
    Imperative("make it"),
    Imperative("get up"),
];

/// Words after which an English clause starts again: `so start today`, `and follow for more`.
const EN_CLAUSE_OPENERS: &[&str] = &[
    "and", "but", "then", "now", "so", "just", "please", "or", "also",
];

fn markers(language: &str) -> Option<&'static [Marker]> {
    match language.split('-').next().unwrap_or(language) {
        "ru" => Some(RU),
        "en" => Some(EN),
        _ => None,
    }
}

/// A sentence's words, lower-cased (`ё` read as `е`, curly apostrophes as straight ones), each
/// with whether a clause starts at it. Dashes and slashes part words even unspaced
/// (`wait—start`), and start a clause, as a comma, colon or a stop inside the sentence does.
fn clause_words(sentence: &str) -> Vec<(String, bool)> {
    let mut result: Vec<(String, bool)> = Vec::new();
    let mut clause_starts = true;
    let tokens = sentence
        .split_whitespace()
        .flat_map(|token| token.split_inclusive(['—', '–', '/']));
    for token in tokens {
        let word = token
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase()
            .replace('ё', "е")
            .replace('’', "'");
        if word.is_empty() {
            // A lone dash or ellipsis.
            clause_starts = true;
            continue;
        }
        let opener = EN_CLAUSE_OPENERS.contains(&word.as_str());
        result.push((word, clause_starts));
        clause_starts = opener
            || token
                .trim_end_matches(['"', '”', '»', '\'', ')'])
                .ends_with([',', ';', ':', '.', '…', '!', '?', '—', '–', '/']);
    }
    result
}

fn holds(words: &[(String, bool)], marker: &Marker) -> bool {
    let phrase_at = |phrase: &str, at: usize| {
        phrase
            .split(' ')
            .enumerate()
            .all(|(i, part)| words.get(at + i).is_some_and(|(word, _)| word == part))
    };
    (0..words.len()).any(|at| match marker {
        Words(phrase) => phrase_at(phrase, at),
        Stem(stem) => words[at].0.starts_with(stem),
        Imperative(phrase) => words[at].1 && phrase_at(phrase, at),
    })
}

/// Whether `text` asks the viewer to act; `None` for languages without markers.
pub fn in_sentence(text: &str, language: &str) -> Option<bool> {
    let markers = markers(language)?;
    let words = clause_words(text);
    Some(markers.iter().any(|marker| holds(&words, marker)))
}

/// Whether either of the last two sentences of `text` asks the viewer to act; `None` for
/// languages without markers.
pub fn closes(text: &str, language: &str) -> Option<bool> {
    markers(language)?;
    let all = sentences(text);
    Some(
        all[all.len().saturating_sub(2)..]
            .iter()
            .any(|sentence| in_sentence(sentence, language) == Some(true)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imperatives_and_nouns_count_wherever_they_stand() {
        for (sentence, language) in [
            ("Сохрани это видео.", "ru"),
            ("Не забудь подписаться на канал.", "ru"),
            ("Пиши в комментариях, с чего начнёшь.", "ru"),
            ("Подписывайтесь, дальше будет интереснее!", "ru"),
            ("Только вперёд!", "ru"),
            (
                "Save this video, follow for more and start right now.",
                "en",
            ),
            ("Don’t forget to subscribe.", "en"),
            ("Tell me in the comments what you think.", "en"),
            ("So go for it today.", "en"),
            ("Trust yourself — try it tomorrow.", "en"),
            ("Don't wait—start today.", "en"),
            ("Stop waiting… start now.", "en"),
            ("It is hard, but start anyway.", "en"),
            ("Be sure to check the link in my bio.", "en"),
            ("Призываю вас подписаться на канал.", "ru"),
            ("Не забывайте ставить лайки.", "ru"),
            ("Отметь друга, которому это нужно.", "ru"),
        ] {
            assert_eq!(in_sentence(sentence, language), Some(true), "{sentence}");
        }
    }

    #[test]
    fn other_forms_and_words_that_merely_contain_a_marker_do_not() {
        for (sentence, language) in [
            ("Я поставил себе цель и расскажу, как её достиг.", "ru"),
            ("Важно сохранять спокойствие.", "ru"),
            ("If you like it sweeter, add honey.", "en"),
            ("Mistakes are lessons, not failures.", "en"),
            ("This country runs on coffee.", "en"),
            ("Starting is the hardest part.", "en"),
            ("We follow the same recipe every week.", "en"),
            ("Enjoy your day!", "en"),
        ] {
            assert_eq!(in_sentence(sentence, language), Some(false), "{sentence}");
        }
        assert_eq!(in_sentence("Hola, suscríbete.", "es"), None);
    }

    #[test]
    fn only_the_last_two_sentences_close_a_script() {
        assert_eq!(
            closes(
                "Save it. If you like it sweeter, add honey. Enjoy your day!",
                "en"
            ),
            Some(false)
        );
        assert_eq!(
            closes("You can. Follow for more. See you tomorrow.", "en"),
            Some(true)
        );
        assert_eq!(closes("", "ru"), Some(false));
        assert_eq!(closes("Hola.", "es"), None);
    }
}
