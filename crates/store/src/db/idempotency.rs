//! Stored answers of requests sent with an `Idempotency-Key`.

use sqlx::PgExecutor;
use uuid::Uuid;

/// How long a key is remembered.
pub const RETENTION: &str = "24 hours";

/// A key as it stands.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredKey {
    pub request_hash: String,
    pub status: Option<i16>,
    pub content_type: Option<String>,
    pub body: Option<Vec<u8>>,
    /// Seconds since the request that answers it claimed it.
    pub claimed_seconds_ago: f64,
}

/// Claims `key` for a request: true when this request must do the work. An expired row (over
/// the retention), or one whose claimant vanished mid-request (claimed over `abandoned_after`
/// seconds ago without an answer, say its replica died), is taken over.
pub async fn claim(
    db: impl PgExecutor<'_>,
    token_id: Uuid,
    key: &str,
    request_hash: &str,
    abandoned_after: f64,
) -> Result<bool, sqlx::Error> {
    let claimed: Option<bool> = sqlx::query_scalar(&format!(
        "INSERT INTO idempotency_keys (token_id, key, request_hash) VALUES ($1, $2, $3)
         ON CONFLICT (token_id, key) DO UPDATE SET
             request_hash = EXCLUDED.request_hash, status = NULL, content_type = NULL, body = NULL,
             created_at = now(), claimed_at = now()
         WHERE idempotency_keys.created_at < now() - interval '{RETENTION}'
            OR (idempotency_keys.status IS NULL
                AND idempotency_keys.request_hash = EXCLUDED.request_hash
                AND idempotency_keys.claimed_at < now() - make_interval(secs => $4))
         RETURNING true"
    ))
    .bind(token_id)
    .bind(key)
    .bind(request_hash)
    .bind(abandoned_after)
    .fetch_optional(db)
    .await?;
    Ok(claimed.unwrap_or(false))
}

pub async fn get(
    db: impl PgExecutor<'_>,
    token_id: Uuid,
    key: &str,
) -> Result<Option<StoredKey>, sqlx::Error> {
    sqlx::query_as(
        "SELECT request_hash, status, content_type, body,
                EXTRACT(EPOCH FROM now() - claimed_at)::float8 AS claimed_seconds_ago
         FROM idempotency_keys WHERE token_id = $1 AND key = $2",
    )
    .bind(token_id)
    .bind(key)
    .fetch_optional(db)
    .await
}

/// Stores the answer of the request that claimed `key`.
pub async fn complete(
    db: impl PgExecutor<'_>,
    token_id: Uuid,
    key: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5
         WHERE token_id = $1 AND key = $2",
    )
    .bind(token_id)
    .bind(key)
    .bind(status as i16)
    .bind(content_type)
    .bind(body)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets a claim whose request failed on our side, so a retry may try again.
pub async fn release(
    db: impl PgExecutor<'_>,
    token_id: Uuid,
    key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM idempotency_keys WHERE token_id = $1 AND key = $2 AND status IS NULL")
        .bind(token_id)
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

/// Drops keys past the retention.
pub async fn purge_expired(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(&format!(
        "DELETE FROM idempotency_keys WHERE created_at < now() - interval '{RETENTION}'"
    ))
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
