//! Any OpenAI-compatible `/audio/speech` server: model, voice, format and speed.

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::{SpokenAudio, Voice, VoiceRequest};
use crate::domain::options::SpeechFormat;
use crate::{
    http,
    openai_api::{OpenAiApi, PROVIDER},
    CallContext, ProviderError,
};

pub use reelforge_vocab::domain::provider::voice_openai::NAME;

pub struct OpenAiVoice {
    pub api: OpenAiApi,
    pub model: String,
    pub voice: String,
}

/// Streams a successful audio answer to `path`.
pub async fn save_body(
    provider: &'static str,
    response: reqwest::Response,
    path: &std::path::Path,
) -> Result<(), ProviderError> {
    let storage =
        |error: std::io::Error| ProviderError::retryable(format!("writing the audio: {error}"));
    let mut file = tokio::fs::File::create(path).await.map_err(storage)?;
    let mut body = response.bytes_stream();
    let mut written = 0usize;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| http::transport_error(provider, error))?;
        written += chunk.len();
        file.write_all(&chunk).await.map_err(storage)?;
    }
    file.flush().await.map_err(storage)?;
    if written == 0 {
        return Err(http::bad_response(provider, "an empty audio body"));
    }
    Ok(())
}

#[async_trait]
impl Voice for OpenAiVoice {
    fn speed_range(&self) -> Option<(f64, f64)> {
        Some((0.25, 4.0))
    }

    async fn synthesize(
        &self,
        request: &VoiceRequest,
        ctx: &CallContext<'_>,
    ) -> Result<SpokenAudio, ProviderError> {
        let model = request
            .options
            .model
            .clone()
            .unwrap_or_else(|| self.model.clone());
        let voice = request
            .options
            .voice
            .clone()
            .unwrap_or_else(|| self.voice.clone());
        let format = request
            .options
            .format
            .map_or("wav", SpeechFormat::as_str)
            .to_owned();
        ctx.progress.report(20, "speaking").await;
        let response = self
            .api
            .send(
                self.api
                    .request(reqwest::Method::POST, "/audio/speech")
                    .json(&json!({
                        "model": model,
                        "input": request.text,
                        "voice": voice,
                        "response_format": format,
                        "speed": request.speed,
                    })),
            )
            .await?;
        // The local engine says which voice `auto` (or a fallback) became.
        let spoken_by = response
            .headers()
            .get("x-voice")
            .and_then(|value| value.to_str().ok())
            .map_or(voice, str::to_owned);
        let output = request.output(&format);
        save_body(PROVIDER, response, &output).await?;
        Ok(SpokenAudio {
            path: output,
            format,
            voice: spoken_by,
            model,
            characters: request.text.chars().count() as u64,
            words: None,
        })
    }
}
