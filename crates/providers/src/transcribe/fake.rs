use async_trait::async_trait;

use crate::domain::options::StepOptions;

use super::{TranscribeRequest, Transcriber, TranscriptOutput, WordTiming};
use crate::fake::Perform as _;
use crate::{fake::sentence_text, CallContext, ProviderError};

pub struct FakeTranscriber;

const WORD_MS: u64 = 400;

#[async_trait]
impl Transcriber for FakeTranscriber {
    async fn transcribe(
        &self,
        request: &TranscribeRequest,
        ctx: &CallContext<'_>,
    ) -> Result<TranscriptOutput, ProviderError> {
        request.options.fake().perform(ctx).await?;
        let language = request.language.clone().unwrap_or_else(|| "en".into());
        let text = sentence_text(&language, 16);
        let words: Vec<WordTiming> = text
            .split(' ')
            .zip(0u64..)
            .map(|(word, i)| WordTiming {
                text: word.to_owned(),
                start_ms: i * WORD_MS,
                end_ms: (i + 1) * WORD_MS,
                confidence: Some(1.0),
            })
            .collect();
        let duration_ms = words.len() as u64 * WORD_MS;
        Ok(TranscriptOutput {
            duration_ms,
            audio_seconds: duration_ms as f64 / 1000.0,
            text,
            language,
            words,
            timing_method: crate::voice::TimingMethod::Provider,
            model: "fake".into(),
        })
    }
}
