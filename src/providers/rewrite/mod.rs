//! Step 4: turn a transcript into a fresh script. Providers only complete a conversation; the
//! prompts, the quality checks and the revision loop are shared (`crate::script`, the rewrite
//! job), so every provider's output meets the same contract.

pub mod fake;
pub mod openai;
pub mod openai_assistant;

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
    pub options: &'a crate::domain::options::RewriteOptions,
}

/// Tokens a model call used, summed over a script's drafts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct TokenUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

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
}
