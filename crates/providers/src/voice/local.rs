//! The offline voice without the engine server: espeak-ng, which speaks about a hundred
//! languages (Russian and English included) with no model download. Robotic but always there;
//! with the engines enabled the `local` voice is the engine's Festival or Piper instead.

use crate::error_code::ErrorCode;
use async_trait::async_trait;

use super::{SpokenAudio, Voice, VoiceRequest};
use crate::{process, CallContext, ProviderError};

/// espeak-ng's default pace, in words per minute.
const BASE_WPM: f64 = 175.0;

pub struct EspeakVoice;

fn espeak_voice(language: &str) -> String {
    match language.split('-').next().unwrap_or(language) {
        "en" => "en-us".into(),
        other => other.to_owned(),
    }
}

#[async_trait]
impl Voice for EspeakVoice {
    fn speed_range(&self) -> Option<(f64, f64)> {
        Some((0.5, 2.0))
    }

    async fn synthesize(
        &self,
        request: &VoiceRequest,
        ctx: &CallContext<'_>,
    ) -> Result<SpokenAudio, ProviderError> {
        ctx.progress.report(20, "speaking").await;
        let voice = request
            .options
            .voice
            .clone()
            .unwrap_or_else(|| espeak_voice(&request.language));
        let output = request.output("wav");
        let wpm = format!("{}", (BASE_WPM * request.speed).round() as u32);
        process::run(
            "espeak-ng",
            [
                "-v".as_ref(),
                voice.as_ref(),
                "-s".as_ref(),
                wpm.as_ref(),
                "-w".as_ref(),
                output.as_os_str(),
                "--".as_ref(),
                request.text.as_ref(),
            ],
            process::TOOL_TIMEOUT,
        )
        .await
        .map_err(|error| match error {
            process::ProcessError::Failed { stderr, .. } => ProviderError::fatal(
                ErrorCode::UnsupportedVoice,
                format!("espeak-ng cannot speak `{voice}`: {stderr}"),
            ),
            other => other.into(),
        })?;
        Ok(SpokenAudio {
            path: output,
            format: "wav".into(),
            voice: format!("espeak-ng:{voice}"),
            model: "espeak-ng".into(),
            characters: request.text.chars().count() as u64,
            words: None,
        })
    }
}
