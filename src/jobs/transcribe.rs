use std::sync::Arc;

use async_trait::async_trait;

use super::{context, JobContext, JobError, JobHandler};
use crate::providers::{pick, transcribe::TranscribeRequest, Providers};

pub struct TranscribeStep(pub Arc<Providers>);

#[async_trait]
impl JobHandler for TranscribeStep {
    async fn run(&self, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
        let transcript = ctx.resource().await?;
        let options = context::options(&transcript);
        let request = TranscribeRequest {
            // The reel's spoken language, when the user knows it; otherwise detected.
            language: options
                .get("language")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            options,
        };
        let output = pick(&self.0.transcribe, &transcript.provider)?
            .transcribe(&request, &ctx.call())
            .await?;
        context::to_output(&output)
    }
}
