//! Step 5: speak the script.

pub mod fake;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{CallContext, ProviderError};

#[derive(Debug, Clone)]
pub struct VoiceRequest {
    pub text: String,
    pub language: String,
    pub target_duration_seconds: u32,
    pub options: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VoiceOutput {
    pub format: String,
    pub duration_ms: u64,
    pub sample_rate: u32,
    pub voice: String,
    /// Characters billed.
    pub characters: u64,
}

#[async_trait]
pub trait Voice: Send + Sync {
    async fn synthesize(
        &self,
        request: &VoiceRequest,
        ctx: &CallContext<'_>,
    ) -> Result<VoiceOutput, ProviderError>;
}
