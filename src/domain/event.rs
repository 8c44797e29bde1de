use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ResourceKind;

/// One row of the event log, as delivered over SSE (`id:` = `id`, `event:` = `kind`, `data:` = this).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: i64,
    #[schema(example = "job.progress")]
    pub kind: String,
    pub project_id: Option<Uuid>,
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// An event about to be appended to the log.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: String,
    pub project_id: Option<Uuid>,
    pub resource_type: Option<&'static str>,
    pub resource_id: Option<Uuid>,
    pub data: serde_json::Value,
}

impl NewEvent {
    pub fn about_resource(
        kind: String,
        resource: ResourceKind,
        id: Uuid,
        project_id: Uuid,
        data: serde_json::Value,
    ) -> Self {
        NewEvent {
            kind,
            project_id: Some(project_id),
            resource_type: Some(resource.as_str()),
            resource_id: Some(id),
            data,
        }
    }
}
