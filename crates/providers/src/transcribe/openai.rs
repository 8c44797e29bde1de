//! Any OpenAI-compatible `/audio/transcriptions` server (OpenAI, speaches, LocalAI, the local
//! engine): `verbose_json` with word timestamps, seconds turned into milliseconds, from
//! `whisper-1` and the Whisper servers; OpenAI's `gpt-*-transcribe` models answer `json` only
//! (text, no times), so they are asked for that and the transcribe step times their words
//! another way. Audio over the server's upload limit is cut into chunks whose words are
//! shifted by the chunk's offset.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde::Deserialize;

use super::{language_code, TranscribeRequest, Transcriber, TranscriptOutput, WordTiming};
use crate::{
    media::MediaStore,
    {
        http,
        openai_api::{OpenAiApi, SendError, PROVIDER},
        process, CallContext, ProviderError,
    },
};

pub use reelforge_vocab::domain::provider::whisper::NAME;

pub struct OpenAiTranscriber {
    pub api: OpenAiApi,
    pub model: String,
    pub max_upload_bytes: u64,
    pub chunk_seconds: u32,
    /// Where chunks are cut to.
    pub scratch: std::sync::Arc<MediaStore>,
}

#[derive(Debug, Deserialize)]
struct Verbose {
    #[serde(default)]
    text: String,
    language: Option<String>,
    #[serde(default)]
    words: Option<Vec<VerboseWord>>,
}

#[derive(Debug, Deserialize)]
struct VerboseWord {
    word: String,
    start: f64,
    end: f64,
}

/// What a transcription is asked to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerFormat {
    /// `verbose_json` with `timestamp_granularities[]=word`.
    WordTimes,
    /// `json`: the text alone.
    Text,
}

impl AnswerFormat {
    /// `whisper-1` and unknown models (Whisper servers) give word times; OpenAI's
    /// `gpt-4o-transcribe`, `gpt-4o-mini-transcribe` and `gpt-transcribe` families refuse
    /// `verbose_json` with a 400.
    pub fn of(model: &str) -> Self {
        let name = model.trim().to_ascii_lowercase();
        if name.starts_with("gpt-") && name.contains("transcribe") {
            AnswerFormat::Text
        } else {
            AnswerFormat::WordTimes
        }
    }
}

fn ms(seconds: f64) -> u64 {
    (seconds.max(0.0) * 1000.0).round() as u64
}

/// Deletes the chunk files however the transcription ends.
struct Chunks(Vec<PathBuf>);

impl Drop for Chunks {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl OpenAiTranscriber {
    fn model<'a>(&'a self, request: &'a TranscribeRequest) -> &'a str {
        request.options.model.as_deref().unwrap_or(&self.model)
    }

    /// Transcribes one file in `format`; a server that refuses word times by name (a model the
    /// name rule does not know) is asked again for text, and the format kept for later chunks.
    async fn send_chunk(
        &self,
        path: &Path,
        request: &TranscribeRequest,
        format: &mut AnswerFormat,
    ) -> Result<Verbose, ProviderError> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|error| ProviderError::retryable(format!("reading the audio: {error}")))?;
        loop {
            let mut form = reqwest::multipart::Form::new()
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes.clone())
                        .file_name("audio.wav")
                        .mime_str("audio/wav")
                        .expect("a valid MIME type"),
                )
                .text("model", self.model(request).to_owned());
            form = match format {
                AnswerFormat::WordTimes => form
                    .text("response_format", "verbose_json")
                    .text("timestamp_granularities[]", "word"),
                AnswerFormat::Text => form.text("response_format", "json"),
            };
            if let Some(language) = &request.language {
                form = form.text("language", language.clone());
            }
            let sent = self
                .api
                .send_adaptable(
                    self.api
                        .request(reqwest::Method::POST, "/audio/transcriptions")
                        .multipart(form),
                )
                .await;
            match sent {
                Ok(response) => return http::json(PROVIDER, response).await,
                Err(SendError::RefusedParameter { param, .. })
                    if *format == AnswerFormat::WordTimes
                        && matches!(
                            param.as_str(),
                            "response_format" | "timestamp_granularities"
                        ) =>
                {
                    *format = AnswerFormat::Text;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// The audio as one file, or as chunks of `chunk_seconds` when it is too large or long.
    async fn chunks(&self, audio: &Path, duration_ms: u64) -> Result<(Chunks, u64), ProviderError> {
        let size = tokio::fs::metadata(audio)
            .await
            .map_err(|error| ProviderError::retryable(format!("reading the audio: {error}")))?
            .len();
        let chunk_ms = u64::from(self.chunk_seconds.max(1)) * 1000;
        if size <= self.max_upload_bytes && duration_ms <= chunk_ms {
            return Ok((Chunks(Vec::new()), chunk_ms));
        }
        // Sized so that each chunk also fits the upload limit (16-bit mono 16 kHz is 32 kB/s).
        let fitting_ms = (self.max_upload_bytes.saturating_sub(1024) / 32).max(1000);
        let chunk_ms = chunk_ms.min(fitting_ms);
        let mut chunks = Chunks(Vec::new());
        let mut start = 0;
        while start < duration_ms {
            let path = self
                .scratch
                .scratch("wav")
                .await
                .map_err(|error| ProviderError::retryable(error.to_string()))?;
            chunks.0.push(path.clone());
            process::cut_wav(audio, start, chunk_ms, &path).await?;
            start += chunk_ms;
        }
        Ok((chunks, chunk_ms))
    }
}

#[async_trait]
impl Transcriber for OpenAiTranscriber {
    async fn transcribe(
        &self,
        request: &TranscribeRequest,
        ctx: &CallContext<'_>,
    ) -> Result<TranscriptOutput, ProviderError> {
        let audio = request.audio()?;
        let duration_ms = process::duration_ms(audio).await?;
        let (chunks, chunk_ms) = self.chunks(audio, duration_ms).await?;
        let files: Vec<&Path> = if chunks.0.is_empty() {
            vec![audio]
        } else {
            chunks.0.iter().map(PathBuf::as_path).collect()
        };
        let (mut texts, mut words, mut detected) = (Vec::new(), Vec::new(), None);
        let mut format = AnswerFormat::of(self.model(request));
        for (index, file) in files.iter().enumerate() {
            ctx.progress
                .report((10 + 80 * index / files.len()) as u8, "transcribing")
                .await;
            let offset = index as u64 * chunk_ms;
            let part = self.send_chunk(file, request, &mut format).await?;
            detected = detected.or(part.language);
            let text = part.text.trim();
            if !text.is_empty() {
                texts.push(text.to_owned());
            }
            words.extend(
                part.words
                    .unwrap_or_default()
                    .into_iter()
                    .map(|w| WordTiming {
                        text: w.word.trim().to_owned(),
                        start_ms: offset + ms(w.start),
                        end_ms: offset + ms(w.end),
                        confidence: None,
                    }),
            );
        }
        let language = request
            .language
            .clone()
            .or_else(|| detected.as_deref().map(language_code))
            .unwrap_or_else(|| "und".into());
        Ok(TranscriptOutput {
            text: texts.join(" "),
            language,
            duration_ms,
            words,
            timing_method: crate::voice::TimingMethod::Provider,
            model: self.model(request).to_owned(),
            audio_seconds: duration_ms as f64 / 1000.0,
        })
    }
}
