use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TokenRecord {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    name: &str,
    token_hash: &str,
) -> Result<TokenRecord, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO api_tokens (id, name, token_hash) VALUES ($1, $2, $3)
         RETURNING id, name, created_at, last_used_at, revoked_at",
    )
    .bind(Uuid::new_v4())
    .bind(name)
    .bind(token_hash)
    .fetch_one(db)
    .await
}

/// Finds a live token and stamps its use, at most once a minute so reads stay cheap.
pub async fn authenticate(
    db: impl PgExecutor<'_>,
    token_hash: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "WITH hit AS (SELECT id, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL),
              stamp AS (UPDATE api_tokens SET last_used_at = now()
                        WHERE id IN (SELECT id FROM hit WHERE last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))
         SELECT id FROM hit",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<TokenRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY created_at",
    )
    .fetch_all(db)
    .await
}

/// Revokes by id or by name; answers how many tokens were revoked.
pub async fn revoke(db: impl PgExecutor<'_>, id_or_name: &str) -> Result<u64, sqlx::Error> {
    let id: Option<Uuid> = id_or_name.parse().ok();
    let result = sqlx::query(
        "UPDATE api_tokens SET revoked_at = now()
         WHERE revoked_at IS NULL AND (id = $1 OR ($1 IS NULL AND name = $2))",
    )
    .bind(id)
    .bind(id_or_name)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
