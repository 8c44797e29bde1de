//! Posts one publication: checks the video file against the platform's limits, opens (and if
//! needed refreshes) the account's token, and lets the platform's publisher upload, resuming
//! from the job's checkpoint. The publication's status follows: `uploading`, `processing`, then
//! `published` or `failed`.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use async_trait::async_trait;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{JobContext, JobError, JobHandler};
use crate::{
    clock::SharedClock,
    db,
    domain::{
        publishing::{Platform, Publication, PublicationStatus},
        ErrorInfo, ResourceKind,
    },
    error_code::ErrorCode,
    providers::{
        process,
        publish::{posted_in, waiting_in, Posted, Upload, PROCESSING},
        render::RenderOutput,
        CallContext, ProgressSink, ProviderError, Providers,
    },
    publish::{self, limits},
};

pub struct PublishStep {
    pub providers: Arc<Providers>,
    pub clock: SharedClock,
}

/// Passes progress on to the job, and moves the publication to `processing` when the platform
/// has the whole video.
struct PublicationProgress<'a> {
    ctx: &'a JobContext,
    publication: Uuid,
    processing: AtomicBool,
}

#[async_trait]
impl ProgressSink for PublicationProgress<'_> {
    async fn report(&self, percent: u8, stage: &str) {
        self.ctx.report(percent, stage).await;
        if stage == PROCESSING && !self.processing.swap(true, Ordering::SeqCst) {
            if let Err(error) =
                move_to(self.ctx, self.publication, PublicationStatus::Processing).await
            {
                tracing::warn!(%error, "could not mark the publication processing");
            }
        }
    }
}

/// Moves an unfinished publication on and announces it.
async fn move_to(
    ctx: &JobContext,
    id: Uuid,
    status: PublicationStatus,
) -> Result<Option<Publication>, sqlx::Error> {
    let mut tx = ctx.pool().begin().await?;
    let moved = db::publications::advance(&mut *tx, id, status).await?;
    if let Some(moved) = &moved {
        publish::announce(&mut tx, moved).await?;
    }
    tx.commit().await?;
    Ok(moved)
}

impl PublishStep {
    /// Stores a finished post on the publication and announces it.
    async fn published(
        &self,
        ctx: &JobContext,
        publication: &Publication,
        posted: &Posted,
    ) -> Result<Value, JobError> {
        let published_at = publication
            .request
            .schedule_at
            .filter(|_| publication.platform == Platform::Youtube)
            .unwrap_or_else(|| self.clock.now());
        let mut tx = ctx.pool().begin().await?;
        let stored = db::publications::mark_published(
            &mut *tx,
            publication.id,
            posted.post_id.as_deref(),
            posted.url.as_deref(),
            posted.outcome,
            published_at,
        )
        .await?;
        if let Some(stored) = &stored {
            publish::announce(&mut tx, stored).await?;
        }
        tx.commit().await?;
        Ok(json!({
            "publication_id": publication.id,
            "post_id": posted.post_id,
            "post_url": posted.url,
            "outcome": posted.outcome,
        }))
    }

    async fn post(&self, ctx: &JobContext, publication: &Publication) -> Result<Value, JobError> {
        // An earlier attempt posted and could not record it: record it, touching nothing else
        // (the token may have lapsed since, the file moved).
        let checkpoint = crate::providers::CheckpointStore::load(ctx).await?;
        if let Some(posted) = checkpoint.as_ref().and_then(posted_in) {
            return self.published(ctx, publication, &posted).await;
        }
        // The wait an earlier attempt stopped for is over: it no longer describes the upload.
        if let Some(mut checkpoint) = checkpoint.filter(|c| waiting_in(c).is_some()) {
            if let Some(fields) = checkpoint.as_object_mut() {
                fields.remove("waiting");
            }
            crate::providers::CheckpointStore::save(ctx, &checkpoint).await?;
            db::publications::set_waiting(ctx.pool(), publication.id, None).await?;
        }
        let video = db::resources::get(ctx.pool(), ResourceKind::Video, publication.video_id)
            .await?
            .and_then(|video| video.output)
            .ok_or_else(|| JobError::fatal(ErrorCode::ResourceMissing, "the video is gone"))?;
        let video: RenderOutput = serde_json::from_value(video).map_err(|error| {
            JobError::fatal(
                ErrorCode::ParentOutputInvalid,
                format!("video output: {error}"),
            )
        })?;
        let file = self
            .providers
            .media
            .fetch(&video.key)
            .await
            .map_err(ProviderError::from)?;
        let info = process::probe(&file).await?;
        let facts = limits::VideoFacts {
            duration_ms: info.duration_ms,
            size_bytes: tokio::fs::metadata(&file).await.map_or(0, |m| m.len()),
            width: info.width.unwrap_or(0),
            height: info.height.unwrap_or(0),
            video_codec: info.video_codec.clone().unwrap_or_default(),
            audio_codec: info.audio_codec.clone(),
            frame_rate: info.frame_rate,
        };
        let problems = limits::problems(publication.platform, &facts);
        if !problems.is_empty() {
            return Err(JobError::fatal(
                ErrorCode::PlatformLimit,
                problems.join("; "),
            ));
        }
        let publishing = &self.providers.publishing;
        let publisher = publishing.publisher(publication.platform);
        let progress = PublicationProgress {
            ctx,
            publication: publication.id,
            processing: AtomicBool::new(false),
        };
        let call = CallContext {
            attempt: u32::try_from(ctx.job.attempts).unwrap_or(1),
            progress: &progress,
            checkpoints: ctx,
        };
        let mut refreshed = false;
        loop {
            let (account, token) = publish::access_token(
                ctx.pool(),
                publishing,
                publication.account_id,
                refreshed,
                self.clock.now(),
            )
            .await?;
            let link = match publication.platform {
                Platform::Instagram => publish::video_link(
                    publishing,
                    publication.id,
                    account.instagram_login,
                    self.clock.now(),
                ),
                _ => None,
            };
            let upload = Upload {
                video: &file,
                size_bytes: facts.size_bytes,
                duration_ms: facts.duration_ms,
                request: &publication.request,
                access_token: &token,
                external_id: account.external_id.as_deref(),
                video_url: link.as_deref(),
                instagram_login: account.instagram_login,
                last_attempt: ctx.job.attempts >= ctx.job.max_attempts,
                now: self.clock.now(),
            };
            match publisher.publish(&upload, &call).await {
                Ok(posted) => return self.published(ctx, publication, &posted).await,
                // The platform refused the token: renew it once and resume.
                Err(error) if error.code() == Some(ErrorCode::ProviderAuth) && !refreshed => {
                    tracing::info!(%error, "refreshing the account's token");
                    refreshed = true;
                }
                Err(error) if error.code() == Some(ErrorCode::ProviderAuth) => {
                    let reason = crate::redact::redact(&error.to_string()).into_owned();
                    db::accounts::mark_reauthorization_needed(
                        ctx.pool(),
                        publication.account_id,
                        &reason,
                    )
                    .await?;
                    return Err(JobError::fatal(
                        ErrorCode::AccountReauthorizationNeeded,
                        reason,
                    ));
                }
                Err(error @ ProviderError::Retryable { .. }) => {
                    return Err(self.waiting(ctx, publication, error).await?)
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// A retryable stop is a wait when the publisher recorded one (a quota reset, a
    /// moderation): the publication shows it and the job comes back then, spending no attempt.
    async fn waiting(
        &self,
        ctx: &JobContext,
        publication: &Publication,
        error: ProviderError,
    ) -> Result<JobError, JobError> {
        let checkpoint = crate::providers::CheckpointStore::load(ctx).await?;
        let Some(wait) = checkpoint.as_ref().and_then(waiting_in) else {
            return Ok(error.into());
        };
        let mut tx = ctx.pool().begin().await?;
        if let Some(waiting) =
            db::publications::set_waiting(&mut *tx, publication.id, Some(&wait)).await?
        {
            publish::announce(&mut tx, &waiting).await?;
        }
        tx.commit().await?;
        Ok(JobError::Deferred {
            after: (wait.until - self.clock.now()).to_std().unwrap_or_default(),
            message: wait.message,
        })
    }

    /// Records the end of a publication that will not be tried again.
    async fn fail(&self, ctx: &JobContext, id: Uuid, error: &JobError) -> Result<(), sqlx::Error> {
        let info = error.info();
        let info = ErrorInfo {
            message: crate::redact::redact(&info.message).into_owned(),
            ..info
        };
        let mut tx = ctx.pool().begin().await?;
        let failed = db::publications::finish_unpublished(
            &mut *tx,
            id,
            PublicationStatus::Failed,
            &info,
            &[
                PublicationStatus::Scheduled,
                PublicationStatus::Uploading,
                PublicationStatus::Processing,
            ],
        )
        .await?;
        if let Some(failed) = &failed {
            publish::announce(&mut tx, failed).await?;
        }
        tx.commit().await
    }
}

#[async_trait]
impl JobHandler for PublishStep {
    async fn run(&self, ctx: &JobContext) -> Result<Value, JobError> {
        let publication = db::publications::for_job(ctx.pool(), ctx.job.id)
            .await?
            .ok_or_else(|| {
                JobError::fatal(ErrorCode::ResourceMissing, "the publication is gone")
            })?;
        match publication.status {
            PublicationStatus::Published => {
                return Ok(
                    json!({"publication_id": publication.id, "post_id": publication.post_id}),
                )
            }
            PublicationStatus::Canceled => {
                return Err(JobError::fatal(
                    ErrorCode::Canceled,
                    "the publication was canceled",
                ))
            }
            // Its job was retried by hand (after the account was connected again, say): the
            // checkpoint makes the new attempt resume, never post again.
            PublicationStatus::Failed => {
                db::publications::reopen(ctx.pool(), publication.id).await?;
            }
            _ => {}
        }
        move_to(ctx, publication.id, PublicationStatus::Uploading).await?;
        // A cancel may have landed between the read and the move.
        let publication = db::publications::get(ctx.pool(), publication.id)
            .await?
            .ok_or_else(|| {
                JobError::fatal(ErrorCode::ResourceMissing, "the publication is gone")
            })?;
        if publication.status == PublicationStatus::Canceled {
            return Err(JobError::fatal(
                ErrorCode::Canceled,
                "the publication was canceled",
            ));
        }
        let result = self.post(ctx, &publication).await;
        if let Err(error) = &result {
            let last = ctx.job.attempts >= ctx.job.max_attempts;
            // A wait spends no attempt and ends nothing.
            let failed = match error {
                JobError::Fatal { .. } => true,
                JobError::Retryable { .. } => last,
                JobError::Deferred { .. } => false,
            };
            if failed {
                self.fail(ctx, publication.id, error).await?;
            }
        }
        result
    }
}
