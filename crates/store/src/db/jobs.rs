//! The job table's statements. Orchestration (events, resource status) lives in `jobs::queue`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::{
    domain::{
        job::{Job, JobPayload},
        ErrorInfo, JobKind, ResourceKind, Status,
    },
    pagination::PageRequest,
};

#[derive(sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    project_id: Option<Uuid>,
    #[sqlx(try_from = "String")]
    kind: JobKind,
    #[sqlx(try_from = "String")]
    status: Status,
    resource_type: Option<String>,
    resource_id: Option<Uuid>,
    payload: sqlx::types::Json<JobPayload>,
    attempts: i32,
    max_attempts: i32,
    progress: i16,
    stage: Option<String>,
    last_error_code: Option<String>,
    last_error_message: Option<String>,
    cancel_requested: bool,
    run_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<JobRow> for Job {
    fn from(row: JobRow) -> Self {
        Job {
            id: row.id,
            project_id: row.project_id,
            kind: row.kind,
            status: row.status,
            // Only this crate writes resource_type, always from ResourceKind::as_str.
            resource_type: row.resource_type.and_then(|t| t.parse().ok()),
            resource_id: row.resource_id,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            progress: row.progress,
            stage: row.stage,
            last_error: ErrorInfo::from_parts(row.last_error_code, row.last_error_message),
            cancel_requested: row.cancel_requested,
            run_at: row.run_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
            payload: row.payload.0,
        }
    }
}

const COLUMNS: &str = "id, project_id, kind, status, resource_type, resource_id, payload, attempts, max_attempts,
    progress, stage, last_error_code, last_error_message, cancel_requested, run_at, created_at, updated_at,
    started_at, finished_at";

type Rows = Result<Vec<Job>, sqlx::Error>;
type MaybeJob = Result<Option<Job>, sqlx::Error>;

fn into_jobs(rows: Result<Vec<JobRow>, sqlx::Error>) -> Rows {
    rows.map(|rows| rows.into_iter().map(Into::into).collect())
}

fn into_job(row: Result<Option<JobRow>, sqlx::Error>) -> MaybeJob {
    row.map(|row| row.map(Into::into))
}

fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: Uuid,
    pub kind: JobKind,
    pub project_id: Option<Uuid>,
    pub resource: Option<(ResourceKind, Uuid)>,
    pub payload: JobPayload,
    pub max_attempts: i32,
}

/// `INSERT` of `job` (with `on_conflict`, if any), answering the row.
fn insert_statement(on_conflict: &str) -> String {
    format!(
        "INSERT INTO jobs (id, project_id, kind, status, resource_type, resource_id, payload, max_attempts)
         VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7) {on_conflict} RETURNING {COLUMNS}"
    )
}

fn bind_job<'q>(
    sql: &'q str,
    job: &'q NewJob,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, JobRow, sqlx::postgres::PgArguments> {
    sqlx::query_as(sql)
        .bind(job.id)
        .bind(job.project_id)
        .bind(job.kind.as_str())
        .bind(job.resource.map(|(kind, _)| kind.as_str()))
        .bind(job.resource.map(|(_, id)| id))
        .bind(sqlx::types::Json(&job.payload))
        .bind(job.max_attempts)
}

pub async fn insert(db: impl PgExecutor<'_>, job: &NewJob) -> Result<Job, sqlx::Error> {
    let sql = insert_statement("");
    let row = bind_job(&sql, job).fetch_one(db).await?;
    Ok(row.into())
}

/// Inserts a job unless one of its kind is already queued or running for the same resource (a
/// rule only `prepare_reel` has: migration 0016's index); answers the job and whether it is new.
/// The conflict waits for a concurrent insert to commit or roll back, so of two transactions
/// enqueueing at once, the second joins the first's job.
pub async fn insert_or_join(
    conn: &mut sqlx::PgConnection,
    job: &NewJob,
) -> Result<(Job, bool), sqlx::Error> {
    let sql = insert_statement(
        "ON CONFLICT (resource_type, resource_id)
            WHERE kind = 'prepare_reel' AND status IN ('queued', 'running') DO NOTHING",
    );
    loop {
        if let Some(row) = bind_job(&sql, job).fetch_optional(&mut *conn).await? {
            return Ok((row.into(), true));
        }
        let in_flight = sqlx::query_as::<_, JobRow>(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE kind = $1 AND resource_type = $2 AND resource_id = $3
               AND status IN ('queued', 'running')"
        ))
        .bind(job.kind.as_str())
        .bind(job.resource.map(|(kind, _)| kind.as_str()))
        .bind(job.resource.map(|(_, id)| id))
        .fetch_optional(&mut *conn)
        .await?;
        // None: the job in the way ended between the two statements; try again.
        if let Some(row) = in_flight {
            return Ok((row.into(), false));
        }
    }
}

/// Holds a queued job until `at` (a scheduled publication).
pub async fn set_run_at(
    db: impl PgExecutor<'_>,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE jobs SET run_at = $2 WHERE id = $1 AND status = 'queued'")
        .bind(id)
        .bind(at)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> MaybeJob {
    into_job(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(db)
            .await,
    )
}

#[derive(Debug, Clone)]
pub struct JobFilter {
    /// Only the jobs of this workspace's projects.
    pub workspace_id: Uuid,
    pub status: Option<Status>,
    pub project_id: Option<Uuid>,
    pub kind: Option<JobKind>,
}

pub async fn list(db: impl PgExecutor<'_>, filter: &JobFilter, page: PageRequest) -> Rows {
    into_jobs(
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM jobs
             WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR project_id = $2)
               AND ($3::text IS NULL OR kind = $3)
               AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5))
               AND project_id IN (SELECT id FROM projects WHERE workspace_id = $7)
             ORDER BY created_at DESC, id DESC LIMIT $6"
        ))
        .bind(filter.status.map(Status::as_str))
        .bind(filter.project_id)
        .bind(filter.kind.map(JobKind::as_str))
        .bind(page.after.map(|c| c.created_at))
        .bind(page.after.map(|c| c.id))
        .bind(i64::from(page.limit) + 1)
        .bind(filter.workspace_id)
        .fetch_all(db)
        .await,
    )
}

/// Takes up to `limit` due jobs for `worker`. SKIP LOCKED lets replicas claim side by side
/// without waiting on each other; the lease replaces a lock held for the job's whole run.
pub async fn claim(db: impl PgExecutor<'_>, worker: &str, limit: i64, lease: Duration) -> Rows {
    into_jobs(
        sqlx::query_as(&format!(
            "WITH due AS (
                SELECT id FROM jobs WHERE status = 'queued' AND run_at <= now()
                ORDER BY run_at, created_at LIMIT $1 FOR UPDATE SKIP LOCKED)
             UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $2,
                lease_expires_at = now() + make_interval(secs => $3), progress = 0, stage = NULL,
                started_at = COALESCE(started_at, now()), updated_at = now()
             FROM due WHERE jobs.id = due.id
             RETURNING {}",
            prefixed_columns()
        ))
        .bind(limit)
        .bind(worker)
        .bind(seconds(lease))
        .fetch_all(db)
        .await,
    )
}

fn prefixed_columns() -> String {
    COLUMNS
        .split(',')
        .map(|c| format!("jobs.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Extends the lease of a job `worker` still holds. `None`: the lease was lost (reaped or
/// finished elsewhere); `Some(true)`: a cancel was asked for.
pub async fn heartbeat(
    db: impl PgExecutor<'_>,
    id: Uuid,
    worker: &str,
    lease: Duration,
) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3)
         WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING cancel_requested",
    )
    .bind(id)
    .bind(worker)
    .bind(seconds(lease))
    .fetch_optional(db)
    .await
}

pub async fn set_progress(
    db: impl PgExecutor<'_>,
    id: Uuid,
    worker: &str,
    progress: i16,
    stage: &str,
) -> MaybeJob {
    into_job(
        sqlx::query_as(&format!(
            "UPDATE jobs SET progress = $3, stage = $4, updated_at = now()
             WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(worker)
        .bind(progress)
        .bind(stage)
        .fetch_optional(db)
        .await,
    )
}

/// Ends a job `worker` holds. `None` when the lease was lost, so a late worker never overwrites
/// the outcome of the replica that took over.
pub async fn finish(
    db: impl PgExecutor<'_>,
    id: Uuid,
    worker: &str,
    status: Status,
    error: Option<&ErrorInfo>,
) -> MaybeJob {
    into_job(
        sqlx::query_as(&format!(
            "UPDATE jobs SET status = $3, locked_by = NULL, lease_expires_at = NULL,
                progress = CASE WHEN $3 = 'succeeded' THEN 100 ELSE progress END,
                -- A success leaves no error behind, whatever an earlier attempt hit.
                last_error_code = CASE WHEN $3 = 'succeeded' THEN NULL ELSE COALESCE($4, last_error_code) END,
                last_error_message = CASE WHEN $3 = 'succeeded' THEN NULL ELSE COALESCE($5, last_error_message) END,
                finished_at = now(), updated_at = now()
             WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(worker)
        .bind(status.as_str())
        .bind(error.map(|e| e.code.as_str()))
        .bind(error.map(|e| &e.message))
        .fetch_optional(db)
        .await,
    )
}

/// Marks many jobs `worker` holds as succeeded in one statement; jobs whose lease was lost are
/// left out of the answer.
pub async fn succeed_many(db: impl PgExecutor<'_>, ids: &[Uuid], worker: &str) -> Rows {
    into_jobs(
        sqlx::query_as(&format!(
            "UPDATE jobs SET status = 'succeeded', locked_by = NULL, lease_expires_at = NULL, progress = 100,
                last_error_code = NULL, last_error_message = NULL, finished_at = now(), updated_at = now()
             WHERE id = ANY($1) AND locked_by = $2 AND status = 'running' RETURNING {COLUMNS}"
        ))
        .bind(ids)
        .bind(worker)
        .fetch_all(db)
        .await,
    )
}

/// Puts a failed attempt back in the queue to run after `delay`.
pub async fn reschedule(
    db: impl PgExecutor<'_>,
    id: Uuid,
    worker: &str,
    delay: Duration,
    error: &ErrorInfo,
) -> MaybeJob {
    into_job(
        sqlx::query_as(&format!(
            "UPDATE jobs SET status = 'queued', locked_by = NULL, lease_expires_at = NULL,
                run_at = now() + make_interval(secs => $3), last_error_code = $4, last_error_message = $5,
                updated_at = now()
             WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(worker)
        .bind(seconds(delay))
        .bind(error.code.as_str())
        .bind(&error.message)
        .fetch_optional(db)
        .await,
    )
}

/// Puts a job that waits for something outside back in the queue to run after `delay`; the
/// wait is no error and spends no attempt (it adds one: `attempts` still counts runs, so a
/// publish job that ran stays uncancelable).
pub async fn defer(db: impl PgExecutor<'_>, id: Uuid, worker: &str, delay: Duration) -> MaybeJob {
    into_job(
        sqlx::query_as(&format!(
            "UPDATE jobs SET status = 'queued', locked_by = NULL, lease_expires_at = NULL,
                run_at = now() + make_interval(secs => $3), max_attempts = max_attempts + 1,
                updated_at = now()
             WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(worker)
        .bind(seconds(delay))
        .fetch_optional(db)
        .await,
    )
}

/// Gives a job back on shutdown without counting the interrupted attempt.
pub async fn release(db: impl PgExecutor<'_>, id: Uuid, worker: &str) -> MaybeJob {
    into_job(
        sqlx::query_as(&format!(
            "UPDATE jobs SET status = 'queued', locked_by = NULL, lease_expires_at = NULL, run_at = now(),
                attempts = GREATEST(attempts - 1, 0), updated_at = now()
             WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(worker)
        .fetch_optional(db)
        .await,
    )
}

/// Cancels a queued job at once, or flags a running one for its worker. Returns the job as it
/// now is, and whether it was still active.
pub async fn request_cancel(db: impl PgExecutor<'_>, id: Uuid) -> MaybeJob {
    into_job(
        sqlx::query_as(&format!(
            "UPDATE jobs SET
                status = CASE WHEN status = 'queued' THEN 'canceled' ELSE status END,
                finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END,
                cancel_requested = true, updated_at = now()
             WHERE id = $1 AND status IN ('queued', 'running')
               -- Stopping a post once it started (even between attempts) could leave it on the
               -- platform unrecorded.
               AND NOT (kind = 'publish' AND (status = 'running' OR attempts > 0))
             RETURNING {COLUMNS}"
        ))
        .bind(id)
        .fetch_optional(db)
        .await,
    )
}

/// Requeues a failed or canceled job with a fresh set of attempts.
pub async fn retry(db: impl PgExecutor<'_>, id: Uuid) -> MaybeJob {
    into_job(
        sqlx::query_as(&format!(
            "UPDATE jobs SET status = 'queued', attempts = 0, run_at = now(), cancel_requested = false,
                progress = 0, stage = NULL, finished_at = NULL, updated_at = now()
             WHERE id = $1 AND status IN ('failed', 'canceled') RETURNING {COLUMNS}"
        ))
        .bind(id)
        .fetch_optional(db)
        .await,
    )
}

/// Settles running jobs whose lease ran out (their worker died or hung): canceled if a cancel
/// was asked for, failed if attempts are used up, otherwise queued again for any replica.
pub async fn reap_expired(db: impl PgExecutor<'_>) -> Rows {
    into_jobs(
        sqlx::query_as(&format!(
            "WITH expired AS (
                SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at < now()
                FOR UPDATE SKIP LOCKED)
             UPDATE jobs SET
                status = CASE WHEN cancel_requested THEN 'canceled'
                              WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                finished_at = CASE WHEN cancel_requested OR attempts >= max_attempts THEN now() END,
                last_error_code = 'lease_expired',
                last_error_message = 'the worker running this job stopped sending heartbeats',
                locked_by = NULL, lease_expires_at = NULL, run_at = now(), updated_at = now()
             FROM expired WHERE jobs.id = expired.id
             RETURNING {}",
            prefixed_columns()
        ))
        .fetch_all(db)
        .await,
    )
}

/// The earliest time a queued job becomes due, to sleep exactly until then.
pub async fn next_due(db: impl PgExecutor<'_>) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar("SELECT MIN(run_at) FROM jobs WHERE status = 'queued'")
        .fetch_one(db)
        .await
}

/// `(kind, status, count)` for the metrics endpoint.
pub async fn counts(db: impl PgExecutor<'_>) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT kind, status, COUNT(*) FROM jobs GROUP BY kind, status")
        .fetch_all(db)
        .await
}

/// The checkpoint a provider saved for this job, if any.
pub async fn checkpoint(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    sqlx::query_scalar("SELECT checkpoint FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
        .map(Option::flatten)
}

/// Saves a checkpoint while `worker` still holds the job; answers whether it did.
pub async fn save_checkpoint(
    db: impl PgExecutor<'_>,
    id: Uuid,
    worker: &str,
    checkpoint: &serde_json::Value,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE jobs SET checkpoint = $3, updated_at = now()
         WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(id)
    .bind(worker)
    .bind(checkpoint)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}
