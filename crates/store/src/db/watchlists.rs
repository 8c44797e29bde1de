//! Watchlists, their ticks and their alerts.

use chrono::{DateTime, Utc};
use sqlx::{types::Json, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::{
    domain::{
        reel::ReelMetrics,
        run::Review,
        watchlist::{Alert, Rule, RunSkipped, Schedule, Watchlist},
    },
    pagination::PageRequest,
};

#[derive(sqlx::FromRow)]
struct WatchlistRow {
    id: Uuid,
    project_id: Uuid,
    name: String,
    provider: String,
    collection: Json<crate::domain::read_model::CollectionParameters>,
    schedule: Json<Schedule>,
    rules: Json<Vec<Rule>>,
    paused: bool,
    next_tick_at: DateTime<Utc>,
    last_tick_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<WatchlistRow> for Watchlist {
    fn from(row: WatchlistRow) -> Self {
        Watchlist {
            id: row.id,
            project_id: row.project_id,
            name: row.name,
            provider: row.provider,
            collection: row.collection.0,
            schedule: row.schedule.0,
            rules: row.rules.0,
            paused: row.paused,
            next_tick_at: row.next_tick_at,
            last_tick_at: row.last_tick_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

const COLUMNS: &str = "id, project_id, name, provider, collection, schedule, rules, paused, \
    next_tick_at, last_tick_at, created_at, updated_at";

/// Inserts the watchlist as given, or updates the row with its id.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    watchlist: &Watchlist,
) -> Result<Watchlist, sqlx::Error> {
    sqlx::query_as::<_, WatchlistRow>(&format!(
        "INSERT INTO watchlists (id, project_id, name, provider, collection, schedule, rules, paused, next_tick_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET name = $3, provider = $4, collection = $5, schedule = $6,
             rules = $7, paused = $8, next_tick_at = $9, updated_at = now()
         RETURNING {COLUMNS}"
    ))
    .bind(watchlist.id)
    .bind(watchlist.project_id)
    .bind(&watchlist.name)
    .bind(&watchlist.provider)
    .bind(Json(&watchlist.collection))
    .bind(Json(&watchlist.schedule))
    .bind(Json(&watchlist.rules))
    .bind(watchlist.paused)
    .bind(watchlist.next_tick_at)
    .fetch_one(db)
    .await
    .map(Into::into)
}

/// The watchlist with `id`, read with `suffix` (a locking clause, or nothing).
async fn by_id(
    db: impl PgExecutor<'_>,
    id: Uuid,
    suffix: &str,
) -> Result<Option<Watchlist>, sqlx::Error> {
    sqlx::query_as::<_, WatchlistRow>(&format!(
        "SELECT {COLUMNS} FROM watchlists WHERE id = $1{suffix}"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Watchlist>, sqlx::Error> {
    by_id(db, id, "").await
}

/// Locks the row so concurrent updates apply one after the other.
pub async fn get_for_update(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<Watchlist>, sqlx::Error> {
    by_id(db, id, " FOR UPDATE").await
}

/// A project's watchlists, newest first, one row past the page.
pub async fn list(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
    page: PageRequest,
) -> Result<Vec<Watchlist>, sqlx::Error> {
    super::project_page::<WatchlistRow, _>(db, COLUMNS, "watchlists", project_id, page).await
}

pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM watchlists WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(deleted.rows_affected() > 0)
}

/// Locks up to `limit` watchlists due at `now`, oldest tick first. Rows another replica holds
/// are skipped, so replicas share the due ticks instead of queueing behind each other.
pub async fn lock_due(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Watchlist>, sqlx::Error> {
    sqlx::query_as::<_, WatchlistRow>(&format!(
        "SELECT {COLUMNS} FROM watchlists WHERE NOT paused AND next_tick_at <= $1
         ORDER BY next_tick_at LIMIT $2 FOR UPDATE SKIP LOCKED"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
    .map(|rows| rows.into_iter().map(Into::into).collect())
}

/// Records the collection started for the tick due at `tick_at` and moves the watchlist on.
/// The tick's key refuses a second collection for the same tick.
pub async fn record_tick(
    conn: &mut PgConnection,
    watchlist_id: Uuid,
    tick_at: DateTime<Utc>,
    collection_id: Uuid,
    next_tick_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO watchlist_ticks (watchlist_id, tick_at, collection_id) VALUES ($1, $2, $3)",
    )
    .bind(watchlist_id)
    .bind(tick_at)
    .bind(collection_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE watchlists SET next_tick_at = $2, last_tick_at = $3 WHERE id = $1")
        .bind(watchlist_id)
        .bind(next_tick_at)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Moves a watchlist's next tick to `at` (after a tick that could not be started).
pub async fn postpone(
    db: impl PgExecutor<'_>,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE watchlists SET next_tick_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(db)
        .await?;
    Ok(())
}

/// The watchlist whose tick started this collection, if one did.
pub async fn of_collection(
    db: impl PgExecutor<'_>,
    collection_id: Uuid,
) -> Result<Option<Watchlist>, sqlx::Error> {
    sqlx::query_as::<_, WatchlistRow>(&format!(
        "SELECT {COLUMNS} FROM watchlists
         WHERE id = (SELECT watchlist_id FROM watchlist_ticks WHERE collection_id = $1)"
    ))
    .bind(collection_id)
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: Uuid,
    project_id: Uuid,
    watchlist_id: Uuid,
    rule_id: Uuid,
    reel_id: Uuid,
    metrics: Json<ReelMetrics>,
    auto_run: bool,
    #[sqlx(try_from = "String")]
    review: Review,
    run_id: Option<Uuid>,
    run_skipped: Option<Json<RunSkipped>>,
    created_at: DateTime<Utc>,
}

impl From<AlertRow> for Alert {
    fn from(row: AlertRow) -> Self {
        Alert {
            id: row.id,
            project_id: row.project_id,
            watchlist_id: row.watchlist_id,
            rule_id: row.rule_id,
            reel_id: row.reel_id,
            metrics: row.metrics.0,
            auto_run: row.auto_run,
            review: row.review,
            run_id: row.run_id,
            run_skipped: row.run_skipped.map(|s| s.0),
            created_at: row.created_at,
        }
    }
}

const ALERT_COLUMNS: &str =
    "id, project_id, watchlist_id, rule_id, reel_id, metrics, auto_run, review, run_id, run_skipped, created_at";

/// A match of a rule, about to be stored.
pub struct NewAlert {
    pub rule_id: Uuid,
    pub reel_id: Uuid,
    pub metrics: ReelMetrics,
    pub auto_run: bool,
    pub review: Review,
}

/// Stores the matches not stored before; answers the new alerts only.
pub async fn insert_alerts(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
    watchlist_id: Uuid,
    matches: &[NewAlert],
) -> Result<Vec<Alert>, sqlx::Error> {
    let ids: Vec<Uuid> = matches.iter().map(|_| Uuid::new_v4()).collect();
    let rules: Vec<Uuid> = matches.iter().map(|m| m.rule_id).collect();
    let reels: Vec<Uuid> = matches.iter().map(|m| m.reel_id).collect();
    let metrics: Vec<Json<&ReelMetrics>> = matches.iter().map(|m| Json(&m.metrics)).collect();
    let auto_runs: Vec<bool> = matches.iter().map(|m| m.auto_run).collect();
    let reviews: Vec<&str> = matches.iter().map(|m| m.review.as_str()).collect();
    sqlx::query_as::<_, AlertRow>(&format!(
        "INSERT INTO alerts (id, project_id, watchlist_id, rule_id, reel_id, metrics, auto_run, review)
         SELECT id, $2, $3, rule_id, reel_id, metrics, auto_run, review
         FROM UNNEST($1::uuid[], $4::uuid[], $5::uuid[], $6::jsonb[], $7::bool[], $8::text[])
             AS m(id, rule_id, reel_id, metrics, auto_run, review)
         ON CONFLICT (rule_id, reel_id) DO NOTHING
         RETURNING {ALERT_COLUMNS}"
    ))
    .bind(&ids)
    .bind(project_id)
    .bind(watchlist_id)
    .bind(&rules)
    .bind(&reels)
    .bind(&metrics)
    .bind(&auto_runs)
    .bind(&reviews)
    .fetch_all(db)
    .await
    .map(|rows| rows.into_iter().map(Into::into).collect())
}

/// A project's alerts, newest first, optionally of one watchlist, one row past the page.
pub async fn list_alerts(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
    watchlist_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Vec<Alert>, sqlx::Error> {
    let sql = super::newest_first(
        ALERT_COLUMNS,
        "alerts",
        "project_id = $1 AND ($2::uuid IS NULL OR watchlist_id = $2)",
        2,
    );
    let query = sqlx::query_as::<_, AlertRow>(&sql)
        .bind(project_id)
        .bind(watchlist_id);
    super::bind_page(query, page)
        .fetch_all(db)
        .await
        .map(|rows| rows.into_iter().map(Into::into).collect())
}

/// Locks alerts whose automatic run is still to be started, oldest first.
pub async fn lock_runs_due(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<Alert>, sqlx::Error> {
    sqlx::query_as::<_, AlertRow>(&format!(
        "SELECT {ALERT_COLUMNS} FROM alerts
         WHERE auto_run AND run_id IS NULL AND run_skipped IS NULL
         ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED"
    ))
    .bind(limit)
    .fetch_all(db)
    .await
    .map(|rows| rows.into_iter().map(Into::into).collect())
}

pub async fn set_run(
    db: impl PgExecutor<'_>,
    alert_id: Uuid,
    run: Result<Uuid, &RunSkipped>,
) -> Result<(), sqlx::Error> {
    let (run_id, skipped) = match run {
        Ok(id) => (Some(id), None),
        Err(skipped) => (None, Some(Json(skipped))),
    };
    sqlx::query("UPDATE alerts SET run_id = $2, run_skipped = $3 WHERE id = $1")
        .bind(alert_id)
        .bind(run_id)
        .bind(skipped)
        .execute(db)
        .await?;
    Ok(())
}
