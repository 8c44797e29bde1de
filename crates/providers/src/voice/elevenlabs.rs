//! ElevenLabs text to speech. By default `/with-timestamps`, whose per-character alignment (in
//! seconds) is grouped on whitespace into word timings; the plain endpoint by option.
//!
//! `language_code` goes only to the models that enforce it (Flash and Turbo v2.5):
//! `eleven_multilingual_v2` ignores it (it used to refuse it) and reads the language off the
//! text, so with it nothing makes the voice speak Russian but the script itself.

use crate::error_code::ErrorCode;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{openai::save_body, SpokenAudio, Voice, VoiceRequest};
use crate::{
    http::{self, HttpFailureOr},
    transcribe::WordTiming,
    CallContext, ProviderError,
};

pub use reelforge_vocab::domain::provider::elevenlabs::NAME;
const PROVIDER: &str = NAME;

/// The models that hold the voice to `language_code`; the others ignore it or refuse it.
pub const LANGUAGE_ENFORCING_MODELS: &[&str] = &["eleven_flash_v2_5", "eleven_turbo_v2_5"];

/// Whether `model` is held to the language it is given, said for `doctor`.
pub fn language_note(model: &str) -> String {
    if LANGUAGE_ENFORCING_MODELS.contains(&model) {
        format!("{model} is held to the script's language (Russian included)")
    } else {
        format!(
            "{model} guesses the language from the text; {} enforce Russian",
            LANGUAGE_ENFORCING_MODELS.join(" and ")
        )
    }
}

/// The body of a text-to-speech request.
#[derive(Debug, Serialize)]
struct Speech<'a> {
    text: &'a str,
    model_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    language_code: Option<&'a str>,
    voice_settings: SpeechSettings,
}

#[derive(Debug, Serialize)]
struct SpeechSettings {
    stability: f64,
    similarity_boost: f64,
    speed: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    style: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    use_speaker_boost: Option<bool>,
}

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

    /// 422 carries the validation `detail`; 400 and 401 name their cause in `detail.status`;
    /// the rest follows the shared rules.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ProviderError> {
        http::send(PROVIDER, request).await.map_err(classify)
    }

    fn headers(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header("xi-api-key", self.key.expose_secret())
    }

    /// Instant voice cloning: a new voice from the samples (`POST /v1/voices/add`).
    pub async fn clone_voice(&self, clone: VoiceClone) -> Result<NewClone, ProviderError> {
        let mut form = reqwest::multipart::Form::new()
            .text("name", clone.name)
            .text(
                "remove_background_noise",
                clone.remove_background_noise.to_string(),
            );
        if let Some(description) = clone.description {
            form = form.text("description", description);
        }
        if let Some(labels) = clone.labels {
            let labels = serde_json::to_string(&labels)
                .map_err(|error| ProviderError::fatal(ErrorCode::Internal, error.to_string()))?;
            form = form.text("labels", labels);
        }
        for (file_name, bytes) in clone.samples {
            form = form.part(
                "files",
                reqwest::multipart::Part::bytes(bytes).file_name(file_name),
            );
        }
        let response = self
            .send(
                self.headers(
                    self.client
                        .post(format!("{}/v1/voices/add", self.base_url))
                        .multipart(form),
                ),
            )
            .await?;
        http::json(PROVIDER, response).await
    }

    /// Deletes a cloned voice; one ElevenLabs says it does not know (`voice_not_found`) is gone
    /// already. A bare 404 is not taken for that: it may be a wrong address.
    pub async fn delete_voice(&self, voice_id: &str) -> Result<(), ProviderError> {
        let request = self.headers(
            self.client
                .delete(format!("{}/v1/voices/{voice_id}", self.base_url)),
        );
        match http::send(PROVIDER, request).await {
            Ok(_) => Ok(()),
            Err(HttpFailureOr::Status(failure))
                if detail_status(&failure.body).as_deref() == Some("voice_not_found") =>
            {
                Ok(())
            }
            Err(other) => Err(classify(other)),
        }
    }
}

/// A voice to clone, with its recordings as `(file name, bytes)`.
pub struct VoiceClone {
    pub name: String,
    pub description: Option<String>,
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    pub remove_background_noise: bool,
    pub samples: Vec<(String, Vec<u8>)>,
}

/// What `POST /v1/voices/add` answers.
#[derive(Debug, Deserialize)]
pub struct NewClone {
    pub voice_id: String,
    #[serde(default)]
    pub requires_verification: bool,
}

/// `detail.status` of an error body, `{"detail": {"status": ..., "message": ...}}`.
fn detail_status(body: &str) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(body).ok()?;
    body.pointer("/detail/status")?.as_str().map(str::to_owned)
}

fn classify(failure: HttpFailureOr) -> ProviderError {
    match failure {
        HttpFailureOr::Status(failure) if failure.status.as_u16() == 422 => ProviderError::fatal(
            ErrorCode::ProviderRejected,
            format!("ElevenLabs refused the request: {}", failure.excerpt()),
        ),
        HttpFailureOr::Status(failure) if matches!(failure.status.as_u16(), 400 | 401) => {
            match detail_status(&failure.body)
                .and_then(|status| classified(&status, &failure.excerpt()))
            {
                Some(error) => error,
                // Any other 401 is still the key's (a missing permission, a flagged account).
                None => failure.into_error(),
            }
        }
        other => other.into(),
    }
}

/// The documented causes of a 400 or 401, all final; none for any other cause.
fn classified(status: &str, excerpt: &str) -> Option<ProviderError> {
    let code = match status {
        "invalid_api_key" => ErrorCode::ProviderAuth,
        "quota_exceeded" => ErrorCode::ProviderOutOfCredit,
        "voice_not_found" => ErrorCode::ProviderNotFound,
        "voice_limit_reached" => ErrorCode::VoiceSlotsFull,
        _ => return None,
    };
    let message = match code {
        ErrorCode::ProviderAuth => "ElevenLabs rejected the API key".to_owned(),
        ErrorCode::VoiceSlotsFull => {
            "the ElevenLabs account has no free voice slot: delete a cloned voice or upgrade the plan".to_owned()
        }
        _ => format!("ElevenLabs answered `{status}`: {excerpt}"),
    };
    Some(ProviderError::fatal(code, message))
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
        let body = Speech {
            text: &request.text,
            model_id: &model,
            language_code: LANGUAGE_ENFORCING_MODELS
                .contains(&model.as_str())
                .then(|| request.language.split('-').next())
                .flatten(),
            voice_settings: SpeechSettings {
                stability: settings.stability.unwrap_or(0.5),
                similarity_boost: settings.similarity_boost.unwrap_or(0.75),
                speed: request.speed,
                style: settings.style,
                use_speaker_boost: settings.use_speaker_boost,
            },
        };
        let path = if timestamps {
            format!("/v1/text-to-speech/{voice_id}/with-timestamps")
        } else {
            format!("/v1/text-to-speech/{voice_id}")
        };
        ctx.progress.report(20, "speaking").await;
        let response = self
            .send(
                self.headers(
                    self.client
                        .post(format!("{}{path}", self.base_url))
                        .query(&[("output_format", output_format)])
                        .json(&body),
                ),
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
    fn doctor_says_which_models_enforce_russian() {
        assert!(language_note("eleven_flash_v2_5").contains("held to the script's language"));
        assert_eq!(
            language_note("eleven_multilingual_v2"),
            "eleven_multilingual_v2 guesses the language from the text; \
             eleven_flash_v2_5 and eleven_turbo_v2_5 enforce Russian"
        );
    }

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
