//! Pipeline runs: steps 3 to 6 for one or more reels as one tracked resource.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{text_enum, ErrorInfo, Status};

text_enum! {
    /// Whether a run stops after each reel's script for a person to read (and edit, with
    /// `PATCH /v1/scripts/{id}`) before it is voiced: `never`, `when_flagged` (only a script
    /// flagged `needs_review`) or `always`. A stopped run is `awaiting_review` until
    /// `POST /v1/runs/{id}/resume`.
    Review {
        Never => "never",
        WhenFlagged => "when_flagged",
        Always => "always",
    }
}

impl Default for Review {
    /// Today's behaviour, and what runs stored before the option read as.
    fn default() -> Self {
        Review::Never
    }
}

impl Review {
    /// Whether a reel whose script is written (flagged `needs_review` or not) waits for a
    /// person before its voice.
    pub fn stops_for(self, needs_review: bool) -> bool {
        match self {
            Review::Never => false,
            Review::WhenFlagged => needs_review,
            Review::Always => true,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRun {
    /// One reel; or `reel_ids`, or `top`.
    pub reel_id: Option<Uuid>,
    /// Several reels (up to 20), each run independently.
    pub reel_ids: Option<Vec<Uuid>>,
    /// The N best reels: the selected ones first, then by trend score.
    #[schema(example = 3, minimum = 1, maximum = 20)]
    pub top: Option<u32>,
    /// Providers for this run's steps; unset ones are the project's.
    #[serde(default)]
    pub providers: super::step::ProviderOverrides,
    /// Re-run from this step even when earlier outputs could be reused; steps before it still
    /// reuse. Without it, every step whose provider and options are unchanged reuses its last
    /// succeeded output.
    pub from_step: Option<super::step::Step>,
    /// Options per step, e.g. `{"voice": {"speed": 1.1}, "transcribe": {"language": "ru"}}`,
    /// checked against each step's provider when the run starts.
    #[serde(default)]
    pub options: super::options::RunOptions,
    /// Deprecated: estimates have their own operation, `POST /v1/projects/{id}/runs/estimate`.
    /// `false` is still taken (older clients send it); `true` is refused with a 422 naming that
    /// operation, so starting a run answers one kind of success.
    #[serde(default)]
    #[schema(deprecated)]
    pub dry_run: bool,
    /// End each reel by writing its post and publishing its video to these accounts.
    pub publish: Option<RunPublish>,
    /// Stop after the scripts for a person's review: `never` (the default), `when_flagged` or
    /// `always`.
    #[serde(default)]
    pub review: Review,
}

/// Publishing at the end of a run: each reel's video gets its words (a post, by the run's
/// rewrite provider) and one publication per account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunPublish {
    /// One to six connected accounts of the project.
    pub account_ids: Vec<Uuid>,
    /// `public` unless set; each account's platform must take it.
    pub privacy: Option<super::publishing::Privacy>,
    /// Post then rather than when the video is ready (a time already passed by then means now).
    pub schedule_at: Option<DateTime<Utc>>,
    /// Publish even a reel whose script or post needs review (off: such a reel stops before
    /// publishing, with `needs_review`).
    #[serde(default)]
    pub even_if_needs_review: bool,
    /// The provider that writes the posts, settled when the run starts (the run's rewrite
    /// provider); what a request gives is replaced.
    #[serde(default)]
    #[schema(read_only)]
    pub post_provider: Option<String>,
}

/// One step of one reel in a run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct RunStepResult {
    /// `write_post` only when the run publishes.
    pub step: super::step::Step,
    /// The step's resource (a transcript, script, audio, video or post).
    pub resource_id: Uuid,
    pub provider: String,
    /// An earlier succeeded output was reused; nothing was paid again.
    pub reused: bool,
    pub status: Status,
    pub duration_ms: Option<i64>,
}

/// One reel's progress through a run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct RunReel {
    pub reel_id: Uuid,
    pub status: Status,
    pub steps: Vec<RunStepResult>,
    /// Why the reel failed: a failed step's own error, or the reel's own preparation error
    /// (e.g. `media_url_expired`, `not_a_video`, `url_refused`), so a client can say what to
    /// do; `reel_not_prepared` only when the preparation recorded none.
    pub error: Option<ErrorInfo>,
    /// The reel's script should be read before its voice and video are used: it is stock text
    /// or not about the reel (see the script's `review_reasons`, repeated here).
    #[serde(default)]
    pub needs_review: bool,
    #[serde(default)]
    pub review_reasons: Vec<String>,
    /// A person resumed the run after reading this reel's script (`POST /v1/runs/{id}/resume`):
    /// it does not stop for review again.
    #[serde(default)]
    pub reviewed: bool,
    /// The publications the run scheduled for this reel's video.
    #[serde(default)]
    pub publications: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Run {
    pub id: Uuid,
    pub project_id: Uuid,
    /// `succeeded` when every reel succeeded, `failed` when all finished and one failed,
    /// `awaiting_review` when every reel still to go waits for its script to be read (the
    /// run's `review`).
    pub status: Status,
    /// Steps finished over steps to do, 0-100.
    pub progress: u8,
    /// The request that started the run, with `auto` providers settled and
    /// `publish.post_provider` filled in.
    pub input: CreateRun,
    pub reels: Vec<RunReel>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// What this run's provider calls consumed and cost (reused steps cost nothing); on `GET`
    /// and in listings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<super::usage::UsageSummary>,
}

impl Run {
    /// Steps finished over steps to do; a run that `publishes` has the post as one more step.
    pub fn progress_of(reels: &[RunReel], publishes: bool) -> u8 {
        let steps = super::step::Step::in_runs().count() + usize::from(publishes);
        let total = reels.len() * steps;
        let done: usize = reels
            .iter()
            .map(|r| {
                if matches!(r.status, Status::Failed | Status::Canceled) {
                    steps
                } else {
                    r.steps
                        .iter()
                        .filter(|s| s.status == Status::Succeeded)
                        .count()
                        .min(steps)
                }
            })
            .sum();
        (done * 100 / total.max(1)) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_stops_for_review_as_asked() {
        for (review, flagged, stops) in [
            (Review::Never, false, false),
            (Review::Never, true, false),
            (Review::WhenFlagged, false, false),
            (Review::WhenFlagged, true, true),
            (Review::Always, false, true),
            (Review::Always, true, true),
        ] {
            assert_eq!(review.stops_for(flagged), stops, "{review} {flagged}");
        }
        // Runs stored before the option read as they ran: without stopping.
        let stored: CreateRun = serde_json::from_value(serde_json::json!({"top": 1})).unwrap();
        assert_eq!(stored.review, Review::Never);
        let stored: RunReel = serde_json::from_value(serde_json::json!({
            "reel_id": Uuid::nil(), "status": "running", "steps": [], "error": null
        }))
        .unwrap();
        assert!(!stored.reviewed);
    }
}
