//! Bearer tokens: random, shown once, stored only as SHA-256 hashes.

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web, HttpMessage,
};
use rand::{distributions::Alphanumeric, Rng};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{db, error::ApiError, state::AppState};

const TOKEN_PREFIX: &str = "rf_";

/// A new token and the hash to store for it.
pub fn generate() -> (String, String) {
    let secret: String = rand::thread_rng().sample_iter(&Alphanumeric).take(40).map(char::from).collect();
    let token = format!("{TOKEN_PREFIX}{secret}");
    let hash = hash(&token);
    (token, hash)
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The id of the token that authenticated a request.
#[derive(Debug, Clone, Copy)]
pub struct TokenId(pub Uuid);

fn presented_token(req: &ServiceRequest) -> Option<String> {
    if let Some(header) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let value = header.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned());
    }
    // Browsers' EventSource cannot send headers, so the event stream also takes the token as a
    // query parameter.
    if req.path() == "/v1/events" {
        let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string()).ok()?;
        return query.get("access_token").cloned();
    }
    None
}

pub async fn authenticate(req: &ServiceRequest) -> Result<TokenId, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
    let token = presented_token(req).ok_or(ApiError::Unauthorized)?;
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Err(ApiError::Unauthorized);
    }
    db::tokens::authenticate(&state.pool, &hash(&token))
        .await?
        .map(TokenId)
        .ok_or(ApiError::Unauthorized)
}

/// Middleware for every `/v1` route.
pub async fn require_token(req: ServiceRequest, next: Next<impl MessageBody>) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let token = authenticate(&req).await?;
    req.extensions_mut().insert(token);
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_to_what_is_stored() {
        let (a, hash_a) = generate();
        let (b, _) = generate();
        assert_ne!(a, b);
        assert!(a.starts_with("rf_") && a.len() == 43);
        assert_eq!(hash(&a), hash_a);
        assert_eq!(hash_a.len(), 64);
    }
}
