//! A project's completion webhook.

use actix_web::{delete, get, put, web, HttpResponse};
use uuid::Uuid;

use super::Data;
use crate::error::AppError;
use crate::{
    db,
    domain::webhook::{PutWebhook, WebhookInfo},
    error::{ApiError, Problem},
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(put_webhook)
        .service(get_webhook)
        .service(delete_webhook);
}

async fn require_project(state: &Data, id: Uuid) -> Result<(), ApiError> {
    db::projects::get(&state.pool, id)
        .await?
        .map(|_| ())
        .ok_or(AppError::NotFound("project").into())
}

/// Set a project's webhook
///
/// Every finished run is POSTed to the receiver, signed with HMAC-SHA256 over the timestamp and
/// body.
#[utoipa::path(
    tag = "projects", operation_id = "put_webhook",
    params(("id" = Uuid, Path, description = "The project's id")),
    request_body(content = PutWebhook),
    responses(
        (status = 200, description = "Set: every finished run (`run.succeeded`, `run.failed`) and every run that stops for review (`run.awaiting_review`) is POSTed as `{id, type, created_at, data: Run}`, signed, and retried with backoff until a 2xx (a 410 stops it)", body = WebhookInfo),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/projects/{id}/webhook")]
pub async fn put_webhook(
    state: Data,
    id: web::Path<Uuid>,
    body: crate::routes::body::Json<PutWebhook>,
) -> Result<web::Json<WebhookInfo>, ApiError> {
    body.validate().map_err(AppError::Validation)?;
    require_project(&state, *id).await?;
    crate::jobs::webhook::check_receiver(&state.settings, &body.url).await?;
    let webhook = db::webhooks::put(&state.pool, *id, &body.url, &body.secret).await?;
    Ok(web::Json(WebhookInfo::new(webhook.url, webhook.updated_at)))
}

/// Get a project's webhook
///
/// The receiver every finished run is POSTed to; its secret is never shown again.
#[utoipa::path(
    tag = "projects", operation_id = "get_webhook",
    params(("id" = Uuid, Path, description = "The project's id")),
    responses(
        (status = 200, body = WebhookInfo),
        (status = 404, description = "No such project, or it has no webhook", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}/webhook")]
pub async fn get_webhook(
    state: Data,
    id: web::Path<Uuid>,
) -> Result<web::Json<WebhookInfo>, ApiError> {
    require_project(&state, *id).await?;
    let webhook = db::webhooks::get(&state.pool, *id)
        .await?
        .ok_or(AppError::NotFound("webhook"))?;
    Ok(web::Json(WebhookInfo::new(webhook.url, webhook.updated_at)))
}

/// Remove a project's webhook
///
/// Stops deliveries; those still queued are dropped.
#[utoipa::path(
    tag = "projects", operation_id = "delete_webhook",
    params(("id" = Uuid, Path, description = "The project's id")),
    responses(
        (status = 204, description = "Removed; deliveries still queued are dropped"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/projects/{id}/webhook")]
pub async fn delete_webhook(state: Data, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    require_project(&state, *id).await?;
    if db::webhooks::delete(&state.pool, *id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(AppError::NotFound("webhook").into())
    }
}
