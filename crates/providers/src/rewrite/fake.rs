use crate::error_code::ErrorCode;
use async_trait::async_trait;

use crate::domain::options::StepOptions;

use super::{Completion, RewriteCall, Rewriter, TokenUsage};
use crate::fake::Perform as _;
use crate::{
    script::fallback,
    {CallContext, ProviderError},
};

/// Answers a valid script from stock sentences, after the usual fake delay and failures.
pub struct FakeRewriter;

#[async_trait]
impl Rewriter for FakeRewriter {
    async fn complete(
        &self,
        call: &RewriteCall<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<Completion, ProviderError> {
        call.options.fake().perform(ctx).await?;
        let schema = call
            .response_format
            .and_then(|format| format["json_schema"]["name"].as_str());
        let text = match schema {
            // Answers as a model asked for that JSON would.
            Some("visuals") => Some(fake_visuals(call)),
            Some(_) => Some(fake_post(call)),
            None => fallback::write(call.contract, call.seed),
        };
        let text = text.ok_or_else(|| {
            ProviderError::fatal(
                ErrorCode::UnsupportedLanguage,
                format!(
                    "the fake writer has no sentences for `{}`",
                    call.contract.language
                ),
            )
        })?;
        // Counted as a tokenizer roughly would (four characters a token), so usage and cost
        // accounting can be followed without a model.
        let tokens = |chars: usize| (chars as u64).div_ceil(4);
        let prompt_chars = call.system.chars().count()
            + call
                .messages
                .iter()
                .map(|m| m.content.chars().count())
                .sum::<usize>();
        Ok(Completion {
            usage: TokenUsage {
                prompt_tokens: tokens(prompt_chars),
                completion_tokens: tokens(text.chars().count()),
            },
            text,
            model: "fake".into(),
            cut_off: false,
        })
    }
}

/// A post as JSON: the voiceover's first sentence as the title, its last as the caption.
fn fake_post(call: &RewriteCall<'_>) -> String {
    let script = call
        .messages
        .last()
        .map(|m| m.content.as_str())
        .unwrap_or_default();
    let voiceover = script
        .split_once('\n')
        .map_or(script, |(_, rest)| rest)
        .split("\n\n")
        .next()
        .unwrap_or_default();
    let sentences = crate::script::words::sentences(voiceover);
    serde_json::json!({
        "title": sentences.first().map(|s| s.trim_end_matches(['.', '!', '?'])).unwrap_or("Video"),
        "caption": sentences.last().map(String::as_str).unwrap_or_default(),
        "hashtags": ["fake"],
    })
    .to_string()
}

/// Stock search words the fake writer gives, a sentence each in turn.
const FAKE_SEARCH_WORDS: [&str; 4] = ["sunrise", "city street", "ocean", "mountain"];

/// The longest word of each sentence of the script it is shown and, when the schema asks for
/// them, stock search words for each sentence.
fn fake_visuals(call: &RewriteCall<'_>) -> String {
    let script = call
        .messages
        .last()
        .map(|m| m.content.as_str())
        .unwrap_or_default();
    let longest: Vec<String> = crate::script::words::sentences(script)
        .iter()
        .filter_map(|sentence| {
            crate::script::words::normalized_words(sentence)
                .into_iter()
                .max_by_key(|word| word.chars().count())
        })
        .collect();
    let schema = call
        .response_format
        .map(|format| &format["json_schema"]["schema"]["properties"]);
    if schema.is_some_and(|properties| properties.get("broll_keywords").is_some()) {
        let broll: Vec<[&str; 1]> = (0..longest.len())
            .map(|index| [FAKE_SEARCH_WORDS[index % FAKE_SEARCH_WORDS.len()]])
            .collect();
        serde_json::json!({ "key_words": longest, "broll_keywords": broll }).to_string()
    } else {
        serde_json::json!({ "key_words": longest }).to_string()
    }
}
