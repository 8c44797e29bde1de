//! Bearer tokens: random, shown once, stored only as SHA-256 hashes.

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
    web, HttpMessage,
};
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use rand::{distributions::Alphanumeric, Rng};
use sha2::{Digest, Sha256};
use sqlx::{postgres::PgListener, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    db::{self, tokens::Grant},
    domain::workspace::Scope,
    error::ApiError,
    error_code::ErrorCode,
    state::AppState,
};

pub const REVOKED_CHANNEL: &str = "reelforge_tokens";

const TOKEN_PREFIX: &str = "rf_";

/// A new token and the hash to store for it.
pub fn generate() -> (String, String) {
    let secret: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    let token = format!("{TOKEN_PREFIX}{secret}");
    let hash = hash(&token);
    (token, hash)
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Who is asking: the token that authenticated the request, the workspace it belongs to and
/// its scope. Every `/v1` route and MCP tool acts within `workspace_id` only. Its hash is what
/// long-lived responses (the event stream) watch for revocation.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: Uuid,
    pub hash: String,
    pub workspace_id: Uuid,
    pub scope: Scope,
}

impl Principal {
    fn new(grant: Grant, hash: String) -> Self {
        Principal {
            token_id: grant.id,
            hash,
            workspace_id: grant.workspace_id,
            scope: grant.scope,
        }
    }

    /// Refuses with 403 `insufficient_scope` unless the token's scope includes `needed`.
    pub fn require(&self, needed: Scope) -> Result<(), ApiError> {
        if self.scope.includes(needed) {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                code: ErrorCode::InsufficientScope,
                detail: format!(
                    "this needs a `{needed}` token; this token's scope is `{}`",
                    self.scope
                ),
            })
        }
    }
}

/// Handlers take the principal the authentication middleware found.
impl actix_web::FromRequest for Principal {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .ok_or(ApiError::Unauthorized),
        )
    }
}

/// What the revocation feed says: this token was revoked, or (`None`) revocations may have been
/// missed while the feed was down, so every holder must check its token again.
pub type Revocation = Option<String>;

fn presented_token(req: &ServiceRequest) -> Option<String> {
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

/// Remembers recently seen valid tokens so most requests skip the lookup. Revocations arrive by
/// NOTIFY and evict at once; the time limit bounds the damage of a missed notification.
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Grant, Instant)>>,
    ttl: Duration,
    revocations: tokio::sync::broadcast::Sender<Revocation>,
}

/// Entries beyond this are dropped wholesale; a deployment has few tokens.
const CACHE_CAPACITY: usize = 10_000;

impl TokenCache {
    pub fn new(ttl: Duration) -> Self {
        TokenCache {
            entries: Mutex::new(HashMap::new()),
            ttl,
            revocations: tokio::sync::broadcast::channel(64).0,
        }
    }

    /// A feed of revocations as this replica learns of them.
    pub fn revocations(&self) -> tokio::sync::broadcast::Receiver<Revocation> {
        self.revocations.subscribe()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Grant, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, hash: &str) -> Option<Grant> {
        self.entries()
            .get(hash)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(grant, _)| *grant)
    }

    fn insert(&self, hash: String, grant: Grant) {
        let mut entries = self.entries();
        if entries.len() >= CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(hash, (grant, Instant::now()));
    }

    /// Forgets a revoked token and ends its event streams on this replica.
    pub fn evict(&self, hash: &str) {
        self.entries().remove(hash);
        // Nobody listening is fine: no stream is open.
        let _ = self.revocations.send(Some(hash.to_owned()));
    }

    fn clear(&self) {
        self.entries().clear();
        let _ = self.revocations.send(None);
    }

    /// Evicts revoked tokens as their NOTIFY arrives; on a lost connection everything is
    /// forgotten, since revocations may have been missed meanwhile.
    pub async fn follow_revocations(
        self: std::sync::Arc<Self>,
        pool: PgPool,
        stop: CancellationToken,
    ) {
        loop {
            let connected = async {
                let mut listener = PgListener::connect_with(&pool).await?;
                listener.listen(REVOKED_CHANNEL).await?;
                Ok::<_, sqlx::Error>(listener)
            };
            let mut listener = match connected.await {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, "token revocation listener could not connect");
                    self.clear();
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            self.clear();
            loop {
                let notification = tokio::select! {
                    _ = stop.cancelled() => return,
                    notification = listener.recv() => notification,
                };
                match notification {
                    Ok(notification) => self.evict(notification.payload()),
                    Err(_) => break,
                }
            }
        }
    }
}

pub async fn authenticate(req: &ServiceRequest) -> Result<Principal, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
    let token = presented_token(req).ok_or(ApiError::Unauthorized)?;
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Err(ApiError::Unauthorized);
    }
    let hash = hash(&token);
    if let Some(grant) = state.tokens.get(&hash) {
        return Ok(Principal::new(grant, hash));
    }
    let grant = db::tokens::authenticate(&state.pool, &hash)
        .await?
        .ok_or(ApiError::Unauthorized)?;
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
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
    let now = state.clock.now().timestamp();
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
        let principal = authenticate(&req).await?;
        principal.require(needed_scope(&req))?;
        crate::workspaces::confine_path(&state.pool, &principal, req.path()).await?;
        req.extensions_mut().insert(principal);
    }
    crate::signed::signing(state.links.clone(), now, next.call(req)).await
}

/// Watches one token for revocation, for a response that outlives the request's check.
pub struct RevocationWatch {
    hash: String,
    feed: tokio::sync::broadcast::Receiver<Revocation>,
    pool: PgPool,
    /// Revocations may have been missed; kept until a check completes, since [`Self::revoked`]
    /// may be cancelled halfway (it runs inside `select!`).
    check_pending: bool,
}

impl RevocationWatch {
    pub fn new(tokens: &TokenCache, hash: String, pool: PgPool) -> Self {
        RevocationWatch {
            hash,
            feed: tokens.revocations(),
            pool,
            check_pending: false,
        }
    }

    /// Resolves once the token is revoked; pending while it stays valid.
    pub async fn revoked(&mut self) {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            if self.check_pending {
                if let Ok(None) = db::tokens::authenticate(&self.pool, &self.hash).await {
                    return;
                }
                self.check_pending = false;
            }
            match self.feed.recv().await {
                Ok(Some(hash)) if hash == self.hash => return,
                Ok(Some(_)) => {}
                Ok(None) | Err(RecvError::Lagged(_)) => self.check_pending = true,
                Err(RecvError::Closed) => return futures::future::pending().await,
            }
        }
    }
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
