use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ErrorInfo, JobKind, ResourceKind, Status};

/// A durable background job.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: Uuid,
    pub project_id: Option<Uuid>,
    pub kind: JobKind,
    pub status: Status,
    pub resource_type: Option<ResourceKind>,
    pub resource_id: Option<Uuid>,
    /// Attempts started so far, including the running one.
    pub attempts: i32,
    pub max_attempts: i32,
    /// 0 to 100.
    #[schema(minimum = 0, maximum = 100)]
    pub progress: i16,
    /// A short label for what the job is doing now.
    #[schema(example = "uploading audio")]
    pub stage: Option<String>,
    pub last_error: Option<ErrorInfo>,
    /// A cancel was asked for while the job ran; it stops at its next checkpoint.
    pub cancel_requested: bool,
    /// When a queued job becomes eligible to run (later than now while it backs off).
    pub run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub payload: serde_json::Value,
}

/// What becomes of a job after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Nothing failed: run again after the wait, without spending an attempt.
    Defer(std::time::Duration),
    /// Try again while attempts remain, waiting at least what the provider asked.
    Retry {
        retry_after: Option<std::time::Duration>,
    },
    /// Final: another attempt would fail the same way.
    Fail,
}
