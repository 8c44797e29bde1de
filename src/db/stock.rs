//! Cached stock B-roll searches.

use chrono::{DateTime, Utc};
use sqlx::{types::Json, PgExecutor};

use crate::providers::stock::{Orientation, StockClip};

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
