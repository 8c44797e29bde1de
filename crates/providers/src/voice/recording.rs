//! The creator's own voiceover: an audio file from the project's media library stands in for
//! synthesis. The voice job then shortens its long pauses, fits it like any take (a bounded
//! time-stretch only: a recording has no speed control) and times its words by transcribing it.

use std::sync::Arc;

use async_trait::async_trait;

use super::{SpokenAudio, Voice, VoiceRequest};
use crate::{
    error_code::ErrorCode,
    media::{MediaError, MediaStore},
    {CallContext, ProviderError},
};

pub use reelforge_vocab::domain::provider::recording::NAME;

pub struct Recording {
    pub media: Arc<MediaStore>,
}

#[async_trait]
impl Voice for Recording {
    fn speed_range(&self) -> Option<(f64, f64)> {
        None
    }

    async fn synthesize(
        &self,
        request: &VoiceRequest,
        _ctx: &CallContext<'_>,
    ) -> Result<SpokenAudio, ProviderError> {
        // Checked when the step started; checked again because the stored row is all a job has.
        let key = request.options.recording_key.as_deref().ok_or_else(|| {
            ProviderError::fatal(
                ErrorCode::InvalidOptions,
                "the recording provider needs `recording_key`, a library audio file",
            )
        })?;
        let source = self.media.fetch(key).await.map_err(|error| match error {
            MediaError::Missing(_) | MediaError::InvalidKey(_) => ProviderError::fatal(
                ErrorCode::InvalidOptions,
                format!("`recording_key`: the library file is gone ({error})"),
            ),
            other => other.into(),
        })?;
        let format = source
            .extension()
            .and_then(|ext| ext.to_str())
            .unwrap_or("m4a")
            .to_owned();
        let path = request.output(&format);
        tokio::fs::copy(&source, &path)
            .await
            .map_err(|error| ProviderError::retryable(format!("copying the recording: {error}")))?;
        Ok(SpokenAudio {
            path,
            format,
            voice: NAME.into(),
            model: "own voiceover".into(),
            characters: 0,
            words: None,
        })
    }
}
