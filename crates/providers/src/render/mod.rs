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

use super::{transcribe::WordTiming, CallContext, ProviderError};

pub use reelforge_vocab::domain::output::{Lineage, RenderOutput, THUMBNAIL_FILE, VIDEO_FILE};

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

#[async_trait]
pub trait Renderer: Send + Sync {
    async fn render(
        &self,
        request: &RenderRequest,
        ctx: &CallContext<'_>,
    ) -> Result<Rendered, ProviderError>;
}
