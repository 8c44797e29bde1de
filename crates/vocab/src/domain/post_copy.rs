//! A post's words: the prompt and JSON schema a model writes them to, the checks against every
//! platform's documented limits, and the plain fallback built from the script when a model's
//! answer does not pass.

use serde_json::{json, Value};

use crate::domain::publishing::{CopyCheck, Platform, PostCopy};
use crate::script::{
    emoji::strip_emoji,
    words::{alphabet_of, alphabet_share, normalized_words, sentences},
};

/// Instagram: hashtags per caption.
pub const MAX_HASHTAGS: usize = 30;
/// Instagram: characters per caption.
pub const INSTAGRAM_CAPTION_CHARS: usize = 2200;
/// YouTube: characters per title.
pub const YOUTUBE_TITLE_CHARS: usize = 100;
/// YouTube: bytes per description.
pub const YOUTUBE_DESCRIPTION_BYTES: usize = 5000;
/// YouTube: characters of all tags together.
pub const YOUTUBE_TAGS_CHARS: usize = 500;
/// TikTok: UTF-16 code units per title (its caption).
pub const TIKTOK_TITLE_UNITS: usize = 2200;
/// Longest hashtag accepted.
const MAX_HASHTAG_CHARS: usize = 100;
/// Hashtags a fallback post carries.
const FALLBACK_HASHTAGS: usize = 8;
/// Share of letters that must be in the language's alphabet.
const MIN_ALPHABET_SHARE: f64 = 0.8;

/// Why `tag` is not a hashtag (given without `#`: letters, digits and `_`).
pub fn hashtag_problem(tag: &str) -> Result<(), String> {
    let count = tag.chars().count();
    if count == 0 || count > MAX_HASHTAG_CHARS {
        return Err(format!(
            "must be 1 to {MAX_HASHTAG_CHARS} characters, without `#`"
        ));
    }
    if !tag.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err("may hold only letters, digits and `_` (no `#`, spaces or punctuation)".into());
    }
    Ok(())
}

/// A model's or a reel's hashtag made into one: `#Утро!` becomes `утро`; none when nothing is
/// left.
pub fn normalize_hashtag(tag: &str) -> Option<String> {
    let tag: String = tag
        .trim()
        .trim_start_matches('#')
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .flat_map(char::to_lowercase)
        .collect();
    (hashtag_problem(&tag).is_ok()).then_some(tag)
}

/// Hashtags in order, each once, normalized, at most `limit`.
pub fn merge_hashtags<'a>(tags: impl IntoIterator<Item = &'a str>, limit: usize) -> Vec<String> {
    let mut merged: Vec<String> = Vec::new();
    for tag in tags.into_iter().filter_map(normalize_hashtag) {
        if !merged.contains(&tag) && merged.len() < limit {
            merged.push(tag);
        }
    }
    merged
}

/// The JSON schema the model's answer must follow (OpenAI strict mode: every key required, no
/// others).
pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "caption": {"type": "string"},
            "hashtags": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["title", "caption", "hashtags"],
        "additionalProperties": false
    })
}

/// `response_format` asking for [`schema`]; OpenAI, llama.cpp and Ollama all read it.
pub fn response_format() -> Value {
    json!({
        "type": "json_schema",
        "json_schema": {"name": "post_copy", "strict": true, "schema": schema()}
    })
}

pub fn system(language: &str, allow_emoji: bool) -> String {
    let language = crate::script::prompt::language_name(language);
    let emoji = if allow_emoji {
        "Emoji are allowed but not required."
    } else {
        "Use no emoji at all."
    };
    format!(
        "You write the words of a short vertical video post for Instagram Reels, YouTube Shorts \
         and TikTok. Answer with JSON only: {{\"title\": ..., \"caption\": ..., \"hashtags\": [...]}}. \
         Write in {language}. The title is one catchy line of at most 90 characters, without \
         quotes or the characters < and >. The caption is two to four short sentences about the \
         video's topic that end with a call to action (save, share, follow or comment), at most \
         600 characters. Give 5 to 10 hashtags without the # sign, single words, mixing the \
         source reel's hashtags you are given with the topic's own. No markdown. {emoji}"
    )
}

pub fn user(script: &str, source_hashtags: &[String]) -> String {
    let tags = if source_hashtags.is_empty() {
        "none".to_owned()
    } else {
        source_hashtags.join(", ")
    };
    format!("The video's voiceover:\n{script}\n\nThe source reel's hashtags: {tags}")
}

/// Reads a model's answer as post words: JSON (a code fence around it is tolerated), each
/// field trimmed, hashtags normalized and merged with the `required` ones.
pub fn parse(answer: &str, required: &[String]) -> Result<PostCopy, String> {
    let trimmed = answer.trim();
    let body = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.strip_suffix("```"))
        .unwrap_or(trimmed);
    // As the schema says: every key, no others.
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Answer {
        title: String,
        caption: String,
        hashtags: Vec<String>,
    }
    let answer: Answer = serde_json::from_str(body.trim())
        .map_err(|error| format!("not the JSON asked for: {error}"))?;
    Ok(PostCopy {
        title: answer.title.trim().to_owned(),
        caption: answer.caption.trim().to_owned(),
        hashtags: merge_hashtags(
            required
                .iter()
                .map(String::as_str)
                .chain(answer.hashtags.iter().map(String::as_str)),
            MAX_HASHTAGS,
        ),
    })
}

/// Plain words from the script: its first sentence as the title, its opening and its call to
/// action as the caption, the reel's hashtags then the script's most frequent long words.
pub fn fallback(script: &str, source_hashtags: &[String], required: &[String]) -> PostCopy {
    let sentences = sentences(script);
    let title = sentences
        .first()
        .map(|first| shorten(first.trim_end_matches(['.', '!', '?']), 90))
        .unwrap_or_default();
    let mut caption: Vec<&str> = sentences.iter().take(2).map(String::as_str).collect();
    if let Some(last) = sentences.last().filter(|_| sentences.len() > 2) {
        caption.push(last);
    }
    let mut frequent: Vec<(String, usize)> = Vec::new();
    for word in normalized_words(script)
        .into_iter()
        .filter(|w| w.chars().count() >= 6)
    {
        match frequent.iter_mut().find(|(seen, _)| *seen == word) {
            Some((_, count)) => *count += 1,
            None => frequent.push((word, 1)),
        }
    }
    // Most frequent first; among equals, the earlier in the script.
    frequent.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    let hashtags = merge_hashtags(
        required
            .iter()
            .chain(source_hashtags)
            .map(String::as_str)
            .chain(frequent.iter().map(|(word, _)| word.as_str())),
        FALLBACK_HASHTAGS.max(required.len()),
    );
    PostCopy {
        title,
        caption: caption.join(" "),
        hashtags,
    }
}

/// `text` cut at a word boundary to at most `limit` characters.
fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.trim().to_owned();
    }
    let mut kept = String::new();
    for word in text.split_whitespace() {
        if kept.chars().count() + word.chars().count() + 1 > limit {
            break;
        }
        if !kept.is_empty() {
            kept.push(' ');
        }
        kept.push_str(word);
    }
    kept
}

fn check(name: &str, platform: Option<Platform>, passed: bool, detail: String) -> CopyCheck {
    CopyCheck {
        name: name.to_owned(),
        platform,
        passed,
        detail,
    }
}

fn has_markdown(text: &str) -> bool {
    text.contains("**")
        || text.contains("__")
        || text.contains('`')
        || text.contains("](")
        || text
            .lines()
            .any(|line| line.trim_start().starts_with("# ") || line.trim_start().starts_with("- "))
}

/// Every check of `copy` in `language`: each platform's documented limits, then the house rules
/// (words present, no markdown, no emoji unless allowed, the language's alphabet).
pub fn evaluate(copy: &PostCopy, language: &str, allow_emoji: bool) -> Vec<CopyCheck> {
    let full = copy.caption_with_hashtags();
    let caption_chars = full.chars().count();
    let title_chars = copy.title.chars().count();
    let tag_chars: usize = copy
        .hashtags
        .iter()
        .map(|t| t.chars().count())
        .sum::<usize>()
        + copy.hashtags.len().saturating_sub(1);
    let utf16 = full.encode_utf16().count();
    let bad_tag = copy.hashtags.iter().find(|t| hashtag_problem(t).is_err());
    let all_text = format!("{}\n{}", copy.title, copy.caption);
    let (_, emoji) = strip_emoji(&format!("{all_text}\n{}", copy.hashtags.join(" ")));
    let mut checks = vec![
        check(
            "instagram_caption_length",
            Some(Platform::Instagram),
            caption_chars <= INSTAGRAM_CAPTION_CHARS,
            format!("{caption_chars} of {INSTAGRAM_CAPTION_CHARS} characters with the hashtags"),
        ),
        check(
            "instagram_hashtags",
            Some(Platform::Instagram),
            copy.hashtags.len() <= MAX_HASHTAGS,
            format!("{} of {MAX_HASHTAGS} hashtags", copy.hashtags.len()),
        ),
        check(
            "youtube_title_length",
            Some(Platform::Youtube),
            (1..=YOUTUBE_TITLE_CHARS).contains(&title_chars),
            format!("{title_chars} of 1 to {YOUTUBE_TITLE_CHARS} characters"),
        ),
        check(
            "youtube_title_characters",
            Some(Platform::Youtube),
            !copy.title.contains(['<', '>']),
            "the title may not hold `<` or `>`".into(),
        ),
        check(
            "youtube_description_characters",
            Some(Platform::Youtube),
            !full.contains(['<', '>']),
            "the description (the caption) may not hold `<` or `>`".into(),
        ),
        check(
            "youtube_description_length",
            Some(Platform::Youtube),
            full.len() <= YOUTUBE_DESCRIPTION_BYTES,
            format!("{} of {YOUTUBE_DESCRIPTION_BYTES} bytes", full.len()),
        ),
        check(
            "youtube_tags_length",
            Some(Platform::Youtube),
            tag_chars <= YOUTUBE_TAGS_CHARS,
            format!("{tag_chars} of {YOUTUBE_TAGS_CHARS} characters of tags"),
        ),
        check(
            "tiktok_title_length",
            Some(Platform::Tiktok),
            utf16 <= TIKTOK_TITLE_UNITS,
            format!("{utf16} of {TIKTOK_TITLE_UNITS} UTF-16 units with the hashtags"),
        ),
        check(
            "not_empty",
            None,
            !copy.title.trim().is_empty() && !copy.caption.trim().is_empty(),
            "a title and a caption are needed".into(),
        ),
        check(
            "hashtags",
            None,
            bad_tag.is_none(),
            bad_tag.map_or("each is one word".into(), |tag| {
                format!("`{tag}` is not a hashtag")
            }),
        ),
        check(
            "no_markdown",
            None,
            !has_markdown(&all_text),
            "plain text: no `**`, backticks, links or list marks".into(),
        ),
        check(
            "no_emoji",
            None,
            allow_emoji || emoji == 0,
            if allow_emoji {
                "emoji are allowed by the project".into()
            } else {
                format!("{emoji} emoji characters")
            },
        ),
    ];
    if let Some(alphabet) = alphabet_of(language) {
        let share = alphabet_share(&all_text, alphabet);
        checks.push(check(
            "language",
            None,
            share >= MIN_ALPHABET_SHARE,
            format!(
                "{:.0}% of letters in the {language} alphabet (at least {:.0}%)",
                share * 100.0,
                MIN_ALPHABET_SHARE * 100.0
            ),
        ));
    }
    checks
}

/// The failed checks that stop posting to `platform`: its own limits and the shared rules.
pub fn blocking(checks: &[CopyCheck], platform: Platform) -> Vec<&CopyCheck> {
    checks
        .iter()
        .filter(|c| !c.passed && c.platform.is_none_or(|p| p == platform))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(title: &str, caption: &str, tags: &[&str]) -> PostCopy {
        PostCopy {
            title: title.into(),
            caption: caption.into(),
            hashtags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn failed(checks: &[CopyCheck]) -> Vec<&str> {
        checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect()
    }

    #[test]
    fn good_words_pass_every_check() {
        let good = copy(
            "Три привычки для утра",
            "Начните с одной привычки. Подпишитесь, чтобы не пропустить.",
            &["утро", "привычки"],
        );
        assert!(failed(&evaluate(&good, "ru", false)).is_empty());
    }

    #[test]
    fn each_platform_limit_is_measured_as_documented() {
        let long_title = "а".repeat(101);
        let checks = evaluate(&copy(&long_title, "Текст.", &[]), "ru", false);
        assert_eq!(failed(&checks), ["youtube_title_length"]);
        let checks = evaluate(&copy("Заголовок", "люблю <3", &[]), "ru", false);
        assert_eq!(failed(&checks), ["youtube_description_characters"]);
        let checks = evaluate(&copy("Заголовок <новый>", "Текст.", &[]), "ru", false);
        assert_eq!(failed(&checks), ["youtube_title_characters"]);
        // 2,200 characters of Cyrillic are 4,400 bytes: within YouTube's 5,000 bytes, at
        // Instagram's 2,200 characters; an emoji counts two UTF-16 units at TikTok.
        let caption = "я".repeat(2200);
        assert!(failed(&evaluate(&copy("З", &caption, &[]), "ru", false)).is_empty());
        let caption = "я".repeat(2201);
        assert_eq!(
            failed(&evaluate(&copy("З", &caption, &[]), "ru", false)),
            ["instagram_caption_length", "tiktok_title_length"]
        );
        let caption = format!("{}🙂", "я".repeat(2199));
        assert_eq!(
            failed(&evaluate(&copy("З", &caption, &[]), "ru", true)),
            ["tiktok_title_length"]
        );
        let tags: Vec<String> = (0..31).map(|i| format!("тег{i}")).collect();
        let many = PostCopy {
            hashtags: tags,
            ..copy("З", "Текст.", &[])
        };
        assert_eq!(
            failed(&evaluate(&many, "ru", false)),
            ["instagram_hashtags"]
        );
    }

    #[test]
    fn house_rules_catch_markdown_emoji_and_the_wrong_language() {
        let checks = evaluate(&copy("**Утро**", "Текст 🔥.", &["утро"]), "ru", false);
        assert_eq!(failed(&checks), ["no_markdown", "no_emoji"]);
        let checks = evaluate(&copy("Morning", "Start today.", &[]), "ru", false);
        assert_eq!(failed(&checks), ["language"]);
        assert_eq!(
            blocking(&checks, Platform::Youtube)
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["language"]
        );
    }

    #[test]
    fn a_model_answer_is_read_and_its_hashtags_cleaned() {
        let answer = "```json\n{\"title\": \" Утро \", \"caption\": \"Текст.\", \"hashtags\": [\"#Утро!\", \"утро\", \"\", \"две части\"]}\n```";
        let read = parse(answer, &["мотивация".into()]).unwrap();
        assert_eq!(read.title, "Утро");
        assert_eq!(read.hashtags, ["мотивация", "утро", "двечасти"]);
        assert!(parse("Вот ваш пост: ...", &[]).is_err());
        assert!(
            parse(r#"{"title": "У", "caption": "Т."}"#, &[]).is_err(),
            "hashtags are required"
        );
        assert!(
            parse(
                r#"{"title": "У", "caption": "Т.", "hashtags": [], "mood": "x"}"#,
                &[]
            )
            .is_err(),
            "no other keys"
        );
    }

    #[test]
    fn the_fallback_is_built_from_the_script() {
        let script = "Каждое утро начинается с выбора. Выберите одну привычку. Повторяйте привычку каждый день. Подпишитесь, чтобы не пропустить.";
        let fallback = fallback(script, &["motivation".into()], &[]);
        assert_eq!(fallback.title, "Каждое утро начинается с выбора");
        assert!(fallback
            .caption
            .ends_with("Подпишитесь, чтобы не пропустить."));
        assert_eq!(fallback.hashtags[..2], ["motivation", "привычку"]);
        assert_eq!(fallback.hashtags.len(), 8);
        assert!(failed(&evaluate(&fallback, "ru", false)).is_empty());
    }
}
