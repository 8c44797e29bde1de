//! Bearer tokens: random, shown once, stored only as SHA-256 hashes.

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
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

use crate::{db, error::ApiError, state::AppState};

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

/// The token that authenticated a request: its id, and its hash, which long-lived responses
/// (the event stream) watch for revocation.
#[derive(Debug, Clone)]
pub struct TokenId {
    pub id: Uuid,
    pub hash: String,
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
    entries: Mutex<HashMap<String, (Uuid, Instant)>>,
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

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Uuid, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, hash: &str) -> Option<Uuid> {
        self.entries()
            .get(hash)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(id, _)| *id)
    }

    fn insert(&self, hash: String, id: Uuid) {
        let mut entries = self.entries();
        if entries.len() >= CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(hash, (id, Instant::now()));
    }

    fn evict(&self, hash: &str) {
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

pub async fn authenticate(req: &ServiceRequest) -> Result<TokenId, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
    let token = presented_token(req).ok_or(ApiError::Unauthorized)?;
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
        return Err(ApiError::Unauthorized);
    }
    let hash = hash(&token);
    if let Some(id) = state.tokens.get(&hash) {
        return Ok(TokenId { id, hash });
    }
    let id = db::tokens::authenticate(&state.pool, &hash)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    state.tokens.insert(hash.clone(), id);
    Ok(TokenId { id, hash })
}

/// Middleware for every `/v1` route.
pub async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let token = authenticate(&req).await?;
    req.extensions_mut().insert(token);
    next.call(req).await
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
