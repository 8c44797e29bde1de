//! Step 4: turn a transcript into a fresh script.

pub mod fake;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{CallContext, ProviderError};
use crate::domain::project::{StylePreset, WordRange};

#[derive(Debug, Clone)]
pub struct RewriteRequest {
    pub transcript: String,
    pub language: String,
    pub words: WordRange,
    pub style: StylePreset,
    pub options: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScriptDraft {
    pub text: String,
    pub language: String,
    pub model: String,
}

#[async_trait]
pub trait Rewriter: Send + Sync {
    async fn rewrite(
        &self,
        request: &RewriteRequest,
        ctx: &CallContext<'_>,
    ) -> Result<ScriptDraft, ProviderError>;
}
