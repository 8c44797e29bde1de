//! Step 6: the final vertical video. Providers write files into a scratch folder; the render job
//! checks the video with ffprobe and stores every file in the media store.

pub mod broll;
pub mod fake;
pub mod fonts;
pub mod heygen;
pub mod local;
pub mod loudness;
pub mod subtitles;

use std::path::PathBuf;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{transcribe::WordTiming, CallContext, ProviderError};
use crate::domain::video_format::Rendition;

pub const VIDEO_FILE: &str = "video.mp4";
pub const THUMBNAIL_FILE: &str = "thumbnail.jpg";

#[derive(Debug, Clone)]
pub struct RenderRequest {
    /// The voiceover (a local copy).
    pub audio: PathBuf,
    pub audio_format: String,
    pub audio_duration_ms: u64,
    pub words: Vec<WordTiming>,
    /// The source reel's video, for backgrounds.
    pub reel_video: Option<PathBuf>,
    /// Local copies of media store files the options name (`music_key`, `logo_key`,
    /// `image_key`).
    pub assets: std::collections::BTreeMap<String, PathBuf>,
    /// B-roll to cut between: `clip_keys`, or the project's library when no background was
    /// chosen; empty otherwise.
    pub clips: Vec<broll::Clip>,
    /// A font from the project's library for the subtitles.
    pub font: Option<LibraryFont>,
    /// An empty folder the provider writes `video.mp4` (and any extra files) into.
    pub output_dir: PathBuf,
    /// The video resource being rendered (HeyGen derives its order's idempotency key from it).
    pub video_id: uuid::Uuid,
    /// The script's key words, for the subtitles to stress.
    pub key_words: Vec<String>,
    pub options: crate::domain::options::RenderOptions,
}

/// A font file and the family name it declares.
#[derive(Debug, Clone)]
pub struct LibraryFont {
    pub path: PathBuf,
    pub family: String,
}

/// What a provider made, besides the files in `output_dir`.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The provider's own id for the video, for support and resuming.
    pub provider_job_id: Option<String>,
    pub model: String,
    /// What the rendered file measures, when the renderer measured it.
    pub loudness: Option<loudness::Loudness>,
}

/// The resources a video was made from, up the pipeline.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Lineage {
    pub audio_id: Option<uuid::Uuid>,
    pub script_id: Option<uuid::Uuid>,
    pub transcript_id: Option<uuid::Uuid>,
    pub reel_id: Option<uuid::Uuid>,
}

/// A video resource's output (step 6).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct RenderOutput {
    /// Media store key of the video (the first format asked for); the other fields describe it.
    pub key: String,
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
    pub video_codec: String,
    pub audio_codec: String,
    #[serde(default)]
    pub size_bytes: u64,
    /// Media store keys of the extra files by name: `thumbnail.jpg`, `subtitles.srt`,
    /// `subtitles.vtt`, `subtitles.ass`, and each further format's `video-1x1.mp4` and
    /// `subtitles-1x1.ass` (served at `/v1/videos/{id}/files/{name}`).
    #[serde(default)]
    pub files: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub provider_job_id: Option<String>,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub lineage: Option<Lineage>,
    /// The file's loudness as `ebur128` measures it (the local composer normalises the mix to
    /// -14 LUFS with true peak at most -1 dBTP).
    #[serde(default)]
    pub loudness: Option<loudness::Loudness>,
    /// Every format rendered, the first being this video itself.
    #[serde(default)]
    pub renditions: Vec<Rendition>,
    /// A half-size draft made to iterate on.
    #[serde(default)]
    pub preview: bool,
    /// What the local composer's picture is made of: `stock` clips, the library's `clips`,
    /// the `generated` background, or the background asked for.
    #[serde(default)]
    pub background: Option<crate::domain::options::BackgroundKind>,
    /// The authors of the stock clips in the video, credited as their library asks; offered
    /// to the video's posts.
    #[serde(default)]
    pub credits: Vec<crate::footage::Credit>,
    /// Why stock footage was wanted but not used (no library answer, a rate limit, no search
    /// words), when it was not.
    #[serde(default)]
    pub background_note: Option<String>,
}

#[async_trait]
pub trait Renderer: Send + Sync {
    async fn render(
        &self,
        request: &RenderRequest,
        ctx: &CallContext<'_>,
    ) -> Result<Rendered, ProviderError>;
}
