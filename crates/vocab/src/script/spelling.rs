//! The spelling gate: every word of a script must be in the language's Hunspell dictionary (the
//! Debian `hunspell-*` packages `scripts/setup` installs, read by `spellbook`) or be one of the
//! reel's own words (names, brands and hashtags the transcript holds). A small model writing
//! Russian invents words (`пересталась`, `могаснуться`) that no other check notices; this one
//! names them. Where no dictionary is installed for a language the gate says so and passes.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    sync::{Arc, Mutex, OnceLock},
};

use spellbook::Dictionary;

use super::{words::words, Check};

/// Where Debian puts Hunspell dictionaries (`hunspell-ru` and `hunspell-en-us` in the first,
/// older and LibreOffice packages in the others).
const DICTIONARY_DIRS: [&str; 3] = [
    "/usr/share/hunspell",
    "/usr/share/myspell/dicts",
    "/usr/share/myspell",
];

/// A language's dictionary and its file name (`ru_RU`).
#[derive(Clone)]
pub struct Speller {
    pub name: String,
    dictionary: Arc<Dictionary>,
}

/// Dictionaries by language, loaded once a process: the Russian one takes a moment to read.
fn loaded() -> &'static Mutex<HashMap<String, Option<Speller>>> {
    static LOADED: OnceLock<Mutex<HashMap<String, Option<Speller>>>> = OnceLock::new();
    LOADED.get_or_init(Mutex::default)
}

/// File names a language's dictionary may have, best first: `en-GB` is `en_GB`, `ru` is
/// `ru_RU`, and English without a region is `en_US`.
fn candidates(language: &str) -> Vec<String> {
    let mut parts = language.split(['-', '_']);
    let primary = parts.next().unwrap_or_default().to_lowercase();
    let mut names = Vec::new();
    if let Some(region) = parts.next() {
        names.push(format!("{primary}_{}", region.to_uppercase()));
    }
    names.push(format!("{primary}_{}", primary.to_uppercase()));
    if primary == "en" {
        names.push("en_US".into());
    }
    names.push(primary);
    names
}

fn load(language: &str) -> Option<Speller> {
    let names = candidates(language);
    let primary = names.last().cloned().unwrap_or_default();
    for dir in DICTIONARY_DIRS.map(Path::new) {
        // The named candidates first, then any regional variant (`de_AT` for `de`).
        let mut found: Vec<String> = names.clone();
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut regional: Vec<String> = entries
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter_map(|file| file.strip_suffix(".dic").map(str::to_owned))
                .filter(|name| name.starts_with(&format!("{primary}_")))
                .collect();
            regional.sort();
            found.extend(regional);
        }
        for name in found {
            let (aff, dic) = (
                dir.join(format!("{name}.aff")),
                dir.join(format!("{name}.dic")),
            );
            let (Ok(aff), Ok(dic)) = (std::fs::read(&aff), std::fs::read(&dic)) else {
                continue;
            };
            // Debian's dictionaries are UTF-8 (`SET UTF-8`); one in a legacy encoding is
            // read as far as it is valid rather than refused.
            let (aff, dic) = (String::from_utf8_lossy(&aff), String::from_utf8_lossy(&dic));
            match Dictionary::new(&aff, &dic) {
                Ok(dictionary) => {
                    return Some(Speller {
                        name,
                        dictionary: Arc::new(dictionary),
                    })
                }
                Err(error) => tracing::warn!(%error, %name, "a Hunspell dictionary did not parse"),
            }
        }
    }
    None
}

/// The dictionary for `language`, if one is installed.
pub fn speller(language: &str) -> Option<Speller> {
    let key = language.to_lowercase();
    let mut loaded = loaded()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    loaded.entry(key).or_insert_with(|| load(language)).clone()
}

/// The words of `text` a dictionary is asked about: letters with inner hyphens and apostrophes,
/// without surrounding punctuation; tokens with digits (`5-й`, `10k`) are not words to spell.
fn spelled(text: &str) -> impl Iterator<Item = &str> {
    words(text)
        .filter(|token| !token.chars().any(|c| c.is_numeric()))
        .flat_map(|token| token.split(|c: char| !(c.is_alphabetic() || "-'’".contains(c))))
        .map(|word| word.trim_matches(|c: char| !c.is_alphabetic()))
        .filter(|word| !word.is_empty())
}

/// How a word is compared with the reel's own words.
fn normal(word: &str) -> String {
    word.to_lowercase().replace('ё', "е").replace('’', "'")
}

impl Speller {
    fn knows(&self, word: &str) -> bool {
        let word = word.replace('’', "'");
        let check = |word: &str| self.dictionary.check(word);
        // Russian dictionaries often spell `е` for `ё`; a hyphenated compound is known when
        // each of its parts is.
        check(&word)
            || (word.contains(['ё', 'Ё']) && check(&word.replace('ё', "е").replace('Ё', "Е")))
            || (word.contains('-')
                && word
                    .split('-')
                    .all(|part| !part.is_empty() && (check(part) || check(&part.to_lowercase()))))
    }

    /// The words of `text` neither in the dictionary nor among `known`'s words, each once, in
    /// order of use.
    pub fn unknown(&self, text: &str, known: &str) -> Vec<String> {
        let known: HashSet<String> = spelled(known).map(normal).collect();
        let mut unknown: Vec<String> = Vec::new();
        for word in spelled(text) {
            let normalized = normal(word);
            if known.contains(&normalized) || unknown.iter().any(|u| normal(u) == normalized) {
                continue;
            }
            if !self.knows(word) {
                unknown.push(word.to_owned());
            }
        }
        unknown
    }
}

/// The words of `text` that are not words of `language`, the transcript's own words allowed;
/// none when no dictionary is installed for the language.
pub fn unknown_words(text: &str, transcript: &str, language: &str) -> Option<Vec<String>> {
    speller(language).map(|speller| speller.unknown(text, transcript))
}

/// The `spelling` check of a whole script.
pub fn check(text: &str, transcript: &str, language: &str) -> Check {
    let (passed, detail) = match speller(language) {
        None => (
            true,
            format!("not checked: no Hunspell dictionary installed for `{language}`"),
        ),
        Some(speller) => {
            let unknown = speller.unknown(text, transcript);
            if unknown.is_empty() {
                (
                    true,
                    format!(
                        "every word is in the {} dictionary or the transcript",
                        speller.name
                    ),
                )
            } else {
                (
                    false,
                    format!(
                        "not in the {} dictionary nor the transcript: {}",
                        speller.name,
                        unknown.join(", ")
                    ),
                )
            }
        }
    };
    Check {
        name: crate::domain::read_model::CheckName::Spelling.to_string(),
        passed,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The end of the demo's script in issue #33: bad grammar, but every word exists.
    const DEMO: &str = "Это возможность сделать что-то новое и отличное. Сделай это чтобы не \
        забудь. Если вы не имеют необходимых материалов или не собирайте их, вы не сможете \
        выполнять свою цель. Нет, вы не сможете. Скорее всего, вы не сможете. Мне кажется, вы \
        не сможете.";
    /// `bench/writer`'s Russian sample in issue #33, with four invented words.
    const BENCH: &str = "Я не мог спать и просыпался уставшим. Я прекратил просмотреть телевизор \
        в течение часа до сна. Но я иду, иду. В комнате стало холодно и темно. Я закупил плотные \
        шторы. Кофе до обеда только кью. В течение двух недель я заснула сам, без будильника и \
        энергии. Я пересталась спать, игнорируя будильник и энергию. Я не могаснуться, не \
        откликаясь на сигналы природы. Я не могу было неоткликнуться на сигналы природы. Я знал, \
        что что-то происходит, но не могу было этого неслышно. Я понимал, что что-то меняется, \
        но не могу не дать знать о нем. Сохраняй это видео, чтобы оно было доступно тебе.";

    /// The dictionaries `scripts/setup` installs; the tests say so plainly when they are missing.
    fn russian() -> Speller {
        speller("ru").expect("the Russian Hunspell dictionary (hunspell-ru; run scripts/setup)")
    }

    #[test]
    fn exactly_the_invented_words_are_flagged() {
        let speller = russian();
        assert_eq!(speller.name, "ru_RU");
        assert_eq!(speller.unknown(DEMO, ""), Vec::<String>::new());
        assert_eq!(
            speller.unknown(BENCH, ""),
            ["кью", "пересталась", "могаснуться", "неоткликнуться"]
        );
        let failed = check(BENCH, "", "ru");
        assert!(!failed.passed);
        assert!(failed
            .detail
            .ends_with("кью, пересталась, могаснуться, неоткликнуться"));
        assert!(check(DEMO, "", "ru").passed);
    }

    #[test]
    fn names_and_hashtags_of_the_transcript_are_known_words() {
        let speller = russian();
        let script = "Подпишись на Кирюху из Гимпульса и смотри #утрокачалка каждый день.";
        assert_eq!(
            speller.unknown(script, ""),
            ["Кирюху", "Гимпульса", "утрокачалка"]
        );
        let transcript = "Привет, это Кирюха из гимпульса. #утрокачалка #Спорт";
        // `Кирюху` is another form of the transcript's name: only its exact words are known.
        assert_eq!(speller.unknown(script, transcript), ["Кирюху"]);
        // ё for е, capitals and hyphenated compounds are words like any other.
        assert_eq!(
            speller.unknown("Ещё раз: Всё-таки ЗАРЯДКА по-русски, 5-й день.", ""),
            Vec::<String>::new()
        );
    }

    #[test]
    fn english_has_its_dictionary_and_other_languages_are_not_checked() {
        let english = speller("en").expect("hunspell-en-us; run scripts/setup");
        assert_eq!(english.name, "en_US");
        assert_eq!(
            english.unknown(
                "Don't skip breakfast, it's well-known advice. Wakeupness!",
                ""
            ),
            ["Wakeupness"]
        );
        let unchecked = check("何でも", "", "ja");
        assert!(unchecked.passed && unchecked.detail.starts_with("not checked"));
        assert_eq!(unknown_words("何でも", "", "ja"), None);
        assert_eq!(candidates("en-GB"), ["en_GB", "en_EN", "en_US", "en"]);
    }
}
