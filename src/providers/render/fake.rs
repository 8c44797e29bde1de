use async_trait::async_trait;

use super::{RenderRequest, Rendered, Renderer};
use crate::providers::{fake::FakeBehaviour, CallContext, ProviderError};

/// Writes nothing; the render job reports a 1080x1920 video of the voice's length.
pub struct FakeRenderer;

#[async_trait]
impl Renderer for FakeRenderer {
    async fn render(
        &self,
        request: &RenderRequest,
        ctx: &CallContext<'_>,
    ) -> Result<Rendered, ProviderError> {
        FakeBehaviour::from_options(&request.options)?
            .perform(ctx)
            .await?;
        Ok(Rendered {
            provider_job_id: None,
            model: "fake".into(),
        })
    }
}
