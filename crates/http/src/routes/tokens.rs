//! A workspace's tokens, managed over the API by its `admin` tokens (the scope is checked for
//! every route here by `auth::require_token`). Tokens of other workspaces are never seen.

use actix_web::{delete, get, post, web, HttpResponse};
use secrecy::SecretString;
use uuid::Uuid;

use super::Data;
use crate::error::AppError;
use crate::{
    access,
    auth::Caller,
    db,
    domain::{
        project::validate_name,
        workspace::{ApiToken, CreateToken, CreatedToken},
    },
    error::{ApiError, Problem},
    pagination::Page,
};

/// The collection's path, which takes no `Idempotency-Key` (a secret is never stored).
pub const PATH: &str = "/v1/tokens";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(create).service(revoke);
}

/// List the workspace's tokens
///
/// Every token of the caller's workspace, revoked ones too, without their secrets.
#[utoipa::path(
    tag = "tokens", operation_id = "list_tokens",
    responses(
        (status = 200, description = "Every token of the caller's workspace, revoked ones too, oldest first, in one page; never their secrets", body = Page<ApiToken>),
    ),
)]
#[get("/tokens")]
pub async fn list(
    state: Data,
    Caller(principal): Caller,
) -> Result<web::Json<Page<ApiToken>>, ApiError> {
    Ok(web::Json(Page {
        items: db::tokens::list(&state.pool, Some(principal.workspace_id)).await?,
        next_cursor: None,
    }))
}

/// Create a token
///
/// A token of the caller's workspace with a scope; its secret is shown this once and only its hash
/// is kept.
#[utoipa::path(
    tag = "tokens", operation_id = "create_token",
    request_body(content = CreateToken, example = json!({"name": "dashboard", "scope": "read"})),
    responses(
        (status = 201, description = "Made in the caller's workspace; `secret` is shown this once and only its hash is kept", body = CreatedToken),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/tokens")]
pub async fn create(
    state: Data,
    Caller(principal): Caller,
    body: crate::routes::body::Json<CreateToken>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = Vec::new();
    validate_name(&body.name, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors).into());
    }
    let (secret, hash) = access::generate();
    let token = db::tokens::insert(
        &state.pool,
        body.name.trim(),
        &hash,
        principal.workspace_id,
        body.scope,
    )
    .await?;
    Ok(HttpResponse::Created().json(CreatedToken {
        token,
        secret: SecretString::from(secret),
    }))
}

/// Revoke a token
///
/// The token stops working at once on every replica, and its open event streams end.
#[utoipa::path(
    tag = "tokens", operation_id = "revoke_token",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Revoked at once on every replica; open event streams of the token end"),
        (status = 404, description = "No live token with this id in the caller's workspace", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/tokens/{id}")]
pub async fn revoke(
    state: Data,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let hash = db::tokens::revoke_in(&state.pool, principal.workspace_id, *id)
        .await?
        .ok_or(AppError::NotFound("token"))?;
    // Other replicas hear of it by NOTIFY; this one forgets it before answering, so the
    // revoker's next request with it already fails.
    state.tokens.evict(&hash);
    Ok(HttpResponse::NoContent().finish())
}
