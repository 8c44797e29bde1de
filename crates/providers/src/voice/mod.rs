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

pub use reelforge_vocab::domain::output::{DurationFit, TimingMethod, VoiceOutput};

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
