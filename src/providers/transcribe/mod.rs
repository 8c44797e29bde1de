//! Step 3: speech to text with word timings.

pub mod assemblyai;
pub mod fake;
pub mod openai;

use crate::error_code::ErrorCode;
use std::path::PathBuf;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{CallContext, ProviderError};

#[derive(Debug, Clone)]
pub struct TranscribeRequest {
    /// The reel's 16 kHz mono WAV; `None` when the reel has no audio track.
    pub audio: Option<PathBuf>,
    /// The language to expect; `None` asks the provider to detect it.
    pub language: Option<String>,
    pub options: crate::domain::options::TranscribeOptions,
}

impl TranscribeRequest {
    pub fn audio(&self) -> Result<&std::path::Path, ProviderError> {
        self.audio.as_deref().ok_or_else(|| {
            ProviderError::fatal(
                ErrorCode::NoAudio,
                "the reel has no audio track to transcribe",
            )
        })
    }
}

/// One spoken word and when it is heard.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct WordTiming {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// The recogniser's confidence, 0 to 1, where it gives one.
    pub confidence: Option<f32>,
}

/// A transcript's output (step 3).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct TranscriptOutput {
    pub text: String,
    /// The language spoken (ISO 639-1 where known, `und` when it could not be told).
    #[schema(example = "ru")]
    pub language: String,
    pub duration_ms: u64,
    pub words: Vec<WordTiming>,
    /// Where the words' times come from: the provider's, or (for a model that answers text
    /// alone) the local transcriber's hearing or an estimate.
    #[serde(default = "provider_timing")]
    pub timing_method: super::voice::TimingMethod,
    pub model: String,
    /// Seconds of audio billed.
    #[serde(default)]
    pub audio_seconds: f64,
}

/// What transcripts stored before the method was recorded had.
fn provider_timing() -> super::voice::TimingMethod {
    super::voice::TimingMethod::Provider
}

#[async_trait]
pub trait Transcriber: Send + Sync {
    async fn transcribe(
        &self,
        request: &TranscribeRequest,
        ctx: &CallContext<'_>,
    ) -> Result<TranscriptOutput, ProviderError>;
}

/// Providers answer language names ("russian") or codes ("ru"); the transcript stores codes.
pub fn language_code(reported: &str) -> String {
    let lower = reported.trim().to_lowercase();
    let code = match lower.as_str() {
        "russian" => "ru",
        "english" => "en",
        "ukrainian" => "uk",
        "german" => "de",
        "spanish" => "es",
        "french" => "fr",
        "italian" => "it",
        "portuguese" => "pt",
        "polish" => "pl",
        "turkish" => "tr",
        other => return other.split(['_', '-']).next().unwrap_or(other).to_owned(),
    };
    code.to_owned()
}
