//! Durable background jobs: `queue` holds the transactions, `worker` runs claimed jobs, and one
//! file per step turns a job into a provider call.

pub mod collect;
pub mod context;
pub mod import;
pub mod noop;
pub mod post;
pub mod prepare_reel;
pub mod publish;
pub use reelforge_store::queue;
pub mod render;
pub mod rewrite;
pub mod runs;
mod timing;
pub mod transcribe;
pub mod voice;
pub mod webhook;
pub mod worker;

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_trait::async_trait;

pub use context::JobContext;

use crate::{
    config::Settings,
    domain::{
        job::{JobPayload, WrongPayload},
        ErrorInfo, JobKind,
    },
    error_code::ErrorCode,
    providers::{ProviderError, Providers},
};

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{message}")]
    Retryable {
        code: ErrorCode,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("{message}")]
    Fatal { code: ErrorCode, message: String },
    /// Nothing failed: the job waits for something outside (a platform's quota reset, its
    /// moderation) and runs again after `after`, without spending an attempt.
    #[error("{message}")]
    Deferred { message: String, after: Duration },
}

impl JobError {
    pub fn fatal(code: ErrorCode, message: impl Into<String>) -> Self {
        JobError::Fatal {
            code,
            message: message.into(),
        }
    }

    /// The same error with credentials masked: what is stored, streamed and logged.
    pub fn redacted(self) -> Self {
        let mask = |message: String| crate::redact::redact(&message).into_owned();
        match self {
            JobError::Retryable {
                code,
                message,
                retry_after,
            } => JobError::Retryable {
                code,
                message: mask(message),
                retry_after,
            },
            JobError::Fatal { code, message } => JobError::Fatal {
                code,
                message: mask(message),
            },
            JobError::Deferred { message, after } => JobError::Deferred {
                message: mask(message),
                after,
            },
        }
    }

    /// Whether the queue retries, defers or fails the job.
    pub fn after_failure(&self) -> crate::domain::job::AfterFailure {
        use crate::domain::job::AfterFailure;
        match self {
            JobError::Retryable { retry_after, .. } => AfterFailure::Retry {
                retry_after: *retry_after,
            },
            JobError::Fatal { .. } => AfterFailure::Fail,
            JobError::Deferred { after, .. } => AfterFailure::Defer(*after),
        }
    }

    pub fn info(&self) -> ErrorInfo {
        match self {
            JobError::Retryable { code, message, .. } | JobError::Fatal { code, message } => {
                ErrorInfo::new(*code, message.clone())
            }
            JobError::Deferred { message, .. } => {
                ErrorInfo::new(ErrorCode::ProviderRetryable, message.clone())
            }
        }
    }
}

impl From<ProviderError> for JobError {
    fn from(error: ProviderError) -> Self {
        match error {
            ProviderError::Retryable {
                message,
                retry_after,
            } => JobError::Retryable {
                code: ErrorCode::ProviderRetryable,
                message,
                retry_after,
            },
            ProviderError::Fatal { code, message } => JobError::fatal(code, message),
        }
    }
}

impl From<sqlx::Error> for JobError {
    fn from(error: sqlx::Error) -> Self {
        JobError::Retryable {
            code: ErrorCode::Database,
            message: format!("database error: {error}"),
            retry_after: None,
        }
    }
}

/// What a job kind does once claimed, typed: what it takes from the job's payload, and what it
/// makes (the resource's `output`, or the job's report).
#[async_trait]
pub trait Handler: Send + Sync {
    type Input: TryFrom<JobPayload, Error = WrongPayload> + Send;
    type Output: serde::Serialize + Send;

    async fn handle(&self, ctx: &JobContext, input: Self::Input) -> Result<Self::Output, JobError>;
}

/// A handler as the worker calls it: the payload read and the output written, here once.
#[async_trait]
pub trait JobHandler: Send + Sync {
    async fn run(&self, ctx: &JobContext) -> Result<serde_json::Value, JobError>;
}

#[async_trait]
impl<H: Handler> JobHandler for H {
    async fn run(&self, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
        let input = H::Input::try_from(ctx.job.payload.clone()).map_err(|_| {
            JobError::fatal(
                ErrorCode::InvalidJob,
                format!("a {} job's payload is not one it takes", ctx.job.kind),
            )
        })?;
        let output = self.handle(ctx, input).await?;
        context::to_output(&output)
    }
}

pub type Handlers = HashMap<JobKind, Arc<dyn JobHandler>>;

/// The handler for every job kind, backed by `providers`; scheduled work reads `clock`.
pub fn handlers(
    providers: Arc<Providers>,
    settings: &Settings,
    clock: crate::clock::SharedClock,
) -> Handlers {
    HashMap::from([
        (
            JobKind::Collect,
            Arc::new(collect::CollectStep {
                providers: providers.clone(),
                jobs: settings.jobs.clone(),
                media: providers.media.clone(),
                webhook_attempts: settings.webhooks.max_attempts,
                max_covers: settings.collect.max_covers,
            }) as Arc<dyn JobHandler>,
        ),
        (
            JobKind::PrepareReel,
            Arc::new(prepare_reel::PrepareReelStep(providers.clone())) as Arc<dyn JobHandler>,
        ),
        (
            JobKind::Transcribe,
            Arc::new(transcribe::TranscribeStep(providers.clone())) as Arc<dyn JobHandler>,
        ),
        (
            JobKind::Rewrite,
            Arc::new(rewrite::RewriteStep {
                providers: providers.clone(),
                scripts: settings.scripts.clone(),
            }) as Arc<dyn JobHandler>,
        ),
        (
            JobKind::Voice,
            Arc::new(voice::VoiceStep(providers.clone())) as Arc<dyn JobHandler>,
        ),
        (
            JobKind::Render,
            Arc::new(render::RenderStep(providers.clone())) as Arc<dyn JobHandler>,
        ),
        (
            JobKind::WritePost,
            Arc::new(post::PostStep(providers.clone())) as Arc<dyn JobHandler>,
        ),
        (
            JobKind::Publish,
            Arc::new(publish::PublishStep { providers, clock }) as Arc<dyn JobHandler>,
        ),
        (
            JobKind::Webhook,
            Arc::new(webhook::DeliverWebhook::new(
                crate::providers::fetch::UrlGuard::new(&settings.media.fetch_allow_hosts),
                Duration::from_secs(settings.webhooks.timeout_seconds),
            )) as Arc<dyn JobHandler>,
        ),
        (
            JobKind::ApplyAlertRules,
            Arc::new(crate::watch::alerts::ApplyAlertRules {
                webhook_attempts: settings.webhooks.max_attempts,
            }) as Arc<dyn JobHandler>,
        ),
        (JobKind::Noop, Arc::new(noop::Noop) as Arc<dyn JobHandler>),
    ])
}
