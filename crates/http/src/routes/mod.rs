//! Thin HTTP handlers, one file per resource. They validate, call `db`, `steps` or
//! `jobs::queue`, and never call providers.

pub mod assets;
pub mod audio;
pub mod body;
pub mod collections;
pub mod events;
pub mod health;
pub mod jobs;
pub mod mcp;
pub mod metrics;
pub mod page;
pub mod posts;
pub mod projects;
pub mod providers;
pub mod publishing;
pub mod reels;
pub mod runs;
pub mod scripts;
pub mod tokens;
pub mod transcripts;
pub mod videos;
pub mod voices;
pub mod watchlists;
pub mod webhooks;

use crate::error::AppError;
use crate::error_code::ErrorCode;
use actix_web::{middleware::from_fn, web, HttpResponse};
use utoipa_actix_web::{scope, service_config::ServiceConfig};
use uuid::Uuid;

use crate::{
    auth, db,
    domain::{resource::StepResource, ResourceKind},
    error::ApiError,
    pagination::{Page, PageQuery},
    state::AppState,
};

pub type Data = web::Data<AppState>;

/// Registers every documented route; used by the server and by `reelforge openapi` alike.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(metrics::metrics)
        .service(
            scope::scope("/v1")
                // The limit runs first (the last `wrap` is outermost), so refusals at the door
                // count and say where the caller stands; then authentication, then keys.
                .wrap(from_fn(crate::idempotency::honour_key))
                .wrap(from_fn(auth::require_token))
                .wrap(from_fn(crate::limit::limit))
                .configure(projects::configure)
                .configure(collections::configure)
                .configure(reels::configure)
                .configure(runs::configure)
                .configure(webhooks::configure)
                .configure(watchlists::configure)
                .configure(assets::configure)
                .configure(voices::configure)
                .service(providers::list)
                .configure(transcripts::configure)
                .configure(scripts::configure)
                .configure(scripts::configure_edit)
                .configure(audio::configure)
                .configure(audio::configure_content)
                .configure(videos::configure)
                .configure(videos::configure_content)
                .configure(posts::configure)
                .configure(posts::configure_edit)
                .configure(publishing::configure)
                .configure(jobs::configure)
                .configure(tokens::configure)
                .service(events::stream),
        )
        .configure(publishing::configure_callback)
        .service(
            scope::scope("/mcp")
                .wrap(from_fn(auth::require_token))
                .wrap(from_fn(crate::limit::limit))
                .configure(mcp::configure),
        );
}

/// A failed multipart upload as a problem: a body that is not `multipart/form-data` at all is
/// the wrong media type (415), anything else a malformed upload (400).
pub fn multipart_error(error: actix_multipart::MultipartError) -> AppError {
    use actix_multipart::MultipartError;
    match error {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => {
            AppError::UnsupportedMediaType("send the upload as multipart/form-data".into())
        }
        other => AppError::bad_request(ErrorCode::MalformedMultipart, other.to_string()),
    }
}

/// What no route answered: a 405 with `Allow` when the path is known under other methods, else
/// a 404.
pub async fn not_found(request: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    let allowed = crate::openapi::methods_for(request.path());
    if allowed.is_empty() {
        Err(AppError::NotFound("route").into())
    } else {
        Err(ApiError::MethodNotAllowed(allowed))
    }
}

/// Checks that the parent exists, so an unknown parent is a 404 and not an empty list.
async fn require_parent(
    state: &AppState,
    kind: ResourceKind,
    parent_id: Uuid,
) -> Result<(), ApiError> {
    let exists = match kind.parent() {
        None => db::projects::get(&state.pool, parent_id).await?.is_some(),
        Some(parent) => db::resources::get(&state.pool, parent, parent_id)
            .await?
            .is_some(),
    };
    if exists {
        Ok(())
    } else {
        Err(AppError::NotFound(kind.parent().map_or("project", ResourceKind::as_str)).into())
    }
}

pub async fn list_children(
    state: &AppState,
    kind: ResourceKind,
    parent_id: Uuid,
    query: &PageQuery,
) -> Result<Page<StepResource>, ApiError> {
    let page = query.parse()?;
    require_parent(state, kind, parent_id).await?;
    let rows = db::resources::list_by_parent(&state.pool, kind, parent_id, page).await?;
    Ok(Page::from_rows(rows, page.limit))
}

pub async fn get_resource(
    state: &AppState,
    kind: ResourceKind,
    id: Uuid,
) -> Result<StepResource, ApiError> {
    db::resources::get(&state.pool, kind, id)
        .await?
        .ok_or(AppError::NotFound(kind.as_str()).into())
}

/// Streams a media store file with Content-Type, ETag, Last-Modified and Range support,
/// fetching it from the shared store first if this replica has no copy.
pub async fn serve_file(
    state: &AppState,
    key: &str,
    request: &actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let path = state.media.fetch(key).await.map_err(|error| match error {
        crate::media::MediaError::Missing(_) => AppError::NotFound("media file"),
        other => AppError::Internal(other.into()),
    })?;
    let file = actix_files::NamedFile::open_async(path)
        .await
        .map_err(|_| AppError::NotFound("media file"))?;
    Ok(file
        .use_etag(true)
        .use_last_modified(true)
        .into_response(request))
}

/// The key of a file a succeeded step resource's output names, or why there is none.
pub async fn output_file(
    state: &AppState,
    kind: ResourceKind,
    id: Uuid,
    pick: impl FnOnce(&serde_json::Value) -> Option<String>,
) -> Result<String, ApiError> {
    let resource = get_resource(state, kind, id).await?;
    let output = resource
        .output
        .filter(|_| resource.status == crate::domain::Status::Succeeded)
        .ok_or_else(|| {
            AppError::conflict(
                ErrorCode::MediaNotReady,
                format!(
                    "the {kind} is {}; its files exist once it has succeeded",
                    resource.status
                ),
            )
            .with_params(crate::domain::ErrorParams {
                status: Some(resource.status),
                ..Default::default()
            })
        })?;
    pick(&output).ok_or(AppError::NotFound("media file").into())
}

/// Serves the main file of a succeeded step resource (`output.key`).
pub async fn serve_output(
    state: &AppState,
    kind: ResourceKind,
    id: Uuid,
    request: &actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let key = output_file(state, kind, id, |output| {
        output
            .get("key")
            .and_then(|k| k.as_str())
            .map(str::to_owned)
    })
    .await?;
    serve_file(state, &key, request).await
}

/// The three routes every step resource has: start it under its parent (202), list it under its
/// parent, and get it by id, each answering the step's own type.
macro_rules! step_routes {
    (
        kind: $kind:expr, resource: $resource:ty, body: $body:ty, started: $started:ty, tag: $tag:tt, parent: $parent:tt,
        summaries: ($start_summary:literal, $list_summary:literal, $get_summary:literal),
        start: ($start_path:tt, $start_id:tt),
        list: ($list_path:tt, $list_id:tt),
        get: ($get_path:tt, $get_id:tt) $(,)?
    ) => {
        use actix_web::{get, post, web, HttpResponse};
        use uuid::Uuid;

        use crate::{
            error::{ApiError, Problem},
            pagination::{Page, PageQuery},
            routes::Data,
        };

        pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
            cfg.service(start).service(list).service(get_one);
        }

        #[utoipa::path(
            tag = $tag, operation_id = $start_id, summary = $start_summary,
            description = "Queues the step on its parent with the provider and options given (the project's otherwise), checked when it starts; follow the job or the event stream.",
            params(("id" = Uuid, Path, description = $parent)),
            request_body = $body,
            responses(
                (status = 202, description = "Queued; follow the job or the event stream", body = $started),
                (status = 404, description = "No such parent", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "The parent has not succeeded yet", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Unknown provider or invalid options", body = Problem, content_type = "application/problem+json"),
            ),
        )]
        #[post($start_path)]
        pub async fn start(state: Data, parent_id: web::Path<Uuid>, body: crate::routes::body::Json<$body>) -> Result<HttpResponse, ApiError> {
            let body = body.into_inner();
            let started = crate::steps::start(&state, $kind, parent_id.into_inner(), body.provider, body.options).await?;
            Ok(HttpResponse::Accepted().json(<$started>::try_from(started)?))
        }

        #[utoipa::path(
            tag = $tag, operation_id = $list_id, summary = $list_summary,
            description = "The resources of this step made from the parent, newest first, a page at a time.",
            params(("id" = Uuid, Path, description = $parent), PageQuery),
            responses(
                (status = 200, description = "Newest first", body = Page<$resource>),
                (status = 404, description = "No such parent", body = Problem, content_type = "application/problem+json"),
            ),
        )]
        #[get($list_path)]
        pub async fn list(state: Data, parent_id: web::Path<Uuid>, query: web::Query<PageQuery>) -> Result<web::Json<Page<$resource>>, ApiError> {
            let page = crate::routes::list_children(&state, $kind, parent_id.into_inner(), &query).await?;
            Ok(web::Json(page.try_map(<$resource>::try_from)?))
        }

        #[utoipa::path(
            tag = $tag, operation_id = $get_id, summary = $get_summary,
            description = "The resource with its status, provider, input and, once it has succeeded, its typed output.",
            params(("id" = Uuid, Path)),
            responses(
                (status = 200, body = $resource),
                (status = 404, body = Problem, content_type = "application/problem+json"),
            ),
        )]
        #[get($get_path)]
        pub async fn get_one(state: Data, id: web::Path<Uuid>) -> Result<web::Json<$resource>, ApiError> {
            let resource = crate::routes::get_resource(&state, $kind, id.into_inner()).await?;
            Ok(web::Json(<$resource>::try_from(resource)?))
        }
    };
}
pub(crate) use step_routes;
