//! The jobs engine without HTTP: several worker pools on one database.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use reelforge::{
    config::Settings,
    db::{self, jobs::NewJob},
    domain::{JobKind, Status},
    jobs::{queue, worker::WorkerPool, Handlers, JobContext, JobError, JobHandler},
    startup::prepare_database,
};
use serde_json::json;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::{fresh_database_url, test_settings};

/// Records which pool ran which job, and how often.
#[derive(Clone, Default)]
struct Recorder {
    runs: Arc<Mutex<HashMap<Uuid, Vec<&'static str>>>>,
}

struct Recording {
    recorder: Recorder,
    pool_name: &'static str,
    work: Duration,
}

#[async_trait]
impl JobHandler for Recording {
    async fn run(&self, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
        self.recorder
            .runs
            .lock()
            .unwrap()
            .entry(ctx.job.id)
            .or_default()
            .push(self.pool_name);
        tokio::time::sleep(self.work).await;
        Ok(json!(null))
    }
}

fn handlers(recorder: &Recorder, pool_name: &'static str, work: Duration) -> Handlers {
    HashMap::from([(
        JobKind::Noop,
        Arc::new(Recording {
            recorder: recorder.clone(),
            pool_name,
            work,
        }) as Arc<dyn JobHandler>,
    )])
}

async fn database(configure: impl FnOnce(&mut Settings)) -> (Settings, PgPool) {
    let mut settings = test_settings(&fresh_database_url());
    configure(&mut settings);
    let pool = prepare_database(&settings).await.unwrap();
    (settings, pool)
}

async fn enqueue_noops(pool: &PgPool, count: usize, max_attempts: i32) -> Vec<Uuid> {
    let mut tx = pool.begin().await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..count {
        let job = queue::enqueue(
            &mut tx,
            &NewJob {
                id: Uuid::new_v4(),
                kind: JobKind::Noop,
                project_id: None,
                resource: None,
                payload: reelforge::domain::job::JobPayload::Resource,
                max_attempts,
            },
        )
        .await
        .unwrap();
        ids.push(job.id);
    }
    tx.commit().await.unwrap();
    ids
}

async fn count_with_status(pool: &PgPool, status: Status) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = $1")
        .bind(status.as_str())
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn wait_until_succeeded(pool: &PgPool, expected: i64, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    while count_with_status(pool, Status::Succeeded).await < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "jobs did not finish in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn two_pools_sharing_a_database_never_run_a_job_twice() {
    let (settings, pool) = database(|s| s.jobs.concurrency = 4).await;
    let ids = enqueue_noops(&pool, 300, 3).await;
    let recorder = Recorder::default();
    let shutdown = CancellationToken::new();
    let a = WorkerPool::new(
        pool.clone(),
        settings.jobs.clone(),
        handlers(&recorder, "a", Duration::from_millis(2)),
    )
    .spawn(shutdown.clone());
    let b = WorkerPool::new(
        pool.clone(),
        settings.jobs.clone(),
        handlers(&recorder, "b", Duration::from_millis(2)),
    )
    .spawn(shutdown.clone());

    wait_until_succeeded(&pool, 300, Duration::from_secs(60)).await;
    shutdown.cancel();
    a.await.unwrap();
    b.await.unwrap();

    let runs = recorder.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 300);
    for id in &ids {
        assert_eq!(runs[id].len(), 1, "job {id} ran {:?}", runs[id]);
    }
    let by_a = runs.values().filter(|r| r[0] == "a").count();
    assert!(
        by_a > 0 && by_a < 300,
        "both pools took work (a ran {by_a})"
    );
    let attempts: Vec<i32> = sqlx::query_scalar("SELECT DISTINCT attempts FROM jobs")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(attempts, vec![1]);
}

#[tokio::test]
async fn a_job_whose_worker_died_is_taken_over_when_its_lease_expires() {
    let (settings, pool) = database(|s| s.jobs.lease_seconds = 1).await;
    let ids = enqueue_noops(&pool, 1, 3).await;
    // A worker claims the job and dies: it never heartbeats or finishes.
    let claimed = db::jobs::claim(&pool, "dead-worker", 10, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);

    let recorder = Recorder::default();
    let shutdown = CancellationToken::new();
    let survivor = WorkerPool::new(
        pool.clone(),
        settings.jobs.clone(),
        handlers(&recorder, "survivor", Duration::ZERO),
    );
    let handle = survivor.spawn(shutdown.clone());
    wait_until_succeeded(&pool, 1, Duration::from_secs(10)).await;
    shutdown.cancel();
    handle.await.unwrap();

    let job = db::jobs::get(&pool, ids[0]).await.unwrap().unwrap();
    assert_eq!(job.attempts, 2, "the dead worker's attempt counts");
    assert!(
        job.last_error.is_none(),
        "the dead worker's lease_expired is gone once the job succeeded"
    );
    assert_eq!(recorder.runs.lock().unwrap()[&ids[0]], vec!["survivor"]);
    // The dead worker coming back cannot overwrite the outcome.
    let late = db::jobs::finish(&pool, ids[0], "dead-worker", Status::Failed, None)
        .await
        .unwrap();
    assert!(late.is_none());
    assert_eq!(
        db::jobs::get(&pool, ids[0]).await.unwrap().unwrap().status,
        Status::Succeeded
    );
}

#[tokio::test]
async fn a_lease_is_kept_alive_by_heartbeats_while_the_job_runs() {
    // Runs three times longer than the lease: without heartbeats the second pool would take it.
    let (settings, pool) = database(|s| s.jobs.lease_seconds = 1).await;
    let ids = enqueue_noops(&pool, 1, 3).await;
    let recorder = Recorder::default();
    let shutdown = CancellationToken::new();
    let a = WorkerPool::new(
        pool.clone(),
        settings.jobs.clone(),
        handlers(&recorder, "a", Duration::from_secs(3)),
    )
    .spawn(shutdown.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = WorkerPool::new(
        pool.clone(),
        settings.jobs.clone(),
        handlers(&recorder, "b", Duration::from_secs(3)),
    )
    .spawn(shutdown.clone());
    wait_until_succeeded(&pool, 1, Duration::from_secs(10)).await;
    shutdown.cancel();
    a.await.unwrap();
    b.await.unwrap();
    assert_eq!(recorder.runs.lock().unwrap()[&ids[0]], vec!["a"]);
    assert_eq!(
        db::jobs::get(&pool, ids[0])
            .await
            .unwrap()
            .unwrap()
            .attempts,
        1
    );
}

#[tokio::test]
async fn shutdown_releases_jobs_that_outlive_the_grace_period() {
    let (settings, pool) = database(|s| s.jobs.shutdown_grace_seconds = 0).await;
    let ids = enqueue_noops(&pool, 1, 3).await;
    let recorder = Recorder::default();
    let shutdown = CancellationToken::new();
    let handle = WorkerPool::new(
        pool.clone(),
        settings.jobs.clone(),
        handlers(&recorder, "a", Duration::from_secs(30)),
    )
    .spawn(shutdown.clone());
    while count_with_status(&pool, Status::Running).await == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .expect("shutdown is prompt")
        .unwrap();

    let job = db::jobs::get(&pool, ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.attempts),
        (Status::Queued, 0),
        "released without counting the attempt"
    );
}

#[test]
fn backoff_grows_exponentially_within_bounds_and_honours_retry_after() {
    let mut settings = Settings::default().jobs;
    settings.backoff_base_ms = 1000;
    settings.backoff_max_ms = 10_000;
    for (attempt, low, high) in [
        (1, 500, 1000),
        (2, 1000, 2000),
        (3, 2000, 4000),
        (10, 5000, 10_000),
    ] {
        for _ in 0..50 {
            let delay = queue::backoff(&settings, attempt, None).as_millis();
            assert!(
                (low..=high).contains(&delay),
                "attempt {attempt}: {delay} ms"
            );
        }
    }
    assert_eq!(
        queue::backoff(&settings, 1, Some(Duration::from_secs(30))),
        Duration::from_secs(30)
    );
}
