//! What each step's provider hands back, as it is stored in a resource's `output`: the
//! vocabulary of step results, shared by the providers that make them and the store and
//! routes that keep and show them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::video_format::{THUMBNAIL_FILE, VIDEO_FILE};
use super::{options::BackgroundKind, video_format::Rendition};

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
    pub files: BTreeMap<String, String>,
    #[serde(default)]
    pub provider_job_id: Option<String>,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub lineage: Option<Lineage>,
    /// The file's loudness as `ebur128` measures it (the local composer normalises the mix to
    /// -14 LUFS with true peak at most -1 dBTP).
    #[serde(default)]
    pub loudness: Option<Loudness>,
    /// Every format rendered, the first being this video itself.
    #[serde(default)]
    pub renditions: Vec<Rendition>,
    /// A half-size draft made to iterate on.
    #[serde(default)]
    pub preview: bool,
    /// What the local composer's picture is made of: `stock` clips, the library's `clips`,
    /// the `generated` background, or the background asked for.
    #[serde(default)]
    pub background: Option<BackgroundKind>,
    /// The authors of the stock clips in the video, credited as their library asks; offered
    /// to the video's posts.
    #[serde(default)]
    pub credits: Vec<Credit>,
    /// Why stock footage was wanted but not used (no library answer, a rate limit, no search
    /// words), when it was not.
    #[serde(default)]
    pub background_note: Option<String>,
}

/// The loudness of a rendered file, as `ebur128` measures it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Loudness {
    /// Integrated loudness, LUFS (target -14).
    #[schema(example = -14.0)]
    pub integrated_lufs: f64,
    /// True peak, dBTP (at most -1).
    #[schema(example = -1.5)]
    pub true_peak_dbtp: f64,
}

/// A stock clip in a video, credited as its library asks.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Credit {
    /// `pexels` or `pixabay`.
    #[schema(example = "pexels")]
    pub library: String,
    pub clip_id: String,
    pub author: String,
    pub author_url: Option<String>,
    /// The clip's page on the library's site.
    pub page_url: String,
    /// The line to show: "Video by … on Pexels".
    #[schema(example = "Video by Kelly on Pexels")]
    pub text: String,
}

/// Tokens a model call used, summed over a script's drafts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct TokenUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// What preparing a reel made of it: its media facts and the media store keys of its files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PreparedReel {
    pub source_url: Option<String>,
    pub caption: Option<String>,
    pub duration_ms: u64,
    pub width: u32,
    pub height: u32,
    /// Media store keys of the video and of its 16 kHz mono WAV (none without an audio track).
    #[serde(default)]
    pub video_key: Option<String>,
    #[serde(default)]
    pub audio_key: Option<String>,
    /// A JPEG frame, 270 pixels wide, for reel lists.
    #[serde(default)]
    pub thumbnail_key: Option<String>,
    #[serde(default)]
    pub size_bytes: Option<u64>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub video_codec: Option<String>,
    #[serde(default)]
    pub has_audio: bool,
}

/// Why an item was not used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The item's shortCode, id or URL when it has one, else its position.
    pub item: String,
    pub reason: String,
}

/// One spoken word and when it is heard.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct WordTiming {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// The recogniser's confidence, 0 to 1, where it gives one.
    pub confidence: Option<f32>,
}

/// A transcript's output (step 3).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct TranscriptOutput {
    pub text: String,
    /// The language spoken (ISO 639-1 where known, `und` when it could not be told).
    #[schema(example = "ru")]
    pub language: String,
    pub duration_ms: u64,
    pub words: Vec<WordTiming>,
    /// Where the words' times come from: the provider's, or (for a model that answers text
    /// alone) the local transcriber's hearing or an estimate.
    #[serde(default = "provider_timing")]
    pub timing_method: TimingMethod,
    pub model: String,
    /// Seconds of audio billed.
    #[serde(default)]
    pub audio_seconds: f64,
}

/// What transcripts stored before the method was recorded had.
fn provider_timing() -> TimingMethod {
    TimingMethod::Provider
}

super::text_enum! {
    /// Where an audio's word timings come from: the provider's own alignment, the local
    /// transcriber hearing the voice (each word, or the script spread over the span it heard
    /// speech in), or an estimate spread by syllables.
    TimingMethod {
        Provider => "provider",
        Transcribed => "transcribed",
        TranscribedSpan => "transcribed_span",
        Estimated => "estimated",
    }
}

/// How the audio was brought to the project's target duration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct DurationFit {
    pub target_ms: u64,
    pub tolerance_ms: u64,
    /// The first take's duration, after its long pauses were shortened.
    pub measured_ms: u64,
    pub speed: f64,
    /// The `atempo` factor applied, if any (>1 speeds up).
    pub tempo: Option<f64>,
    pub within_target: bool,
    /// What was done, in order: pauses shortened, re-voiced at another speed, time-stretched,
    /// or the miss left.
    pub actions: Vec<String>,
    /// Silence taken out of the kept take: pauses over 300 ms shortened to 300 ms, the lead-in
    /// to 100 ms and the tail to 150 ms.
    #[serde(default)]
    pub silence_trimmed_ms: u64,
}

/// An audio resource's output (step 5).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct VoiceOutput {
    /// Media store key of the file.
    pub key: String,
    pub format: String,
    pub duration_ms: u64,
    pub sample_rate: u32,
    pub voice: String,
    #[serde(default)]
    pub model: String,
    /// Characters billed.
    pub characters: u64,
    #[serde(default)]
    pub words: Vec<WordTiming>,
    #[serde(default = "estimated")]
    pub timing_method: TimingMethod,
    #[serde(default)]
    pub fit: Option<DurationFit>,
}

/// What outputs stored before the method was recorded had.
fn estimated() -> TimingMethod {
    TimingMethod::Estimated
}
