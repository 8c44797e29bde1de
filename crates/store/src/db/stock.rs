//! Cached stock B-roll searches.

use chrono::{DateTime, Utc};
use sqlx::{types::Json, PgExecutor};

use crate::domain::stock::{Orientation, StockClip};

/// The clips a search found, if it was made at `since` or later.
pub async fn cached(
    executor: impl PgExecutor<'_>,
    provider: &str,
    query: &str,
    orientation: Orientation,
    since: DateTime<Utc>,
) -> Result<Option<Vec<StockClip>>, sqlx::Error> {
    let row: Option<(serde_json::Value,)> = sqlx::query_as(
        "SELECT clips FROM stock_searches \
         WHERE provider = $1 AND query = $2 AND orientation = $3 AND fetched_at >= $4",
    )
    .bind(provider)
    .bind(query)
    .bind(orientation.as_str())
    .bind(since)
    .fetch_optional(executor)
    .await?;
    // An answer this version cannot read is a miss, asked again.
    Ok(row.and_then(|(clips,)| serde_json::from_value(clips).ok()))
}

/// Keeps what a search found, replacing an older answer to the same search.
pub async fn save(
    executor: impl PgExecutor<'_>,
    provider: &str,
    query: &str,
    orientation: Orientation,
    clips: &[StockClip],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stock_searches (provider, query, orientation, clips, fetched_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (provider, query, orientation) \
         DO UPDATE SET clips = EXCLUDED.clips, fetched_at = EXCLUDED.fetched_at",
    )
    .bind(provider)
    .bind(query)
    .bind(orientation.as_str())
    .bind(Json(clips))
    .bind(at)
    .execute(executor)
    .await?;
    Ok(())
}

/// Forgets answers fetched before `before`: the terms allow keeping them a day.
pub async fn forget_before(
    executor: impl PgExecutor<'_>,
    before: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM stock_searches WHERE fetched_at < $1")
            .bind(before)
            .execute(executor)
            .await?
            .rows_affected(),
    )
}

/// Records that a render used the stock file at `key`.
pub async fn file_used(
    executor: impl PgExecutor<'_>,
    key: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stock_files (key, last_used_at) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET last_used_at = GREATEST(stock_files.last_used_at, EXCLUDED.last_used_at)",
    )
    .bind(key)
    .bind(at)
    .execute(executor)
    .await?;
    Ok(())
}

/// Stock files no render has used since `before`, at most `limit` of them.
pub async fn unused_files(
    executor: impl PgExecutor<'_>,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT key FROM stock_files WHERE last_used_at < $1 ORDER BY last_used_at LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// Forgets a stock file unless a render used it after `before`; answers whether it did, so
/// the file may be deleted.
pub async fn forget_file(
    executor: impl PgExecutor<'_>,
    key: &str,
    before: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM stock_files WHERE key = $1 AND last_used_at < $2")
        .bind(key)
        .bind(before)
        .execute(executor)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}
