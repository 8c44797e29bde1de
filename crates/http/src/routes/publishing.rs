//! Platform accounts and publications over HTTP; the rules live in [`crate::publish`].

use actix_web::{delete, get, post, web, HttpResponse};
use uuid::Uuid;

use super::Data;
use crate::{
    domain::publishing::{
        Account, AuthorizationLink, AuthorizeAccount, NewAccount, NewPublication, Platform,
        Publication,
    },
    error::{ApiError, Problem},
    pagination::{Page, PageQuery},
    publish::{self, CallbackQuery, VideoLinkQuery},
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(connect)
        .service(authorize)
        .service(list_accounts)
        .service(get_account)
        .service(delete_account)
        .service(create_publication)
        .service(list_publications)
        .service(get_publication)
        .service(cancel_publication);
}

/// Outside `/v1`: the platform sends the user's browser here, without a bearer token; the
/// signed `state` says which project asked.
pub fn configure_callback(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(callback).service(video_link);
}

/// Connect a platform account with tokens
///
/// Connects an account from tokens pasted by hand; they are checked with the platform, sealed and
/// never shown again.
#[utoipa::path(
    tag = "publishing", operation_id = "connect_account",
    params(("id" = Uuid, Path, description = "The project's id")),
    request_body(content = NewAccount, example = json!({"platform": "instagram", "name": "@anna.daily", "external_id": "17841400000000000", "access_token": "EAAG...", "expires_in": 5184000})),
    responses(
        (status = 201, description = "Connected; the tokens are sealed and never shown again", body = Account),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `publishing.token_key` is not set (`not_configured`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/accounts")]
pub async fn connect(
    state: Data,
    project_id: web::Path<Uuid>,
    body: crate::routes::body::Json<NewAccount>,
) -> Result<HttpResponse, ApiError> {
    let account = publish::connect(&state, *project_id, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/accounts/{}", account.id)))
        .json(account))
}

/// Start connecting a platform account by OAuth
///
/// Answers the platform's consent page to send the user to; the platform brings them back to the
/// OAuth callback, which connects the account.
#[utoipa::path(
    tag = "publishing", operation_id = "authorize_account",
    params(("id" = Uuid, Path, description = "The project's id")),
    request_body(content = AuthorizeAccount, example = json!({"platform": "youtube", "name": "My channel"})),
    responses(
        (status = 200, description = "Send the user to `url`; the platform brings them back to `/oauth/{platform}/callback`, which stores the account", body = AuthorizationLink),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "OAuth is not configured for the platform (`not_configured`): client credentials, `publishing.public_base_url` or `publishing.token_key`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/accounts/authorize")]
pub async fn authorize(
    state: Data,
    project_id: web::Path<Uuid>,
    body: crate::routes::body::Json<AuthorizeAccount>,
) -> Result<web::Json<AuthorizationLink>, ApiError> {
    Ok(web::Json(
        publish::authorize(&state, *project_id, body.into_inner()).await?,
    ))
}

/// Finish connecting a platform account
///
/// Where a platform sends the user back after they allowed posting: exchanges the code for tokens,
/// seals them and connects the account of the signed `state`.
#[utoipa::path(
    tag = "publishing", operation_id = "oauth_callback", security(()),
    params(("platform" = Platform, Path), CallbackQuery),
    responses(
        (status = 201, description = "The account is connected", body = Account),
        (status = 400, description = "`invalid_oauth_state`: not a state this service signed, or expired", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The user declined, or the platform refused the code", body = Problem, content_type = "application/problem+json"),
        (status = 502, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/oauth/{platform}/callback")]
pub async fn callback(
    state: Data,
    platform: web::Path<Platform>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, ApiError> {
    let account = publish::callback(&state, *platform, query.into_inner()).await?;
    Ok(HttpResponse::Created().json(account))
}

/// List a project's platform accounts
///
/// The project's connected Instagram, YouTube and TikTok accounts, newest first.
#[utoipa::path(
    tag = "publishing", operation_id = "list_accounts",
    params(("id" = Uuid, Path, description = "The project's id"), PageQuery),
    responses(
        (status = 200, description = "Newest first", body = Page<Account>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}/accounts")]
pub async fn list_accounts(
    state: Data,
    project_id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<Account>>, ApiError> {
    Ok(web::Json(
        publish::list_accounts(&state, *project_id, &query).await?,
    ))
}

/// Get a platform account
///
/// The connected account with its platform, name, scopes and whether it needs authorizing again;
/// its tokens are never shown.
#[utoipa::path(
    tag = "publishing", operation_id = "get_account",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Account), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
#[get("/accounts/{id}")]
pub async fn get_account(state: Data, id: web::Path<Uuid>) -> Result<web::Json<Account>, ApiError> {
    Ok(web::Json(publish::account(&state, *id).await?))
}

/// Forget a platform account
///
/// Removes the account and its publications here; the platform's grant stays until it is revoked
/// there.
#[utoipa::path(
    tag = "publishing", operation_id = "delete_account",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Forgotten here, with its publications (the platform's grant stays until revoked there)"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/accounts/{id}")]
pub async fn delete_account(state: Data, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    publish::delete_account(&state, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Publish a video
///
/// Schedules the video's publication to a connected account, now or at a time; it is never posted
/// twice.
#[utoipa::path(
    tag = "publishing", operation_id = "create_publication",
    params(("id" = Uuid, Path, description = "The video's id")),
    request_body(content = NewPublication, example = json!({"account_id": "5b1e0a4e-8f43-4a3e-9d0c-2b8f0f6f7a10", "privacy": "public", "schedule_at": "2026-12-03T09:00:00Z"})),
    responses(
        (status = 202, description = "Scheduled; follow it with `GET /v1/publications/{id}` or the `publication.*` events", body = Publication),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The video has not succeeded (`media_not_ready`), or the account needs connecting again (`account_not_connected`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (the words over a platform limit name `copy.*`), or the video outside the platform's limits (`platform_limit`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/videos/{id}/publications")]
pub async fn create_publication(
    state: Data,
    video_id: web::Path<Uuid>,
    body: crate::routes::body::Json<NewPublication>,
) -> Result<HttpResponse, ApiError> {
    let publication = publish::publish(&state, *video_id, body.into_inner()).await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Location", format!("/v1/publications/{}", publication.id)))
        .json(publication))
}

/// List a video's publications
///
/// The video's publications to each account, newest first.
#[utoipa::path(
    tag = "publishing", operation_id = "list_publications",
    params(("id" = Uuid, Path, description = "The video's id"), PageQuery),
    responses(
        (status = 200, description = "Newest first", body = Page<Publication>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/videos/{id}/publications")]
pub async fn list_publications(
    state: Data,
    video_id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<Publication>>, ApiError> {
    Ok(web::Json(
        publish::publications(&state, *video_id, &query).await?,
    ))
}

/// Get a publication
///
/// A publication's status, the platform's post id and link once it has them, and its cover.
#[utoipa::path(
    tag = "publishing", operation_id = "get_publication",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Publication), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
#[get("/publications/{id}")]
pub async fn get_publication(
    state: Data,
    id: web::Path<Uuid>,
) -> Result<web::Json<Publication>, ApiError> {
    Ok(web::Json(publish::publication(&state, *id).await?))
}

/// Cancel a scheduled publication
///
/// A publication that has not started uploading is canceled; nothing is posted.
#[utoipa::path(
    tag = "publishing", operation_id = "cancel_publication",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Canceled; nothing was posted", body = Publication),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`publication_not_cancelable`: it started uploading or has ended", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/publications/{id}/cancel")]
pub async fn cancel_publication(
    state: Data,
    id: web::Path<Uuid>,
) -> Result<web::Json<Publication>, ApiError> {
    Ok(web::Json(publish::cancel(&state, *id).await?))
}

/// Fetch a video by a publishing link
///
/// The link a platform fetches a video from when it pulls the file (`publishing.instagram.source =
/// url`): signed for one publication, it needs no token and expires.
#[utoipa::path(
    tag = "publishing", operation_id = "get_linked_video", security(()),
    params(("id" = Uuid, Path, description = "The publication's id"), VideoLinkQuery, ("Range" = Option<String>, Header)),
    responses(
        (status = 200, description = "The video, for the platform to fetch (`publishing.instagram.source = url`)", content_type = "video/mp4"),
        (status = 206, description = "The requested range", content_type = "video/mp4"),
        (status = 404, description = "No such link: altered, expired or unknown", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/media/publications/{id}/video")]
pub async fn video_link(
    state: Data,
    id: web::Path<Uuid>,
    query: web::Query<VideoLinkQuery>,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let key = publish::linked_video(&state, *id, &query).await?;
    crate::routes::serve_file(&state, &key, &request).await
}
