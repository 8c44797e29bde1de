use async_trait::async_trait;

use super::{PrepareReel, PreparedReel, ReelSource};
use crate::providers::{fake::FakeBehaviour, CallContext, ProviderError};

pub struct FakeReelSource;

#[async_trait]
impl ReelSource for FakeReelSource {
    async fn prepare(&self, request: &PrepareReel, ctx: &CallContext<'_>) -> Result<PreparedReel, ProviderError> {
        FakeBehaviour::from_options(&request.options)?.perform(ctx).await?;
        Ok(PreparedReel {
            source_url: request.source_url.clone(),
            caption: Some("fake reel".into()),
            duration_ms: 30_000,
            width: 1080,
            height: 1920,
        })
    }
}
