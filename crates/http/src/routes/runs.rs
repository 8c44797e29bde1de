//! Pipeline runs: steps 3 to 6 for one or more reels in one call.

use actix_web::{get, post, web, HttpResponse};
use uuid::Uuid;

use super::Data;
use crate::error::AppError;
use crate::{
    db,
    domain::run::{CreateRun, Run},
    error::{ApiError, Problem},
    pagination::{Page, PageQuery},
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(estimate)
        .service(list)
        .service(get_one)
        .service(resume)
        .service(cancel);
}

/// Start a pipeline run
///
/// Takes one reel, several or the project's best through transcribe, rewrite, voice and render
/// (and, with `publish`, the post and its publications). To see what a run would cost first,
/// use `estimate_run`.
#[utoipa::path(
    tag = "runs", operation_id = "create_run",
    params(("id" = Uuid, Path, description = "The project's id")),
    request_body(content = CreateRun, example = json!({"top": 3, "providers": {"voice": "local"}, "from_step": "voice"})),
    responses(
        (status = 202, description = "Queued: reels not prepared yet are selected and prepared, then each goes through transcribe, rewrite, voice and render; unchanged steps reuse their last output. With `review`, the run stops after the scripts as `awaiting_review` until `resume_run`", body = Run),
        (status = 402, description = "The estimate exceeds what is left of the project's monthly budget (`budget_exceeded`); nothing was queued", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project or reel", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The project has no reels", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid reels, providers or options; `dry_run: true` (estimates have their own operation, `estimate_run`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/runs")]
pub async fn create(
    state: Data,
    id: web::Path<Uuid>,
    body: crate::routes::body::Json<CreateRun>,
) -> Result<HttpResponse, ApiError> {
    let run = crate::steps::start_run(&state, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(run))
}

/// Estimate a run's cost
///
/// What the run the same body would start costs, step by step and provider by provider, against
/// what is left of the project's monthly budget. Nothing is queued and nothing is selected.
#[utoipa::path(
    tag = "runs", operation_id = "estimate_run",
    params(("id" = Uuid, Path, description = "The project's id")),
    request_body(content = CreateRun, example = json!({"top": 3, "providers": {"voice": "local"}})),
    responses(
        (status = 200, description = "The estimate; `within_budget` says whether the run would start", body = crate::domain::usage::RunEstimate),
        (status = 404, description = "No such project or reel", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The project has no reels", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid reels, providers or options", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/runs/estimate")]
pub async fn estimate(
    state: Data,
    id: web::Path<Uuid>,
    body: crate::routes::body::Json<CreateRun>,
) -> Result<web::Json<crate::domain::usage::RunEstimate>, ApiError> {
    Ok(web::Json(
        crate::steps::estimate_run(&state, id.into_inner(), body.into_inner()).await?,
    ))
}

/// List a project's runs
///
/// The project's pipeline runs, newest first, with their usage and cost.
#[utoipa::path(
    tag = "runs", operation_id = "list_runs",
    params(("id" = Uuid, Path, description = "The project's id"), PageQuery),
    responses(
        (status = 200, description = "Newest first", body = Page<Run>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}/runs")]
pub async fn list(
    state: Data,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<Run>>, ApiError> {
    let page = query.parse()?;
    db::projects::get(&state.pool, *id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let mut rows = db::runs::list(&state.pool, *id, page).await?;
    db::usage::fill_runs(&state.pool, &mut rows).await?;
    Ok(web::Json(Page::from_rows(rows, page.limit)))
}

/// Get a run
///
/// The run's status and progress, each reel's steps with their resources, timing and reuse, and its
/// usage and cost.
#[utoipa::path(
    tag = "runs", operation_id = "get_run",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Overall status and progress, each reel's steps with their resources, timing and whether they were reused, and the usage and estimated cost", body = Run),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/runs/{id}")]
pub async fn get_one(state: Data, id: web::Path<Uuid>) -> Result<web::Json<Run>, ApiError> {
    Ok(web::Json(crate::steps::run(&state, *id).await?))
}

/// Resume a run stopped for review
///
/// A run started with `review` (`always`, or `when_flagged` and a script was flagged
/// `needs_review`) stops after its scripts with status `awaiting_review`. Read each reel's
/// script, edit it if need be (`PATCH /v1/scripts/{id}`), then resume: every waiting reel is
/// voiced and rendered from its script as it is now, and does not stop again.
#[utoipa::path(
    tag = "runs", operation_id = "resume_run",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Resumed: `running`, each reel that waited marked `reviewed`, with its script's review flag and reasons as they are now; `run.updated` is announced", body = Run),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The run is not awaiting review (`run_not_awaiting_review`); the detail gives its status", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/runs/{id}/resume")]
pub async fn resume(state: Data, id: web::Path<Uuid>) -> Result<web::Json<Run>, ApiError> {
    Ok(web::Json(crate::steps::resume_run(&state, *id).await?))
}

/// Cancel a run
///
/// Stops a run that has not ended: one `queued` while its reels are prepared, one `running`, or
/// one `awaiting_review` nobody will approve. Each reel not done is canceled with the step job it
/// waits on (a queued job at once, a running one at its next checkpoint); reels already done keep
/// their outcome, and a reel's media preparation goes on. `run.canceled` is announced and sent to
/// the webhook.
#[utoipa::path(
    tag = "runs", operation_id = "cancel_run",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Canceled: `canceled`, each reel that was not done `canceled` with the error `canceled`", body = Run),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The run has ended already (`run_not_active`); `params.status` gives its status", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/runs/{id}/cancel")]
pub async fn cancel(state: Data, id: web::Path<Uuid>) -> Result<web::Json<Run>, ApiError> {
    Ok(web::Json(crate::steps::cancel_run(&state, *id).await?))
}
