use async_trait::async_trait;

use super::{Voice, VoiceOutput, VoiceRequest};
use crate::providers::{fake::FakeBehaviour, CallContext, ProviderError};

pub struct FakeVoice;

#[async_trait]
impl Voice for FakeVoice {
    async fn synthesize(
        &self,
        request: &VoiceRequest,
        ctx: &CallContext<'_>,
    ) -> Result<VoiceOutput, ProviderError> {
        FakeBehaviour::from_options(&request.options)?
            .perform(ctx)
            .await?;
        Ok(VoiceOutput {
            format: "wav".into(),
            duration_ms: u64::from(request.target_duration_seconds) * 1000,
            sample_rate: 24_000,
            voice: "fake".into(),
            characters: request.text.chars().count() as u64,
        })
    }
}
