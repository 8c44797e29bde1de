//! Bearer tokens: random, shown once, stored only as SHA-256 hashes.

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
    error::AppError,
    error_code::ErrorCode,
};

pub const REVOKED_CHANNEL: &str = "reelforge_tokens";

pub const TOKEN_PREFIX: &str = "rf_";

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
    pub fn new(grant: Grant, hash: String) -> Self {
        Principal {
            token_id: grant.id,
            hash,
            workspace_id: grant.workspace_id,
            scope: grant.scope,
        }
    }

    /// Refuses with 403 `insufficient_scope` unless the token's scope includes `needed`.
    pub fn require(&self, needed: Scope) -> Result<(), AppError> {
        if self.scope.includes(needed) {
            Ok(())
        } else {
            Err(AppError::Forbidden {
                code: ErrorCode::InsufficientScope,
                detail: format!(
                    "this needs a `{needed}` token; this token's scope is `{}`",
                    self.scope
                ),
            })
        }
    }
}

/// What the revocation feed says: this token was revoked, or (`None`) revocations may have been
/// missed while the feed was down, so every holder must check its token again.
pub type Revocation = Option<String>;

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

    pub fn get(&self, hash: &str) -> Option<Grant> {
        self.entries()
            .get(hash)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(grant, _)| *grant)
    }

    pub fn insert(&self, hash: String, grant: Grant) {
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
