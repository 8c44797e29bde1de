//! Every job state change, each in one transaction with the resource it fills and the events
//! that announce it, so the log never disagrees with the tables.

use crate::error_code::ErrorCode;
use std::time::Duration;

use rand::Rng;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    config::JobSettings,
    db::{self, jobs::NewJob, resources::NewResource},
    domain::{
        event::NewEvent,
        job::{AfterFailure, CollectedReels, Job, JobPayload, WebhookDelivery},
        resource::{StepResource, StepStarted},
        ErrorInfo, JobKind, ResourceKind, Status,
    },
};

fn job_event(kind: &str, job: &Job) -> NewEvent {
    NewEvent {
        kind: format!("job.{kind}"),
        project_id: job.project_id,
        resource_type: job.resource_type.map(ResourceKind::as_str),
        resource_id: job.resource_id,
        data: serde_json::to_value(job).expect("a job always serializes"),
    }
}

/// The error a resource shows for a job in `status`, if any.
fn resource_error(job: &Job) -> Option<ErrorInfo> {
    match job.status {
        Status::Failed => job.last_error.clone(),
        Status::Canceled => Some(ErrorInfo::new(ErrorCode::Canceled, "the job was canceled")),
        Status::Pending
        | Status::Queued
        | Status::Running
        | Status::AwaitingReview
        | Status::Succeeded => None,
    }
}

/// Mirrors a job's new status onto its resource; answers the events announcing both changes.
async fn mirror(
    conn: &mut PgConnection,
    job: &Job,
    output: Option<&serde_json::Value>,
) -> Result<Vec<NewEvent>, sqlx::Error> {
    let mut events = vec![job_event(job.status.as_str(), job)];
    if let (Some(kind), Some(id), Some(project_id)) =
        (job.resource_type, job.resource_id, job.project_id)
    {
        let error = resource_error(job);
        db::resources::set_status(&mut *conn, kind, id, job.status, output, error.as_ref()).await?;
        events.push(NewEvent::about_resource(
            kind.status_event(job.status),
            kind,
            id,
            project_id,
            crate::domain::event::data(&crate::domain::event::ResourceStatus {
                id,
                kind,
                status: job.status,
                job_id: Some(job.id),
                error,
            }),
        ));
    }
    Ok(events)
}

async fn announce(
    conn: &mut PgConnection,
    job: &Job,
    output: Option<&serde_json::Value>,
) -> Result<(), sqlx::Error> {
    let events = mirror(&mut *conn, job, output).await?;
    db::events::append(conn, &events).await
}

type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

async fn commit_all(mut tx: Tx, jobs: Vec<Job>) -> Result<Vec<Job>, sqlx::Error> {
    if jobs.is_empty() {
        tx.rollback().await?;
        return Ok(jobs);
    }
    let mut events = Vec::with_capacity(jobs.len() * 2);
    for job in &jobs {
        events.extend(mirror(&mut tx, job, None).await?);
    }
    db::events::append(&mut tx, &events).await?;
    tx.commit().await?;
    Ok(jobs)
}

/// Announces and commits a change to one job; `None` (the job was not in the expected state)
/// leaves nothing behind.
async fn commit_one(
    mut tx: Tx,
    job: Option<Job>,
    output: Option<&serde_json::Value>,
) -> Result<Option<Job>, sqlx::Error> {
    let Some(job) = job else {
        tx.rollback().await?;
        return Ok(None);
    };
    announce(&mut tx, &job, output).await?;
    tx.commit().await?;
    Ok(Some(job))
}

/// Enqueues a job that fills no resource.
pub async fn enqueue(conn: &mut PgConnection, new: &NewJob) -> Result<Job, sqlx::Error> {
    let job = db::jobs::insert(&mut *conn, new).await?;
    announce(conn, &job, None).await?;
    Ok(job)
}

pub struct StepRequest<'a> {
    pub kind: ResourceKind,
    pub project_id: Uuid,
    pub parent_id: Uuid,
    pub provider: &'a str,
    pub input: serde_json::Value,
    /// Job-only data, never shown through the API (an import's items, say).
    pub payload: JobPayload,
}

/// Queues a job of a project that fills no resource.
async fn enqueue_for_project(
    conn: &mut PgConnection,
    kind: JobKind,
    project_id: Uuid,
    payload: JobPayload,
    max_attempts: i32,
) -> Result<Job, sqlx::Error> {
    enqueue(
        conn,
        &NewJob {
            id: Uuid::new_v4(),
            kind,
            project_id: Some(project_id),
            resource: None,
            payload,
            max_attempts,
        },
    )
    .await
}

/// Queues the posting of a publication; it runs at `run_at`.
pub async fn enqueue_publication(
    conn: &mut PgConnection,
    project_id: Uuid,
    publication_id: Uuid,
    max_attempts: i32,
) -> Result<Job, sqlx::Error> {
    enqueue_for_project(
        conn,
        JobKind::Publish,
        project_id,
        JobPayload::Publish { publication_id },
        max_attempts,
    )
    .await
}

/// Queues the alert rules' look at the reels a collection merged; the job runs after the
/// collection's transaction commits, and raises each alert once whenever it runs.
pub async fn enqueue_alert_rules(
    conn: &mut PgConnection,
    project_id: Uuid,
    collected: CollectedReels,
    max_attempts: i32,
) -> Result<Job, sqlx::Error> {
    enqueue_for_project(
        conn,
        JobKind::ApplyAlertRules,
        project_id,
        JobPayload::Collected(collected),
        max_attempts,
    )
    .await
}

/// Queues one delivery to a project's webhook.
pub async fn enqueue_webhook(
    conn: &mut PgConnection,
    project_id: Uuid,
    delivery: WebhookDelivery,
    max_attempts: i32,
) -> Result<Job, sqlx::Error> {
    enqueue_for_project(
        conn,
        JobKind::Webhook,
        project_id,
        JobPayload::Webhook { delivery },
        max_attempts,
    )
    .await
}

/// Creates a step resource in `queued` together with the job that fills it.
pub async fn start_step(
    conn: &mut PgConnection,
    request: StepRequest<'_>,
    settings: &JobSettings,
) -> Result<StepStarted, sqlx::Error> {
    let resource_id = Uuid::new_v4();
    let job = db::jobs::insert(
        &mut *conn,
        &NewJob {
            id: Uuid::new_v4(),
            kind: request.kind.job_kind(),
            project_id: Some(request.project_id),
            resource: Some((request.kind, resource_id)),
            payload: request.payload,
            max_attempts: settings.max_attempts,
        },
    )
    .await?;
    let resource: StepResource = db::resources::insert(
        &mut *conn,
        request.kind,
        NewResource {
            id: resource_id,
            project_id: request.project_id,
            parent_id: request.parent_id,
            provider: request.provider,
            input: &request.input,
            job_id: job.id,
        },
    )
    .await?;
    announce(conn, &job, None).await?;
    Ok(StepStarted { resource, job })
}

/// Starts a new job for a resource that already exists (a selected reel's preparation), or
/// answers the one already in flight for it: one reel is prepared by one job at a time.
pub async fn start_for_existing(
    conn: &mut PgConnection,
    kind: ResourceKind,
    id: Uuid,
    project_id: Uuid,
    settings: &JobSettings,
) -> Result<Job, sqlx::Error> {
    let (job, new) = db::jobs::insert_or_join(
        &mut *conn,
        &NewJob {
            id: Uuid::new_v4(),
            kind: kind.job_kind(),
            project_id: Some(project_id),
            resource: Some((kind, id)),
            payload: JobPayload::Resource,
            max_attempts: settings.max_attempts,
        },
    )
    .await?;
    if new {
        db::resources::requeue(&mut *conn, kind, id, job.id).await?;
        announce(conn, &job, None).await?;
    }
    Ok(job)
}

pub async fn claim(
    pool: &PgPool,
    worker: &str,
    limit: usize,
    lease: Duration,
) -> Result<Vec<Job>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let jobs = db::jobs::claim(&mut *tx, worker, limit as i64, lease).await?;
    commit_all(tx, jobs).await
}

/// Records many successes in one transaction: one commit (and one turn of the event-log lock)
/// for a whole batch is what lets the queue outrun per-job commits. Answers the jobs whose
/// outcome was stored; the others had lost their lease.
pub async fn complete_many(
    pool: &PgPool,
    worker: &str,
    outputs: &[(Uuid, serde_json::Value)],
) -> Result<Vec<Job>, sqlx::Error> {
    let ids: Vec<Uuid> = outputs.iter().map(|(id, _)| *id).collect();
    let mut tx = pool.begin().await?;
    let jobs = db::jobs::succeed_many(&mut *tx, &ids, worker).await?;
    let mut events = Vec::with_capacity(jobs.len() * 2);
    for job in &jobs {
        let output = outputs
            .iter()
            .find(|(id, _)| *id == job.id)
            .map(|(_, output)| output);
        events.extend(mirror(&mut tx, job, output).await?);
    }
    db::events::append(&mut tx, &events).await?;
    tx.commit().await?;
    Ok(jobs)
}

/// Exponential backoff with jitter: half fixed, half random, so retries of many jobs that
/// failed together spread out instead of hitting the provider in one wave.
pub fn backoff(settings: &JobSettings, attempts: i32, retry_after: Option<Duration>) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let ceiling = settings
        .backoff_base_ms
        .saturating_mul(1 << exponent)
        .min(settings.backoff_max_ms);
    let jittered = ceiling / 2 + rand::thread_rng().gen_range(0..=ceiling / 2);
    Duration::from_millis(jittered).max(retry_after.unwrap_or_default())
}

/// Records a failed attempt: retried later when the error allows and attempts remain.
pub async fn fail(
    pool: &PgPool,
    job: &Job,
    worker: &str,
    info: &ErrorInfo,
    after: AfterFailure,
    settings: &JobSettings,
) -> Result<Option<Job>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let updated = match after {
        AfterFailure::Defer(after) => db::jobs::defer(&mut *tx, job.id, worker, after).await?,
        AfterFailure::Retry { retry_after } if job.attempts < job.max_attempts => {
            let delay = backoff(settings, job.attempts, retry_after);
            db::jobs::reschedule(&mut *tx, job.id, worker, delay, info).await?
        }
        _ => db::jobs::finish(&mut *tx, job.id, worker, Status::Failed, Some(info)).await?,
    };
    commit_one(tx, updated, None).await
}

/// A running job stopped because a cancel was asked for.
pub async fn mark_canceled(
    pool: &PgPool,
    id: Uuid,
    worker: &str,
) -> Result<Option<Job>, sqlx::Error> {
    let info = ErrorInfo::new(ErrorCode::Canceled, "canceled while running");
    let mut tx = pool.begin().await?;
    let job = db::jobs::finish(&mut *tx, id, worker, Status::Canceled, Some(&info)).await?;
    commit_one(tx, job, None).await
}

/// Hands a job back on shutdown so another worker can take it at once.
pub async fn release(pool: &PgPool, id: Uuid, worker: &str) -> Result<Option<Job>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let job = db::jobs::release(&mut *tx, id, worker).await?;
    commit_one(tx, job, None).await
}

pub async fn progress(
    pool: &PgPool,
    id: Uuid,
    worker: &str,
    percent: i16,
    stage: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    if let Some(job) = db::jobs::set_progress(&mut *tx, id, worker, percent, stage).await? {
        db::events::append(&mut tx, &[job_event("progress", &job)]).await?;
    }
    tx.commit().await
}

/// Cancels a queued job now, or asks the worker of a running one to stop. `None`: no such
/// active job.
pub async fn request_cancel(pool: &PgPool, id: Uuid) -> Result<Option<Job>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let job = request_cancel_in(&mut tx, id).await?;
    tx.commit().await?;
    Ok(job)
}

/// [`request_cancel`] inside the caller's transaction.
pub async fn request_cancel_in(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Job>, sqlx::Error> {
    let Some(job) = db::jobs::request_cancel(&mut *conn, id).await? else {
        return Ok(None);
    };
    if job.status == Status::Canceled {
        announce(conn, &job, None).await?;
    }
    Ok(Some(job))
}

/// Requeues a failed or canceled job. `None`: no such job in a retryable state.
pub async fn retry(pool: &PgPool, id: Uuid) -> Result<Option<Job>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let job = db::jobs::retry(&mut *tx, id).await?;
    commit_one(tx, job, None).await
}

/// Renews a running job's lease. `Some(true)`: a cancel was asked for; `None`: the lease is
/// no longer this worker's.
pub async fn heartbeat(
    pool: &PgPool,
    id: Uuid,
    worker: &str,
    lease: Duration,
) -> Result<Option<bool>, sqlx::Error> {
    db::jobs::heartbeat(pool, id, worker, lease).await
}

/// When the next queued job becomes due, if any is queued.
pub async fn next_due(pool: &PgPool) -> Result<Option<chrono::DateTime<chrono::Utc>>, sqlx::Error> {
    db::jobs::next_due(pool).await
}

/// Settles jobs whose worker stopped heartbeating; any replica may do this.
pub async fn reap_expired(pool: &PgPool) -> Result<Vec<Job>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let jobs = db::jobs::reap_expired(&mut *tx).await?;
    commit_all(tx, jobs).await
}
