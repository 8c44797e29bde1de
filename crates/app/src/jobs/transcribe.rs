use crate::error_code::ErrorCode;
use std::{path::PathBuf, sync::Arc};

use async_trait::async_trait;

use super::{context, Handler, JobContext, JobError};
use crate::domain::options::TranscribeOptions;
use crate::domain::{job::StepJob, output::TranscriptOutput};
use crate::{
    db,
    domain::usage::Metric,
    media::MediaError,
    providers::{pick, transcribe::TranscribeRequest, ProviderError, Providers, LOCAL},
};

pub struct TranscribeStep(pub Arc<Providers>);

impl TranscribeStep {
    /// The local copy of the reel's extracted WAV, when the reel has an audio track.
    async fn audio(
        &self,
        ctx: &JobContext,
        reel_id: Option<uuid::Uuid>,
    ) -> Result<Option<PathBuf>, JobError> {
        let Some(reel_id) = reel_id else {
            return Ok(None);
        };
        let Some(reel) = db::reels::get(ctx.pool(), reel_id).await? else {
            return Err(JobError::fatal(
                ErrorCode::ResourceMissing,
                "the reel no longer exists",
            ));
        };
        let audio_key = reel.media.and_then(|prepared| prepared.audio_key);
        let Some(key) = audio_key else {
            return Ok(None);
        };
        match self.0.media.fetch(&key).await {
            Ok(path) => Ok(Some(path)),
            Err(MediaError::Missing(_)) => Err(JobError::fatal(
                ErrorCode::MediaMissing,
                "the reel's audio file is gone; select the reel again to prepare it",
            )),
            Err(error) => Err(ProviderError::from(error).into()),
        }
    }
}

#[async_trait]
impl Handler for TranscribeStep {
    type Input = StepJob;
    type Output = TranscriptOutput;

    async fn handle(&self, ctx: &JobContext, _: StepJob) -> Result<TranscriptOutput, JobError> {
        let transcript = ctx.resource().await?;
        let options: TranscribeOptions = context::options(&transcript)?;
        // The reel's spoken language when the user knows it; otherwise detected, except by the
        // local Whisper, whose detection misfires on short or synthetic speech: it assumes the
        // project's language.
        let language = match &options.language {
            Some(language) => Some(language.clone()),
            None if transcript.provider == LOCAL => Some(ctx.project(&transcript).await?.language),
            None => None,
        };
        let request = TranscribeRequest {
            audio: self.audio(ctx, transcript.parent_id).await?,
            language,
            options,
        };
        let call = ctx.call();
        let mut output = pick(&self.0.transcribe, &transcript.provider)?
            .transcribe(&request, &call)
            .await?;
        // A model that answers text alone (OpenAI's gpt-4o-transcribe family) gets its words
        // timed here, so subtitles and reuse checks have times to work with.
        if let (true, Some(audio)) = (
            output.words.is_empty() && !output.text.trim().is_empty(),
            &request.audio,
        ) {
            (output.words, output.timing_method) = super::timing::time_words(
                &self.0,
                audio,
                &output.text,
                &output.language,
                output.duration_ms,
                &call,
            )
            .await;
        }
        ctx.record_usage(
            &self.0.prices,
            &transcript,
            &[(Metric::AudioSeconds, output.audio_seconds)],
        )
        .await;
        Ok(output)
    }
}
