//! Step 6: the final vertical video.

pub mod fake;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{CallContext, ProviderError};

#[derive(Debug, Clone)]
pub struct RenderRequest {
    pub audio_duration_ms: u64,
    pub options: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RenderOutput {
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
    pub video_codec: String,
    pub audio_codec: String,
}

#[async_trait]
pub trait Renderer: Send + Sync {
    async fn render(
        &self,
        request: &RenderRequest,
        ctx: &CallContext<'_>,
    ) -> Result<RenderOutput, ProviderError>;
}
