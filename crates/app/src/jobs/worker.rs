//! A pool of workers in one replica. Any number of pools, in one process or many, share the
//! queue: claims use SKIP LOCKED, running jobs hold a lease they renew by heartbeat, and any
//! pool's reaper settles jobs whose lease ran out.

use std::panic::AssertUnwindSafe;

use crate::error_code::ErrorCode;
use futures::FutureExt;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use sqlx::{postgres::PgListener, PgPool};
use tokio::{
    sync::{mpsc, oneshot, Notify, OwnedSemaphorePermit, Semaphore},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{queue, Handlers, JobContext, JobError};
use crate::{config::JobSettings, domain::job::Job};

pub const JOBS_CHANNEL: &str = "reelforge_jobs";
pub const CANCEL_CHANNEL: &str = "reelforge_job_cancel";

/// Why a running job was stopped before its handler returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interrupt {
    Canceled,
    LeaseLost,
    Shutdown,
}

struct RunningJob {
    token: CancellationToken,
    reason: Arc<Mutex<Option<Interrupt>>>,
}

impl RunningJob {
    fn interrupt(&self, reason: Interrupt) {
        self.reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(reason);
        self.token.cancel();
    }
}

/// A success waiting to be stored with others in one transaction.
struct Completion {
    job_id: Uuid,
    output: serde_json::Value,
    stored: oneshot::Sender<Result<Option<Job>, String>>,
}

/// Successes stored per transaction, at most.
const COMPLETION_BATCH: usize = 128;

struct Inner {
    pool: PgPool,
    /// Where the wake-up and cancel LISTEN connects (see [`crate::db::direct_pool`]).
    listen: PgPool,
    settings: JobSettings,
    handlers: Handlers,
    worker_id: String,
    running: Mutex<HashMap<Uuid, RunningJob>>,
    wake: Notify,
    completions: mpsc::Sender<Completion>,
    completion_queue: Mutex<Option<mpsc::Receiver<Completion>>>,
}

#[derive(Clone)]
pub struct WorkerPool {
    inner: Arc<Inner>,
}

impl WorkerPool {
    pub fn new(pool: PgPool, settings: JobSettings, handlers: Handlers) -> Self {
        let worker_id = format!(
            "{}-{}-{}",
            hostname(),
            std::process::id(),
            &Uuid::new_v4().simple().to_string()[..8]
        );
        let (completions, completion_queue) = mpsc::channel(COMPLETION_BATCH * 4);
        WorkerPool {
            inner: Arc::new(Inner {
                listen: pool.clone(),
                pool,
                settings,
                handlers,
                worker_id,
                running: Mutex::new(HashMap::new()),
                wake: Notify::new(),
                completions,
                completion_queue: Mutex::new(Some(completion_queue)),
            }),
        }
    }

    /// LISTENs on `listen`'s connections instead of the job pool's.
    pub fn listening_on(self, listen: PgPool) -> Self {
        let mut inner =
            Arc::into_inner(self.inner).expect("set before the pool is shared or spawned");
        inner.listen = listen;
        WorkerPool {
            inner: Arc::new(inner),
        }
    }

    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }

    /// Runs until `shutdown` is cancelled, then drains (see [`JobSettings::shutdown_grace_seconds`]).
    pub fn spawn(self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.run(shutdown))
    }

    fn lease(&self) -> Duration {
        Duration::from_secs(self.inner.settings.lease_seconds.max(1))
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, RunningJob>> {
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn interrupt(&self, id: Uuid, reason: Interrupt) {
        if let Some(job) = self.running().get(&id) {
            job.interrupt(reason);
        }
    }

    async fn run(self, shutdown: CancellationToken) {
        let background = CancellationToken::new();
        tokio::spawn(self.clone().listen(background.clone()));
        tokio::spawn(self.clone().reap(background.clone()));
        let completion_queue = self
            .inner
            .completion_queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(queue) = completion_queue {
            tokio::spawn(self.clone().store_completions(queue, background.clone()));
        }
        let slots = Arc::new(Semaphore::new(self.inner.settings.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let poll = Duration::from_millis(self.inner.settings.poll_interval_ms.max(10));
        tracing::info!(worker = %self.inner.worker_id, concurrency = self.inner.settings.concurrency, "workers started");

        while !shutdown.is_cancelled() {
            let free = slots.available_permits();
            let mut idle_for = poll;
            if free > 0 {
                match queue::claim(&self.inner.pool, &self.inner.worker_id, free, self.lease())
                    .await
                {
                    Ok(jobs) => {
                        let claimed_all = jobs.len() == free;
                        for job in jobs {
                            let permit = slots
                                .clone()
                                .acquire_owned()
                                .await
                                .expect("the semaphore is never closed");
                            tasks.spawn(self.clone().execute(job, permit));
                        }
                        if claimed_all {
                            continue;
                        }
                        idle_for = self.until_next_due(poll).await;
                    }
                    Err(error) => tracing::warn!(%error, "claiming jobs failed"),
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(idle_for) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }

        let grace = Duration::from_secs(self.inner.settings.shutdown_grace_seconds);
        if tokio::time::timeout(grace, drain(&mut tasks))
            .await
            .is_err()
        {
            for job in self.running().values() {
                job.interrupt(Interrupt::Shutdown);
            }
            drain(&mut tasks).await;
        }
        background.cancel();
        tracing::info!(worker = %self.inner.worker_id, "workers stopped");
    }

    /// How long to sleep before the next backed-off job becomes due, at most `poll`.
    async fn until_next_due(&self, poll: Duration) -> Duration {
        match queue::next_due(&self.inner.pool).await {
            Ok(Some(due)) => (due - chrono::Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(5), poll),
            _ => poll,
        }
    }

    async fn execute(self, job: Job, _slot: OwnedSemaphorePermit) {
        let id = job.id;
        let token = CancellationToken::new();
        let reason = Arc::new(Mutex::new(None));
        self.running().insert(
            id,
            RunningJob {
                token: token.clone(),
                reason: reason.clone(),
            },
        );
        let heartbeat = tokio::spawn(self.clone().heartbeat(id));
        let span =
            tracing::info_span!("job", job_id = %id, kind = %job.kind, attempt = job.attempts);

        let handler = self.inner.handlers.get(&job.kind).cloned();
        let ctx = JobContext::new(
            job.clone(),
            self.inner.pool.clone(),
            self.inner.worker_id.clone(),
        );
        let result = match handler {
            None => Some(Err(JobError::fatal(
                ErrorCode::UnknownJobKind,
                format!("no handler for job kind `{}`", job.kind),
            ))),
            Some(handler) => tokio::select! {
                result = AssertUnwindSafe(handler.run(&ctx)).catch_unwind() => Some(result.unwrap_or_else(|panic| {
                    // A bug, not the job's fault: the job fails, and this worker, its heartbeat
                    // and its slot carry on as after any other failure.
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|text| text.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(parent: &span, panic = %message, "job handler panicked");
                    Err(JobError::fatal(
                        ErrorCode::Internal,
                        "the step failed unexpectedly; the worker's log has the details",
                    ))
                })),
                _ = token.cancelled() => None,
            },
        };
        heartbeat.abort();
        self.running().remove(&id);

        let pool = &self.inner.pool;
        let worker = self.inner.worker_id.as_str();
        let stored = match result {
            Some(Ok(output)) => self.complete(id, output).await,
            Some(Err(error)) => {
                // The one door every job error passes before it is stored, streamed or logged.
                let error = error.redacted();
                if matches!(error, JobError::Deferred { .. }) {
                    tracing::info!(parent: &span, %error, "job waits");
                } else {
                    tracing::warn!(parent: &span, %error, "job attempt failed");
                }
                queue::fail(
                    pool,
                    &job,
                    worker,
                    &error.info(),
                    error.after_failure(),
                    &self.inner.settings,
                )
                .await
            }
            None => match interrupt_reason(&reason) {
                Some(Interrupt::Canceled) => queue::mark_canceled(pool, id, worker).await,
                Some(Interrupt::Shutdown) => queue::release(pool, id, worker).await,
                Some(Interrupt::LeaseLost) | None => Ok(None),
            },
        };
        match stored {
            Ok(Some(job)) => tracing::debug!(parent: &span, status = %job.status, "job settled"),
            Ok(None) => {
                tracing::warn!(parent: &span, "lease lost; another worker owns this job now")
            }
            // The lease runs out and the reaper requeues the job.
            Err(error) => {
                tracing::error!(parent: &span, %error, "could not record the job's outcome")
            }
        }
    }

    /// Hands a success to the batching task and waits until it is stored, so the job's slot is
    /// only freed once its outcome is durable.
    async fn complete(
        &self,
        job_id: Uuid,
        output: serde_json::Value,
    ) -> Result<Option<Job>, sqlx::Error> {
        let (stored, outcome) = oneshot::channel();
        let completion = Completion {
            job_id,
            output,
            stored,
        };
        let closed = || sqlx::Error::Protocol("the completion task stopped".into());
        self.inner
            .completions
            .send(completion)
            .await
            .map_err(|_| closed())?;
        outcome
            .await
            .map_err(|_| closed())?
            .map_err(sqlx::Error::Protocol)
    }

    /// Stores successes in batches: whatever finished while the previous batch was committing.
    /// Runs until `stop`, which fires only after every job task has drained.
    async fn store_completions(
        self,
        mut queue: mpsc::Receiver<Completion>,
        stop: CancellationToken,
    ) {
        loop {
            let first = tokio::select! {
                _ = stop.cancelled() => return,
                first = queue.recv() => match first {
                    Some(first) => first,
                    None => return,
                },
            };
            let mut batch = vec![first];
            while batch.len() < COMPLETION_BATCH {
                match queue.try_recv() {
                    Ok(completion) => batch.push(completion),
                    Err(_) => break,
                }
            }
            let outputs: Vec<(Uuid, serde_json::Value)> = batch
                .iter_mut()
                .map(|c| (c.job_id, std::mem::take(&mut c.output)))
                .collect();
            let result =
                queue::complete_many(&self.inner.pool, &self.inner.worker_id, &outputs).await;
            for completion in batch {
                let answer = match &result {
                    Ok(jobs) => Ok(jobs.iter().find(|job| job.id == completion.job_id).cloned()),
                    Err(error) => Err(error.to_string()),
                };
                let _ = completion.stored.send(answer);
            }
        }
    }

    /// Renews the lease at a third of its length, and stops the job when the lease is lost or a
    /// cancel was asked for (a fallback for a missed cancel NOTIFY).
    async fn heartbeat(self, id: Uuid) {
        let lease = self.lease();
        let mut ticker = tokio::time::interval(lease / 3);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            match queue::heartbeat(&self.inner.pool, id, &self.inner.worker_id, lease).await {
                Ok(Some(false)) => {}
                Ok(Some(true)) => return self.interrupt(id, Interrupt::Canceled),
                Ok(None) => return self.interrupt(id, Interrupt::LeaseLost),
                Err(error) => tracing::warn!(job_id = %id, %error, "heartbeat failed"),
            }
        }
    }

    /// Wakes the claim loop on new jobs and stops jobs canceled through any replica.
    async fn listen(self, stop: CancellationToken) {
        loop {
            let listener = async {
                let mut listener = PgListener::connect_with(&self.inner.listen).await?;
                listener.listen_all([JOBS_CHANNEL, CANCEL_CHANNEL]).await?;
                Ok::<_, sqlx::Error>(listener)
            };
            let mut listener = match listener.await {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, "job listener could not connect; relying on polling");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            loop {
                let notification = tokio::select! {
                    _ = stop.cancelled() => return,
                    notification = listener.recv() => notification,
                };
                match notification {
                    Ok(n) if n.channel() == CANCEL_CHANNEL => {
                        if let Ok(id) = n.payload().parse() {
                            self.interrupt(id, Interrupt::Canceled);
                        }
                    }
                    Ok(_) => self.inner.wake.notify_one(),
                    Err(error) => {
                        tracing::warn!(%error, "job listener lost its connection");
                        break;
                    }
                }
            }
        }
    }

    async fn reap(self, stop: CancellationToken) {
        let mut ticker = tokio::time::interval((self.lease() / 2).max(Duration::from_millis(500)));
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            match queue::reap_expired(&self.inner.pool).await {
                Ok(jobs) if !jobs.is_empty() => {
                    tracing::warn!(count = jobs.len(), "reclaimed jobs whose lease expired");
                    self.inner.wake.notify_one();
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "reaping expired leases failed"),
            }
        }
    }
}

fn interrupt_reason(reason: &Mutex<Option<Interrupt>>) -> Option<Interrupt> {
    *reason.lock().unwrap_or_else(|p| p.into_inner())
}

async fn drain(tasks: &mut JoinSet<()>) {
    while tasks.join_next().await.is_some() {}
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "reelforge".into())
}
