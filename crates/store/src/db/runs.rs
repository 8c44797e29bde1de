//! Pipeline runs.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::{
    domain::{
        run::{Run, RunReel},
        Status,
    },
    pagination::PageRequest,
};

#[derive(sqlx::FromRow)]
struct RunRow {
    id: Uuid,
    project_id: Uuid,
    status: String,
    input: serde_json::Value,
    reels: serde_json::Value,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

const COLUMNS: &str = "id, project_id, status, input, reels, created_at, updated_at, finished_at";

impl From<RunRow> for Run {
    fn from(row: RunRow) -> Self {
        let reels: Vec<RunReel> = serde_json::from_value(row.reels).unwrap_or_default();
        // Stored from a checked `CreateRun`; a row that no longer reads as one (written by a
        // version with other fields) shows the defaults rather than failing every listing.
        let input: crate::domain::run::CreateRun = serde_json::from_value(row.input)
            .unwrap_or_else(|error| {
                tracing::warn!(run_id = %row.id, %error, "a run's input does not read as CreateRun");
                Default::default()
            });
        Run {
            id: row.id,
            project_id: row.project_id,
            status: row.status.parse().unwrap_or(Status::Failed),
            progress: Run::progress_of(&reels, input.publish.is_some()),
            input,
            reels,
            created_at: row.created_at,
            updated_at: row.updated_at,
            finished_at: row.finished_at,
            usage: None,
        }
    }
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    id: Uuid,
    project_id: Uuid,
    input: &serde_json::Value,
    reels: &[RunReel],
    estimated_cost: f64,
) -> Result<Run, sqlx::Error> {
    sqlx::query_as::<_, RunRow>(&format!(
        "INSERT INTO runs (id, project_id, status, input, reels, estimated_cost)
         VALUES ($1, $2, 'queued', $3, $4, $5)
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(project_id)
    .bind(input)
    .bind(serde_json::to_value(reels).expect("run reels serialize"))
    .bind(estimated_cost)
    .fetch_one(db)
    .await
    .map(Into::into)
}

/// Serialises the starting of one project's runs for the rest of the transaction, so two cannot
/// both fit in what is left of its budget. An advisory lock, not a row lock: inserting rows that
/// refer to the project (jobs, alerts, usage) takes a key-share lock on its row, which a row lock
/// would make wait, and with the event log's lock that could close a cycle.
pub async fn lock_starts(conn: &mut PgConnection, project_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2::text))")
        .bind(RUN_STARTS_LOCK_SPACE)
        .bind(project_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The first key of [`lock_starts`]'s advisory locks, so they cannot collide with others.
const RUN_STARTS_LOCK_SPACE: i32 = 0x7275_6e73; // "runs"

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Run>, sqlx::Error> {
    sqlx::query_as::<_, RunRow>(&format!("SELECT {COLUMNS} FROM runs WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
        .map(|row| row.map(Into::into))
}

pub async fn list(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
    page: PageRequest,
) -> Result<Vec<Run>, sqlx::Error> {
    super::project_page::<RunRow, _>(db, COLUMNS, "runs", project_id, page).await
}

/// The run, locked for this transaction (resuming it must not race the advancer).
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<Run>, sqlx::Error> {
    sqlx::query_as::<_, RunRow>(&format!(
        "SELECT {COLUMNS} FROM runs WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
    .map(|row| row.map(Into::into))
}

/// Unfinished runs nobody else is advancing right now, locked for this transaction.
pub async fn lock_unfinished(conn: &mut PgConnection, limit: i64) -> Result<Vec<Run>, sqlx::Error> {
    sqlx::query_as::<_, RunRow>(&format!(
        "SELECT {COLUMNS} FROM runs WHERE status IN ('queued', 'running')
         ORDER BY updated_at LIMIT $1 FOR UPDATE SKIP LOCKED"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await
    .map(|rows| rows.into_iter().map(Into::into).collect())
}

pub async fn save(conn: &mut PgConnection, run: &Run) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE runs SET status = $2, reels = $3, updated_at = now(),
             finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'canceled') THEN now() END
         WHERE id = $1",
    )
    .bind(run.id)
    .bind(run.status.as_str())
    .bind(serde_json::to_value(&run.reels).expect("run reels serialize"))
    .execute(conn)
    .await?;
    Ok(())
}

/// The newest succeeded resource under `parent` made by `provider` from exactly `input`: an
/// output a run may reuse instead of paying for it again.
pub async fn reusable(
    db: impl PgExecutor<'_>,
    kind: crate::domain::ResourceKind,
    parent_id: Uuid,
    provider: &str,
    input: &serde_json::Value,
) -> Result<Option<Uuid>, sqlx::Error> {
    // A script is edited in place (`PATCH /v1/scripts/{id}`): audio voiced before its last
    // change says the old words, so only audio made since may stand in.
    let since_edit = if kind.parent() == Some(crate::domain::ResourceKind::Script) {
        "AND created_at >= (SELECT updated_at FROM scripts WHERE id = $1)"
    } else {
        ""
    };
    let sql = format!(
        "SELECT id FROM {table} WHERE {parent} = $1 AND provider = $2 AND input = $3
           AND status = 'succeeded' {since_edit}
         ORDER BY created_at DESC LIMIT 1",
        table = kind.table(),
        parent = kind.parent_column(),
    );
    sqlx::query_scalar(&sql)
        .bind(parent_id)
        .bind(provider)
        .bind(input)
        .fetch_optional(db)
        .await
}
