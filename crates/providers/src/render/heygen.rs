//! HeyGen avatar videos through HeyGen's v3 API (v1 and v2 were retired after 2026-10-31):
//! upload the voiceover as an asset (`POST /v3/assets`, MP3 or WAV), order the video
//! (`POST /v3/videos`), poll it (`GET /v3/videos/{id}`) with backoff for up to 30 minutes, and
//! download the MP4 from the URL the last poll gave (it is presigned and expires).
//!
//! Ordering a video costs credits. v3 takes an `Idempotency-Key` on it and replays the first
//! answer to a repeat (409 `request_in_progress` while the first is still in flight), so every
//! order for a render carries a key derived from the render: `reelforge-render-<video id>`.
//! The uploaded asset is checkpointed before the order and the video id as soon as it is known,
//! so a job restarted after a crash mid-call sends the very same order again and HeyGen answers
//! with the video it already made. The key changes only once HeyGen has made no video worth
//! waiting for: it refused the order, or the video failed.

use crate::error_code::ErrorCode;
use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{RenderRequest, Rendered, Renderer, THUMBNAIL_FILE, VIDEO_FILE};
use crate::{
    fetch::{self, Limits, UrlGuard},
    http::{self, HttpFailure, HttpFailureOr},
    process, CallContext, ProviderError,
};

pub use reelforge_vocab::domain::provider::heygen::NAME;
const PROVIDER: &str = NAME;

/// The largest file `POST /v3/assets` takes.
const MAX_ASSET_BYTES: u64 = 32 * 1024 * 1024;

/// HeyGen v3's answers wrap their payload in `data`.
#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct Asset {
    asset_id: String,
}

/// `POST /v3/videos` for an avatar speaking an uploaded voiceover, 1080x1920.
#[derive(Serialize)]
struct CreateVideo<'a> {
    r#type: &'static str,
    avatar_id: &'a str,
    audio_asset_id: &'a str,
    title: &'a str,
    resolution: &'static str,
    aspect_ratio: &'static str,
    background: Background<'a>,
}

#[derive(Serialize)]
struct Background<'a> {
    r#type: &'static str,
    value: &'a str,
}

#[derive(Deserialize)]
struct Created {
    video_id: String,
}

/// `GET /v3/videos/{id}`; fields HeyGen may leave null are optional.
#[derive(Deserialize)]
struct Video {
    status: String,
    #[serde(default)]
    video_url: Option<String>,
    #[serde(default)]
    thumbnail_url: Option<String>,
    #[serde(default)]
    failure_code: Option<String>,
    #[serde(default)]
    failure_message: Option<String>,
}

/// v3's error body: `{"error": {"code", "message", "param"?, "doc_url"}}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: ApiError,
}

#[derive(Deserialize)]
struct ApiError {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    param: Option<String>,
}

/// What HeyGen answered an order: the video; "the first order with this key is still being
/// taken" (wait, then send it again); or a final refusal, which made no video.
enum Order {
    Video(String),
    InFlight(Option<Duration>),
    Refused(ProviderError),
}

/// HeyGen's v3 endpoints.
pub struct HeyGenV3 {
    client: reqwest::Client,
    base_url: String,
    key: SecretString,
}

impl HeyGenV3 {
    pub fn new(base_url: &str, key: SecretString, timeout: Duration) -> Self {
        HeyGenV3 {
            client: http::client(timeout),
            base_url: base_url.trim_end_matches('/').to_owned(),
            key,
        }
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, Refused> {
        let response = http::send(
            PROVIDER,
            request.header("x-api-key", self.key.expose_secret()),
        )
        .await
        .map_err(|failure| match failure {
            HttpFailureOr::Status(failure) => Refused::Answer(failure),
            HttpFailureOr::Transport(error) => Refused::Error(error),
        })?;
        let data: Data<T> = http::json(PROVIDER, response)
            .await
            .map_err(Refused::Error)?;
        Ok(data.data)
    }

    async fn upload_audio(&self, audio: &Path, mime: &str) -> Result<String, ProviderError> {
        let bytes = tokio::fs::read(audio)
            .await
            .map_err(|error| ProviderError::retryable(format!("reading the audio: {error}")))?;
        let extension = if mime == MP3 { "mp3" } else { "wav" };
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(format!("voiceover.{extension}"))
            .mime_str(mime)
            .expect("MP3 and WAV MIME types parse");
        let asset: Asset = self
            .call(
                self.client
                    .post(format!("{}/v3/assets", self.base_url))
                    .multipart(reqwest::multipart::Form::new().part("file", part)),
            )
            .await
            .map_err(Refused::into_error)?;
        Ok(asset.asset_id)
    }

    async fn create_video(
        &self,
        video: &CreateVideo<'_>,
        idempotency_key: &str,
    ) -> Result<Order, ProviderError> {
        let answer = self
            .call::<Created>(
                self.client
                    .post(format!("{}/v3/videos", self.base_url))
                    .header("idempotency-key", idempotency_key)
                    .json(video),
            )
            .await;
        match answer {
            Ok(created) => Ok(Order::Video(created.video_id)),
            Err(Refused::Answer(failure))
                if failure.status.as_u16() == 409
                    && error_body(&failure).is_some_and(|e| e.code == "request_in_progress") =>
            {
                Ok(Order::InFlight(failure.retry_after))
            }
            Err(refused @ Refused::Answer(_)) => match refused.into_error() {
                refusal @ ProviderError::Fatal { .. } => Ok(Order::Refused(refusal)),
                error => Err(error),
            },
            // A lost or unreadable answer: the order may have been taken.
            Err(Refused::Error(error)) => Err(error),
        }
    }

    async fn video(&self, video_id: &str) -> Result<Video, ProviderError> {
        self.call(
            self.client
                .get(format!("{}/v3/videos/{video_id}", self.base_url)),
        )
        .await
        .map_err(Refused::into_error)
    }
}

/// A call that did not answer its payload: a failure status to classify, or an error already.
enum Refused {
    Answer(HttpFailure),
    Error(ProviderError),
}

impl Refused {
    /// The default classes (401, 402, 403 and 404 final and each with its code, 429 and 5xx
    /// retried after any `Retry-After`, other refusals final), said in HeyGen's words.
    fn into_error(self) -> ProviderError {
        let failure = match self {
            Refused::Answer(failure) => failure,
            Refused::Error(error) => return error,
        };
        let status = failure.status.as_u16();
        let said = match error_body(&failure) {
            Some(ApiError {
                code,
                message,
                param: Some(param),
            }) => format!("{code}: {message} (`{param}`)"),
            Some(ApiError { code, message, .. }) => format!("{code}: {message}"),
            None => failure.excerpt(),
        };
        let message =
            crate::redact::redact(&format!("HeyGen answered {status} {said}")).into_owned();
        match failure.into_error() {
            ProviderError::Fatal { code, .. } => ProviderError::Fatal { code, message },
            ProviderError::Retryable { retry_after, .. } => ProviderError::Retryable {
                message,
                retry_after,
            },
        }
    }
}

fn error_body(failure: &HttpFailure) -> Option<ApiError> {
    serde_json::from_str::<ErrorBody>(&failure.body)
        .ok()
        .map(|body| body.error)
}

const MP3: &str = "audio/mpeg";
const WAV: &str = "audio/wav";

/// The voiceover as v3's asset upload takes it, MP3 or WAV of at most 32 MB, and its MIME type:
/// the file itself when it is one, else an MP3 made from it at `converted`.
async fn uploadable(
    audio: &Path,
    format: &str,
    converted: &Path,
) -> Result<(PathBuf, &'static str), ProviderError> {
    let size = tokio::fs::metadata(audio)
        .await
        .map_err(|error| ProviderError::retryable(format!("reading the audio: {error}")))?
        .len();
    let as_is = match format {
        "mp3" => Some(MP3),
        "wav" => Some(WAV),
        _ => None,
    };
    if let Some(mime) = as_is.filter(|_| size <= MAX_ASSET_BYTES) {
        return Ok((audio.to_owned(), mime));
    }
    process::run(
        "ffmpeg",
        [
            "-v".as_ref(),
            "error".as_ref(),
            "-y".as_ref(),
            "-i".as_ref(),
            audio.as_os_str(),
            "-vn".as_ref(),
            "-c:a".as_ref(),
            "libmp3lame".as_ref(),
            "-b:a".as_ref(),
            "128k".as_ref(),
            converted.as_os_str(),
        ],
        process::TOOL_TIMEOUT,
    )
    .await?;
    let size = tokio::fs::metadata(converted)
        .await
        .map_err(|error| ProviderError::retryable(format!("reading the MP3: {error}")))?
        .len();
    if size > MAX_ASSET_BYTES {
        return Err(ProviderError::fatal(
            ErrorCode::ProviderRejected,
            format!(
                "the voiceover is {} MB even as an MP3; HeyGen takes at most 32 MB (and 10 minutes)",
                size / (1024 * 1024)
            ),
        ));
    }
    Ok((converted.to_owned(), MP3))
}

pub struct HeyGenRenderer {
    pub api: HeyGenV3,
    pub avatar_id: Option<String>,
    pub background: String,
    pub guard: UrlGuard,
    pub limits: Limits,
    pub poll_start: Duration,
    pub poll_max: Duration,
    pub deadline: Duration,
}

/// What later attempts of the same render must know: the uploaded voiceover, the video ordered,
/// and how many idempotency keys are spent (orders refused, videos failed).
#[derive(Debug, Default, Deserialize, Serialize)]
struct Checkpoint {
    #[serde(default)]
    audio_asset_id: Option<String>,
    #[serde(default)]
    video_id: Option<String>,
    #[serde(default)]
    spent_keys: u32,
}

impl Checkpoint {
    /// The key of this render's next order: HeyGen replays whatever it answered it before.
    fn idempotency_key(&self, video_id: uuid::Uuid) -> String {
        match self.spent_keys {
            0 => format!("reelforge-render-{video_id}"),
            n => format!("reelforge-render-{video_id}-{}", n + 1),
        }
    }

    /// The order's key will not be sent again, nor its video polled.
    fn spend_key(&mut self) {
        self.spent_keys += 1;
        self.video_id = None;
    }
}

fn accept_any(_: Option<&str>) -> Result<(), ProviderError> {
    Ok(())
}

impl HeyGenRenderer {
    /// The video being made for this render: the one a checkpoint names, or the one the order
    /// under this render's key makes (or made, before a crash).
    async fn video_id(
        &self,
        request: &RenderRequest,
        ctx: &CallContext<'_>,
        saved: &mut Checkpoint,
    ) -> Result<String, ProviderError> {
        if let Some(id) = &saved.video_id {
            ctx.progress.report(30, "resuming").await;
            return Ok(id.clone());
        }
        let avatar_id = request
            .options
            .avatar_id
            .clone()
            .or_else(|| self.avatar_id.clone())
            .ok_or_else(|| {
                ProviderError::fatal(
                    ErrorCode::NotConfigured,
                    "no avatar_id in the options or providers.heygen.avatar_id",
                )
            })?;
        let audio_asset_id = match &saved.audio_asset_id {
            Some(id) => id.clone(),
            None => {
                ctx.progress.report(10, "uploading the voice").await;
                let converted = request.output_dir.with_extension("heygen.mp3");
                let uploaded = async {
                    let (file, mime) =
                        uploadable(&request.audio, &request.audio_format, &converted).await?;
                    self.api.upload_audio(&file, mime).await
                }
                .await;
                let _ = tokio::fs::remove_file(&converted).await;
                let id = uploaded?;
                // A repeated order must be the same order: keep the asset it names.
                saved.audio_asset_id = Some(id.clone());
                save(ctx, saved).await?;
                id
            }
        };
        let title = format!("reelforge-{}", request.video_id);
        let background = request
            .options
            .colour
            .as_deref()
            .unwrap_or(&self.background);
        let order = CreateVideo {
            r#type: "avatar",
            avatar_id: &avatar_id,
            audio_asset_id: &audio_asset_id,
            title: &title,
            resolution: "1080p",
            aspect_ratio: "9:16",
            background: Background {
                r#type: "color",
                value: background,
            },
        };
        let key = saved.idempotency_key(request.video_id);
        let started = Instant::now();
        let mut delay = self.poll_start;
        let video_id = loop {
            match self.api.create_video(&order, &key).await {
                Ok(Order::Video(id)) => break id,
                Ok(Order::InFlight(retry_after)) if started.elapsed() < self.deadline => {
                    tokio::time::sleep(retry_after.unwrap_or(delay)).await;
                    delay = (delay * 2).min(self.poll_max);
                }
                Ok(Order::InFlight(_)) => {
                    return Err(ProviderError::retryable(format!(
                        "HeyGen was still taking the order {key} after {:?}",
                        self.deadline
                    )))
                }
                // A refused order made no video: the next attempt (a retry by hand, say after
                // buying credit) orders under a new key rather than meet this refusal again.
                Ok(Order::Refused(refusal)) => {
                    saved.spend_key();
                    save(ctx, saved).await?;
                    return Err(refusal);
                }
                // The order may have been taken: the next attempt sends it again, same key.
                Err(error) => return Err(error),
            }
        };
        saved.video_id = Some(video_id.clone());
        save(ctx, saved).await?;
        Ok(video_id)
    }
}

async fn save(ctx: &CallContext<'_>, checkpoint: &Checkpoint) -> Result<(), ProviderError> {
    let value = serde_json::to_value(checkpoint).expect("a checkpoint serializes");
    ctx.checkpoints.save(&value).await
}

#[async_trait]
impl Renderer for HeyGenRenderer {
    async fn render(
        &self,
        request: &RenderRequest,
        ctx: &CallContext<'_>,
    ) -> Result<Rendered, ProviderError> {
        let mut saved: Checkpoint = ctx
            .checkpoints
            .load()
            .await?
            .and_then(|c| serde_json::from_value(c).ok())
            .unwrap_or_default();
        let video_id = self.video_id(request, ctx, &mut saved).await?;
        ctx.progress.report(30, "rendering at HeyGen").await;
        let started = Instant::now();
        let mut delay = self.poll_start;
        let video = loop {
            let video = self.api.video(&video_id).await?;
            // `waiting` and any state HeyGen adds later are not final: wait them out.
            match video.status.as_str() {
                "completed" => break video,
                "failed" => {
                    // This video will never exist: a retry orders another under a new key.
                    saved.spend_key();
                    save(ctx, &saved).await?;
                    let reason = [video.failure_code, video.failure_message]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(": ");
                    return Err(ProviderError::fatal(
                        ErrorCode::ProviderJobFailed,
                        format!(
                            "HeyGen could not render video {video_id}: {}",
                            if reason.is_empty() {
                                "no reason given"
                            } else {
                                &reason
                            }
                        ),
                    ));
                }
                _ => {}
            }
            if started.elapsed() > self.deadline {
                return Err(ProviderError::retryable(format!(
                    "HeyGen video {video_id} was not done within {:?}; the next attempt resumes polling",
                    self.deadline
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.poll_max);
        };
        // The URLs are presigned and short-lived: download from the answer just read.
        let video_url = video.video_url.ok_or_else(|| {
            http::bad_response(
                PROVIDER,
                format!("video {video_id} completed without a video_url"),
            )
        })?;
        ctx.progress.report(85, "downloading").await;
        let output = request.output_dir.join(VIDEO_FILE);
        fetch::download(&self.guard, &video_url, &output, &self.limits, accept_any).await?;
        if let Some(url) = video.thumbnail_url {
            // The thumbnail is a nicety; the render job makes one itself if this fails.
            let _ = fetch::download(
                &self.guard,
                &url,
                &request.output_dir.join(THUMBNAIL_FILE),
                &self.limits,
                accept_any,
            )
            .await;
        }
        Ok(Rendered {
            provider_job_id: Some(video_id),
            model: "heygen-v3".into(),
            loudness: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second of tone in `format`, written by ffmpeg.
    async fn tone(dir: &Path, format: &str) -> PathBuf {
        let path = dir.join(format!("tone.{format}"));
        process::run(
            "ffmpeg",
            [
                "-v".as_ref(),
                "error".as_ref(),
                "-f".as_ref(),
                "lavfi".as_ref(),
                "-i".as_ref(),
                "sine=frequency=440:duration=1".as_ref(),
                path.as_os_str(),
            ],
            process::TOOL_TIMEOUT,
        )
        .await
        .unwrap();
        path
    }

    #[tokio::test]
    async fn mp3_and_wav_voices_are_uploaded_as_they_are_and_others_as_mp3() {
        let dir = std::env::temp_dir().join(format!("heygen-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::create_dir_all(&dir).await.unwrap();
        let converted = dir.join("converted.mp3");
        for (format, mime) in [("wav", WAV), ("mp3", MP3)] {
            let audio = tone(&dir, format).await;
            assert_eq!(
                uploadable(&audio, format, &converted).await.unwrap(),
                (audio, mime)
            );
        }
        for format in ["flac", "opus"] {
            let audio = tone(&dir, format).await;
            let (file, mime) = uploadable(&audio, format, &converted).await.unwrap();
            assert_eq!((file.as_path(), mime), (converted.as_path(), MP3));
            let info = process::probe(&file).await.unwrap();
            assert_eq!(info.audio_codec.as_deref(), Some("mp3"), "{format}");
        }
        tokio::fs::remove_dir_all(&dir).await.unwrap();
    }

    #[test]
    fn each_spent_key_gives_the_next_order_a_new_one_and_drops_its_video() {
        let id = uuid::Uuid::new_v4();
        let mut checkpoint = Checkpoint {
            video_id: Some("vid-1".into()),
            ..Checkpoint::default()
        };
        assert_eq!(
            checkpoint.idempotency_key(id),
            format!("reelforge-render-{id}")
        );
        checkpoint.spend_key();
        assert_eq!(checkpoint.video_id, None);
        assert_eq!(
            checkpoint.idempotency_key(id),
            format!("reelforge-render-{id}-2")
        );
    }
}
