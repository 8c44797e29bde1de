//! Step 4: turn a transcript into a fresh script. Providers only complete a conversation; the
//! prompts, the quality checks and the revision loop are shared (`crate::script`, the rewrite
//! job), so every provider's output meets the same contract.

pub mod fake;
pub mod openai;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{CallContext, ProviderError};
use crate::script::Contract;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChatMessage {
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "user".into(),
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "assistant".into(),
            content: content.into(),
        }
    }
}

pub struct RewriteCall<'a> {
    pub system: &'a str,
    pub messages: &'a [ChatMessage],
    pub contract: &'a Contract,
    /// Differs per attempt, so a retried local model does not repeat itself.
    pub seed: u64,
    /// A GBNF grammar the answer must follow, for servers that take one.
    pub grammar: Option<&'a str>,
    /// Caps the answer's tokens below the options' (a single sentence needs few).
    pub max_tokens: Option<u32>,
    /// Structured JSON (`response_format`) the answer must be, for servers that take it.
    pub response_format: Option<&'a serde_json::Value>,
    pub options: &'a crate::domain::options::RewriteOptions,
}

pub use reelforge_vocab::domain::output::TokenUsage;

#[derive(Debug, Clone)]
pub struct Completion {
    pub text: String,
    pub model: String,
    /// The model stopped at its token limit (`finish_reason: length`): the text is cut.
    pub cut_off: bool,
    pub usage: TokenUsage,
}

#[async_trait]
pub trait Rewriter: Send + Sync {
    async fn complete(
        &self,
        call: &RewriteCall<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<Completion, ProviderError>;

    /// Billions of parameters of the model `options` select, when the name says (`…-1.5b-…`):
    /// small models write better one sentence at a time.
    fn model_billions(&self, _options: &crate::domain::options::RewriteOptions) -> Option<f64> {
        None
    }
}

pub use reelforge_vocab::domain::provider::chat::billions_in_name;

#[cfg(test)]
mod tests {
    #[test]
    fn a_model_name_gives_its_size() {
        for (name, billions) in [
            ("qwen2.5-coder-1.5b-instruct-q4_k_m", Some(1.5)),
            ("llama-3.1-8b-instruct", Some(8.0)),
            ("Qwen2.5-7B-Instruct", Some(7.0)),
            ("gpt-4o-mini", None),
        ] {
            assert_eq!(super::billions_in_name(name), billions, "{name}");
        }
    }
}
