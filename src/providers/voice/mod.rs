//! Step 5: speak the script. Providers write an audio file; the voice job measures it, fits it
//! to the target duration (re-voicing at another speed, else a bounded `atempo`), and fills in
//! word timings when the provider gives none.

pub mod elevenlabs;
pub mod fake;
pub mod local;
pub mod openai;
pub mod recording;
pub mod silence;

use std::path::PathBuf;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{transcribe::WordTiming, CallContext, ProviderError};

#[derive(Debug, Clone)]
pub struct VoiceRequest {
    pub text: String,
    pub language: String,
    /// 1.0 is the voice's natural pace; only used by providers with a speed range.
    pub speed: f64,
    pub options: crate::domain::options::VoiceOptions,
    /// A scratch path without extension; the provider writes `{stem}.{format}`.
    pub output_stem: PathBuf,
}

impl VoiceRequest {
    pub fn output(&self, format: &str) -> PathBuf {
        self.output_stem.with_extension(format)
    }
}

/// What a provider produced.
#[derive(Debug, Clone)]
pub struct SpokenAudio {
    /// The file written; the voice job refuses a success that left none.
    pub path: PathBuf,
    pub format: String,
    pub voice: String,
    pub model: String,
    /// Characters billed.
    pub characters: u64,
    /// Word timings, when the provider reports them.
    pub words: Option<Vec<WordTiming>>,
}

/// How the audio was brought to the project's target duration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct DurationFit {
    pub target_ms: u64,
    pub tolerance_ms: u64,
    /// The first take's duration, after its long pauses were shortened.
    pub measured_ms: u64,
    pub speed: f64,
    /// The `atempo` factor applied, if any (>1 speeds up).
    pub tempo: Option<f64>,
    pub within_target: bool,
    /// What was done, in order: pauses shortened, re-voiced at another speed, time-stretched,
    /// or the miss left.
    pub actions: Vec<String>,
    /// Silence taken out of the kept take: pauses over 300 ms shortened to 300 ms, the lead-in
    /// to 100 ms and the tail to 150 ms.
    #[serde(default)]
    pub silence_trimmed_ms: u64,
}

crate::domain::text_enum! {
    /// Where an audio's word timings come from: the provider's own alignment, the local
    /// transcriber hearing the voice (each word, or the script spread over the span it heard
    /// speech in), or an estimate spread by syllables.
    TimingMethod {
        Provider => "provider",
        Transcribed => "transcribed",
        TranscribedSpan => "transcribed_span",
        Estimated => "estimated",
    }
}

/// What outputs stored before the method was recorded had.
fn estimated() -> TimingMethod {
    TimingMethod::Estimated
}

/// An audio resource's output (step 5).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct VoiceOutput {
    /// Media store key of the file.
    pub key: String,
    pub format: String,
    pub duration_ms: u64,
    pub sample_rate: u32,
    pub voice: String,
    #[serde(default)]
    pub model: String,
    /// Characters billed.
    pub characters: u64,
    #[serde(default)]
    pub words: Vec<WordTiming>,
    #[serde(default = "estimated")]
    pub timing_method: TimingMethod,
    #[serde(default)]
    pub fit: Option<DurationFit>,
}

#[async_trait]
pub trait Voice: Send + Sync {
    /// The speeds the provider can speak at, if it can change speed at all.
    fn speed_range(&self) -> Option<(f64, f64)>;

    async fn synthesize(
        &self,
        request: &VoiceRequest,
        ctx: &CallContext<'_>,
    ) -> Result<SpokenAudio, ProviderError>;
}

/// Word timings spread over `duration_ms` by each word's syllables (vowels), at least one per
/// word, for providers that report none.
pub fn estimate_timings(text: &str, duration_ms: u64) -> Vec<WordTiming> {
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    let weight = |word: &str| {
        let vowels = word
            .chars()
            .filter(|c| "aeiouyаеёиоуыэюяAEIOUYАЕЁИОУЫЭЮЯ".contains(*c))
            .count();
        vowels.max(1) as u64
    };
    let total: u64 = words.iter().map(|w| weight(w)).sum();
    if total == 0 {
        return Vec::new();
    }
    let mut elapsed = 0;
    words
        .iter()
        .map(|word| {
            let start = duration_ms * elapsed / total;
            elapsed += weight(word);
            WordTiming {
                text: (*word).to_owned(),
                start_ms: start,
                end_ms: duration_ms * elapsed / total,
                confidence: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimated_timings_follow_syllables_and_cover_the_audio() {
        let words = estimate_timings("Привет — мир, дорогой!", 1200);
        let spans: Vec<(&str, u64, u64)> = words
            .iter()
            .map(|w| (w.text.as_str(), w.start_ms, w.end_ms))
            .collect();
        assert_eq!(
            spans,
            vec![
                ("Привет", 0, 400),
                ("мир,", 400, 600),
                ("дорогой!", 600, 1200)
            ]
        );
    }
}
