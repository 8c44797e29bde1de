use std::sync::Arc;

use async_trait::async_trait;

use super::{context, JobContext, JobError, JobHandler};
use crate::providers::{collect::PrepareReel, pick, Providers};

pub struct PrepareReelStep(pub Arc<Providers>);

#[async_trait]
impl JobHandler for PrepareReelStep {
    async fn run(&self, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
        let reel = ctx.resource().await?;
        let request = PrepareReel {
            source_url: reel.input.get("source_url").and_then(|v| v.as_str()).map(str::to_owned),
            options: context::options(&reel),
        };
        let prepared = pick(&self.0.collect, &reel.provider)?.prepare(&request, &ctx.call()).await?;
        context::to_output(&prepared)
    }
}
