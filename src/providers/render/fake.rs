use async_trait::async_trait;

use super::{RenderOutput, RenderRequest, Renderer};
use crate::providers::{fake::FakeBehaviour, CallContext, ProviderError};

pub struct FakeRenderer;

#[async_trait]
impl Renderer for FakeRenderer {
    async fn render(
        &self,
        request: &RenderRequest,
        ctx: &CallContext<'_>,
    ) -> Result<RenderOutput, ProviderError> {
        FakeBehaviour::from_options(&request.options)?
            .perform(ctx)
            .await?;
        Ok(RenderOutput {
            width: 1080,
            height: 1920,
            duration_ms: request.audio_duration_ms,
            video_codec: "h264".into(),
            audio_codec: "aac".into(),
        })
    }
}
