//! AssemblyAI: upload the audio, create a transcript, poll it with backoff, read the words
//! (already in milliseconds). `status: error` is final and carries AssemblyAI's reason.
//!
//! `speech_models` is always sent: AssemblyAI required it for a while, and its default now
//! leads with a model of six languages, Russian not among them. `audio_duration` comes back in
//! whole seconds, so the transcript's duration is measured on the audio instead.

use crate::error_code::ErrorCode;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{language_code, TranscribeRequest, Transcriber, TranscriptOutput, WordTiming};
use crate::{http, process, CallContext, ProviderError};

pub use reelforge_vocab::domain::provider::assemblyai::{
    speech_models_problem, DEFAULT_SPEECH_MODELS, NAME, SIX_LANGUAGES, SIX_LANGUAGE_MODELS,
};
const PROVIDER: &str = NAME;

pub struct AssemblyAi {
    client: reqwest::Client,
    base_url: String,
    key: SecretString,
    poll_start: Duration,
    poll_max: Duration,
    deadline: Duration,
}

/// `POST /v2/transcript`: a language, or detection, and the models in order of preference.
#[derive(Debug, Serialize)]
struct CreateTranscript<'a> {
    audio_url: &'a str,
    punctuate: bool,
    format_text: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    language_code: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    language_detection: bool,
    speech_models: Vec<&'a str>,
}

#[derive(Debug, Deserialize)]
struct Upload {
    upload_url: String,
}

#[derive(Debug, Deserialize)]
struct Transcript {
    id: String,
    status: String,
    error: Option<String>,
    text: Option<String>,
    language_code: Option<String>,
    #[serde(default)]
    words: Option<Vec<Word>>,
    /// Which of the requested models transcribed it.
    speech_model_used: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Word {
    text: String,
    start: Option<u64>,
    end: Option<u64>,
    confidence: Option<f32>,
}

impl AssemblyAi {
    pub fn new(base_url: &str, key: SecretString, timeout: Duration) -> Self {
        AssemblyAi {
            client: http::client(timeout),
            base_url: base_url.trim_end_matches('/').to_owned(),
            key,
            poll_start: Duration::from_secs(2),
            poll_max: Duration::from_secs(15),
            deadline: Duration::from_secs(30 * 60),
        }
    }

    /// Shorter polling for tests against a local stand-in.
    pub fn with_polling(mut self, start: Duration, max: Duration, deadline: Duration) -> Self {
        self.poll_start = start;
        self.poll_max = max;
        self.deadline = deadline;
        self
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        // AssemblyAI takes the bare key, without "Bearer".
        self.client
            .request(method, format!("{}{path}", self.base_url))
            .header("authorization", self.key.expose_secret())
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ProviderError> {
        let response = http::send(PROVIDER, request).await?;
        http::json(PROVIDER, response).await
    }
}

#[async_trait]
impl Transcriber for AssemblyAi {
    async fn transcribe(
        &self,
        request: &TranscribeRequest,
        ctx: &CallContext<'_>,
    ) -> Result<TranscriptOutput, ProviderError> {
        let audio = request.audio()?;
        // Measured here because AssemblyAI's `audio_duration` is rounded to whole seconds.
        let measured_ms = process::duration_ms(audio).await.ok();
        let file = tokio::fs::File::open(audio)
            .await
            .map_err(|error| ProviderError::retryable(format!("reading the audio: {error}")))?;
        let length = file.metadata().await.map(|m| m.len()).unwrap_or(0);
        ctx.progress.report(10, "uploading").await;
        // Streamed from disk, never held whole in memory.
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
        let upload: Upload = self
            .call(
                self.request(reqwest::Method::POST, "/v2/upload")
                    .header("content-type", "application/octet-stream")
                    .header("content-length", length)
                    .body(body),
            )
            .await?;

        let create = CreateTranscript {
            audio_url: &upload.upload_url,
            punctuate: true,
            format_text: true,
            language_code: request.language.as_deref(),
            language_detection: request.language.is_none(),
            speech_models: match &request.options.speech_models {
                Some(models) => models.iter().map(String::as_str).collect(),
                None => DEFAULT_SPEECH_MODELS.to_vec(),
            },
        };
        let mut transcript: Transcript = self
            .call(
                self.request(reqwest::Method::POST, "/v2/transcript")
                    .json(&create),
            )
            .await?;
        ctx.progress.report(30, "transcribing").await;

        let started = Instant::now();
        let mut delay = self.poll_start;
        loop {
            match transcript.status.as_str() {
                "completed" => break,
                "error" => {
                    return Err(ProviderError::fatal(
                        ErrorCode::ProviderJobFailed,
                        format!(
                            "AssemblyAI could not transcribe the audio: {}",
                            transcript.error.as_deref().unwrap_or("no reason given")
                        ),
                    ))
                }
                _ => {}
            }
            if started.elapsed() > self.deadline {
                return Err(ProviderError::retryable(format!(
                    "AssemblyAI transcript {} was not done within {:?}",
                    transcript.id, self.deadline
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.poll_max);
            transcript = self
                .call(self.request(
                    reqwest::Method::GET,
                    &format!("/v2/transcript/{}", transcript.id),
                ))
                .await?;
        }

        let words: Vec<WordTiming> = transcript
            .words
            .unwrap_or_default()
            .into_iter()
            .filter_map(|w| {
                Some(WordTiming {
                    text: w.text,
                    start_ms: w.start?,
                    end_ms: w.end?,
                    confidence: w.confidence,
                })
            })
            .collect();
        let duration_ms = measured_ms
            .or_else(|| words.last().map(|w| w.end_ms))
            .unwrap_or(0);
        let language = transcript
            .language_code
            .as_deref()
            .map(language_code)
            .or_else(|| request.language.clone())
            .unwrap_or_else(|| "und".into());
        Ok(TranscriptOutput {
            text: transcript.text.unwrap_or_default(),
            language,
            duration_ms,
            words,
            timing_method: crate::voice::TimingMethod::Provider,
            model: transcript.speech_model_used.unwrap_or_else(|| NAME.into()),
            audio_seconds: duration_ms as f64 / 1000.0,
        })
    }
}
