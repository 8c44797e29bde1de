//! Prepares a collected reel: downloads its video (guarded, streamed, size-capped), checks it
//! with ffprobe, stores it, and extracts a 16 kHz mono WAV for transcription.

use crate::error_code::ErrorCode;
use std::sync::Arc;

use async_trait::async_trait;

use super::{PrepareReel, PreparedReel, ReelSource};
use crate::{
    media::MediaStore,
    {
        fetch::{self, Limits, UrlGuard},
        process, CallContext, ProviderError,
    },
};

pub use reelforge_vocab::domain::provider::download::NAME;

pub struct Downloader {
    pub guard: UrlGuard,
    pub limits: Limits,
    pub store: Arc<MediaStore>,
}

/// What ffprobe says about a file.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    pub duration_ms: u64,
    pub width: u32,
    pub height: u32,
    pub video_codec: String,
    pub has_audio: bool,
}

/// Reads a media file's facts; a file without a video stream is refused.
pub async fn probe(path: &std::path::Path) -> Result<MediaInfo, ProviderError> {
    let info = process::probe(path).await.map_err(|error| match error {
        ProviderError::Fatal {
            code: ErrorCode::ToolFailed,
            message,
        } => ProviderError::fatal(
            ErrorCode::NotAVideo,
            format!("ffprobe could not read the file: {message}"),
        ),
        other => other,
    })?;
    let (Some(width), Some(height)) = (info.width, info.height) else {
        return Err(ProviderError::fatal(
            ErrorCode::NotAVideo,
            "the file has no video stream",
        ));
    };
    Ok(MediaInfo {
        duration_ms: info.duration_ms,
        width,
        height,
        video_codec: info.video_codec.unwrap_or_default(),
        has_audio: info.audio_codec.is_some(),
    })
}

fn accept_video(content_type: Option<&str>) -> Result<(), ProviderError> {
    match content_type {
        None => Ok(()),
        Some(t) if t.starts_with("video/") || t == "application/octet-stream" || t == "binary/octet-stream" => Ok(()),
        Some(other) => Err(ProviderError::fatal(
            ErrorCode::NotAVideo,
            format!("the video URL answered `{other}`, not a video (an expired or private reel answers with a page)"),
        )),
    }
}

/// Extracts a frame a second in (or halfway through a shorter clip) as `{prefix}/thumbnail.jpg`.
/// A reel is usable without one, so a failure is logged, not raised.
async fn thumbnail(
    store: &MediaStore,
    video_key: &str,
    prefix: &str,
    duration_ms: u64,
) -> Option<String> {
    let result = async {
        let video = store.path(video_key)?;
        let frame = store.scratch("jpg").await?;
        let at = format!("{:.3}", (duration_ms.min(2000) as f64 / 2000.0));
        process::run(
            "ffmpeg",
            [
                "-v".as_ref(),
                "error".as_ref(),
                "-y".as_ref(),
                "-ss".as_ref(),
                at.as_ref(),
                "-i".as_ref(),
                video.as_os_str(),
                "-frames:v".as_ref(),
                "1".as_ref(),
                "-vf".as_ref(),
                "scale=270:-2".as_ref(),
                "-q:v".as_ref(),
                "4".as_ref(),
                frame.as_os_str(),
            ],
            process::TOOL_TIMEOUT,
        )
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
        let key = format!("{prefix}/thumbnail.jpg");
        store.put(&key, &frame).await?;
        Ok::<_, anyhow::Error>(key)
    }
    .await;
    result
        .map_err(|error| tracing::warn!(%error, "no thumbnail for the reel"))
        .ok()
}

/// Checks a video with ffprobe, moves it to `{prefix}/video.mp4` and extracts its audio track
/// as a 16 kHz mono WAV beside it. `scratch` is consumed on success.
pub async fn store_checked_video(
    store: &MediaStore,
    scratch: &std::path::Path,
    prefix: &str,
    ctx: &CallContext<'_>,
) -> Result<PreparedReel, ProviderError> {
    let storage = ProviderError::from;
    let info = probe(scratch).await?;
    let sha256 = MediaStore::sha256(scratch).await.map_err(storage)?;
    let size_bytes = tokio::fs::metadata(scratch)
        .await
        .map_err(|error| storage(error.into()))?
        .len();
    let video_key = format!("{prefix}/video.mp4");
    store.put(&video_key, scratch).await.map_err(storage)?;
    let audio_key = if info.has_audio {
        ctx.progress.report(80, "extracting audio").await;
        let video_path = store.path(&video_key).map_err(storage)?;
        let wav = store.scratch("wav").await.map_err(storage)?;
        process::run(
            "ffmpeg",
            [
                "-v".as_ref(),
                "error".as_ref(),
                "-y".as_ref(),
                "-i".as_ref(),
                video_path.as_os_str(),
                "-vn".as_ref(),
                "-ac".as_ref(),
                "1".as_ref(),
                "-ar".as_ref(),
                "16000".as_ref(),
                "-c:a".as_ref(),
                "pcm_s16le".as_ref(),
                wav.as_os_str(),
            ],
            process::TOOL_TIMEOUT,
        )
        .await?;
        let key = format!("{prefix}/audio.wav");
        store.put(&key, &wav).await.map_err(storage)?;
        Some(key)
    } else {
        None
    };
    let thumbnail_key = thumbnail(store, &video_key, prefix, info.duration_ms).await;
    Ok(PreparedReel {
        source_url: None,
        caption: None,
        duration_ms: info.duration_ms,
        width: info.width,
        height: info.height,
        video_key: Some(video_key),
        audio_key,
        thumbnail_key,
        size_bytes: Some(size_bytes),
        sha256: Some(sha256),
        content_type: Some("video/mp4".into()),
        video_codec: Some(info.video_codec),
        has_audio: info.has_audio,
    })
}

#[async_trait]
impl ReelSource for Downloader {
    async fn prepare(
        &self,
        request: &PrepareReel,
        ctx: &CallContext<'_>,
    ) -> Result<PreparedReel, ProviderError> {
        let url = request.source_url.as_deref().ok_or_else(|| {
            ProviderError::fatal(ErrorCode::NoVideoUrl, "the reel has no video URL")
        })?;
        let storage = ProviderError::from;
        let scratch = self.store.scratch("mp4").await.map_err(storage)?;
        ctx.progress.report(10, "downloading").await;
        let result = async {
            let downloaded =
                fetch::download(&self.guard, url, &scratch, &self.limits, accept_video).await?;
            ctx.progress.report(60, "checking").await;
            let mut prepared =
                store_checked_video(&self.store, &scratch, &request.media_prefix, ctx).await?;
            prepared.source_url = Some(url.to_owned());
            prepared.content_type = downloaded.content_type;
            Ok(prepared)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&scratch).await;
        }
        result
    }
}
