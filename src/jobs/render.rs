use std::sync::Arc;

use async_trait::async_trait;

use super::{context, JobContext, JobError, JobHandler};
use crate::providers::{pick, render::RenderRequest, voice::VoiceOutput, Providers};

pub struct RenderStep(pub Arc<Providers>);

#[async_trait]
impl JobHandler for RenderStep {
    async fn run(&self, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
        let video = ctx.resource().await?;
        let audio: VoiceOutput = ctx.parent_output(&video).await?;
        let request = RenderRequest {
            audio_duration_ms: audio.duration_ms,
            options: context::options(&video),
        };
        let output = pick(&self.0.render, &video.provider)?
            .render(&request, &ctx.call())
            .await?;
        context::to_output(&output)
    }
}
