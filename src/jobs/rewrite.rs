use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::{context, JobContext, JobError, JobHandler};
use crate::providers::{pick, rewrite::RewriteRequest, transcribe::TranscriptOutput, Providers};

pub struct RewriteStep(pub Arc<Providers>);

#[async_trait]
impl JobHandler for RewriteStep {
    async fn run(&self, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
        let script = ctx.resource().await?;
        let project = ctx.project(&script).await?;
        let transcript: TranscriptOutput = ctx.parent_output(&script).await?;
        let request = RewriteRequest {
            transcript: transcript.text,
            language: project.language,
            words: project.settings.words,
            style: project.settings.style_preset,
            options: context::options(&script),
        };
        let draft = pick(&self.0.rewrite, &script.provider)?
            .rewrite(&request, &ctx.call())
            .await?;
        let word_count = draft.text.split_whitespace().count();
        let mut output = context::to_output(&draft)?;
        output["word_count"] = json!(word_count);
        Ok(output)
    }
}
