//! The door of every `/v1` route and `/mcp`: the bearer token (or a signed media link) is
//! checked here, once, and the handler gets the caller as an argument.

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
    web, HttpMessage,
};

use crate::{
    access::{hash, Principal, TOKEN_PREFIX},
    db,
    domain::workspace::Scope,
    error::ApiError,
    state::AppState,
};
use reelforge_app::error::AppError;

/// The principal the authentication middleware found, as a handler's argument.
pub struct Caller(pub Principal);

impl actix_web::FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .map(Caller)
                .ok_or(AppError::Unauthorized.into()),
        )
    }
}

/// The bearer token a request presents (a header, or the event stream's query parameter).
pub fn presented_token(req: &ServiceRequest) -> Option<String> {
    if let Some(header) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let value = header.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    // Browsers' EventSource cannot send headers, so the event stream also takes the token as a
    // query parameter.
    if req.path() == "/v1/events" {
        let query =
            web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
                .ok()?;
        return query.get("access_token").cloned();
    }
    None
}

pub async fn authenticate(req: &ServiceRequest) -> Result<Principal, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("application state missing")))?;
    let token = presented_token(req).ok_or(AppError::Unauthorized)?;
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Err(AppError::Unauthorized.into());
    }
    let hash = hash(&token);
    if let Some(grant) = state.tokens.get(&hash) {
        return Ok(Principal::new(grant, hash));
    }
    let grant = db::tokens::authenticate(&state.pool, &hash)
        .await?
        .ok_or(AppError::Unauthorized)?;
    state.tokens.insert(hash.clone(), grant);
    Ok(Principal::new(grant, hash))
}

/// The scope a request needs, decided here once for every route: reading (`GET`, `HEAD`,
/// `OPTIONS`) needs `read`, anything else `write`, and the token routes `admin`. `/mcp` is read
/// at the door; each tool asks for `write` when it changes something (see
/// [`crate::mcp::tools`]).
fn needed_scope(req: &ServiceRequest) -> Scope {
    let path = req.path();
    if path == "/v1/tokens" || path.starts_with("/v1/tokens/") {
        Scope::Admin
    } else if path == "/mcp"
        || matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
    {
        Scope::Read
    } else {
        Scope::Write
    }
}

/// Middleware for every `/v1` route and `/mcp`: authenticates the token, checks its scope, and
/// answers 404 for another workspace's resource named in the path, as if it did not exist.
/// A `GET` of a file's content route may present a signed link instead of a token (see
/// [`crate::signed`]). The answer is written with media links signed.
pub async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("application state missing")))
        .map_err(ApiError::from)?;
    let now = state.clock.now().timestamp();
    // A refusal is answered here rather than raised, so the middleware outside (the rate
    // limit) still writes its fields on it.
    if let Err(refusal) = admit(&req, &state, now).await {
        let answer = actix_web::ResponseError::error_response(&refusal);
        return Ok(req.into_response(answer).map_into_right_body());
    }
    crate::signed::signing(state.links.clone(), now, next.call(req))
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Lets a request in by its signed link, or by its token with the scope it needs and the
/// workspace of the resource it names.
async fn admit(req: &ServiceRequest, state: &AppState, now: i64) -> Result<(), ApiError> {
    let by_link = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .is_none()
        && matches!(*req.method(), Method::GET | Method::HEAD)
        && crate::signed::is_signed(req.query_string())
        && crate::signed::signable(req.path());
    if by_link {
        // The link was minted for a reader of this very path, so it is confined already.
        state.links.verify(req.path(), req.query_string(), now)?;
    } else {
        let principal = authenticate(req).await?;
        principal.require(needed_scope(req))?;
        crate::workspaces::confine_path(&state.pool, &principal, req.path()).await?;
        req.extensions_mut().insert(principal);
    }
    Ok(())
}

/// Every route and tool that names a resource is confined to the caller's workspace (the
/// door checks them with `workspaces::OWNED`).
#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::workspaces::OWNED;

    /// `/v1` route families with ids that are not a project's: tokens are looked up within the
    /// caller's workspace by their own routes.
    const NOT_OWNED: &[&str] = &["tokens"];

    /// A new route family addressed by id must say where its workspace is found.
    #[test]
    fn every_route_family_with_an_id_is_confined() {
        let spec: Value = serde_json::from_str(&crate::openapi::spec_json()).unwrap();
        for path in spec["paths"].as_object().unwrap().keys() {
            let Some(rest) = path.strip_prefix("/v1/") else {
                continue;
            };
            let mut segments = rest.split('/');
            let (Some(family), Some(id)) = (segments.next(), segments.next()) else {
                continue;
            };
            if id.starts_with('{') {
                assert!(
                    OWNED.iter().any(|o| o.segment == family) || NOT_OWNED.contains(&family),
                    "{path}: add `{family}` to workspaces::OWNED"
                );
            }
        }
    }

    /// A new tool argument naming a resource must be checked too.
    #[test]
    fn every_tool_argument_naming_a_resource_is_confined() {
        for tool in crate::mcp::tools::all() {
            let schema = tool.describe();
            let Some(properties) = schema["inputSchema"]["properties"].as_object() else {
                continue;
            };
            for name in properties.keys().filter(|name| name.ends_with("_id")) {
                assert!(
                    OWNED.iter().any(|o| o.argument == name),
                    "tool {}: add `{name}` to workspaces::OWNED",
                    tool.name
                );
            }
        }
    }
}
