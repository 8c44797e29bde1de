use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{job::Job, ErrorInfo, ResourceKind, Status};

/// One step's product: a reel, transcript, script, audio or video.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepResource {
    pub id: Uuid,
    pub kind: ResourceKind,
    pub project_id: Uuid,
    /// The resource this one was made from (none for collections and reels, which hang off the project).
    pub parent_id: Option<Uuid>,
    pub status: Status,
    #[schema(example = "fake")]
    pub provider: String,
    /// The request that started the step (provider options, overrides).
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
    /// What the step produced, once it succeeded.
    #[schema(value_type = Option<Object>)]
    pub output: Option<serde_json::Value>,
    pub job_id: Option<Uuid>,
    pub error: Option<ErrorInfo>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The answer to starting a step: the new resource and the job that fills it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepStarted {
    pub resource: StepResource,
    pub job: Job,
}

/// The body of every step-starting POST.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartStep {
    /// Overrides the project's provider for this step.
    #[schema(example = "fake")]
    pub provider: Option<String>,
    /// Provider-specific options, stored with the resource.
    #[schema(value_type = Option<Object>)]
    pub options: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ResourceKind {
    pub fn status_event(self, status: Status) -> String {
        format!("{}.{}", self.as_str(), status.as_str())
    }
}
