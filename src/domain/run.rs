//! Pipeline runs: steps 3 to 6 for one or more reels as one tracked resource.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ErrorInfo, ResourceKind, Status};

/// The steps a run drives, in order.
pub const RUN_STEPS: [ResourceKind; 4] = [
    ResourceKind::Transcript,
    ResourceKind::Script,
    ResourceKind::Audio,
    ResourceKind::Video,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStep {
    Transcribe,
    Rewrite,
    Voice,
    Render,
}

impl RunStep {
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Per-step provider choices for a run; unset ones are the project's.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunProviders {
    pub transcribe: Option<String>,
    pub rewrite: Option<String>,
    pub voice: Option<String>,
    pub render: Option<String>,
}

impl RunProviders {
    pub fn for_step(&self, step: ResourceKind) -> Option<&str> {
        match step {
            ResourceKind::Transcript => self.transcribe.as_deref(),
            ResourceKind::Script => self.rewrite.as_deref(),
            ResourceKind::Audio => self.voice.as_deref(),
            ResourceKind::Video => self.render.as_deref(),
            ResourceKind::Collection | ResourceKind::Reel => None,
        }
    }

    pub fn set(&mut self, step: ResourceKind, name: &str) {
        let slot = match step {
            ResourceKind::Transcript => &mut self.transcribe,
            ResourceKind::Script => &mut self.rewrite,
            ResourceKind::Audio => &mut self.voice,
            ResourceKind::Video => &mut self.render,
            ResourceKind::Collection | ResourceKind::Reel => return,
        };
        *slot = Some(name.to_owned());
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
    #[serde(default)]
    pub providers: RunProviders,
    /// Re-run from this step even when earlier outputs could be reused; steps before it still
    /// reuse. Without it, every step whose provider and options are unchanged reuses its last
    /// succeeded output.
    pub from_step: Option<RunStep>,
    /// Options per step, e.g. `{"voice": {"speed": 1.1}, "transcribe": {"language": "ru"}}`,
    /// checked against each step's provider when the run starts.
    #[serde(default)]
    pub options: super::options::RunOptions,
}

/// One step of one reel in a run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct RunStepResult {
    pub step: ResourceKind,
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
    pub error: Option<ErrorInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Run {
    pub id: Uuid,
    pub project_id: Uuid,
    /// `succeeded` when every reel succeeded, `failed` when all finished and one failed.
    pub status: Status,
    /// Steps finished over steps to do, 0-100.
    pub progress: u8,
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
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
    pub fn progress_of(reels: &[RunReel]) -> u8 {
        let total = reels.len() * RUN_STEPS.len();
        let done: usize = reels
            .iter()
            .map(|r| {
                if matches!(r.status, Status::Failed | Status::Canceled) {
                    RUN_STEPS.len()
                } else {
                    r.steps
                        .iter()
                        .filter(|s| s.status == Status::Succeeded)
                        .count()
                }
            })
            .sum();
        (done * 100 / total.max(1)) as u8
    }
}
