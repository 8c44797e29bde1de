//! Step 5: voice the script, shorten its long pauses (see [`silence`]), measure the take, fit it
//! to the target duration, and store it with word timings. Fitting first re-voices at an adjusted speed when the provider has a speed
//! control, then time-stretches with ffmpeg `atempo` (pitch preserved) within 0.85-1.25, and
//! never beyond: a take that still misses is stored with the miss recorded.

use crate::error_code::ErrorCode;
use std::{path::Path, sync::Arc};

use async_trait::async_trait;
use uuid::Uuid;

use super::{context, Handler, JobContext, JobError};
use crate::domain::job::StepJob;
use crate::domain::options::VoiceOptions;
use crate::{
    domain::{resource::StepResource, usage::Metric},
    media::MediaStore,
    providers::{
        pick, process,
        transcribe::WordTiming,
        voice::{
            elevenlabs, estimate_timings, silence, DurationFit, SpokenAudio, TimingMethod, Voice,
            VoiceOutput, VoiceRequest,
        },
        CallContext, ProviderError, Providers,
    },
    script::ScriptOutput,
};

pub struct VoiceStep(pub Arc<Providers>);

pub const TEMPO_BOUNDS: (f64, f64) = (0.85, 1.25);
const DEFAULT_TOLERANCE_MS: u64 = 2000;
/// How a fit action that paid for a second take begins.
const REVOICED: &str = "re-voiced";

/// Time-stretches `input` by `tempo` (>1 is faster) into a WAV beside it.
async fn stretch(input: &Path, tempo: f64) -> Result<std::path::PathBuf, ProviderError> {
    let output = input.with_extension("fitted.wav");
    let filter = format!("atempo={tempo:.4}");
    process::run(
        "ffmpeg",
        [
            "-v".as_ref(),
            "error".as_ref(),
            "-y".as_ref(),
            "-i".as_ref(),
            input.as_os_str(),
            "-filter:a".as_ref(),
            filter.as_ref(),
            output.as_os_str(),
        ],
        process::TOOL_TIMEOUT,
    )
    .await?;
    Ok(output)
}

struct Take {
    audio: SpokenAudio,
    path: std::path::PathBuf,
    duration_ms: u64,
    /// Silence taken out of the provider's audio.
    trimmed_ms: u64,
}

async fn speak(
    voice: &dyn Voice,
    request: &VoiceRequest,
    ctx: &CallContext<'_>,
) -> Result<Take, ProviderError> {
    let audio = voice.synthesize(request, ctx).await?;
    Take::measure(audio, trims_silences(&request.options)).await
}

fn trims_silences(options: &VoiceOptions) -> bool {
    options.trim_silences != Some(false)
}

impl Take {
    /// Measures a new take, first shortening its long pauses when `trim` is set.
    async fn measure(mut audio: SpokenAudio, trim: bool) -> Result<Take, ProviderError> {
        let mut path = audio.path.clone();
        if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Err(ProviderError::fatal(
                ErrorCode::NoOutput,
                "the voice provider reported success but wrote no audio file",
            ));
        }
        let mut duration_ms = process::duration_ms(&path).await?;
        let mut trimmed_ms = 0;
        if let Some(trimmed) = match trim {
            true => silence::trim(&path, duration_ms).await?,
            false => None,
        } {
            if let Some(words) = &mut audio.words {
                trimmed.retime(words);
            }
            let _ = tokio::fs::remove_file(&path).await;
            path = trimmed.path;
            audio.format = "wav".into();
            trimmed_ms = trimmed.removed_ms;
            duration_ms = process::duration_ms(&path).await?;
        }
        Ok(Take {
            audio,
            path,
            duration_ms,
            trimmed_ms,
        })
    }
}

impl VoiceStep {
    async fn record_characters(&self, ctx: &JobContext, audio: &StepResource, characters: u64) {
        ctx.record_usage(
            &self.0.prices,
            audio,
            &[(Metric::Characters, characters as f64)],
        )
        .await;
    }

    async fn fit(
        &self,
        voice: &dyn Voice,
        mut request: VoiceRequest,
        mut take: Take,
        target_ms: u64,
        tolerance_ms: u64,
        ctx: &CallContext<'_>,
    ) -> Result<(Take, DurationFit), ProviderError> {
        let misses = |ms: u64| ms.abs_diff(target_ms) > tolerance_ms;
        let mut fit = DurationFit {
            target_ms,
            tolerance_ms,
            measured_ms: take.duration_ms,
            speed: request.speed,
            tempo: None,
            within_target: !misses(take.duration_ms),
            actions: Vec::new(),
            silence_trimmed_ms: take.trimmed_ms,
        };
        if take.trimmed_ms > 0 {
            fit.actions.push(format!(
                "shortened pauses over {} ms: {} ms less",
                silence::LONGEST_PAUSE_MS,
                take.trimmed_ms
            ));
        }
        if fit.within_target {
            return Ok((take, fit));
        }
        if let Some((slowest, fastest)) = voice.speed_range() {
            let speed = (request.speed * take.duration_ms as f64 / target_ms as f64)
                .clamp(slowest, fastest);
            if (speed - request.speed).abs() > 0.01 {
                ctx.progress.report(50, "re-voicing at another speed").await;
                request.speed = speed;
                let _ = tokio::fs::remove_file(&take.path).await;
                take = speak(voice, &request, ctx).await?;
                fit.speed = speed;
                fit.silence_trimmed_ms = take.trimmed_ms;
                fit.actions.push(format!(
                    "{REVOICED} at speed {speed:.2}: {} ms",
                    take.duration_ms
                ));
            }
        }
        if misses(take.duration_ms) {
            let wanted = take.duration_ms as f64 / target_ms as f64;
            let tempo = wanted.clamp(TEMPO_BOUNDS.0, TEMPO_BOUNDS.1);
            ctx.progress.report(70, "time-stretching").await;
            let stretched = stretch(&take.path, tempo).await?;
            let _ = tokio::fs::remove_file(&take.path).await;
            take.path = stretched;
            take.audio.format = "wav".into();
            take.duration_ms = process::duration_ms(&take.path).await?;
            if let Some(words) = &mut take.audio.words {
                for word in words {
                    word.start_ms = (word.start_ms as f64 / tempo).round() as u64;
                    word.end_ms = (word.end_ms as f64 / tempo).round() as u64;
                }
            }
            fit.tempo = Some((tempo * 10_000.0).round() / 10_000.0);
            fit.actions.push(if tempo == wanted {
                format!("time-stretched by {tempo:.3}: {} ms", take.duration_ms)
            } else {
                format!(
                    "needed a stretch of {wanted:.3}, beyond {}-{}; stretched by {tempo:.3} and missed: {} ms",
                    TEMPO_BOUNDS.0, TEMPO_BOUNDS.1, take.duration_ms
                )
            });
        }
        fit.within_target = !misses(take.duration_ms);
        Ok((take, fit))
    }
}

fn timings(
    words: Option<Vec<WordTiming>>,
    text: &str,
    duration_ms: u64,
) -> (Vec<WordTiming>, TimingMethod) {
    match words.filter(|w| !w.is_empty()) {
        Some(words) => (words, TimingMethod::Provider),
        None => (estimate_timings(text, duration_ms), TimingMethod::Estimated),
    }
}

impl VoiceStep {
    /// Timings for a take: the provider's, else aligned by the local transcriber when there is
    /// one, else estimated.
    async fn word_timings(
        &self,
        take: &Take,
        text: &str,
        language: &str,
        ctx: &CallContext<'_>,
    ) -> (Vec<WordTiming>, TimingMethod) {
        if take.audio.words.as_ref().is_some_and(|w| !w.is_empty()) {
            return timings(take.audio.words.clone(), text, take.duration_ms);
        }
        super::timing::time_words(&self.0, &take.path, text, language, take.duration_ms, ctx).await
    }
}

pub fn audio_key(project_id: Uuid, audio_id: Uuid, format: &str) -> String {
    format!(
        "{}/audio/{audio_id}.{format}",
        MediaStore::project_prefix(project_id)
    )
}

#[async_trait]
impl Handler for VoiceStep {
    type Input = StepJob;
    type Output = VoiceOutput;

    async fn handle(&self, ctx: &JobContext, _: StepJob) -> Result<VoiceOutput, JobError> {
        let audio = ctx.resource().await?;
        let project = ctx.project(&audio).await?;
        let script: ScriptOutput = ctx.parent_output(&audio).await?;
        let mut options: VoiceOptions = context::options(&audio)?;
        // The project's default cloned voice speaks unless the options name one.
        if audio.provider == elevenlabs::NAME && options.voice.is_none() {
            options.voice = crate::voices::default_voice_id(ctx.pool(), audio.project_id).await?;
        }
        let target_ms = u64::from(project.settings.target_duration_seconds) * 1000;
        let tolerance_ms = options
            .tolerance_seconds
            .map_or(DEFAULT_TOLERANCE_MS, |s| (s * 1000.0) as u64);
        let voice = pick(&self.0.voice, &audio.provider)?;
        let request = VoiceRequest {
            text: script.text.clone(),
            language: script.language.clone(),
            speed: options.speed.unwrap_or(1.0),
            output_stem: self
                .0
                .media
                .scratch("voice")
                .await
                .map_err(ProviderError::from)?,
            options,
        };
        let call = ctx.call();
        let first = voice.synthesize(&request, &call).await?;
        let first_characters = first.characters;
        let take = Take::measure(first, trims_silences(&request.options)).await?;
        let (take, fit) = self
            .fit(
                voice.as_ref(),
                request,
                take,
                target_ms,
                tolerance_ms,
                &call,
            )
            .await?;
        let revoiced = fit.actions.iter().any(|a| a.starts_with(REVOICED));
        let billed = first_characters + if revoiced { take.audio.characters } else { 0 };
        self.record_characters(ctx, &audio, billed).await;
        let info = process::probe(&take.path).await?;
        let (words, timing_method) = self
            .word_timings(&take, &script.text, &script.language, &call)
            .await;
        let key = audio_key(audio.project_id, audio.id, &take.audio.format);
        self.0
            .media
            .put(&key, &take.path)
            .await
            .map_err(ProviderError::from)?;
        Ok(VoiceOutput {
            key,
            format: take.audio.format,
            duration_ms: take.duration_ms,
            sample_rate: info.sample_rate.unwrap_or(0),
            voice: take.audio.voice,
            model: take.audio.model,
            characters: billed,
            words,
            timing_method,
            fit: Some(fit),
        })
    }
}
