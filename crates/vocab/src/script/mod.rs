//! What makes a script acceptable, independent of who wrote it: cleaning (emoji, markdown,
//! preambles), the quality checks, deterministic fitting at sentence boundaries, the offline
//! fallback writer and the prompts sent to language models.

pub mod call_to_action;
pub mod emoji;
pub mod english;
pub mod fallback;
pub mod grammar;
pub mod grounding;
pub mod loops;
pub mod paraphrase;
pub mod prompt;
pub mod spelling;
pub mod words;

use serde::{Deserialize, Serialize};

use crate::domain::{project::WordRange, read_model::CheckName};
use words::{alphabet_of, alphabet_share, count_words, five_gram_reuse, sentences};

/// What a script must satisfy.
#[derive(Debug, Clone)]
pub struct Contract {
    pub language: String,
    pub words: WordRange,
    /// Highest share of the script's word 5-grams that may come from the transcript.
    pub max_reuse: f64,
}

/// One quality check of a script and its result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Check {
    #[schema(value_type = crate::domain::read_model::CheckName, example = "word_count")]
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

crate::domain::text_enum! {
    /// Who wrote a script: a model, a model's draft brought into range by fitting, the offline
    /// fallback writer (stock sentences), or a person (a hand edit).
    ScriptWriter { Model => "model", Fitted => "fitted", Fallback => "fallback", Edited => "edited" }
}

/// A script resource's output (step 4): the text and everything needed to trust or reproduce it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScriptOutput {
    pub text: String,
    pub word_count: usize,
    pub estimated_seconds: f64,
    pub language: String,
    /// The transcript's language, when the script is a translation.
    pub source_language: Option<String>,
    pub model: String,
    pub writer: ScriptWriter,
    /// How the model wrote it (none for the fallback writer and hand edits).
    #[serde(default)]
    pub strategy: Option<crate::domain::project::WriterStrategy>,
    pub prompt: PromptRecord,
    pub attempts: Vec<Attempt>,
    pub checks: Vec<Check>,
    /// What deterministic fitting changed, if it ran.
    pub fitted: Vec<String>,
    /// Why a fallback path was taken (the model to the offline writer).
    pub fallbacks: Vec<FallbackRecord>,
    pub usage: crate::domain::output::TokenUsage,
    /// A person should read this script before it is voiced: it was not written from the reel
    /// by a model (the fallback writer, stock sentences added by fitting), or it is not about
    /// the reel, or it fails a check. `review_reasons` says why.
    #[serde(default)]
    pub needs_review: bool,
    #[serde(default)]
    pub review_reasons: Vec<String>,
    /// Words of the script the writer chose to stress (about one a sentence); the local
    /// composer's subtitles draw them in the emphasis colour.
    #[serde(default)]
    pub key_words: Vec<String>,
    /// English search words for stock B-roll, one list (of up to three) per sentence, chosen
    /// by the writer when a stock library is configured; the local composer searches Pexels or
    /// Pixabay with them.
    #[serde(default)]
    #[schema(example = json!([["sunrise", "city"], ["running"]]))]
    pub broll_keywords: Vec<Vec<String>>,
}

impl ScriptOutput {
    /// Sets `needs_review` and its reasons from the writer, the fitting and the checks.
    pub fn assess(&mut self) {
        let mut reasons = Vec::new();
        if self.writer == ScriptWriter::Fallback {
            reasons.push(
                "written by the offline fallback writer from stock sentences, not rewritten from the reel"
                    .to_owned(),
            );
        }
        let stock: Vec<&String> = self
            .fitted
            .iter()
            .filter(|action| !action.starts_with(DROPPED))
            .collect();
        if !stock.is_empty() {
            reasons.push(format!(
                "fitted with stock text: {}",
                stock
                    .iter()
                    .map(|action| action.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        for check in self.checks.iter().filter(|check| !check.passed) {
            reasons.push(match check.name.as_str() {
                "grounded" => format!("not about the reel: {}", check.detail),
                name => format!("fails `{name}`: {}", check.detail),
            });
        }
        self.needs_review = !reasons.is_empty();
        self.review_reasons = reasons;
    }
}

/// How a fitting action that only removed the model's own words begins.
const DROPPED: &str = "dropped the sentence";

/// The exact prompt the last model call was given.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PromptRecord {
    pub system: String,
    pub user: String,
}

/// One draft a model wrote.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attempt {
    pub number: u32,
    pub provider: String,
    pub model: String,
    pub word_count: usize,
    /// The answer was cut off at the token limit, so it was never accepted.
    pub cut_off: bool,
    /// The checks this draft failed (and `complete` when it was cut off).
    pub failed: Vec<String>,
}

/// A fallback path taken, from which writer to which, and why.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FallbackRecord {
    pub from: String,
    pub to: String,
    pub reason: String,
}

/// Minimum share of letters in the language's alphabet.
const MIN_ALPHABET_SHARE: f64 = 0.8;

/// Words that open a model's chatter rather than the script.
const PREAMBLES: &[&str] = &[
    "here is",
    "here's",
    "sure",
    "certainly",
    "of course",
    "script:",
    "вот ",
    "конечно",
    "сценарий:",
    "текст:",
    "разумеется",
];

/// Removes emoji, markdown, hashtags, headings, preambles and quotes around the whole text;
/// answers the clean text and what was removed, for the record.
pub fn clean(text: &str) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let (text, emoji) = emoji::strip_emoji(text);
    if emoji > 0 {
        notes.push(format!("removed {emoji} emoji characters"));
    }
    let mut lines: Vec<String> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        let lower = trimmed.to_lowercase();
        let is_preamble = index == 0
            && (trimmed.ends_with(':') || PREAMBLES.iter().any(|p| lower.starts_with(p)))
            && count_words(trimmed) <= 12
            && text.lines().count() > 1;
        if is_preamble {
            notes.push(format!("removed the preamble `{trimmed}`"));
            continue;
        }
        if trimmed.starts_with('#') && trimmed.trim_start_matches('#').starts_with(' ') {
            notes.push("removed a heading".into());
            continue;
        }
        let without_marks = trimmed
            .trim_start_matches(['>', '-', '•', '*'])
            .trim_start()
            .replace("**", "")
            .replace("__", "")
            .replace('`', "");
        if without_marks != trimmed {
            notes.push("removed markdown".into());
        }
        lines.push(without_marks);
    }
    let joined = lines.join(" ");
    let mut kept: Vec<&str> = Vec::new();
    let mut hashtags = 0;
    for token in joined.split_whitespace() {
        let is_hashtag =
            token.starts_with('#') && token[1..].chars().next().is_some_and(char::is_alphanumeric);
        if is_hashtag {
            hashtags += 1;
        } else {
            kept.push(token);
        }
    }
    if hashtags > 0 {
        notes.push(format!("removed {hashtags} hashtags"));
    }
    let joined = kept.join(" ");
    // Fences and triple quotes that models echo from prompts.
    let mut result = ["```", "\"\"\"", "'''"]
        .iter()
        .fold(joined.clone(), |text, fence| text.replace(fence, " "))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if result != joined {
        notes.push("removed fences or triple quotes".into());
    }
    for (open, close) in [('"', '"'), ('«', '»'), ('“', '”'), ('\'', '\'')] {
        let inner = result
            .strip_prefix(open)
            .and_then(|rest| rest.strip_suffix(close));
        if let Some(inner) = inner.filter(|inner| !inner.contains(close)) {
            result = inner.trim().to_owned();
            notes.push("removed quotes around the text".into());
        }
    }
    notes.dedup();
    (result, notes)
}

/// Every check on a clean script. `removed` are the notes of [`clean`].
pub fn evaluate(
    text: &str,
    removed: &[String],
    transcript: &str,
    contract: &Contract,
) -> Vec<Check> {
    let words = count_words(text);
    let WordRange { min, max } = contract.words;
    let mut checks = vec![
        Check {
            name: CheckName::CleanText.to_string(),
            passed: !text.is_empty() && emoji::strip_emoji(text).1 == 0,
            detail: if removed.is_empty() {
                "no emoji, markdown, hashtags or preamble".into()
            } else {
                removed.join("; ")
            },
        },
        Check {
            name: CheckName::WordCount.to_string(),
            passed: (min as usize..=max as usize).contains(&words),
            detail: format!("{words} words; the range is {min}-{max}"),
        },
    ];
    checks.push(match call_to_action::closes(text, &contract.language) {
        Some(found) => Check {
            name: CheckName::CallToAction.to_string(),
            passed: found,
            detail: if found {
                "the script ends with a call to action".into()
            } else {
                "no call to action in the last two sentences".into()
            },
        },
        None => Check {
            name: CheckName::CallToAction.to_string(),
            passed: true,
            detail: format!("not checked: no markers for `{}`", contract.language),
        },
    });
    let reuse = five_gram_reuse(text, transcript);
    checks.push(Check {
        name: CheckName::NotACopy.to_string(),
        passed: reuse < contract.max_reuse,
        detail: format!(
            "{:.0}% of the script's word 5-grams come from the transcript (limit {:.0}%)",
            reuse * 100.0,
            contract.max_reuse * 100.0
        ),
    });
    let repeated = grounding::repetition(text);
    checks.push(Check {
        name: CheckName::Repetition.to_string(),
        passed: repeated <= grounding::MAX_REPETITION,
        detail: format!(
            "{:.0}% of the word 4-grams repeat an earlier one (limit {:.0}%)",
            repeated * 100.0,
            grounding::MAX_REPETITION * 100.0
        ),
    });
    checks.push(loops::check(text, &contract.language));
    checks.push(spelling::check(text, transcript, &contract.language));
    let topic = grounding::Grounding::of(text, transcript, &contract.language);
    checks.push(Check {
        name: CheckName::Grounded.to_string(),
        passed: topic.grounded(),
        detail: if topic.judged() {
            format!(
                "mentions {} of the reel's {} main words ({}){}",
                topic.shared.len(),
                topic.topic.len(),
                topic.topic.join(", "),
                if topic.shared.is_empty() {
                    String::new()
                } else {
                    format!("; shared: {}", topic.shared.join(", "))
                }
            )
        } else {
            "not judged: the transcript is too short".into()
        },
    });
    checks.push(match alphabet_of(&contract.language) {
        Some(alphabet) => {
            let share = alphabet_share(text, alphabet);
            Check {
                name: CheckName::Language.to_string(),
                passed: share >= MIN_ALPHABET_SHARE,
                detail: format!(
                    "{:.0}% of letters are {alphabet:?} as `{}` needs (at least {:.0}%)",
                    share * 100.0,
                    contract.language,
                    MIN_ALPHABET_SHARE * 100.0
                ),
            }
        }
        None => Check {
            name: CheckName::Language.to_string(),
            passed: true,
            detail: format!("not checked for `{}`", contract.language),
        },
    });
    checks
}

/// Checks that flag a script for review rather than reject it: a model's script that is not
/// about the reel is still better than stock text that is not either.
pub const ADVISORY: [&str; 1] = ["grounded"];

/// Whether a draft can be accepted: every check passed but the advisory ones.
pub fn acceptable(checks: &[Check]) -> bool {
    checks
        .iter()
        .all(|c| c.passed || ADVISORY.contains(&c.name.as_str()))
}

pub fn failed(checks: &[Check], name: &str) -> bool {
    checks.iter().any(|c| c.name == name && !c.passed)
}

/// Where the closing call to action starts: the earlier of the last two sentences that holds
/// one, else the last sentence. Fitting keeps everything from there on last.
fn closing_at(parts: &[String], language: &str) -> usize {
    let last = parts.len().saturating_sub(1);
    (last.saturating_sub(1)..=last)
        .find(|&i| call_to_action::in_sentence(&parts[i], language) == Some(true))
        .unwrap_or(last)
}

/// Brings a script into the word range without cutting a sentence: drops middle sentences when
/// too long, adds stock sentences before the closing call to action when too short, and appends
/// a call to action when it lacks one. Answers `None` when that cannot work (no sentences to
/// drop, or no stock sentences for the language).
pub fn fit(text: &str, contract: &Contract) -> Option<(String, Vec<String>)> {
    let WordRange { min, max } = contract.words;
    let (min, max) = (min as usize, max as usize);
    let mut parts = sentences(text);
    let mut actions = Vec::new();
    if call_to_action::closes(text, &contract.language) == Some(false) {
        parts.push(fallback::call_to_action(&contract.language)?.to_owned());
        actions.push("appended a call to action".to_owned());
    }
    let total = |parts: &[String]| parts.iter().map(|s| count_words(s)).sum::<usize>();
    let target = (min + max) / 2;
    while total(&parts) > max {
        let closing = closing_at(&parts, &contract.language);
        if closing <= 1 {
            return None;
        }
        let words = total(&parts);
        // The middle sentence whose removal lands nearest the target, staying above the minimum
        // when any can.
        let pick = (1..closing)
            .min_by_key(|&i| {
                let left = words - count_words(&parts[i]);
                (left < min, left.abs_diff(target))
            })
            .expect("there is a middle sentence");
        let dropped = parts.remove(pick);
        actions.push(format!("{DROPPED} `{dropped}`"));
    }
    let mut stock = fallback::stock_sentences(&contract.language)
        .unwrap_or_default()
        .iter()
        .filter(|s| !parts.iter().any(|p| p == *s))
        .collect::<Vec<_>>();
    while total(&parts) < min {
        let missing = target - total(&parts).min(target);
        let room = max - total(&parts);
        let position = stock
            .iter()
            .enumerate()
            .filter(|(_, s)| count_words(s) <= room)
            .min_by_key(|(_, s)| count_words(s).abs_diff(missing))
            .map(|(i, _)| i)?;
        let sentence = stock.remove(position);
        let at = closing_at(&parts, &contract.language);
        parts.insert(at, sentence.to_string());
        actions.push(format!("added the sentence `{sentence}`"));
    }
    Some((parts.join(" "), actions))
}

/// Seconds a script takes to speak at `words_per_minute`.
pub fn spoken_seconds(text: &str, words_per_minute: f64) -> f64 {
    let seconds = count_words(text) as f64 * 60.0 / words_per_minute.max(1.0);
    (seconds * 10.0).round() / 10.0
}

/// The most words a script stresses.
const MAX_KEY_WORDS: usize = 8;

/// The key words of `text` among `chosen`, as the text spells them: each at most once, at most
/// one a sentence (and eight in all); words the text does not hold are dropped.
pub fn keep_key_words<'a>(chosen: impl IntoIterator<Item = &'a str>, text: &str) -> Vec<String> {
    let limit = sentences(text).len().clamp(1, MAX_KEY_WORDS);
    let spelled: Vec<(String, &str)> = words::words(text)
        .map(|word| {
            let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
            (bare.to_lowercase().replace('ё', "е"), bare)
        })
        .collect();
    let mut kept: Vec<String> = Vec::new();
    for choice in chosen {
        let wanted = choice
            .trim()
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase()
            .replace('ё', "е");
        if let Some((_, as_written)) = spelled.iter().find(|(normal, _)| *normal == wanted) {
            if !kept
                .iter()
                .any(|k| k.to_lowercase() == as_written.to_lowercase())
            {
                kept.push((*as_written).to_owned());
            }
        }
        if kept.len() == limit {
            break;
        }
    }
    kept
}

/// Search terms per sentence, and the longest term.
pub const MAX_SEARCH_TERMS: usize = 3;
const MAX_SEARCH_TERM_CHARS: usize = 40;

/// A stock search term as the libraries take it: English letters and single spaces, lowercased;
/// none for anything else.
pub fn search_term(term: &str) -> Option<String> {
    let term = term
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    (!term.is_empty()
        && term.len() <= MAX_SEARCH_TERM_CHARS
        && term.chars().all(|c| c.is_ascii_lowercase() || c == ' '))
    .then_some(term)
}

/// The writer's search words kept for `text`: at most one list per sentence, each of at most
/// three valid terms.
pub fn keep_broll_keywords(lists: &[Vec<String>], text: &str) -> Vec<Vec<String>> {
    lists
        .iter()
        .take(sentences(text).len())
        .map(|terms| {
            let mut kept: Vec<String> = Vec::new();
            for term in terms.iter().filter_map(|term| search_term(term)) {
                if !kept.contains(&term) && kept.len() < MAX_SEARCH_TERMS {
                    kept.push(term);
                }
            }
            kept
        })
        .collect()
}

/// What a writer's JSON answer (`{"key_words": [...], "broll_keywords": [[...], ...]}`) chose
/// for `text`: the words to stress and, when asked for, the stock search words per sentence.
/// Each field is read on its own: a server that ignored the schema and shaped one field wrongly
/// costs that field only.
pub fn visuals_in(answer: &str, text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let Ok(answer) = serde_json::from_str::<serde_json::Value>(answer.trim()) else {
        return Default::default();
    };
    let strings = |value: &serde_json::Value| -> Vec<String> {
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let key_words = strings(&answer["key_words"]);
    let broll: Vec<Vec<String>> = answer["broll_keywords"]
        .as_array()
        .map(|lists| lists.iter().map(strings).collect())
        .unwrap_or_default();
    (
        keep_key_words(key_words.iter().map(String::as_str), text),
        keep_broll_keywords(&broll, text),
    )
}

/// The search words of `old_text`'s sentences carried to `new_text`: a sentence the edit left
/// as it was keeps its words; a new or changed one has none until they are given.
pub fn carry_broll_keywords(
    lists: &[Vec<String>],
    old_text: &str,
    new_text: &str,
) -> Vec<Vec<String>> {
    let old = sentences(old_text);
    let carried: Vec<Vec<String>> = sentences(new_text)
        .iter()
        .map(|sentence| {
            old.iter()
                .position(|before| before == sentence)
                .and_then(|index| lists.get(index).cloned())
                .unwrap_or_default()
        })
        .collect();
    if carried.iter().all(Vec::is_empty) {
        Vec::new()
    } else {
        carried
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_words_are_the_scripts_own_one_a_sentence() {
        let text = "Каждое утро решает всё. Встань раньше!";
        assert_eq!(
            visuals_in(
                r#"{"key_words": ["утро", "УТРО", "кофе", "раньше", "решает"]}"#,
                text
            ),
            (vec!["утро".to_owned(), "раньше".to_owned()], Vec::new())
        );
        assert_eq!(visuals_in("не JSON", text), (Vec::new(), Vec::new()));
    }

    #[test]
    fn search_words_are_short_english_terms_one_list_a_sentence() {
        let text = "Каждое утро решает всё. Встань раньше!";
        let (_, broll) = visuals_in(
            r#"{"key_words": [], "broll_keywords": [["Sunrise", "city  run", "утро", "sunrise", "coffee", "extra"], ["alarm clock"], ["third"]]}"#,
            text,
        );
        assert_eq!(
            broll,
            [vec!["sunrise", "city run", "coffee"], vec!["alarm clock"]]
        );
        // A wrongly shaped field costs only itself.
        assert_eq!(
            visuals_in(
                r#"{"key_words": ["утро"], "broll_keywords": ["sunrise", ["alarm"]]}"#,
                text
            ),
            (
                vec!["утро".to_owned()],
                vec![vec![], vec!["alarm".to_owned()]]
            )
        );
        // An edit keeps the words of the sentences it left alone.
        let lists = vec![vec!["sunrise".to_owned()], vec!["alarm".to_owned()]];
        assert_eq!(
            carry_broll_keywords(&lists, text, "Новое начало. Встань раньше!"),
            [vec![], vec!["alarm".to_owned()]]
        );
        assert!(carry_broll_keywords(&lists, text, "Всё другое.").is_empty());
        assert_eq!(search_term("  Ocean   Waves "), Some("ocean waves".into()));
        assert_eq!(search_term("café"), None);
        assert_eq!(search_term(&"a".repeat(41)), None);
    }

    fn contract(language: &str, min: u32, max: u32) -> Contract {
        Contract {
            language: language.into(),
            words: WordRange { min, max },
            max_reuse: 0.2,
        }
    }

    #[test]
    fn model_chatter_is_cleaned_away() {
        let (text, notes) = clean(
            "Here is your script:\n# Утро\n**Вставай** рано 🌅 и действуй! #мотивация #утро\n> Подпишись.",
        );
        assert_eq!(text, "Вставай рано и действуй! Подпишись.");
        assert!(notes.len() >= 4, "{notes:?}");
        assert_eq!(clean("«Просто текст.»").0, "Просто текст.");
        assert_eq!(
            clean("\"\"\" Вечером. Подпишись. \"\"\"").0,
            "Вечером. Подпишись."
        );
        assert_eq!(clean("Plain words, nothing else.").1, Vec::<String>::new());
    }

    #[test]
    fn checks_report_each_failure() {
        let transcript = "раз два три четыре пять шесть семь восемь девять десять";
        let copied = "Раз два три четыре пять шесть. Подпишись на канал.";
        let checks = evaluate(copied, &[], transcript, &contract("ru", 5, 20));
        assert!(failed(&checks, "not_a_copy"), "{checks:?}");
        assert!(!failed(&checks, "call_to_action"));
        let english = evaluate(
            "Just do your best every day.",
            &[],
            transcript,
            &contract("ru", 5, 20),
        );
        assert!(failed(&english, "language") && failed(&english, "call_to_action"));
    }

    #[test]
    fn fitting_keeps_whole_sentences() {
        let long = "Первое предложение здесь. Второе длинное предложение про цель и мечту. \
                    Третье предложение про упорство. Четвёртое про отдых. Подпишись и сохрани.";
        let (fitted, actions) = fit(long, &contract("ru", 8, 12)).unwrap();
        let n = count_words(&fitted);
        assert!((8..=12).contains(&n), "{n}: {fitted}");
        assert!(fitted.starts_with("Первое") && fitted.ends_with("Подпишись и сохрани."));
        assert!(sentences(&fitted).iter().all(|s| long.contains(s.as_str())));
        assert!(!actions.is_empty());

        let short = "Ты можешь больше. Подпишись!";
        let (fitted, _) = fit(short, &contract("ru", 30, 40)).unwrap();
        assert!((30..=40).contains(&count_words(&fitted)), "{fitted}");
        assert!(fitted.ends_with("Подпишись!"));

        // A call to action in the second-to-last sentence stays in the closing pair, whether
        // sentences are added (too short) or dropped (too long).
        for (text, min, max) in [
            (
                "Ты можешь больше. Подпишись на канал. Увидимся завтра.",
                30,
                40,
            ),
            (
                "Первое. Второе длинное предложение про цель. Третье про упорство и силу. \
                 Подпишись на канал. Увидимся завтра.",
                9,
                12,
            ),
        ] {
            let (fitted, _) = fit(text, &contract("ru", min, max)).unwrap();
            assert!(
                (min..=max).contains(&(count_words(&fitted) as u32)),
                "{fitted}"
            );
            assert_eq!(
                call_to_action::closes(&fitted, "ru"),
                Some(true),
                "{fitted}"
            );
            assert!(
                fitted.ends_with("Подпишись на канал. Увидимся завтра."),
                "{fitted}"
            );
        }

        let (fitted, actions) =
            fit("You can do more than you think.", &contract("en", 5, 40)).unwrap();
        assert_eq!(
            call_to_action::closes(&fitted, "en"),
            Some(true),
            "{fitted}"
        );
        assert_eq!(actions, vec!["appended a call to action"]);

        // `like` in `if you like it` asks nothing of the viewer: a call to action is appended,
        // last, rather than stock sentences slipped in before that sentence.
        let (fitted, actions) = fit(
            "Oats keep you full until lunch. If you like it sweeter, add honey. Enjoy your day!",
            &contract("en", 5, 40),
        )
        .unwrap();
        assert!(
            fitted.ends_with(fallback::call_to_action("en").unwrap()),
            "{fitted}"
        );
        assert_eq!(actions, vec!["appended a call to action"]);
    }

    #[test]
    fn stock_text_and_an_unrelated_script_are_flagged_for_review() {
        let transcript = "Каждое утро я встаю в пять утра, пью воду, делаю зарядку и планирую \
            день. Привычка вставать рано изменила мою продуктивность и энергию.";
        let contract = contract("ru", 5, 40);
        let script = |text: &str, writer: ScriptWriter, fitted: Vec<String>| {
            let mut output = ScriptOutput {
                text: text.into(),
                word_count: count_words(text),
                estimated_seconds: 0.0,
                language: "ru".into(),
                source_language: None,
                model: String::new(),
                writer,
                strategy: None,
                prompt: PromptRecord {
                    system: String::new(),
                    user: String::new(),
                },
                attempts: Vec::new(),
                checks: evaluate(text, &[], transcript, &contract),
                fitted,
                fallbacks: Vec::new(),
                usage: Default::default(),
                needs_review: false,
                review_reasons: Vec::new(),
                key_words: Vec::new(),
                broll_keywords: Vec::new(),
            };
            output.assess();
            output
        };
        let rewrite = "Ранний подъём меняет день. Стакан воды, короткая зарядка и план дают \
            энергию и продуктивность на весь день. Подпишись.";
        let good = script(rewrite, ScriptWriter::Model, Vec::new());
        assert!(!good.needs_review, "{:?}", good.review_reasons);
        let trimmed = script(
            rewrite,
            ScriptWriter::Fitted,
            vec![format!("{DROPPED} `Лишнее.`")],
        );
        assert!(
            !trimmed.needs_review,
            "dropping the model's own words is no stock text"
        );
        let padded = script(
            rewrite,
            ScriptWriter::Fitted,
            vec!["added the sentence `Верь в процесс.`".into()],
        );
        assert!(padded.review_reasons[0].starts_with("fitted with stock text"));
        let stock = "Ты сильнее, чем думаешь. Не сдавайся, даже когда трудно. Подпишись.";
        let fallback = script(stock, ScriptWriter::Fallback, Vec::new());
        assert_eq!(
            fallback.review_reasons.len(),
            2,
            "{:?}",
            fallback.review_reasons
        );
        assert!(fallback.review_reasons[0].contains("fallback writer"));
        assert!(fallback.review_reasons[1].starts_with("not about the reel"));
    }

    #[test]
    fn spoken_duration_follows_the_rate() {
        let text = vec!["слово"; 110].join(" ");
        assert_eq!(spoken_seconds(&text, 165.0), 40.0);
    }
}
