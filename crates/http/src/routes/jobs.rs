use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::Data;
use crate::error::AppError;
use crate::error_code::ErrorCode;
use crate::{
    auth::Caller,
    db::{self, jobs::JobFilter},
    domain::{job::Job, JobKind, Status},
    error::{ApiError, Problem},
    jobs::queue,
    pagination::{Page, PageQuery},
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(cancel)
        .service(retry);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobListQuery {
    pub status: Option<Status>,
    pub project_id: Option<Uuid>,
    pub kind: Option<JobKind>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// List jobs
///
/// The workspace's background jobs, newest first, filtered by project, status or kind, a page at a
/// time.
#[utoipa::path(
    operation_id = "list_jobs",
    tag = "jobs",
    params(JobListQuery),
    responses(
        (status = 200, description = "Newest first", body = Page<Job>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/jobs")]
pub async fn list(
    state: Data,
    Caller(principal): Caller,
    query: web::Query<JobListQuery>,
) -> Result<web::Json<Page<Job>>, ApiError> {
    let query = query.into_inner();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse()?;
    let filter = JobFilter {
        workspace_id: principal.workspace_id,
        status: query.status,
        project_id: query.project_id,
        kind: query.kind,
    };
    let rows = db::jobs::list(&state.pool, &filter, page).await?;
    Ok(web::Json(Page::from_rows(rows, page.limit)))
}

/// Get a job
///
/// A job's status, progress, stage, attempts and last error.
#[utoipa::path(
    operation_id = "get_job",
    tag = "jobs",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Job), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
#[get("/jobs/{id}")]
pub async fn get_one(state: Data, id: web::Path<Uuid>) -> Result<web::Json<Job>, ApiError> {
    db::jobs::get(&state.pool, *id)
        .await?
        .map(web::Json)
        .ok_or(AppError::NotFound("job").into())
}

/// 202 with the job when the change applied; otherwise tells "no such job" from "not in a state
/// that allows this".
async fn accepted_or_conflict(
    state: &Data,
    id: Uuid,
    changed: Option<Job>,
    code: ErrorCode,
    detail: &str,
) -> Result<HttpResponse, ApiError> {
    if let Some(job) = changed {
        return Ok(HttpResponse::Accepted().json(job));
    }
    match db::jobs::get(&state.pool, id).await? {
        Some(job) => Err(
            AppError::conflict(code, format!("{detail} (the job is {})", job.status))
                .with_params(crate::domain::ErrorParams {
                    status: Some(job.status),
                    ..Default::default()
                })
                .into(),
        ),
        None => Err(AppError::NotFound("job").into()),
    }
}

/// Cancel a job
///
/// A queued job is canceled at once; a running one stops at its next checkpoint.
#[utoipa::path(
    operation_id = "cancel_job",
    tag = "jobs",
    params(("id" = Uuid, Path)),
    responses(
        (status = 202, description = "A queued job is canceled at once; a running one stops at its next checkpoint (`cancel_requested`)", body = Job),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job already ended", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/jobs/{id}/cancel")]
pub async fn cancel(state: Data, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let changed = queue::request_cancel(&state.pool, *id).await?;
    accepted_or_conflict(
        &state,
        *id,
        changed,
        ErrorCode::JobNotActive,
        "only queued or running jobs can be canceled, and a publication that started uploading runs to its end",
    )
    .await
}

/// Retry a failed or canceled job
///
/// Queues the job again with a fresh set of attempts, from its last checkpoint.
#[utoipa::path(
    operation_id = "retry_job",
    tag = "jobs",
    params(("id" = Uuid, Path)),
    responses(
        (status = 202, description = "Queued again with a fresh set of attempts", body = Job),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Only failed or canceled jobs can be retried, and a reel's preparation only while no other job prepares it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/jobs/{id}/retry")]
pub async fn retry(state: Data, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let changed = match queue::retry(&state.pool, *id).await {
        // Migration 0016: a reel's preparation started again since this job failed.
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(AppError::conflict(
                ErrorCode::JobNotRetryable,
                "another job is already preparing this reel; follow that one",
            )
            .into())
        }
        other => other?,
    };
    accepted_or_conflict(
        &state,
        *id,
        changed,
        ErrorCode::JobNotRetryable,
        "only failed or canceled jobs can be retried",
    )
    .await
}
