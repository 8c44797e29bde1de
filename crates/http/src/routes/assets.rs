//! The project media library over HTTP; the rules live in [`crate::assets`].

use actix_web::{delete, get, post, web, HttpResponse};
use futures::StreamExt;
use uuid::Uuid;

use super::Data;
use crate::error::AppError;
use crate::{
    assets, collections,
    domain::asset::{Asset, AssetList, AssetQuery},
    error::{ApiError, Problem},
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(upload)
        .service(list)
        .service(get_one)
        .service(content)
        .service(remove);
}

/// Upload a library asset
///
/// Stores a clip, image, music file or font for renders, typed by its content, within the project's
/// quota.
#[utoipa::path(
    tag = "assets", operation_id = "upload_asset",
    params(("id" = Uuid, Path, description = "The project's id")),
    request_body(description = "`multipart/form-data` with exactly one part, `file`: a video, an image, an audio file or a TrueType/OpenType font. Its kind is read from its content.", content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored; use its `key` in render options", body = Asset),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than `assets.max_file_bytes` (`payload_too_large`), or past the project's quota (`asset_quota_exceeded`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `multipart/form-data` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No `file` part, more parts than the one `file`, or not a file the library takes (`unsupported_asset`)", body = Problem, content_type = "application/problem+json"),
        (status = 507, description = "The media storage is full (`storage_full`); nothing was kept", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/assets")]
pub async fn upload(
    state: Data,
    project_id: web::Path<Uuid>,
    mut form: actix_multipart::Multipart,
) -> Result<HttpResponse, ApiError> {
    let Some(field) = form.next().await else {
        return Err(AppError::validation("file", "attach the file as a `file` part").into());
    };
    let field = field.map_err(super::multipart_error)?;
    if field.name() != Some("file") {
        return Err(AppError::validation("file", "send the file as a part named `file`").into());
    }
    let name = collections::upload_name(
        field.content_disposition().and_then(|d| d.get_filename()),
        1,
    );
    let chunks = field.map(|chunk| chunk.map_err(super::multipart_error));
    let received = assets::receive(&state, *project_id, name, Box::pin(chunks)).await?;
    // Read to its end before storing, so a second part is refused rather than dropped unseen.
    if let Some(extra) = form.next().await {
        extra.map_err(super::multipart_error)?;
        return Err(AppError::validation(
            "file",
            "send exactly one part, the `file`; upload each file on its own",
        )
        .into());
    }
    let asset = assets::store(&state, received).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/assets/{}", asset.id)))
        .json(asset))
}

/// List a project's library assets
///
/// The media library's clips, images, music and fonts, newest first, with the library's use of its
/// quota.
#[utoipa::path(
    tag = "assets", operation_id = "list_assets",
    params(("id" = Uuid, Path, description = "The project's id"), AssetQuery),
    responses(
        (status = 200, description = "Newest first, with the library's use of its quota", body = AssetList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}/assets")]
pub async fn list(
    state: Data,
    project_id: web::Path<Uuid>,
    query: web::Query<AssetQuery>,
) -> Result<web::Json<AssetList>, ApiError> {
    Ok(web::Json(assets::list(&state, *project_id, &query).await?))
}

/// Get a library asset
///
/// The uploaded file's kind, size, length, dimensions or font family, its media key and its signed
/// `content_url`.
#[utoipa::path(
    tag = "assets", operation_id = "get_asset",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Asset), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
#[get("/assets/{id}")]
pub async fn get_one(state: Data, id: web::Path<Uuid>) -> Result<web::Json<Asset>, ApiError> {
    Ok(web::Json(assets::get(&state, *id).await?))
}

/// Download a library asset's file
///
/// The file as uploaded, with ranges; opens with a token or the asset's signed `content_url`.
#[utoipa::path(
    tag = "assets", operation_id = "get_asset_content",
    params(("id" = Uuid, Path), ("Range" = Option<String>, Header, description = "e.g. `bytes=0-1023`")),
    responses(
        (status = 200, description = "The file as uploaded", content_type = "application/octet-stream"),
        (status = 206, description = "The requested range", content_type = "application/octet-stream"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/assets/{id}/content")]
pub async fn content(
    state: Data,
    id: web::Path<Uuid>,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let asset = assets::get(&state, *id).await?;
    super::serve_file(&state, &asset.key, &request).await
}

/// Delete a library asset
///
/// Deletes the asset and its file; videos already rendered keep their own copies.
#[utoipa::path(
    tag = "assets", operation_id = "delete_asset",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted with its file; videos already rendered keep their own copies"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/assets/{id}")]
pub async fn remove(state: Data, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    assets::delete(&state, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
