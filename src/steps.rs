//! Starting a pipeline step: the checks every step shares, then one transaction that creates the
//! resource and its job.

use serde_json::json;
use uuid::Uuid;

use crate::{
    db,
    domain::{
        resource::{StartStep, StepStarted},
        ResourceKind, Status,
    },
    error::ApiError,
    jobs::queue::{self, StepRequest},
    state::AppState,
};

pub async fn start(
    state: &AppState,
    kind: ResourceKind,
    parent_id: Uuid,
    body: StartStep,
) -> Result<StepStarted, ApiError> {
    let project_id = match kind.parent() {
        None => parent_id,
        Some(parent_kind) => {
            let parent = db::resources::get(&state.pool, parent_kind, parent_id)
                .await?
                .ok_or(ApiError::NotFound(parent_kind.as_str()))?;
            if parent.status != Status::Succeeded {
                return Err(ApiError::conflict(
                    "parent_not_ready",
                    format!(
                        "the {parent_kind} is {}; it must have succeeded first",
                        parent.status
                    ),
                ));
            }
            parent.project_id
        }
    };
    let project = db::projects::get(&state.pool, project_id)
        .await?
        .ok_or(ApiError::NotFound("project"))?;
    let provider = body
        .provider
        .unwrap_or_else(|| project.settings.providers.for_step(kind).to_owned());
    let available = state.providers.names(kind);
    if !available.contains(&provider.as_str()) {
        return Err(ApiError::unprocessable(
            "unknown_provider",
            format!(
                "no {kind} provider `{provider}`; available: {}",
                available.join(", ")
            ),
        ));
    }
    let input = json!({ "options": body.options.unwrap_or_default() });
    let mut tx = state.pool.begin().await?;
    let started = queue::start_step(
        &mut tx,
        StepRequest {
            kind,
            project_id,
            parent_id,
            provider: &provider,
            input,
            payload: json!({}),
        },
        &state.settings.jobs,
    )
    .await
    .map_err(|error| match error {
        // The parent was deleted between the check and the insert.
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            ApiError::conflict("parent_gone", "the parent was deleted")
        }
        other => other.into(),
    })?;
    tx.commit().await?;
    Ok(started)
}
