use async_trait::async_trait;

use super::{SpokenAudio, Voice, VoiceRequest};
use crate::providers::{fake::FakeBehaviour, CallContext, ProviderError};

/// Writes no file; the voice job gives it the target duration.
pub struct FakeVoice;

#[async_trait]
impl Voice for FakeVoice {
    fn speed_range(&self) -> Option<(f64, f64)> {
        None
    }

    async fn synthesize(
        &self,
        request: &VoiceRequest,
        ctx: &CallContext<'_>,
    ) -> Result<SpokenAudio, ProviderError> {
        FakeBehaviour::from_options(&request.options)?
            .perform(ctx)
            .await?;
        Ok(SpokenAudio {
            path: None,
            format: "wav".into(),
            voice: "fake".into(),
            model: "fake".into(),
            characters: request.text.chars().count() as u64,
            words: None,
        })
    }
}
