//! Counting words the same way for every language: a word is a whitespace-separated token with
//! at least one letter or digit. So `кто-то`, `e-mail`, `3-4` and `100%` are one word each, a
//! lone dash or ellipsis is none, and punctuation glued to a word does not change the count.

pub fn count_words(text: &str) -> usize {
    words(text).count()
}

pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
        .filter(|token| token.chars().any(char::is_alphanumeric))
}

/// Lower-cased words without surrounding punctuation (inner hyphens and apostrophes kept).
pub fn normalized_words(text: &str) -> Vec<String> {
    words(text)
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
                .replace('ё', "е")
        })
        .collect()
}

/// Whether `token` (a whitespace-separated word) closes a sentence when `next` follows it, by
/// the rule [`sentences`] splits text with: it ends in a stop (closing quotes and brackets
/// after it allowed), and what follows starts with a capital, a digit, an opening quote or
/// dash, or nothing at all. Word timings (one per word of the script) are cut into sentences
/// with it, so a shot and its sentence's stock search words agree.
pub fn closes_sentence(token: &str, next: Option<&str>) -> bool {
    let stops = token.trim_end_matches(['»', '"', '”', ')']);
    stops.ends_with(['.', '!', '?', '…'])
        && next.and_then(|word| word.chars().next()).is_none_or(|n| {
            n.is_uppercase()
                || n.is_numeric()
                || matches!(n, '«' | '"' | '“' | '—' | '–' | '-' | '(')
        })
}

/// Sentences, each with its closing punctuation; text after the last stop is a sentence too.
/// A stop ends a sentence only before a capital, a digit, an opening quote or dash, or the end,
/// so abbreviations such as `т.е. хвост` stay whole.
pub fn sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut result = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        current.push(c);
        i += 1;
        if !matches!(c, '.' | '!' | '?' | '…') {
            continue;
        }
        // Runs such as `?!` or `...` and closing quotes stay with their sentence.
        while i < chars.len() && matches!(chars[i], '.' | '!' | '?' | '…' | '»' | '"' | '”' | ')')
        {
            current.push(chars[i]);
            i += 1;
        }
        let next_word = chars[i..].iter().find(|c| !c.is_whitespace());
        let at_boundary = i == chars.len()
            || (chars[i].is_whitespace()
                && next_word.is_none_or(|&n| {
                    n.is_uppercase()
                        || n.is_numeric()
                        || matches!(n, '«' | '"' | '“' | '—' | '–' | '-' | '(')
                }));
        if at_boundary {
            let sentence = current.trim();
            if !sentence.is_empty() {
                result.push(sentence.to_owned());
            }
            current.clear();
        }
    }
    let rest = current.trim();
    if !rest.is_empty() {
        result.push(rest.to_owned());
    }
    result
}

/// The share of the script's word 5-grams that also occur in the source: how much of the
/// script was copied rather than rewritten. Scripts shorter than five words reuse nothing.
pub fn five_gram_reuse(script: &str, source: &str) -> f64 {
    use std::collections::HashSet;
    let grams = |text: &str| -> Vec<String> {
        normalized_words(text)
            .windows(5)
            .map(|w| w.join(" "))
            .collect()
    };
    let script_grams = grams(script);
    if script_grams.is_empty() {
        return 0.0;
    }
    let source_grams: HashSet<String> = grams(source).into_iter().collect();
    let reused = script_grams
        .iter()
        .filter(|g| source_grams.contains(*g))
        .count();
    reused as f64 / script_grams.len() as f64
}

/// The writing system a language is written in, as far as the checks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alphabet {
    Cyrillic,
    Latin,
}

pub fn alphabet_of(language: &str) -> Option<Alphabet> {
    let primary = language.split('-').next().unwrap_or(language);
    match primary {
        "ru" | "uk" | "be" | "bg" | "sr" | "mk" | "kk" | "ky" | "tg" | "mn" => {
            Some(Alphabet::Cyrillic)
        }
        "en" | "de" | "fr" | "es" | "it" | "pt" | "nl" | "pl" | "cs" | "sk" | "tr" | "sv"
        | "da" | "no" | "nb" | "fi" | "ro" | "hu" | "hr" | "sl" | "lt" | "lv" | "et" | "id"
        | "ms" | "vi" | "uz" | "az" => Some(Alphabet::Latin),
        _ => None,
    }
}

/// The share of letters written in `alphabet`.
pub fn alphabet_share(text: &str, alphabet: Alphabet) -> f64 {
    let (mut matching, mut letters) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        let is_cyrillic = matches!(c as u32, 0x0400..=0x052F);
        let in_alphabet = match alphabet {
            Alphabet::Cyrillic => is_cyrillic,
            Alphabet::Latin => c.is_ascii_alphabetic() || matches!(c as u32, 0x00C0..=0x024F),
        };
        matching += usize::from(in_alphabet);
    }
    if letters == 0 {
        0.0
    } else {
        matching as f64 / letters as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_close_sentences_where_the_text_splits() {
        for text in [
            "Вставай рано. Делай шаг! Подпишись?",
            "Это т.е. хвост. А это нет.",
            "Wait... what? Yes.",
            "«Вставай!» Сказал он. 3 шага (и всё.) Дальше",
            "Один… Два.",
        ] {
            let tokens: Vec<&str> = text.split_whitespace().collect();
            let closed = tokens
                .iter()
                .enumerate()
                .filter(|(i, token)| closes_sentence(token, tokens.get(i + 1).copied()))
                .count();
            let split = sentences(text).len();
            let open_tail = !closes_sentence(tokens[tokens.len() - 1], None);
            assert_eq!(closed + usize::from(open_tail), split, "{text}");
        }
    }

    #[test]
    fn words_count_alike_in_russian_and_english() {
        let cases = [
            ("Привет, мир!", 2),
            ("Hello, world!", 2),
            ("Кто-то сказал — и всё.", 4),
            ("Someone said — and that's it.", 5),
            ("В 2024 году 100% людей... да!", 6),
            ("In 2024, 100% of people... yes!", 6),
            ("e-mail, 3-4 раза, т. е. ок", 6),
            ("  – — … !!! ", 0),
            ("Слово\nслово\tслово", 3),
        ];
        for (text, expected) in cases {
            assert_eq!(count_words(text), expected, "{text}");
        }
    }

    #[test]
    fn sentences_keep_their_punctuation() {
        assert_eq!(
            sentences("Первое. Второе?! «Третье...» А это т.е. хвост"),
            vec!["Первое.", "Второе?!", "«Третье...»", "А это т.е. хвост"]
        );
    }

    #[test]
    fn reuse_counts_copied_five_grams() {
        let source = "one two three four five six seven eight";
        assert_eq!(five_gram_reuse("One two three, four five!", source), 1.0);
        assert_eq!(
            five_gram_reuse("alpha beta gamma delta epsilon", source),
            0.0
        );
        let half = five_gram_reuse("one two three four five x y z w", source);
        assert!((half - 0.2).abs() < 1e-9, "{half}");
    }

    #[test]
    fn alphabets_are_measured_on_letters_only() {
        assert_eq!(alphabet_share("Привет, 2024!", Alphabet::Cyrillic), 1.0);
        assert_eq!(alphabet_share("Hello, мир", Alphabet::Latin), 5.0 / 8.0);
        assert_eq!(alphabet_of("ru-RU"), Some(Alphabet::Cyrillic));
        assert_eq!(alphabet_of("ja"), None);
    }
}
