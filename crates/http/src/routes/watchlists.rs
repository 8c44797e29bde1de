//! Watchlists (the trend radar) and their alerts over HTTP; the rules live in [`crate::watch`].

use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::Data;
use crate::error::AppError;
use crate::{
    db,
    domain::watchlist::{Alert, NewWatchlist, UpdateWatchlist, Watchlist},
    error::{ApiError, Problem},
    pagination::{Page, PageQuery},
    watch,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(update)
        .service(remove)
        .service(alerts);
}

/// Create a watchlist
///
/// Hashtags and accounts collected on a schedule, with rules that raise alerts and may start runs.
#[utoipa::path(
    tag = "watchlists", operation_id = "create_watchlist",
    params(("id" = Uuid, Path, description = "The project's id")),
    request_body(content = NewWatchlist, example = json!({
        "name": "Мотивация", "collection": {"source": "apify", "hashtags": ["мотивация"], "accounts": ["coach.anna"], "per_source_limit": 30},
        "schedule": {"every_hours": 6},
        "rules": [{"name": "Breakouts", "conditions": {"min_outlier_score": 3.0, "posted_within_hours": 48}, "auto_run": false}]
    })),
    responses(
        (status = 201, description = "Created; an `every_hours` schedule collects at once, a `cron` one at its next time", body = Watchlist),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/watchlists")]
pub async fn create(
    state: Data,
    project_id: web::Path<Uuid>,
    body: crate::routes::body::Json<NewWatchlist>,
) -> Result<HttpResponse, ApiError> {
    let watchlist = watch::create(&state, *project_id, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/watchlists/{}", watchlist.id)))
        .json(watchlist))
}

/// List a project's watchlists
///
/// The project's watchlists with their schedule, next collection and rules.
#[utoipa::path(
    tag = "watchlists", operation_id = "list_watchlists",
    params(("id" = Uuid, Path, description = "The project's id"), PageQuery),
    responses(
        (status = 200, description = "Newest first", body = Page<Watchlist>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}/watchlists")]
pub async fn list(
    state: Data,
    project_id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<Watchlist>>, ApiError> {
    Ok(web::Json(watch::list(&state, *project_id, &query).await?))
}

/// Get a watchlist
///
/// A watchlist with its schedule, next collection and rules.
#[utoipa::path(
    tag = "watchlists", operation_id = "get_watchlist",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Watchlist), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
#[get("/watchlists/{id}")]
pub async fn get_one(state: Data, id: web::Path<Uuid>) -> Result<web::Json<Watchlist>, ApiError> {
    Ok(web::Json(watch::get(&state, *id).await?))
}

/// Update a watchlist
///
/// Changes its name, collection, schedule or rules, or pauses and resumes it; absent fields keep
/// their value.
#[utoipa::path(
    tag = "watchlists", operation_id = "update_watchlist",
    params(("id" = Uuid, Path)),
    request_body(content = UpdateWatchlist, example = json!({"paused": true})),
    responses(
        (status = 200, description = "Absent fields keep their value", body = Watchlist),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/watchlists/{id}")]
pub async fn update(
    state: Data,
    id: web::Path<Uuid>,
    body: crate::routes::body::Json<UpdateWatchlist>,
) -> Result<web::Json<Watchlist>, ApiError> {
    Ok(web::Json(
        watch::update(&state, *id, body.into_inner()).await?,
    ))
}

/// Delete a watchlist
///
/// Deletes the watchlist with its alerts; its collections and reels stay.
#[utoipa::path(
    tag = "watchlists", operation_id = "delete_watchlist",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted with its alerts; its collections and reels stay"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/watchlists/{id}")]
pub async fn remove(state: Data, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    if db::watchlists::delete(&state.pool, *id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(AppError::NotFound("watchlist").into())
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Only this watchlist's alerts.
    pub watchlist_id: Option<Uuid>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// List a project's alerts
///
/// Reels that matched a watchlist's rules, newest first, with the run each started or why none did.
#[utoipa::path(
    tag = "watchlists", operation_id = "list_alerts",
    params(("id" = Uuid, Path, description = "The project's id"), AlertQuery),
    responses(
        (status = 200, description = "Newest first", body = Page<Alert>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}/alerts")]
pub async fn alerts(
    state: Data,
    project_id: web::Path<Uuid>,
    query: web::Query<AlertQuery>,
) -> Result<web::Json<Page<Alert>>, ApiError> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .parse()?;
    db::projects::get(&state.pool, *project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let rows =
        db::watchlists::list_alerts(&state.pool, *project_id, query.watchlist_id, page).await?;
    Ok(web::Json(Page::from_rows(rows, page.limit)))
}
