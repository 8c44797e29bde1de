//! Step 3: speech to text with word timings.

pub mod fake;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{CallContext, ProviderError};

#[derive(Debug, Clone)]
pub struct TranscribeRequest {
    /// The language to expect; `None` asks the provider to detect it.
    pub language: Option<String>,
    pub options: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WordTiming {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub confidence: Option<f32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TranscriptOutput {
    pub text: String,
    pub language: String,
    pub duration_ms: u64,
    pub words: Vec<WordTiming>,
    pub model: String,
}

#[async_trait]
pub trait Transcriber: Send + Sync {
    async fn transcribe(
        &self,
        request: &TranscribeRequest,
        ctx: &CallContext<'_>,
    ) -> Result<TranscriptOutput, ProviderError>;
}
