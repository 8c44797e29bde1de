use std::io::Write;

use async_trait::async_trait;

use super::{estimate_timings, SpokenAudio, Voice, VoiceRequest};
use crate::fake::Perform as _;
use crate::{
    domain::options::StepOptions,
    error_code::ErrorCode,
    {CallContext, ProviderError},
};

/// The pace the fake speaks at, at speed 1.
const WORDS_PER_MINUTE: f64 = 150.0;
const SAMPLE_RATE: u32 = 8_000;

/// Writes a silent WAV as long as the text would take to say, so every later step works on a
/// real file.
pub struct FakeVoice;

#[async_trait]
impl Voice for FakeVoice {
    fn speed_range(&self) -> Option<(f64, f64)> {
        Some((0.5, 2.0))
    }

    async fn synthesize(
        &self,
        request: &VoiceRequest,
        ctx: &CallContext<'_>,
    ) -> Result<SpokenAudio, ProviderError> {
        let behaviour = request.options.fake();
        behaviour.perform(ctx).await?;
        let words = request.text.split_whitespace().count().max(1) as f64;
        let seconds = words * 60.0 / WORDS_PER_MINUTE / request.speed;
        let duration_ms = (seconds * 1000.0).round() as u64;
        let path = request.output("wav");
        if behaviour.withholds_output() {
            return Ok(SpokenAudio {
                path,
                format: "wav".into(),
                voice: "fake".into(),
                model: "fake".into(),
                characters: 0,
                words: None,
            });
        }
        std::fs::File::create(&path)
            .and_then(|mut file| file.write_all(&silent_wav(duration_ms)))
            .map_err(|error| {
                ProviderError::fatal(ErrorCode::Storage, format!("writing the audio: {error}"))
            })?;
        Ok(SpokenAudio {
            path,
            format: "wav".into(),
            voice: "fake".into(),
            model: "fake".into(),
            characters: request.text.chars().count() as u64,
            words: Some(estimate_timings(&request.text, duration_ms)),
        })
    }
}

/// A 16-bit mono PCM WAV of silence.
fn silent_wav(duration_ms: u64) -> Vec<u8> {
    let samples = (u64::from(SAMPLE_RATE) * duration_ms / 1000) as u32;
    let data_bytes = samples * 2;
    let mut wav = Vec::with_capacity(44 + data_bytes as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_bytes).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    wav.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_bytes.to_le_bytes());
    wav.resize(44 + data_bytes as usize, 0);
    wav
}
