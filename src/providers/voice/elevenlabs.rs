//! ElevenLabs text to speech. By default `/with-timestamps`, whose per-character alignment (in
//! seconds) is grouped on whitespace into word timings; the plain endpoint by option.

use crate::error_code::ErrorCode;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::{openai::save_body, SpokenAudio, Voice, VoiceRequest};
use crate::providers::{
    http::{self, HttpFailureOr},
    transcribe::WordTiming,
    CallContext, ProviderError,
};

pub const NAME: &str = "elevenlabs";
const PROVIDER: &str = NAME;

pub struct ElevenLabs {
    client: reqwest::Client,
    base_url: String,
    key: SecretString,
    pub voice_id: String,
    pub model: String,
}

#[derive(Debug, Deserialize)]
struct Timed {
    audio_base64: String,
    alignment: Option<Alignment>,
}

#[derive(Debug, Deserialize)]
struct Alignment {
    characters: Vec<String>,
    character_start_times_seconds: Vec<f64>,
    character_end_times_seconds: Vec<f64>,
}

impl ElevenLabs {
    pub fn new(
        base_url: &str,
        key: SecretString,
        timeout: Duration,
        voice_id: &str,
        model: &str,
    ) -> Self {
        ElevenLabs {
            client: http::client(timeout),
            base_url: base_url.trim_end_matches('/').to_owned(),
            key,
            voice_id: voice_id.to_owned(),
            model: model.to_owned(),
        }
    }

    /// 422 carries the validation `detail`; the rest follows the shared rules.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ProviderError> {
        http::send(PROVIDER, request)
            .await
            .map_err(|failure| match failure {
                HttpFailureOr::Status(failure) if failure.status.as_u16() == 422 => {
                    ProviderError::fatal(
                        ErrorCode::ProviderRejected,
                        format!("ElevenLabs refused the request: {}", failure.excerpt()),
                    )
                }
                other => other.into(),
            })
    }
}

/// Groups per-character times into words: a word is a run of non-whitespace characters.
fn words_from_alignment(alignment: &Alignment) -> Vec<WordTiming> {
    let mut words = Vec::new();
    let mut current: Option<WordTiming> = None;
    let times = alignment
        .character_start_times_seconds
        .iter()
        .zip(&alignment.character_end_times_seconds);
    for (character, (&start, &end)) in alignment.characters.iter().zip(times) {
        let ms = |s: f64| (s.max(0.0) * 1000.0).round() as u64;
        if character.chars().all(char::is_whitespace) {
            words.extend(current.take());
            continue;
        }
        match &mut current {
            Some(word) => {
                word.text.push_str(character);
                word.end_ms = ms(end);
            }
            None => {
                current = Some(WordTiming {
                    text: character.clone(),
                    start_ms: ms(start),
                    end_ms: ms(end),
                    confidence: None,
                })
            }
        }
    }
    words.extend(current);
    words
}

#[async_trait]
impl Voice for ElevenLabs {
    fn speed_range(&self) -> Option<(f64, f64)> {
        Some((0.7, 1.2))
    }

    async fn synthesize(
        &self,
        request: &VoiceRequest,
        ctx: &CallContext<'_>,
    ) -> Result<SpokenAudio, ProviderError> {
        let options = &request.options;
        let voice_id = options
            .voice
            .as_deref()
            .unwrap_or(&self.voice_id)
            .to_owned();
        let model = options.model.as_deref().unwrap_or(&self.model).to_owned();
        let output_format = options.output_format.as_deref().unwrap_or("mp3_44100_128");
        let timestamps = options.timestamps.unwrap_or(true);
        let settings = options.voice_settings.clone().unwrap_or_default();
        let mut voice_settings = json!({
            "stability": settings.stability.unwrap_or(0.5),
            "similarity_boost": settings.similarity_boost.unwrap_or(0.75),
            "speed": request.speed,
        });
        if let Some(style) = settings.style {
            voice_settings["style"] = json!(style);
        }
        if let Some(boost) = settings.use_speaker_boost {
            voice_settings["use_speaker_boost"] = json!(boost);
        }
        let body = json!({
            "text": request.text,
            "model_id": model,
            "language_code": request.language.split('-').next(),
            "voice_settings": voice_settings,
        });
        let path = if timestamps {
            format!("/v1/text-to-speech/{voice_id}/with-timestamps")
        } else {
            format!("/v1/text-to-speech/{voice_id}")
        };
        ctx.progress.report(20, "speaking").await;
        let response = self
            .send(
                self.client
                    .post(format!("{}{path}", self.base_url))
                    .query(&[("output_format", output_format)])
                    .header("xi-api-key", self.key.expose_secret())
                    .json(&body),
            )
            .await?;
        let format = output_format.split('_').next().unwrap_or("mp3").to_owned();
        let output = request.output(&format);
        let words = if timestamps {
            let timed: Timed = http::json(PROVIDER, response).await?;
            let audio = base64::engine::general_purpose::STANDARD
                .decode(timed.audio_base64.trim())
                .map_err(|error| http::bad_response(PROVIDER, format!("audio_base64: {error}")))?;
            tokio::fs::write(&output, audio)
                .await
                .map_err(|error| ProviderError::retryable(format!("writing the audio: {error}")))?;
            timed.alignment.as_ref().map(words_from_alignment)
        } else {
            save_body(PROVIDER, response, &output).await?;
            None
        };
        Ok(SpokenAudio {
            path: output,
            format,
            voice: voice_id,
            model,
            characters: request.text.chars().count() as u64,
            words,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_group_into_words() {
        let alignment = Alignment {
            characters: "Да, ок".chars().map(String::from).collect(),
            character_start_times_seconds: vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5],
            character_end_times_seconds: vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        };
        let words: Vec<(String, u64, u64)> = words_from_alignment(&alignment)
            .into_iter()
            .map(|w| (w.text, w.start_ms, w.end_ms))
            .collect();
        assert_eq!(words, vec![("Да,".into(), 0, 300), ("ок".into(), 400, 600)]);
    }
}
