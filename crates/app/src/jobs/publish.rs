//! Posts one publication: checks the video file against the platform's limits, opens (and if
//! needed refreshes) the account's token, and lets the platform's publisher upload, resuming
//! from the job's checkpoint. The publication's status follows: `uploading`, `processing`, then
//! `published` or `failed`. On YouTube the post's cover follows the post in the same job, once
//! YouTube has processed the video; its outcome is the publication's `cover`, and never fails
//! or holds back the post.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use async_trait::async_trait;
use uuid::Uuid;

use super::{Handler, JobContext, JobError};
use crate::domain::{job::PublishJob, publishing::Posting};
use crate::{
    clock::SharedClock,
    db,
    domain::{
        publishing::{
            CoverStatus, Platform, PostOutput, Publication, PublicationCover, PublicationStatus,
        },
        ErrorInfo, ResourceKind,
    },
    error_code::ErrorCode,
    providers::{
        process,
        publish::{
            posted_in, waiting_in, CoverCall, CoverReady, CoverSetter, Posted, Upload, PROCESSING,
        },
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
    ) -> Result<Posting, JobError> {
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
        let stored = match (stored, self.first_cover(publication, posted)) {
            (Some(stored), Some(cover)) => {
                db::publications::set_cover(&mut *tx, stored.id, &cover).await?
            }
            (stored, _) => stored,
        };
        if let Some(stored) = &stored {
            publish::announce(&mut tx, stored).await?;
        }
        tx.commit().await?;
        Ok(Posting {
            publication_id: publication.id,
            post_id: posted.post_id.clone(),
            post_url: posted.url.clone(),
            outcome: Some(posted.outcome),
            cover: None,
        })
    }

    /// Where the cover starts on a platform that sets it after the upload: pending, or skipped
    /// without a cover frame or a video id to set it on.
    fn first_cover(&self, publication: &Publication, posted: &Posted) -> Option<PublicationCover> {
        self.providers
            .publishing
            .publisher(publication.platform)
            .cover_setter()?;
        let skipped = |why: &str| PublicationCover::new(CoverStatus::Skipped, Some(why.into()));
        Some(
            match (publication.request.cover_offset_ms, &posted.post_id) {
                (Some(_), Some(_)) => PublicationCover::new(CoverStatus::Pending, None),
                (None, _) => skipped("the publication has no cover frame"),
                (_, None) => skipped("the platform's answer had no video id to set it on"),
            },
        )
    }

    /// Sets a published post's pending cover and records how that went. A wait (processing, a
    /// quota reset) is shown on the cover and comes back then, spending no attempt; a
    /// retryable failure is retried while attempts remain; anything else leaves the post with
    /// the platform's own frame.
    async fn cover(
        &self,
        ctx: &JobContext,
        publication: &Publication,
    ) -> Result<Posting, JobError> {
        let output = |cover: Option<&PublicationCover>| Posting {
            publication_id: publication.id,
            post_id: publication.post_id.clone(),
            post_url: publication.post_url.clone(),
            outcome: publication.outcome,
            cover: cover.cloned(),
        };
        let setter = self
            .providers
            .publishing
            .publisher(publication.platform)
            .cover_setter();
        let (Some(setter), Some(post_id)) = (setter, publication.post_id.as_deref()) else {
            return Ok(output(publication.cover.as_ref()));
        };
        if publication.cover.as_ref().map(|c| c.status) != Some(CoverStatus::Pending) {
            return Ok(output(publication.cover.as_ref()));
        }
        let (cover, stop) = match self.apply_cover(ctx, publication, setter, post_id).await {
            Ok(()) => (PublicationCover::new(CoverStatus::Applied, None), None),
            Err(JobError::Deferred { message, after }) => {
                let checkpoint = crate::providers::CheckpointStore::load(ctx).await?;
                let pending = PublicationCover {
                    waiting: checkpoint.as_ref().and_then(waiting_in),
                    ..PublicationCover::new(CoverStatus::Pending, Some(message.clone()))
                };
                (pending, Some(JobError::Deferred { message, after }))
            }
            Err(error @ JobError::Retryable { .. }) if ctx.job.attempts < ctx.job.max_attempts => {
                let message = crate::redact::redact(&error.info().message).into_owned();
                (
                    PublicationCover::new(CoverStatus::Pending, Some(message)),
                    Some(error),
                )
            }
            Err(error) => {
                let message = crate::redact::redact(&error.info().message).into_owned();
                (
                    PublicationCover::new(CoverStatus::Failed, Some(message)),
                    None,
                )
            }
        };
        let mut tx = ctx.pool().begin().await?;
        if let Some(stored) = db::publications::set_cover(&mut *tx, publication.id, &cover).await? {
            publish::announce(&mut tx, &stored).await?;
        }
        tx.commit().await?;
        match stop {
            Some(error) => Err(error),
            None => Ok(output(Some(&cover))),
        }
    }

    /// Waits for processing, then sets the cover, renewing a refused token once. A wait the
    /// setter recorded in the checkpoint comes back as [`JobError::Deferred`].
    async fn apply_cover(
        &self,
        ctx: &JobContext,
        publication: &Publication,
        setter: &dyn CoverSetter,
        post_id: &str,
    ) -> Result<(), JobError> {
        let call = ctx.call();
        let mut refreshed = false;
        loop {
            let (_, token) = publish::access_token(
                ctx.pool(),
                &self.providers.publishing,
                publication.account_id,
                refreshed,
                self.clock.now(),
            )
            .await?;
            let cover = CoverCall {
                post_id,
                access_token: &token,
                now: self.clock.now(),
            };
            let result = match setter.ready(&cover, &call).await {
                Ok(CoverReady::Set) => Ok(()),
                Ok(CoverReady::Processed) => {
                    let jpeg = self.cover_jpeg(ctx, publication).await?;
                    setter.set(&cover, jpeg, &call).await
                }
                Err(error) => Err(error),
            };
            match result {
                Ok(()) => return Ok(()),
                Err(error) if error.code() == Some(ErrorCode::ProviderAuth) && !refreshed => {
                    tracing::info!(%error, "refreshing the account's token");
                    refreshed = true;
                }
                Err(ProviderError::Retryable {
                    message,
                    retry_after,
                }) => {
                    let checkpoint = crate::providers::CheckpointStore::load(ctx).await?;
                    return Err(match checkpoint.as_ref().and_then(waiting_in) {
                        Some(wait) => JobError::Deferred {
                            message: wait.message,
                            after: (wait.until - self.clock.now()).to_std().unwrap_or_default(),
                        },
                        None => ProviderError::Retryable {
                            message,
                            retry_after,
                        }
                        .into(),
                    });
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// The cover as JPEG: the post's stored frame when it is the one asked for, else the
    /// video's frame at the publication's offset.
    async fn cover_jpeg(
        &self,
        ctx: &JobContext,
        publication: &Publication,
    ) -> Result<Vec<u8>, JobError> {
        let offset = publication.request.cover_offset_ms.unwrap_or_default();
        let media = &self.providers.media;
        let stored = match publication.request.post_id {
            Some(id) => db::resources::get(ctx.pool(), ResourceKind::Post, id)
                .await?
                .and_then(|post| post.output)
                .and_then(|output| serde_json::from_value::<PostOutput>(output).ok())
                .and_then(|post| post.cover)
                .filter(|cover| cover.offset_ms == offset),
            None => None,
        };
        let unreadable = |error: std::io::Error| {
            JobError::fatal(
                ErrorCode::MediaMissing,
                format!("reading the cover: {error}"),
            )
        };
        if let Some(cover) = stored {
            let file = media.fetch(&cover.key).await.map_err(ProviderError::from)?;
            return tokio::fs::read(&file).await.map_err(unreadable);
        }
        let video = db::resources::get(ctx.pool(), ResourceKind::Video, publication.video_id)
            .await?
            .and_then(|video| video.output)
            .and_then(|output| serde_json::from_value::<RenderOutput>(output).ok())
            .ok_or_else(|| JobError::fatal(ErrorCode::ResourceMissing, "the video is gone"))?;
        let (frame, _) = super::post::frame_at(media, &video.key, offset).await?;
        let jpeg = tokio::fs::read(&frame).await.map_err(unreadable);
        let _ = tokio::fs::remove_file(&frame).await;
        jpeg
    }

    async fn post(&self, ctx: &JobContext, publication: &Publication) -> Result<Posting, JobError> {
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
impl Handler for PublishStep {
    type Input = PublishJob;
    type Output = Posting;

    async fn handle(&self, ctx: &JobContext, _: PublishJob) -> Result<Posting, JobError> {
        let publication = db::publications::for_job(ctx.pool(), ctx.job.id)
            .await?
            .ok_or_else(|| {
                JobError::fatal(ErrorCode::ResourceMissing, "the publication is gone")
            })?;
        match publication.status {
            // Posted: only its cover may be left to set.
            PublicationStatus::Published => return self.cover(ctx, &publication).await,
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
        let posted = result?;
        match db::publications::get(ctx.pool(), publication.id).await? {
            Some(published) if published.status == PublicationStatus::Published => {
                self.cover(ctx, &published).await
            }
            _ => Ok(posted),
        }
    }
}
