use crate::error_code::ErrorCode;
use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use sqlx::PgPool;

use super::{queue, JobError};
use crate::{
    db,
    domain::{
        job::Job,
        project::Project,
        resource::StepResource,
        usage::{Metric, Prices},
    },
    providers::{CallContext, CheckpointStore, ProgressSink, ProviderError},
};

/// Progress writes closer together than this are dropped (the last one always lands).
const PROGRESS_MIN_INTERVAL: Duration = Duration::from_millis(200);

/// What a handler gets: the claimed job and access to what it works on.
pub struct JobContext {
    pub job: Job,
    pool: PgPool,
    worker: String,
    last_progress: Mutex<Option<Instant>>,
}

impl JobContext {
    pub fn new(job: Job, pool: PgPool, worker: String) -> Self {
        JobContext {
            job,
            pool,
            worker,
            last_progress: Mutex::new(None),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn call(&self) -> CallContext<'_> {
        CallContext {
            attempt: u32::try_from(self.job.attempts).unwrap_or(1),
            progress: self,
            checkpoints: self,
        }
    }

    /// The resource this job fills.
    pub async fn resource(&self) -> Result<StepResource, JobError> {
        let (Some(kind), Some(id)) = (self.job.resource_type, self.job.resource_id) else {
            return Err(JobError::fatal(
                ErrorCode::InvalidJob,
                "this job has no resource",
            ));
        };
        db::resources::get(&self.pool, kind, id)
            .await?
            .ok_or_else(|| {
                JobError::fatal(
                    ErrorCode::ResourceMissing,
                    format!("{kind} {id} no longer exists"),
                )
            })
    }

    pub async fn project(&self, resource: &StepResource) -> Result<Project, JobError> {
        db::projects::get(&self.pool, resource.project_id)
            .await?
            .ok_or_else(|| {
                JobError::fatal(ErrorCode::ResourceMissing, "the project no longer exists")
            })
    }

    /// Records what this attempt's provider call consumed, priced now. A failure to record is
    /// logged, not raised: retrying the job would pay the provider again.
    pub async fn record_usage(
        &self,
        prices: &Prices,
        resource: &StepResource,
        measured: &[(Metric, f64)],
    ) {
        let run_id = self.job.payload.run_id();
        let rows: Vec<db::usage::NewUsage> = measured
            .iter()
            .filter(|(_, quantity)| quantity.is_finite() && *quantity > 0.0)
            .map(|&(metric, quantity)| db::usage::NewUsage {
                project_id: resource.project_id,
                run_id,
                job_id: self.job.id,
                attempt: self.job.attempts,
                resource_type: resource.kind.as_str(),
                resource_id: resource.id,
                provider: &resource.provider,
                metric,
                quantity,
                unit_price: prices.unit_price(&resource.provider, metric),
            })
            .collect();
        if let Err(error) = db::usage::record(&self.pool, &rows).await {
            tracing::warn!(job_id = %self.job.id, %error, "could not record usage");
        }
    }

    /// The parent resource's output, as the type its step stored.
    pub async fn parent_output<T: DeserializeOwned>(
        &self,
        resource: &StepResource,
    ) -> Result<T, JobError> {
        let missing = || {
            JobError::fatal(
                ErrorCode::ParentNotReady,
                "the resource this step works from has no output",
            )
        };
        let (Some(kind), Some(id)) = (resource.kind.parent(), resource.parent_id) else {
            return Err(missing());
        };
        let parent = db::resources::get(&self.pool, kind, id)
            .await?
            .ok_or_else(missing)?;
        let output = parent.output.ok_or_else(missing)?;
        serde_json::from_value(output).map_err(|error| {
            JobError::fatal(
                ErrorCode::ParentOutputInvalid,
                format!("{kind} output: {error}"),
            )
        })
    }
}

/// The options a step was started with, checked then; a stored value that no longer reads (a
/// row older than its type) fails the job rather than being guessed at.
pub fn options<O: crate::domain::options::StepOptions>(
    resource: &StepResource,
) -> Result<O, JobError> {
    match resource.input.get("options") {
        None | Some(serde_json::Value::Null) => Ok(O::default()),
        Some(options) => serde_json::from_value(options.clone()).map_err(|error| {
            JobError::fatal(
                ErrorCode::InvalidOptions,
                format!("stored options: {error}"),
            )
        }),
    }
}

pub fn to_output<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, JobError> {
    serde_json::to_value(value)
        .map_err(|error| JobError::fatal(ErrorCode::OutputInvalid, error.to_string()))
}

#[async_trait]
impl ProgressSink for JobContext {
    async fn report(&self, percent: u8, stage: &str) {
        let percent = percent.min(100);
        {
            let mut last = self.last_progress.lock().unwrap_or_else(|p| p.into_inner());
            if percent < 100 && last.is_some_and(|at| at.elapsed() < PROGRESS_MIN_INTERVAL) {
                return;
            }
            *last = Some(Instant::now());
        }
        if let Err(error) = queue::progress(
            &self.pool,
            self.job.id,
            &self.worker,
            i16::from(percent),
            stage,
        )
        .await
        {
            tracing::warn!(job_id = %self.job.id, %error, "could not record progress");
        }
    }
}

#[async_trait]
impl CheckpointStore for JobContext {
    async fn load(&self) -> Result<Option<serde_json::Value>, ProviderError> {
        db::jobs::checkpoint(&self.pool, self.job.id)
            .await
            .map_err(|error| ProviderError::retryable(format!("reading the checkpoint: {error}")))
    }

    async fn save(&self, checkpoint: &serde_json::Value) -> Result<(), ProviderError> {
        match db::jobs::save_checkpoint(&self.pool, self.job.id, &self.worker, checkpoint).await {
            Ok(true) => Ok(()),
            // Another worker took the job over; this attempt's result would be discarded anyway.
            Ok(false) => Err(ProviderError::retryable("the job's lease was lost")),
            Err(error) => Err(ProviderError::retryable(format!(
                "saving the checkpoint: {error}"
            ))),
        }
    }
}
