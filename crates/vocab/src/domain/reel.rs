use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{text_enum, ErrorInfo, Status};

/// A collected reel with its trend metrics.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Reel {
    pub id: Uuid,
    pub project_id: Uuid,
    pub collection_id: Option<Uuid>,
    /// Media preparation: `pending` until selected (or prepared by option), then the job's status.
    pub status: Status,
    /// Where the reel was collected from (`apify`, `import`, `files`, `fake`).
    pub provider: String,
    pub job_id: Option<Uuid>,
    pub error: Option<ErrorInfo>,
    pub selected: bool,
    /// `shortCode` when known, else the Instagram id: duplicates are merged on it.
    #[schema(example = "C9xYz12AbCd")]
    pub external_id: String,
    pub url: Option<String>,
    pub caption: Option<String>,
    /// `ru`, `en` or null: a script-based guess from the caption.
    pub caption_language: Option<String>,
    pub hashtags: Vec<String>,
    pub owner_username: Option<String>,
    pub owner_id: Option<String>,
    pub posted_at: Option<DateTime<Utc>>,
    /// The scraped MP4 address; these expire within hours.
    pub video_url: Option<String>,
    /// The scraped cover address (`displayUrl`); these expire within hours too, so lists show
    /// `cover_content_url`.
    pub cover_url: Option<String>,
    pub duration_ms: Option<i64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub metrics: ReelMetrics,
    /// What preparation produced (media facts), once it succeeded.
    pub media: Option<super::output::PreparedReel>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The prepared video, once preparation succeeded.
    #[serde(default)]
    pub content_url: Option<crate::signed::ContentUrl>,
    /// The prepared frame (a JPEG 270 pixels wide), once preparation took one.
    #[serde(default)]
    pub thumbnail_content_url: Option<crate::signed::ContentUrl>,
    /// The 16 kHz mono WAV extracted for transcription, when the video has sound.
    #[serde(default)]
    pub audio_content_url: Option<crate::signed::ContentUrl>,
    /// The cover image (JPEG, PNG or WebP, as Instagram served it), fetched from `cover_url` when
    /// the reel was collected and kept; null when there was none or fetching it failed (a later
    /// collection of the reel tries again).
    #[serde(default)]
    pub cover_content_url: Option<crate::signed::ContentUrl>,
}

impl Reel {
    /// Links each file preparation made; none before it succeeded.
    pub fn with_media_links(mut self) -> Self {
        use crate::signed::ContentUrl;
        let prepared = self
            .media
            .clone()
            .filter(|_| self.status == Status::Succeeded);
        if let Some(prepared) = prepared {
            let link = |key: &Option<String>, file: &str| {
                key.as_ref()
                    .map(|_| ContentUrl::new(format!("/v1/reels/{}/{file}", self.id)))
            };
            self.content_url = link(&prepared.video_key, "video");
            self.thumbnail_content_url = link(&prepared.thumbnail_key, "thumbnail");
            self.audio_content_url = link(&prepared.audio_key, "audio");
        }
        self
    }
}

/// Raw counts and the metrics derived from them; null means unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReelMetrics {
    /// `videoPlayCount`, else `videoViewCount`.
    pub plays: Option<i64>,
    pub views: Option<i64>,
    /// Null when the creator hides likes.
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    /// (likes + comments + shares) / plays; hidden likes count as 0.
    pub engagement_rate: Option<f64>,
    /// Plays per hour since posting.
    pub velocity: Option<f64>,
    /// Plays per hour between the last two observations, once there are two.
    pub recent_velocity: Option<f64>,
    /// How fast `recent_velocity` changes, in plays per hour per hour, from the last three
    /// observations.
    pub acceleration: Option<f64>,
    /// Plays / the median plays of the same owner's reels in the project; null under 3 reels.
    pub outlier_score: Option<f64>,
    pub trend_score: Option<f64>,
}

text_enum! {
    /// Ranking orders, all descending with unknown values last.
    ReelSort {
        TrendScore => "trend_score",
        OutlierScore => "outlier_score",
        Plays => "plays",
        Velocity => "velocity",
        EngagementRate => "engagement_rate",
        PostedAt => "posted_at",
    }
}

impl ReelSort {
    pub fn column(self) -> &'static str {
        match self {
            ReelSort::TrendScore => "trend_score",
            ReelSort::OutlierScore => "outlier_score",
            ReelSort::Plays => "plays",
            ReelSort::Velocity => "velocity",
            ReelSort::EngagementRate => "engagement_rate",
            ReelSort::PostedAt => "posted_at",
        }
    }
}

/// The selected reel, and the job preparing its media when one was started.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReelSelected {
    pub reel: Reel,
    pub job: Option<super::job::Job>,
}

/// Sorting, filters and paging for a project's reels.
#[derive(Debug, Clone, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct ReelQuery {
    /// Default `trend_score`.
    pub sort: Option<ReelSort>,
    /// Fewest plays, zero or more.
    #[param(minimum = 0)]
    pub min_plays: Option<i64>,
    /// Longest duration, in seconds: a finite number, zero or more.
    #[param(minimum = 0)]
    pub max_duration: Option<f64>,
    pub posted_after: Option<DateTime<Utc>>,
    pub owner: Option<String>,
    /// With or without `#`.
    pub hashtag: Option<String>,
    /// `ru` or `en`.
    pub language: Option<String>,
    pub selected: Option<bool>,
    /// `false` hides reels that have been through the pipeline (a transcript or a run).
    pub processed: Option<bool>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// A guess at the caption's language from its letters: mostly Cyrillic is `ru`, mostly Latin `en`.
pub fn caption_language(caption: &str) -> Option<&'static str> {
    let (mut cyrillic, mut latin) = (0usize, 0usize);
    for c in caption.chars().filter(|c| c.is_alphabetic()) {
        match c {
            '\u{0400}'..='\u{04FF}' => cyrillic += 1,
            'a'..='z' | 'A'..='Z' => latin += 1,
            _ => {}
        }
    }
    if cyrillic == 0 && latin == 0 {
        None
    } else if cyrillic >= latin {
        Some("ru")
    } else {
        Some("en")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReelCandidate {
    /// `shortCode` when known, else the numeric `id`: the key duplicates are merged on.
    pub external_id: String,
    pub short_code: Option<String>,
    pub url: Option<String>,
    pub caption: Option<String>,
    /// Lower-case, without `#`, from the item's list and the caption, first occurrence order.
    pub hashtags: Vec<String>,
    pub owner_username: Option<String>,
    pub owner_id: Option<String>,
    pub posted_at: Option<DateTime<Utc>>,
    pub video_url: String,
    pub cover_url: Option<String>,
    pub duration_ms: Option<i64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// `videoPlayCount`, falling back to `videoViewCount`.
    pub plays: Option<i64>,
    pub views: Option<i64>,
    /// `None` when hidden (Instagram reports -1) or unknown.
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::caption_language;

    #[test]
    fn caption_language_follows_the_majority_script() {
        assert_eq!(
            caption_language("Каждое утро — новый шанс! #motivation"),
            Some("ru")
        );
        assert_eq!(
            caption_language("Rise and grind, every day 💪 #мотивация"),
            Some("en")
        );
        assert_eq!(caption_language("🔥🔥🔥 2026"), None);
    }
}
