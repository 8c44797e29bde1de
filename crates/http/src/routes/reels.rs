//! Reels of a project: ranked lists, details, and selection (which prepares the reel's media).

use crate::error::AppError;
use crate::error_code::ErrorCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::Data;
use crate::{
    db,
    domain::{
        reel::{Reel, ReelQuery},
        Status,
    },
    error::{ApiError, Problem},
    pagination::Page,
    providers::collect::PreparedReel,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(select)
        .service(history)
        .service(video)
        .service(audio)
        .service(thumbnail)
        .service(cover);
}

/// List a project's ranked reels
///
/// The project's reels by trend score or another metric, descending, unknown values last, a page at
/// a time.
#[utoipa::path(
    tag = "reels", operation_id = "list_reels",
    params(("id" = Uuid, Path, description = "The project's id"), ReelQuery),
    responses(
        (status = 200, description = "Descending by `sort`, unknown values last", body = Page<Reel>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}/reels")]
pub async fn list(
    state: Data,
    project_id: web::Path<Uuid>,
    query: web::Query<ReelQuery>,
) -> Result<web::Json<Page<Reel>>, ApiError> {
    Ok(web::Json(
        crate::reels::ranked(&state, *project_id, &query).await?,
    ))
}

/// Get a reel
///
/// A reel with its metrics, its prepared media and the signed links of its files.
#[utoipa::path(
    tag = "reels", operation_id = "get_reel",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Reel), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
#[get("/reels/{id}")]
pub async fn get_one(state: Data, id: web::Path<Uuid>) -> Result<web::Json<Reel>, ApiError> {
    db::reels::get(&state.pool, *id)
        .await?
        .map(web::Json)
        .ok_or(AppError::NotFound("reel").into())
}

/// Select a reel
///
/// Marks the reel selected and prepares its media (download, checks, sound, a frame) when that has
/// not been done.
#[utoipa::path(
    tag = "reels", operation_id = "select_reel",
    params(("id" = Uuid, Path, description = "The project's id"), ("reel_id" = Uuid, Path)),
    responses(
        (status = 202, description = "Selected; its media is being prepared (download, checks, audio track)", body = crate::domain::reel::ReelSelected),
        (status = 200, description = "Already selected and prepared or being prepared", body = crate::domain::reel::ReelSelected),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/reels/{reel_id}/select")]
pub async fn select(state: Data, path: web::Path<(Uuid, Uuid)>) -> Result<HttpResponse, ApiError> {
    let (project_id, reel_id) = path.into_inner();
    let (answer, needs_media) = crate::reels::select(&state, project_id, reel_id).await?;
    Ok(if needs_media {
        HttpResponse::Accepted().json(answer)
    } else {
        HttpResponse::Ok().json(answer)
    })
}

/// Serves one of a prepared reel's files with Range, ETag and Last-Modified support.
async fn serve_media(
    state: &Data,
    id: Uuid,
    request: &HttpRequest,
    pick: fn(PreparedReel) -> Option<String>,
) -> Result<HttpResponse, ApiError> {
    let reel = db::reels::get(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound("reel"))?;
    let Some(prepared) = reel.media.filter(|_| reel.status == Status::Succeeded) else {
        return Err(AppError::conflict(
            ErrorCode::MediaNotReady,
            format!(
                "the reel's media is {}; select the reel to prepare it",
                reel.status
            ),
        )
        .with_params(crate::domain::ErrorParams {
            status: Some(reel.status),
            ..Default::default()
        })
        .into());
    };
    let key = pick(prepared).ok_or(AppError::NotFound("media file"))?;
    super::serve_file(state, &key, request).await
}

/// Download a reel's video
///
/// The prepared MP4, with ranges; opens with a token or the reel's signed `content_url`.
#[utoipa::path(
    tag = "reels", operation_id = "get_reel_video",
    params(("id" = Uuid, Path), ("Range" = Option<String>, Header, description = "e.g. `bytes=0-1023`")),
    responses(
        (status = 200, description = "The downloaded MP4", content_type = "video/mp4"),
        (status = 206, description = "The requested range", content_type = "video/mp4"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not prepared yet", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reels/{id}/video")]
pub async fn video(
    state: Data,
    id: web::Path<Uuid>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    serve_media(&state, *id, &request, |media| media.video_key).await
}

/// Download a reel's extracted sound
///
/// The 16 kHz mono WAV extracted for transcription, with ranges; opens with a token or the reel's
/// signed `audio_content_url`.
#[utoipa::path(
    tag = "reels", operation_id = "get_reel_audio",
    params(("id" = Uuid, Path), ("Range" = Option<String>, Header, description = "e.g. `bytes=0-1023`")),
    responses(
        (status = 200, description = "The 16 kHz mono WAV extracted for transcription", content_type = "audio/wav"),
        (status = 206, description = "The requested range", content_type = "audio/wav"),
        (status = 404, description = "No such reel, or the video has no audio track", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not prepared yet", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reels/{id}/audio")]
pub async fn audio(
    state: Data,
    id: web::Path<Uuid>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    serve_media(&state, *id, &request, |media| media.audio_key).await
}

/// Download a reel's frame
///
/// A JPEG frame, 270 pixels wide, taken when the reel was prepared; opens with a token or the
/// reel's signed `thumbnail_content_url`.
#[utoipa::path(
    tag = "reels", operation_id = "get_reel_thumbnail",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "A JPEG frame, 270 pixels wide, taken when the reel was prepared", content_type = "image/jpeg"),
        (status = 404, description = "No such reel, or no frame could be taken", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not prepared yet", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reels/{id}/thumbnail")]
pub async fn thumbnail(
    state: Data,
    id: web::Path<Uuid>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    serve_media(&state, *id, &request, |media| media.thumbnail_key).await
}

/// Download a reel's cover
///
/// The cover image Instagram showed for the reel (`displayUrl`), fetched when the reel was
/// collected and kept, as JPEG, PNG or WebP; opens with a token or the reel's signed
/// `cover_content_url`.
#[utoipa::path(
    tag = "reels", operation_id = "get_reel_cover",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The cover image, as it was served (`image/jpeg`, `image/png` or `image/webp`)", content_type = "image/*"),
        (status = 404, description = "No such reel, or no cover was kept for it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reels/{id}/cover")]
pub async fn cover(
    state: Data,
    id: web::Path<Uuid>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let key = db::reels::cover_key(&state.pool, *id)
        .await?
        .ok_or(AppError::NotFound("reel"))?
        .ok_or(AppError::NotFound("cover"))?;
    super::serve_file(&state, &key, &request).await
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// The newest observations to include, 1 to 1000 (default 200).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Get a reel's metric history
///
/// Every observation of the reel's counts, oldest first, with the plays per hour since the one
/// before, for charts.
#[utoipa::path(
    tag = "reels", operation_id = "get_reel_history",
    params(("id" = Uuid, Path), HistoryQuery),
    responses(
        (status = 200, description = "Every observation of the reel's counts, oldest first, with the plays per hour since the one before (for charts)", body = crate::domain::watchlist::ReelHistory),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reels/{id}/history")]
pub async fn history(
    state: Data,
    id: web::Path<Uuid>,
    query: web::Query<HistoryQuery>,
) -> Result<web::Json<crate::domain::watchlist::ReelHistory>, ApiError> {
    let limit = query.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(
            AppError::bad_request(ErrorCode::InvalidQuery, "limit must be 1 to 1000").into(),
        );
    }
    db::reels::get(&state.pool, *id)
        .await?
        .ok_or(AppError::NotFound("reel"))?;
    let observations = db::reels::history(&state.pool, *id, i64::from(limit)).await?;
    Ok(web::Json(crate::domain::watchlist::ReelHistory {
        reel_id: *id,
        observations,
    }))
}
