//! Publications: planning one (checks, schedule), queuing its job, reading, canceling, and
//! publishing a run's videos.

use super::*;

/// How far ahead a publication may be scheduled, and how soon at the earliest.
pub(super) const MAX_SCHEDULE_DAYS: i64 = 180;

pub(super) const MIN_SCHEDULE_SECONDS: i64 = 60;

/// Attempts of one publication's job: transient platform failures are retried, the
/// checkpoints make each retry resume.
pub(super) const PUBLISH_ATTEMPTS: i32 = 8;

pub(super) fn video_facts(output: &RenderOutput) -> limits::VideoFacts {
    limits::VideoFacts {
        duration_ms: output.duration_ms,
        size_bytes: output.size_bytes,
        width: output.width,
        height: output.height,
        video_codec: output.video_codec.clone(),
        audio_codec: Some(output.audio_codec.clone()),
        frame_rate: None,
    }
}

/// Checks a publication request and schedules its job.
pub async fn publish(
    state: &AppState,
    video_id: Uuid,
    body: NewPublication,
) -> Result<Publication, AppError> {
    let mut tx = state.pool.begin().await?;
    let audited = publishing(state).settings.tiktok.audited;
    let planned = plan(&mut tx, video_id, body, audited, state.clock.now()).await?;
    if let Some(account) = db::accounts::get(&mut *tx, planned.publication.account_id).await? {
        instagram::require_link(publishing(state), &account.account)?;
    }
    let publication = schedule(&mut tx, planned)
        .await
        .map_err(|error| match error {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                AppError::conflict(ErrorCode::ParentGone, "the video or account was deleted")
            }
            // Another request for the same video and account got in first.
            sqlx::Error::Database(db) if db.is_unique_violation() => AppError::conflict(
                ErrorCode::AlreadyPublished,
                "the video is being published to this account already",
            ),
            other => other.into(),
        })?;
    tx.commit().await?;
    Ok(publication)
}

pub(super) fn already_published(existing: &Publication) -> AppError {
    AppError::conflict(
        ErrorCode::AlreadyPublished,
        format!(
            "the video is {} to this account already: publication {}",
            if existing.status == PublicationStatus::Published {
                "published"
            } else {
                "being published"
            },
            existing.id
        ),
    )
}

/// A publication whose request passed every check, and when its job should run.
pub struct Planned {
    publication: Publication,
    run_at: DateTime<Utc>,
}

/// Checks a publication request against the video, the account, the platform and the words;
/// `tiktok_audited` is whether TikTok audited the app (else it direct-posts only privately).
pub async fn plan(
    conn: &mut sqlx::PgConnection,
    video_id: Uuid,
    body: NewPublication,
    tiktok_audited: bool,
    now: DateTime<Utc>,
) -> Result<Planned, AppError> {
    let video = db::resources::get(&mut *conn, ResourceKind::Video, video_id)
        .await?
        .ok_or(AppError::NotFound("video"))?;
    let (Status::Succeeded, Some(output)) = (video.status, video.output.clone()) else {
        return Err(AppError::conflict(
            ErrorCode::MediaNotReady,
            format!(
                "the video is {}; only a finished video can be published",
                video.status
            ),
        ));
    };
    let render: RenderOutput = serde_json::from_value(output)
        .map_err(|error| AppError::Internal(anyhow::anyhow!("stored video output: {error}")))?;
    let account = db::accounts::get(&mut *conn, body.account_id)
        .await?
        .map(|stored| stored.account)
        .filter(|account| account.project_id == video.project_id)
        .ok_or_else(|| {
            AppError::validation("account_id", "no such account in the video's project")
        })?;
    if account.status != AccountStatus::Connected {
        return Err(AppError::conflict(
            ErrorCode::AccountNotConnected,
            format!(
                "the {} account `{}` needs connecting again",
                account.platform, account.name
            ),
        ));
    }
    let platform = account.platform;
    let project = db::projects::get(&mut *conn, video.project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let mut problems = Vec::new();
    let privacy = body.privacy.unwrap_or(Privacy::Public);
    if !Privacy::allowed_on(platform).contains(&privacy) {
        problems.push(FieldError::new(
            "privacy",
            format!(
                "{platform} takes {}",
                Privacy::allowed_on(platform)
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if body.schedule_at.is_some() && platform == Platform::Youtube && privacy != Privacy::Public {
        // YouTube's schedule (`publishAt`) makes the video public at that time.
        problems.push(FieldError::new(
            "privacy",
            "a scheduled YouTube video becomes public at `schedule_at`; schedule only public ones",
        ));
    }
    if let Some(problem) = unaudited_problem(
        platform,
        body.tiktok_mode.unwrap_or(TiktokMode::Direct),
        privacy,
        tiktok_audited,
    ) {
        problems.push(FieldError::new("privacy", problem));
    }
    if body.tiktok_mode.is_some() && platform != Platform::Tiktok {
        problems.push(FieldError::new("tiktok_mode", "is for TikTok accounts"));
    }
    if body.share_to_feed.is_some() && platform != Platform::Instagram {
        problems.push(FieldError::new(
            "share_to_feed",
            "is for Instagram accounts",
        ));
    }
    if let Some(at) = body.schedule_at {
        if at < now + chrono::Duration::seconds(MIN_SCHEDULE_SECONDS)
            || at > now + chrono::Duration::days(MAX_SCHEDULE_DAYS)
        {
            problems.push(FieldError::new(
                "schedule_at",
                format!("must be at least a minute and at most {MAX_SCHEDULE_DAYS} days ahead"),
            ));
        }
    }
    if let Some(offset) = body.cover_offset_ms {
        if offset >= render.duration_ms {
            problems.push(FieldError::new(
                "cover_offset_ms",
                format!("must be within the video's {} ms", render.duration_ms),
            ));
        }
    }
    let post = post_for(conn, video_id, body.post_id).await?;
    let (copy, language, post_id, cover) = match (&body.copy, &post) {
        (Some(copy), post) => (
            copy.clone(),
            post.as_ref().map_or(project.language.clone(), |(_, p)| p.language.clone()),
            post.as_ref().map(|(id, _)| *id),
            post.as_ref().and_then(|(_, p)| p.cover.as_ref().map(|c| c.offset_ms)),
        ),
        (None, Some((id, output))) => (
            output.copy(),
            output.language.clone(),
            Some(*id),
            output.cover.as_ref().map(|c| c.offset_ms),
        ),
        (None, None) => {
            return Err(AppError::validation(
                "copy",
                format!("the video has no post yet: write one (POST /v1/videos/{video_id}/posts) or give `copy`"),
            ))
        }
    };
    let checks = copy::evaluate(&copy, &language, project.settings.publishing.allow_emoji);
    for failed in copy::blocking(&checks, platform) {
        problems.push(FieldError::new(
            copy_field(&failed.name),
            format!("{}: {}", failed.name, failed.detail),
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    // Checked last: a request that is wrong anyway hears why first.
    if let Some(existing) = db::publications::active_for(&mut *conn, video_id, account.id).await? {
        return Err(already_published(&existing));
    }
    let video_problems = limits::problems(platform, &video_facts(&render));
    if !video_problems.is_empty() {
        return Err(AppError::unprocessable(
            ErrorCode::PlatformLimit,
            video_problems.join("; "),
        ));
    }
    let request = PublicationRequest {
        copy,
        post_id,
        privacy,
        schedule_at: body.schedule_at,
        tiktok_mode: body.tiktok_mode.unwrap_or(TiktokMode::Direct),
        share_to_feed: body.share_to_feed.unwrap_or(true),
        cover_offset_ms: body.cover_offset_ms.or(cover),
        ai_generated: project.settings.publishing.ai_disclosure,
    };
    // YouTube keeps the schedule itself (`publishAt`): its upload starts now.
    let run_at = match platform {
        Platform::Youtube => now,
        _ => body.schedule_at.unwrap_or(now),
    };
    let id = Uuid::new_v4();
    Ok(Planned {
        publication: Publication {
            id,
            project_id: project.id,
            video_id,
            account_id: account.id,
            platform,
            status: PublicationStatus::Scheduled,
            request,
            schedule_at: body.schedule_at,
            job_id: None,
            post_id: None,
            post_url: None,
            outcome: None,
            error: None,
            waiting: None,
            cover: None,
            created_at: now,
            updated_at: now,
            published_at: None,
        },
        run_at,
    })
}

/// Until TikTok audits the app, it takes direct posts only as `SELF_ONLY` (and refuses the rest
/// with `unaudited_client_can_only_post_to_private_accounts`): refused here, before any call.
pub(super) fn unaudited_problem(
    platform: Platform,
    mode: TiktokMode,
    privacy: Privacy,
    audited: bool,
) -> Option<&'static str> {
    (platform == Platform::Tiktok && mode == TiktokMode::Direct && privacy != Privacy::Private && !audited)
        .then_some("TikTok takes only `private` direct posts from an app it has not audited; post as `private` (or to the inbox), or set REELFORGE__PUBLISHING__TIKTOK__AUDITED=true once TikTok has audited the app")
}

/// Queues a planned publication's job (held until its time) and stores the publication.
pub async fn schedule(
    conn: &mut sqlx::PgConnection,
    planned: Planned,
) -> Result<Publication, sqlx::Error> {
    let Planned {
        mut publication,
        run_at,
    } = planned;
    let job = queue::enqueue_publication(
        &mut *conn,
        publication.project_id,
        publication.id,
        PUBLISH_ATTEMPTS,
    )
    .await?;
    db::jobs::set_run_at(&mut *conn, job.id, run_at).await?;
    publication.job_id = Some(job.id);
    let publication = db::publications::insert(&mut *conn, &publication).await?;
    announce(&mut *conn, &publication).await?;
    Ok(publication)
}

/// Appends `publication.<status>` for a publication's new state.
pub async fn announce(
    conn: &mut sqlx::PgConnection,
    publication: &Publication,
) -> Result<(), sqlx::Error> {
    db::events::append(
        conn,
        &[NewEvent {
            kind: format!("publication.{}", publication.status),
            project_id: Some(publication.project_id),
            resource_type: Some("publication"),
            resource_id: Some(publication.id),
            data: crate::domain::event::data(&PublicationUpdate::of(publication)),
        }],
    )
    .await
}

/// A publication as stored; one whose job ended without it (a worker lost on its last attempt)
/// is settled as failed first.
pub async fn publication(state: &AppState, id: Uuid) -> Result<Publication, AppError> {
    let publication = db::publications::get(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound("publication"))?;
    settle_orphan(state, publication).await
}

pub(super) async fn settle_orphan(
    state: &AppState,
    publication: Publication,
) -> Result<Publication, AppError> {
    let unfinished = matches!(
        publication.status,
        PublicationStatus::Scheduled | PublicationStatus::Uploading | PublicationStatus::Processing
    );
    let Some(job_id) = publication.job_id.filter(|_| unfinished) else {
        return Ok(publication);
    };
    let Some(job) = db::jobs::get(&state.pool, job_id).await? else {
        return Ok(publication);
    };
    if !matches!(job.status, Status::Failed | Status::Canceled) {
        return Ok(publication);
    }
    let (status, error) = if job.status == Status::Canceled {
        (
            PublicationStatus::Canceled,
            ErrorInfo::new(ErrorCode::Canceled, "the job was canceled"),
        )
    } else {
        (
            PublicationStatus::Failed,
            job.last_error.unwrap_or(ErrorInfo::new(
                ErrorCode::LeaseExpired,
                "the publishing job stopped",
            )),
        )
    };
    let mut tx = state.pool.begin().await?;
    let settled = db::publications::finish_unpublished(
        &mut *tx,
        publication.id,
        status,
        &error,
        &[
            PublicationStatus::Scheduled,
            PublicationStatus::Uploading,
            PublicationStatus::Processing,
        ],
    )
    .await?;
    match settled {
        Some(settled) => {
            announce(&mut tx, &settled).await?;
            tx.commit().await?;
            Ok(settled)
        }
        None => Ok(db::publications::get(&state.pool, publication.id)
            .await?
            .unwrap_or(publication)),
    }
}

pub async fn publications(
    state: &AppState,
    video_id: Uuid,
    query: &PageQuery,
) -> Result<Page<Publication>, AppError> {
    let page = query.parse()?;
    if db::resources::get(&state.pool, ResourceKind::Video, video_id)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound("video"));
    }
    let rows = db::publications::list_for_video(&state.pool, video_id, page).await?;
    let mut settled = Vec::with_capacity(rows.len());
    for row in rows {
        settled.push(settle_orphan(state, row).await?);
    }
    Ok(Page::from_rows_by(settled, page.limit, |p| {
        crate::pagination::Cursor {
            created_at: p.created_at,
            id: p.id,
        }
    }))
}

/// Cancels a publication that has not started; one that is uploading runs to its end, since
/// stopping half way could leave a post behind.
pub async fn cancel(state: &AppState, id: Uuid) -> Result<Publication, AppError> {
    let publication = publication(state, id).await?;
    let refuse = |status: PublicationStatus| {
        AppError::conflict(
            ErrorCode::PublicationNotCancelable,
            format!("the publication is {status}; only a scheduled one can be canceled"),
        )
    };
    if publication.status != PublicationStatus::Scheduled {
        return Err(refuse(publication.status));
    }
    let mut tx = state.pool.begin().await?;
    let canceled = db::publications::finish_unpublished(
        &mut *tx,
        id,
        PublicationStatus::Canceled,
        &ErrorInfo::new(ErrorCode::Canceled, "canceled before it was posted"),
        &[PublicationStatus::Scheduled],
    )
    .await?;
    let Some(canceled) = canceled else {
        let now = db::publications::get(&mut *tx, id)
            .await?
            .ok_or(AppError::NotFound("publication"))?;
        return Err(refuse(now.status));
    };
    announce(&mut tx, &canceled).await?;
    tx.commit().await?;
    if let Some(job_id) = canceled.job_id {
        // The job sees the publication canceled if it was claimed meanwhile.
        queue::request_cancel(&state.pool, job_id).await?;
    }
    Ok(canceled)
}

/// The most accounts one run publishes each video to.
pub(super) const RUN_MAX_ACCOUNTS: usize = 6;

/// What is wrong with a run's `publish`, checked when the run starts.
pub async fn run_publish_problems(
    pool: &sqlx::PgPool,
    publishing: &Publishing,
    project_id: Uuid,
    publish: &crate::domain::run::RunPublish,
    tiktok_audited: bool,
    now: DateTime<Utc>,
) -> Result<Vec<FieldError>, AppError> {
    let mut problems = Vec::new();
    let ids = &publish.account_ids;
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    if ids.is_empty() || ids.len() > RUN_MAX_ACCOUNTS || unique.len() != ids.len() {
        problems.push(FieldError::new(
            "publish.account_ids",
            format!("must name 1 to {RUN_MAX_ACCOUNTS} different accounts"),
        ));
    }
    for (index, id) in ids.iter().enumerate() {
        let field = format!("publish.account_ids[{index}]");
        let account = db::accounts::get(pool, *id)
            .await?
            .map(|stored| stored.account)
            .filter(|account| account.project_id == project_id);
        match account {
            None => problems.push(FieldError::new(field, "no such account in the project")),
            Some(account) if account.status != AccountStatus::Connected => {
                problems.push(FieldError::new(field, "the account needs connecting again"))
            }
            Some(account) if instagram::lacks_link(publishing, &account) => problems.push(
                FieldError::new(field, crate::providers::publish::instagram::NO_LINK),
            ),
            Some(account) => {
                let privacy = publish.privacy.unwrap_or(Privacy::Public);
                if !Privacy::allowed_on(account.platform).contains(&privacy) {
                    problems.push(FieldError::new(
                        "publish.privacy",
                        format!("{} does not take `{privacy}`", account.platform),
                    ));
                }
                if let Some(problem) = unaudited_problem(
                    account.platform,
                    TiktokMode::Direct,
                    privacy,
                    tiktok_audited,
                ) {
                    problems.push(FieldError::new("publish.privacy", problem));
                }
                if publish.schedule_at.is_some()
                    && account.platform == Platform::Youtube
                    && privacy != Privacy::Public
                {
                    problems.push(FieldError::new(
                        "publish.privacy",
                        "a scheduled YouTube video becomes public at `schedule_at`; schedule only public ones",
                    ));
                }
            }
        }
    }
    if let Some(at) = publish.schedule_at {
        if at <= now || at > now + chrono::Duration::days(MAX_SCHEDULE_DAYS) {
            problems.push(FieldError::new(
                "publish.schedule_at",
                format!("must be ahead, at most {MAX_SCHEDULE_DAYS} days"),
            ));
        }
    }
    Ok(problems)
}

/// Publishes a run's video with its post to every account of the run's `publish`: all are
/// checked before any is scheduled.
pub async fn publish_for_run(
    conn: &mut sqlx::PgConnection,
    video_id: Uuid,
    post_id: Uuid,
    publish: &crate::domain::run::RunPublish,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, AppError> {
    // A schedule the run has overtaken means now.
    let schedule_at = publish
        .schedule_at
        .filter(|at| *at > now + chrono::Duration::seconds(MIN_SCHEDULE_SECONDS));
    let mut planned = Vec::new();
    let mut scheduled = Vec::new();
    for account_id in &publish.account_ids {
        // Another run published this video to the account already: that post stands.
        if let Some(existing) =
            db::publications::active_for(&mut *conn, video_id, *account_id).await?
        {
            scheduled.push(existing.id);
            continue;
        }
        let body = NewPublication {
            account_id: *account_id,
            post_id: Some(post_id),
            privacy: publish.privacy,
            schedule_at,
            ..NewPublication::default()
        };
        // The run was checked against the app's audit when it started.
        planned.push(plan(&mut *conn, video_id, body, true, now).await?);
    }
    for plan in planned {
        scheduled.push(schedule(&mut *conn, plan).await?.id);
    }
    Ok(scheduled)
}

/// How long a platform may fetch a video from its signed link (Instagram's containers last a
/// day).
pub(super) const VIDEO_LINK_HOURS: i64 = 24;

pub(super) const VIDEO_LINK_PURPOSE: &str = "publication video";

/// A signed, expiring link to a publication's video for Instagram to fetch, when configured
/// (`publishing.instagram.source = url`) or the account can take nothing else (Instagram
/// Login).
pub fn video_link(
    publishing: &Publishing,
    publication: Uuid,
    login: Option<InstagramLogin>,
    now: DateTime<Utc>,
) -> Option<String> {
    if publishing.settings.instagram.source != InstagramSource::Url
        && login != Some(InstagramLogin::Instagram)
    {
        return None;
    }
    let base = publishing.settings.public_base_url.as_deref()?;
    let sealer = publishing.sealer.as_ref()?;
    let expires = (now + chrono::Duration::hours(VIDEO_LINK_HOURS))
        .timestamp()
        .to_string();
    let id = publication.to_string();
    let signature = sealer.signature(&[VIDEO_LINK_PURPOSE, &id, &expires]);
    Some(format!(
        "{}/media/publications/{id}/video?expires={expires}&signature={signature}",
        base.trim_end_matches('/')
    ))
}

/// The query of a signed video link.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct VideoLinkQuery {
    /// Unix seconds after which the link no longer opens.
    pub expires: i64,
    pub signature: String,
}

/// The media key a signed link opens; an altered, foreign or expired link opens nothing.
pub async fn linked_video(
    state: &AppState,
    id: Uuid,
    link: &VideoLinkQuery,
) -> Result<String, AppError> {
    let nothing = || AppError::NotFound("media file");
    let sealer = publishing(state).sealer.as_ref().ok_or_else(nothing)?;
    let genuine = sealer.verify_signature(
        &[
            VIDEO_LINK_PURPOSE,
            &id.to_string(),
            &link.expires.to_string(),
        ],
        &link.signature,
    );
    if !genuine || link.expires < state.clock.now().timestamp() {
        return Err(nothing());
    }
    let publication = db::publications::get(&state.pool, id)
        .await?
        .ok_or_else(nothing)?;
    let video = db::resources::get(&state.pool, ResourceKind::Video, publication.video_id)
        .await?
        .and_then(|video| video.output)
        .ok_or_else(nothing)?;
    serde_json::from_value::<RenderOutput>(video)
        .map(|output| output.key)
        .map_err(|_| nothing())
}
