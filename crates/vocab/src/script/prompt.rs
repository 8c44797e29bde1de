//! The prompts: ours, so every provider gets the same instructions. The system prompt carries
//! the style and the rules; the user message carries the transcript and the constraints;
//! revisions name exactly what missed.

use super::{words::count_words, Check, Contract};
use crate::domain::project::StylePreset;

pub fn language_name(language: &str) -> String {
    match language.split('-').next().unwrap_or(language) {
        "ru" => "Russian".into(),
        "en" => "English".into(),
        "uk" => "Ukrainian".into(),
        "de" => "German".into(),
        "es" => "Spanish".into(),
        "fr" => "French".into(),
        other => format!("the language with code `{other}`"),
    }
}

fn style_line(style: StylePreset) -> &'static str {
    match style {
        StylePreset::Motivating => {
            "Tone: motivating and direct, speaking to the viewer as \"you\", short energetic sentences."
        }
        StylePreset::Educational => {
            "Tone: clear and explanatory, speaking to the viewer as \"you\", one practical takeaway."
        }
        StylePreset::Storytelling => {
            "Tone: a short story with a hook, a turn and a lesson, told vividly; address the viewer as \"you\" at the end."
        }
        StylePreset::Calm => "Tone: calm, warm and reassuring, speaking to the viewer as \"you\".",
    }
}

pub fn system(contract: &Contract, style: StylePreset, instructions: Option<&str>) -> String {
    let mut prompt = format!(
        "You write voiceover scripts for short vertical videos (Instagram Reels). You rewrite the \
         transcript of a trending reel into a fresh script with the same idea in your own words.\n\
         {style}\n\
         Rules:\n\
         - Write in {language}.\n\
         - Between {min} and {max} words.\n\
         - Plain spoken text only: no emoji, no markdown, no hashtags, no headings, no stage \
           directions, no quotes around the text, no introduction like \"Here is your script\".\n\
         - Do not copy phrases from the transcript.\n\
         - End with a clear call to action (subscribe, save, comment or act today).",
        style = style_line(style),
        language = language_name(&contract.language),
        min = contract.words.min,
        max = contract.words.max,
    );
    if let Some(extra) = instructions.filter(|s| !s.trim().is_empty()) {
        prompt.push_str("\nAlso: ");
        prompt.push_str(extra.trim());
    }
    prompt
}

pub fn user(transcript: &str, contract: &Contract) -> String {
    format!(
        "Transcript of the original reel:\n{transcript}\n\nWrite the new script in {language}, \
         {min}-{max} words (about {sentences} sentences of 10-14 words), ending with a call to \
         action. Answer with the script text only.",
        sentences = contract.words.max.div_ceil(12),
        transcript = transcript.trim(),
        language = language_name(&contract.language),
        min = contract.words.min,
        max = contract.words.max,
    )
}

/// The follow-up asking for a corrected script, naming each failed check.
pub fn revision(text: &str, checks: &[Check], contract: &Contract, cut_off: bool) -> String {
    let mut asks = Vec::new();
    if cut_off {
        asks.push("Your answer was cut off before the end.".to_owned());
    }
    for check in checks.iter().filter(|c| !c.passed) {
        asks.push(match check.name.as_str() {
            "word_count" => format!(
                "Your script has {} words; it must have between {} and {} words.",
                count_words(text),
                contract.words.min,
                contract.words.max
            ),
            "call_to_action" => "It must end with a call to action.".into(),
            "not_a_copy" => format!(
                "It copies the transcript ({}); say it in your own words.",
                check.detail
            ),
            "language" => format!(
                "It must be written entirely in {}.",
                language_name(&contract.language)
            ),
            _ => format!("It must be plain spoken text ({}).", check.detail),
        });
    }
    asks.push("Write the whole script again and answer with the script text only.".into());
    asks.join(" ")
}
