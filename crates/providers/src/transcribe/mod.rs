//! Step 3: speech to text with word timings.

pub mod assemblyai;
pub mod fake;
pub mod openai;

use crate::error_code::ErrorCode;
use std::path::PathBuf;

use async_trait::async_trait;

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

pub use reelforge_vocab::domain::output::{TranscriptOutput, WordTiming};

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
