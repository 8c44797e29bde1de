use actix_web::{delete, get, patch, post, web, HttpResponse};
use uuid::Uuid;

use super::Data;
use crate::error::AppError;
use crate::{
    auth::Caller,
    db,
    domain::project::{CreateProject, Project, UpdateProject},
    error::{ApiError, Problem},
    media::MediaStore,
    pagination::{Page, PageQuery},
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(update)
        .service(remove);
}

/// Create a project
///
/// A project with its name, language and settings; unset settings take the configured defaults.
#[utoipa::path(
    operation_id = "create_project",
    tag = "projects",
    request_body(content = CreateProject, example = json!({"name": "Morning motivation", "language": "ru", "settings": {"words": {"min": 100, "max": 120}}})),
    responses(
        (status = 201, description = "Created; unset settings take the configured defaults", body = Project),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects")]
pub async fn create(
    state: Data,
    Caller(principal): Caller,
    body: crate::routes::body::Json<CreateProject>,
) -> Result<HttpResponse, ApiError> {
    let project =
        crate::projects::create(&state, principal.workspace_id, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/projects/{}", project.id)))
        .json(project))
}

/// List projects
///
/// The workspace's projects, newest first, a page at a time.
#[utoipa::path(
    operation_id = "list_projects",
    tag = "projects",
    params(PageQuery),
    responses(
        (status = 200, description = "Newest first", body = Page<Project>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects")]
pub async fn list(
    state: Data,
    Caller(principal): Caller,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<Project>>, ApiError> {
    Ok(web::Json(
        crate::projects::list(&state, principal.workspace_id, &query).await?,
    ))
}

/// Get a project
///
/// The project with its settings, the usage and estimated cost of every provider call so far, and
/// this month's budget.
#[utoipa::path(
    operation_id = "get_project",
    tag = "projects",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "With the usage and estimated cost of every provider call so far, and this month's budget standing", body = Project), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
#[get("/projects/{id}")]
pub async fn get_one(state: Data, id: web::Path<Uuid>) -> Result<web::Json<Project>, ApiError> {
    let mut project = db::projects::get(&state.pool, *id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    project.usage = Some(db::usage::for_project(&state.pool, project.id).await?);
    project.budget =
        Some(crate::db::budget::standing(&state.pool, &project, state.clock.now()).await?);
    Ok(web::Json(project))
}

/// Update a project
///
/// Changes the name, language or settings; absent fields keep their value.
#[utoipa::path(
    operation_id = "update_project",
    tag = "projects",
    params(("id" = Uuid, Path)),
    request_body(content = UpdateProject, example = json!({"settings": {"target_duration_seconds": 45, "providers": {"voice": "fake"}}})),
    responses(
        (status = 200, description = "Absent fields keep their value", body = Project),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/projects/{id}")]
pub async fn update(
    state: Data,
    id: web::Path<Uuid>,
    body: crate::routes::body::Json<UpdateProject>,
) -> Result<web::Json<Project>, ApiError> {
    let body = body.into_inner();
    let mut tx = state.pool.begin().await?;
    let mut project = db::projects::get_for_update(&mut *tx, *id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    if let Some(name) = body.name {
        project.name = name.trim().to_owned();
    }
    if let Some(language) = body.language {
        project.language = language;
    }
    if let Some(patch) = body.settings {
        project.settings.apply(patch);
    }
    project
        .settings
        .providers
        .resolve_auto(|step| state.providers.preferred(step));
    crate::projects::validate(&state, &project)?;
    let project = db::projects::update(&mut *tx, &project).await?;
    tx.commit().await?;
    Ok(web::Json(project))
}

/// Delete a project
///
/// Deletes the project with all its resources, jobs and media files.
#[utoipa::path(
    operation_id = "delete_project",
    tag = "projects",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted with all its resources, jobs and media files"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/projects/{id}")]
pub async fn remove(state: Data, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    if !db::projects::delete(&state.pool, *id).await? {
        return Err(AppError::NotFound("project").into());
    }
    // The rows are gone; leftover files are logged for cleanup rather than failing the call.
    if let Err(error) = state
        .media
        .remove_prefix(&MediaStore::project_prefix(*id))
        .await
    {
        tracing::warn!(project = %id, %error, "could not remove project media");
    }
    Ok(HttpResponse::NoContent().finish())
}
