//! Two checks on what a script says rather than how it is shaped: that it does not go round in
//! circles (repeated word 4-grams), and that it is about the reel (it shares the transcript's
//! main content words, compared by crude stems so that `утро` and `утром` match).

use std::collections::HashMap;

use super::words::normalized_words;

/// Above this share of repeated 4-grams a script loops.
pub const MAX_REPETITION: f64 = 0.1;
/// How many of the transcript's most frequent content stems make its topic.
const TOPIC_STEMS: usize = 12;
/// Below this many topic stems a transcript is too short to judge a script by.
const MIN_TOPIC_STEMS: usize = 4;
/// The share of the topic a script must mention, and the fewest stems that may be.
const MIN_SHARED_SHARE: f64 = 0.25;
const MIN_SHARED: usize = 2;

/// The share of the text's word 4-grams that repeat an earlier one.
pub fn repetition(text: &str) -> f64 {
    let words = normalized_words(text);
    let grams: Vec<&[String]> = words.windows(4).collect();
    if grams.is_empty() {
        return 0.0;
    }
    let mut seen = std::collections::HashSet::new();
    let repeated = grams.iter().filter(|gram| !seen.insert(**gram)).count();
    repeated as f64 / grams.len() as f64
}

/// What a script shares of its transcript's topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Grounding {
    /// The transcript's most frequent content stems.
    pub topic: Vec<String>,
    /// Those the script mentions too.
    pub shared: Vec<String>,
}

impl Grounding {
    pub fn of(script: &str, transcript: &str, language: &str) -> Self {
        let topic = topic(transcript, language);
        let mentioned: std::collections::HashSet<String> =
            content_stems(script, language).into_iter().collect();
        let shared = topic
            .iter()
            .filter(|stem| mentioned.contains(*stem))
            .cloned()
            .collect();
        Grounding { topic, shared }
    }

    /// Too short a transcript judges nothing.
    pub fn judged(&self) -> bool {
        self.topic.len() >= MIN_TOPIC_STEMS
    }

    pub fn grounded(&self) -> bool {
        let needed = ((self.topic.len() as f64 * MIN_SHARED_SHARE).ceil() as usize).max(MIN_SHARED);
        !self.judged() || self.shared.len() >= needed
    }
}

/// The transcript's most frequent content stems, ties in order of first use.
fn topic(transcript: &str, language: &str) -> Vec<String> {
    let stems = content_stems(transcript, language);
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for (position, stem) in stems.iter().enumerate() {
        counts.entry(stem).or_insert((0, position)).0 += 1;
    }
    let mut ranked: Vec<(&str, (usize, usize))> = counts.into_iter().collect();
    ranked.sort_by_key(|(_, (count, first))| (std::cmp::Reverse(*count), *first));
    ranked
        .into_iter()
        .take(TOPIC_STEMS)
        .map(|(stem, _)| stem.to_owned())
        .collect()
}

/// Stems of the words that carry meaning: four letters or more, not a function word.
pub(crate) fn content_stems(text: &str, language: &str) -> Vec<String> {
    let english = language.starts_with("en");
    normalized_words(text)
        .into_iter()
        .filter(|word| word.chars().count() >= 4 && word.chars().all(char::is_alphabetic))
        .filter(|word| !STOPWORDS.contains(&word.as_str()))
        .map(|word| stem(&word, english))
        .collect()
}

/// A crude stem: the longest common inflection is cut (keeping three letters), then five
/// letters are kept. It joins most forms of a word (`утро`/`утром`, `зарядка`/`зарядку`,
/// `routine`/`routines`) and sometimes misses, which the grounding threshold allows for.
fn stem(word: &str, english: bool) -> String {
    let suffixes: &[&str] = if english {
        ENGLISH_ENDINGS
    } else {
        RUSSIAN_ENDINGS
    };
    let mut word = word;
    if !english {
        for reflexive in ["ся", "сь"] {
            word = word.strip_suffix(reflexive).unwrap_or(word);
        }
    }
    let cut = suffixes
        .iter()
        .filter_map(|suffix| word.strip_suffix(suffix))
        .filter(|base| base.chars().count() >= 3)
        .min_by_key(|base| base.len());
    cut.unwrap_or(word).chars().take(5).collect()
}

const ENGLISH_ENDINGS: &[&str] = &["ing", "ed", "es", "s", "ly", "e", "er", "est"];

/// Noun, adjective and verb endings, longest first in effect (the shortest stem wins).
const RUSSIAN_ENDINGS: &[&str] = &[
    "ами", "ями", "ого", "его", "ому", "ему", "ыми", "ими", "ых", "их", "ой", "ей", "ий", "ый",
    "ая", "яя", "ое", "ее", "ую", "юю", "ом", "ем", "ам", "ям", "ах", "ях", "ов", "ев", "ать",
    "ять", "ить", "еть", "ешь", "ёшь", "ет", "ёт", "ют", "ут", "ит", "ат", "ят", "ала", "ила",
    "ало", "или", "али", "ел", "ал", "ил", "у", "ю", "а", "я", "о", "е", "ы", "и", "ь", "й",
];

/// Function words of the languages with markers; the rest of a language's words all count.
const STOPWORDS: &[&str] = &[
    // Russian
    "этот",
    "этого",
    "этом",
    "этой",
    "эти",
    "этих",
    "чтобы",
    "когда",
    "который",
    "которые",
    "которая",
    "которое",
    "если",
    "тоже",
    "также",
    "только",
    "очень",
    "может",
    "можно",
    "будет",
    "было",
    "были",
    "быть",
    "есть",
    "свой",
    "своей",
    "свои",
    "своих",
    "себя",
    "себе",
    "тебя",
    "тебе",
    "меня",
    "мной",
    "него",
    "неё",
    "даже",
    "всех",
    "всего",
    "всем",
    "потому",
    "просто",
    "ещё",
    "уже",
    "сейчас",
    "теперь",
    "здесь",
    "там",
    "тут",
    "где",
    "какой",
    "какие",
    "сколько",
    "нужно",
    "надо",
    "хочу",
    "хочешь",
    "делать",
    "сделать",
    "один",
    "одна",
    "одно",
    "каждый",
    "каждое",
    "каждую",
    "каждого",
    "после",
    "перед",
    "через",
    "между",
    "вместо",
    "почему",
    "вот",
    "так",
    "как",
    "что",
    "это",
    // English
    "this",
    "that",
    "with",
    "from",
    "have",
    "your",
    "yours",
    "what",
    "when",
    "will",
    "just",
    "they",
    "them",
    "there",
    "their",
    "about",
    "into",
    "more",
    "than",
    "then",
    "like",
    "also",
    "because",
    "would",
    "could",
    "should",
    "every",
    "each",
    "only",
    "very",
    "really",
    "want",
    "know",
    "make",
    "some",
    "these",
    "those",
    "being",
    "been",
    "were",
    "does",
    "doing",
    "here",
    "where",
    "which",
    "while",
    "after",
    "before",
    "over",
    "even",
    "much",
    "many",
    "most",
    "still",
    "thing",
    "things",
    "going",
    "didn't",
    "don't",
    "it's",
    "you're",
];

#[cfg(test)]
mod tests {
    use super::*;

    const REEL: &str = "Каждое утро я встаю в пять утра. Утром я пью воду, делаю зарядку и \
        планирую день. Привычка вставать рано изменила мою продуктивность. Утренняя зарядка \
        даёт энергию, а план дня убирает хаос.";

    #[test]
    fn a_rewrite_of_the_reel_is_grounded_and_stock_text_is_not() {
        let rewrite = "Ранний подъём меняет всё. Начни утро со стакана воды и короткой \
            зарядки, а потом составь план на день. Такая привычка вернёт энергию и \
            продуктивность. Подпишись, чтобы не пропустить новые идеи.";
        let grounding = Grounding::of(rewrite, REEL, "ru");
        assert!(grounding.judged() && grounding.grounded(), "{grounding:?}");

        let stock = "Ты сильнее, чем думаешь. Каждый шаг приближает к мечте. Не сдавайся, \
            даже когда трудно. Подпишись и сохрани это видео.";
        let grounding = Grounding::of(stock, REEL, "ru");
        assert!(!grounding.grounded(), "{grounding:?}");
    }

    #[test]
    fn a_short_transcript_judges_nothing() {
        let grounding = Grounding::of("Anything at all.", "Hi there.", "en");
        assert!(!grounding.judged() && grounding.grounded());
    }

    #[test]
    fn looping_text_is_repetitive() {
        assert_eq!(repetition("one two three four five six"), 0.0);
        let looping = "you can do it you can do it you can do it you can do it";
        assert!(
            repetition(looping) > MAX_REPETITION,
            "{}",
            repetition(looping)
        );
    }
}
