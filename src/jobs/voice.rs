use std::sync::Arc;

use async_trait::async_trait;

use super::{context, JobContext, JobError, JobHandler};
use crate::{
    providers::{pick, voice::VoiceRequest, Providers},
    script::ScriptOutput,
};

pub struct VoiceStep(pub Arc<Providers>);

#[async_trait]
impl JobHandler for VoiceStep {
    async fn run(&self, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
        let audio = ctx.resource().await?;
        let project = ctx.project(&audio).await?;
        let script: ScriptOutput = ctx.parent_output(&audio).await?;
        let request = VoiceRequest {
            text: script.text,
            language: script.language,
            target_duration_seconds: project.settings.target_duration_seconds,
            options: context::options(&audio),
        };
        let output = pick(&self.0.voice, &audio.provider)?
            .synthesize(&request, &ctx.call())
            .await?;
        context::to_output(&output)
    }
}
