//! HeyGen avatar videos. The API calls sit behind [`AvatarApi`] so the v2 flow used here can move
//! to v3 without touching the orchestration: upload the voice as an asset, generate, poll with
//! backoff for up to 30 minutes, and download the MP4 at once (its URL expires).
//!
//! A generate call costs credits and HeyGen takes no idempotency key, so it is fenced by
//! checkpoints: the video's title is a tag unique to the render (`reelforge-<video id>`), and
//! "generating <tag>" is saved *before* the call. A job restarted after a crash mid-call finds
//! that mark, looks the tag up in HeyGen's video list and adopts the video it finds; only when
//! none exists does it generate again. The video id is saved as soon as it is known.

use crate::error_code::ErrorCode;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{RenderRequest, Rendered, Renderer, THUMBNAIL_FILE, VIDEO_FILE};
use crate::providers::{
    fetch::{self, Limits, UrlGuard},
    http::{self, HttpFailureOr},
    CallContext, ProviderError,
};

pub const NAME: &str = "heygen";
const PROVIDER: &str = NAME;

pub struct AvatarJob {
    pub audio_asset_id: String,
    pub avatar_id: String,
    pub avatar_style: String,
    pub background: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum VideoState {
    Pending,
    Completed {
        video_url: String,
        thumbnail_url: Option<String>,
    },
    Failed(String),
}

/// The HeyGen calls the renderer needs, whatever the API version.
#[async_trait]
pub trait AvatarApi: Send + Sync {
    async fn upload_audio(
        &self,
        audio: &std::path::Path,
        content_type: &str,
    ) -> Result<String, ProviderError>;
    async fn generate(&self, job: &AvatarJob) -> Result<String, ProviderError>;
    async fn status(&self, video_id: &str) -> Result<VideoState, ProviderError>;
    /// The id of a video titled exactly `title` that has not failed, if HeyGen has one.
    async fn find_by_title(&self, title: &str) -> Result<Option<String>, ProviderError>;
}

/// HeyGen's v2 generate with v1 upload and status endpoints.
pub struct HeyGenV2 {
    client: reqwest::Client,
    base_url: String,
    upload_base_url: String,
    key: SecretString,
}

impl HeyGenV2 {
    pub fn new(
        base_url: &str,
        upload_base_url: &str,
        key: SecretString,
        timeout: Duration,
    ) -> Self {
        HeyGenV2 {
            client: http::client(timeout),
            base_url: base_url.trim_end_matches('/').to_owned(),
            upload_base_url: upload_base_url.trim_end_matches('/').to_owned(),
            key,
        }
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, ProviderError> {
        let response = http::send(
            PROVIDER,
            request.header("x-api-key", self.key.expose_secret()),
        )
        .await
        .map_err(|failure| match failure {
            // HeyGen answers 400 with `{"error": {"code", "message"}}` for bad avatars,
            // voices or dimensions.
            HttpFailureOr::Status(failure) if failure.status.as_u16() == 400 => {
                ProviderError::fatal(
                    ErrorCode::ProviderRejected,
                    format!("HeyGen refused the request: {}", failure.excerpt()),
                )
            }
            other => other.into(),
        })?;
        http::json(PROVIDER, response).await
    }
}

fn field<'a>(body: &'a Value, pointer: &str) -> Result<&'a str, ProviderError> {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| http::bad_response(PROVIDER, format!("no `{pointer}` in {body}")))
}

#[async_trait]
impl AvatarApi for HeyGenV2 {
    async fn upload_audio(
        &self,
        audio: &std::path::Path,
        content_type: &str,
    ) -> Result<String, ProviderError> {
        let file = tokio::fs::File::open(audio)
            .await
            .map_err(|error| ProviderError::retryable(format!("reading the audio: {error}")))?;
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
        let answer = self
            .call(
                self.client
                    .post(format!("{}/v1/asset", self.upload_base_url))
                    .header("content-type", content_type)
                    .body(body),
            )
            .await?;
        field(&answer, "/data/id").map(str::to_owned)
    }

    async fn generate(&self, job: &AvatarJob) -> Result<String, ProviderError> {
        let body = json!({
            "video_inputs": [{
                "character": {"type": "avatar", "avatar_id": job.avatar_id, "avatar_style": job.avatar_style},
                "voice": {"type": "audio", "audio_asset_id": job.audio_asset_id},
                "background": {"type": "color", "value": job.background},
            }],
            "dimension": {"width": 1080, "height": 1920},
            "title": job.title,
        });
        let answer = self
            .call(
                self.client
                    .post(format!("{}/v2/video/generate", self.base_url))
                    .json(&body),
            )
            .await?;
        field(&answer, "/data/video_id").map(str::to_owned)
    }

    async fn find_by_title(&self, title: &str) -> Result<Option<String>, ProviderError> {
        let answer = self
            .call(
                self.client
                    .get(format!("{}/v1/video.list", self.base_url))
                    .query(&[("title", title), ("limit", "100")]),
            )
            .await?;
        let videos = answer
            .pointer("/data/videos")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                http::bad_response(PROVIDER, format!("no `/data/videos` in {answer}"))
            })?;
        // HeyGen's own title filter may match substrings: only an exact title is ours.
        Ok(videos
            .iter()
            .filter(|video| video.get("video_title").and_then(Value::as_str) == Some(title))
            .filter(|video| video.get("status").and_then(Value::as_str) != Some("failed"))
            .find_map(|video| video.get("video_id").and_then(Value::as_str))
            .map(str::to_owned))
    }

    async fn status(&self, video_id: &str) -> Result<VideoState, ProviderError> {
        let answer = self
            .call(
                self.client
                    .get(format!("{}/v1/video_status.get", self.base_url))
                    .query(&[("video_id", video_id)]),
            )
            .await?;
        Ok(match field(&answer, "/data/status")? {
            "completed" => VideoState::Completed {
                video_url: field(&answer, "/data/video_url")?.to_owned(),
                thumbnail_url: answer
                    .pointer("/data/thumbnail_url")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            "failed" => VideoState::Failed(
                answer
                    .pointer("/data/error/message")
                    .or_else(|| answer.pointer("/data/error"))
                    .map(|e| {
                        e.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| e.to_string())
                    })
                    .unwrap_or_else(|| "no reason given".into()),
            ),
            _ => VideoState::Pending,
        })
    }
}

pub struct HeyGenRenderer {
    pub api: Box<dyn AvatarApi>,
    pub avatar_id: Option<String>,
    pub avatar_style: String,
    pub background: String,
    pub guard: UrlGuard,
    pub limits: Limits,
    pub poll_start: Duration,
    pub poll_max: Duration,
    pub deadline: Duration,
}

/// What later attempts of the same render must know. `generating` is the title of a generate
/// call that was started and may have been billed.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
struct Checkpoint {
    #[serde(default)]
    video_id: Option<String>,
    #[serde(default)]
    generating: Option<String>,
}

fn accept_any(_: Option<&str>) -> Result<(), ProviderError> {
    Ok(())
}

impl HeyGenRenderer {
    /// The video being made for this render: the one a checkpoint names, the one an interrupted
    /// generate call made, or a new one.
    async fn video_id(
        &self,
        request: &RenderRequest,
        ctx: &CallContext<'_>,
    ) -> Result<String, ProviderError> {
        let saved: Checkpoint = ctx
            .checkpoints
            .load()
            .await?
            .and_then(|c| serde_json::from_value(c).ok())
            .unwrap_or_default();
        if let Some(id) = saved.video_id {
            ctx.progress.report(30, "resuming").await;
            return Ok(id);
        }
        let title = request.title.clone();
        if saved.generating.as_deref() == Some(title.as_str()) {
            if let Some(id) = self.api.find_by_title(&title).await? {
                ctx.progress.report(30, "resuming").await;
                self.save(ctx, Some(&id), None).await?;
                return Ok(id);
            }
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
        let content_type = match request.audio_format.as_str() {
            "mp3" => "audio/mpeg",
            _ => "audio/wav",
        };
        ctx.progress.report(10, "uploading the voice").await;
        let audio_asset_id = self.api.upload_audio(&request.audio, content_type).await?;
        // From here a crash may leave a billed video behind: say so before asking for it.
        self.save(ctx, None, Some(&title)).await?;
        let video_id = self
            .api
            .generate(&AvatarJob {
                audio_asset_id,
                avatar_id,
                avatar_style: self.avatar_style.clone(),
                background: request
                    .options
                    .colour
                    .clone()
                    .unwrap_or_else(|| self.background.clone()),
                title,
            })
            .await?;
        self.save(ctx, Some(&video_id), None).await?;
        Ok(video_id)
    }

    async fn save(
        &self,
        ctx: &CallContext<'_>,
        video_id: Option<&str>,
        generating: Option<&str>,
    ) -> Result<(), ProviderError> {
        let checkpoint = Checkpoint {
            video_id: video_id.map(str::to_owned),
            generating: generating.map(str::to_owned),
        };
        ctx.checkpoints.save(&json!(checkpoint)).await
    }
}

#[async_trait]
impl Renderer for HeyGenRenderer {
    async fn render(
        &self,
        request: &RenderRequest,
        ctx: &CallContext<'_>,
    ) -> Result<Rendered, ProviderError> {
        let video_id = self.video_id(request, ctx).await?;
        ctx.progress.report(30, "rendering at HeyGen").await;
        let started = Instant::now();
        let mut delay = self.poll_start;
        let (video_url, thumbnail_url) = loop {
            match self.api.status(&video_id).await? {
                VideoState::Completed {
                    video_url,
                    thumbnail_url,
                } => break (video_url, thumbnail_url),
                VideoState::Failed(reason) => {
                    // A retry may generate anew: this video will never exist (and the lookup
                    // by title passes over failed videos).
                    self.save(ctx, None, None).await?;
                    return Err(ProviderError::fatal(
                        ErrorCode::ProviderJobFailed,
                        format!("HeyGen could not render video {video_id}: {reason}"),
                    ));
                }
                VideoState::Pending => {}
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
        ctx.progress.report(85, "downloading").await;
        let output = request.output_dir.join(VIDEO_FILE);
        fetch::download(&self.guard, &video_url, &output, &self.limits, accept_any).await?;
        if let Some(url) = thumbnail_url {
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
            model: "heygen-v2".into(),
            loudness: None,
        })
    }
}
