//! Collections (step 1) over HTTP; what a request may ask for lives in [`crate::collections`].

use crate::error::AppError;
use crate::error_code::ErrorCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use futures::StreamExt;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::Data;
use crate::{
    collections, db,
    domain::{
        collection::{Collection, CollectionStarted, NewCollection},
        ResourceKind,
    },
    error::{ApiError, Problem},
    pagination::{Page, PageQuery},
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(import_file)
        .service(upload_files)
        .service(list)
        .service(get_one);
}

/// Collect reels
///
/// Starts a collection from Apify (accounts, hashtags), a dataset export or a server folder; reels
/// appear as the job merges them.
#[utoipa::path(
    tag = "collections", operation_id = "create_collection",
    params(("id" = Uuid, Path, description = "The project's id")),
    request_body(content = NewCollection, examples(
        ("apify" = (value = json!({"source": "apify", "accounts": ["coach.anna"], "hashtags": ["мотивация"], "per_source_limit": 30, "newer_than": "2 months"}))),
        ("import" = (value = json!({"source": "import", "items": [{"shortCode": "C9xYz12AbCd", "videoUrl": "https://scontent.cdninstagram.com/v/clip.mp4", "videoPlayCount": 612345, "ownerUsername": "coach.anna"}]}))),
    )),
    responses(
        (status = 202, description = "Queued; reels appear as the job merges them", body = CollectionStarted),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/collections")]
pub async fn create(
    state: Data,
    project_id: web::Path<Uuid>,
    body: crate::routes::body::Json<NewCollection>,
) -> Result<HttpResponse, ApiError> {
    let started = collections::start(&state, *project_id, body.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(started))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportFileQuery {
    /// Prepare (download) every imported reel now.
    pub prepare_all: Option<bool>,
}

/// Import a dataset file
///
/// Imports an Apify dataset export sent as a JSON array or JSON lines, as a collection of `source:
/// import`.
#[utoipa::path(
    tag = "collections", operation_id = "import_dataset_file",
    params(("id" = Uuid, Path, description = "The project's id"), ImportFileQuery),
    request_body(
        description = "An Apify dataset export as a JSON array (`application/json`) or JSON lines (`application/x-ndjson`), streamed: up to `collect.max_import_bytes` (256 MiB) and `collect.max_import_items` items, merged in batches while the job's progress counts them. Items that are not usable reels (not JSON, not objects, not videos) become the collection's `problems`, with their line",
        content(
            (Vec<serde_json::Value> = "application/json"),
            (String = "application/x-ndjson"),
        ),
    ),
    responses(
        (status = 202, description = "Queued, as for `source: import`", body = CollectionStarted),
        (status = 400, description = "Not a JSON array (`malformed_json`, with the line); a bad item inside is a problem of the collection instead", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over `collect.max_import_bytes` (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No items, or more than `collect.max_import_items`", body = Problem, content_type = "application/problem+json"),
        (status = 507, description = "The media storage is full (`storage_full`); nothing was kept", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/collections/import")]
pub async fn import_file(
    state: Data,
    project_id: web::Path<Uuid>,
    query: web::Query<ImportFileQuery>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let content_type = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_lowercase())
        .unwrap_or_default();
    let format = crate::dataset::format_of_content_type(&content_type)?;
    db::projects::get(&state.pool, *project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let body = payload.map(|chunk| {
        chunk.map_err(|error| AppError::bad_request(ErrorCode::MalformedBody, error.to_string()))
    });
    let spooled =
        crate::dataset::spool(&state, *project_id, format, body, &state.settings.collect).await?;
    let started = collections::start_dataset(
        &state,
        *project_id,
        spooled,
        query.prepare_all.unwrap_or(false),
    )
    .await?;
    Ok(HttpResponse::Accepted().json(started))
}

/// List a project's collections
///
/// The project's collections, newest first, with their counts and problems.
#[utoipa::path(
    tag = "collections", operation_id = "list_collections",
    params(("id" = Uuid, Path, description = "The project's id"), PageQuery),
    responses(
        (status = 200, description = "Newest first", body = Page<Collection>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}/collections")]
pub async fn list(
    state: Data,
    project_id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<Collection>>, ApiError> {
    let page = super::list_children(&state, ResourceKind::Collection, *project_id, &query).await?;
    Ok(web::Json(Page {
        items: page
            .items
            .into_iter()
            .map(collections::to_collection)
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Get a collection
///
/// A collection with its parameters, status, counts and problems.
#[utoipa::path(
    tag = "collections", operation_id = "get_collection",
    params(("id" = Uuid, Path, description = "The project's id"), ("collection_id" = Uuid, Path)),
    responses(
        (status = 200, body = Collection),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}/collections/{collection_id}")]
pub async fn get_one(
    state: Data,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<Collection>, ApiError> {
    let (project_id, collection_id) = path.into_inner();
    let resource = super::get_resource(&state, ResourceKind::Collection, collection_id).await?;
    if resource.project_id != project_id {
        return Err(AppError::NotFound("collection").into());
    }
    Ok(web::Json(collections::to_collection(resource)))
}

/// Upload videos as reels
///
/// Each uploaded video is checked with ffprobe and becomes a prepared reel; other files are listed
/// as problems.
#[utoipa::path(
    tag = "collections", operation_id = "upload_videos",
    params(("id" = Uuid, Path, description = "The project's id")),
    request_body(description = "`multipart/form-data` with one to 20 `file` parts, each a video", content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Queued: each video is checked with ffprobe and becomes a prepared reel; the rest are problems", body = CollectionStarted),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `multipart/form-data` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 507, description = "The media storage is full (`storage_full`); nothing was kept", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/collections/files")]
pub async fn upload_files(
    state: Data,
    project_id: web::Path<Uuid>,
    mut form: actix_multipart::Multipart,
) -> Result<HttpResponse, ApiError> {
    db::projects::get(&state.pool, *project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let limit = state.settings.media.max_download_bytes;
    // Files saved so far are removed when this request ends without queueing them, whether it
    // is refused or the client hangs up.
    let mut files = Vec::new();
    while let Some(field) = form.next().await {
        let field = field.map_err(super::multipart_error)?;
        if field.name() != Some("file") {
            return Err(
                AppError::validation("file", "send each video as a part named `file`").into(),
            );
        }
        if files.len() == collections::MAX_UPLOADED_FILES {
            return Err(AppError::validation(
                "file",
                format!(
                    "at most {} files per upload",
                    collections::MAX_UPLOADED_FILES
                ),
            )
            .into());
        }
        let name = collections::upload_name(
            field.content_disposition().and_then(|d| d.get_filename()),
            files.len() + 1,
        );
        let chunks = field.map(|chunk| chunk.map_err(super::multipart_error));
        let file = collections::save_upload(&state, *project_id, Box::pin(chunks), limit).await?;
        files.push((file, name));
    }
    if files.is_empty() {
        return Err(
            AppError::validation("file", "attach at least one video as a `file` part").into(),
        );
    }
    let started = collections::start_uploads(&state, *project_id, files).await?;
    Ok(HttpResponse::Accepted().json(started))
}
