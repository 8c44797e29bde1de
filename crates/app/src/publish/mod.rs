//! Step 7's rules: connecting platform accounts (pasted tokens or OAuth), keeping their tokens
//! sealed and fresh, editing a post's words, and starting, reading and canceling publications.
//! The posting itself is the `publish` job's (`crate::jobs::publish`).

pub use crate::domain::post_copy as copy;
pub mod instagram;
pub use crate::domain::platform_limits as limits;
pub use crate::providers::publish::{sealed, Publishing, SetupError};

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::{
    config::{InstagramSource, MediaSettings, MediaStoreKind, PublishSettings},
    db::{self, jobs::NewJob},
    domain::{
        event::{NewEvent, PublicationUpdate},
        project::FieldError,
        publishing::{
            Account, AccountStatus, AuthorizationLink, AuthorizeAccount, CopyWriter,
            InstagramLogin, NewAccount, NewPublication, Platform, PostOutput, PostPatch, Privacy,
            Publication, PublicationRequest, PublicationStatus, TiktokMode,
        },
        resource::StepResource,
        ErrorInfo, JobKind, ResourceKind, Status,
    },
    error::AppError,
    error_code::ErrorCode,
    jobs::{queue, JobError},
    pagination::{Page, PageQuery},
    providers::{publish::oauth::OAuth, render::RenderOutput, ProviderError},
    state::AppState,
};
use sealed::Sealer;

/// How long a connect link (its signed `state`) stays good.
const STATE_LIFETIME_MINUTES: i64 = 15;
/// Tokens this close to expiry are refreshed before use.
const REFRESH_MARGIN_SECONDS: i64 = 300;
/// How far ahead a publication may be scheduled, and how soon at the earliest.
const MAX_SCHEDULE_DAYS: i64 = 180;
const MIN_SCHEDULE_SECONDS: i64 = 60;
/// Attempts of one publication's job: transient platform failures are retried, the
/// checkpoints make each retry resume.
const PUBLISH_ATTEMPTS: i32 = 8;

/// The key accounts' tokens are sealed with, or why connecting accounts cannot work here.
fn sealer(publishing: &Publishing) -> Result<&Sealer, AppError> {
    publishing.sealer.as_ref().ok_or_else(|| {
        AppError::unprocessable(
            ErrorCode::NotConfigured,
            "connecting accounts needs a key to seal their tokens: set REELFORGE__PUBLISHING__TOKEN_KEY (openssl rand -base64 32)",
        )
    })
}

fn publishing(state: &AppState) -> &Publishing {
    &state.providers.publishing
}

fn expiry(now: DateTime<Utc>, expires_in: Option<u64>) -> Option<DateTime<Utc>> {
    expires_in.map(|seconds| now + chrono::Duration::seconds(seconds.min(10 * 365 * 86_400) as i64))
}

/// Seals and stores a new account.
async fn store_account(
    db: impl sqlx::PgExecutor<'_>,
    state: &AppState,
    project_id: Uuid,
    new: &NewAccount,
) -> Result<Account, AppError> {
    let sealer = sealer(publishing(state))?;
    for token in std::iter::once(&new.access_token).chain(&new.refresh_token) {
        crate::redact::register(token.expose_secret());
    }
    let id = Uuid::new_v4();
    let now = state.clock.now();
    let account = db::accounts::insert(
        db,
        db::accounts::NewAccountRow {
            id,
            project_id,
            platform: new.platform,
            name: new.name.trim(),
            external_id: new.external_id.as_deref().map(str::trim),
            access_token: sealer.seal(&new.access_token, id.as_bytes()),
            refresh_token: new
                .refresh_token
                .as_ref()
                .map(|token| sealer.seal(token, id.as_bytes())),
            expires_at: expiry(now, new.expires_in),
            instagram_login: (new.platform == Platform::Instagram)
                .then(|| InstagramLogin::of_token(new.access_token.expose_secret())),
            token_issued_at: now,
        },
    )
    .await
    .map_err(crate::projects::gone_or)?;
    Ok(account)
}

/// Connects an account from tokens the user pasted.
pub async fn connect(
    state: &AppState,
    project_id: Uuid,
    new: NewAccount,
) -> Result<Account, AppError> {
    crate::projects::require(state, project_id).await?;
    let problems = new.problems();
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    store_account(&state.pool, state, project_id, &new).await
}

/// What a connect link's `state` carries, signed.
#[derive(Serialize, Deserialize)]
struct OAuthState {
    project_id: Uuid,
    platform: Platform,
    name: String,
    expires_at: i64,
    /// Spent by the callback: a link connects one account, once.
    nonce: String,
}

fn callback_url(state: &AppState, platform: Platform) -> Result<String, AppError> {
    let base = publishing(state)
        .settings
        .public_base_url
        .as_deref()
        .filter(|url| !url.is_empty())
        .ok_or_else(|| {
            AppError::unprocessable(
                ErrorCode::NotConfigured,
                "OAuth needs the service's public address: set REELFORGE__PUBLISHING__PUBLIC_BASE_URL",
            )
        })?;
    Ok(format!(
        "{}/oauth/{platform}/callback",
        base.trim_end_matches('/')
    ))
}

/// A link that sends the user to the platform to grant access; the callback stores the account.
pub async fn authorize(
    state: &AppState,
    project_id: Uuid,
    body: AuthorizeAccount,
) -> Result<AuthorizationLink, AppError> {
    crate::projects::require(state, project_id).await?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::validation("name", "must be 1 to 200 characters"));
    }
    let publishing = publishing(state);
    let sealer = sealer(publishing)?;
    let redirect = callback_url(state, body.platform)?;
    let expires_at = state.clock.now() + chrono::Duration::minutes(STATE_LIFETIME_MINUTES);
    let nonce = Uuid::new_v4().simple().to_string();
    let mut conn = state.pool.acquire().await?;
    db::accounts::remember_oauth_state(&mut conn, &nonce, project_id, expires_at)
        .await
        .map_err(crate::projects::gone_or)?;
    let signed = sealer.sign(
        &serde_json::to_vec(&OAuthState {
            project_id,
            platform: body.platform,
            name: name.to_owned(),
            expires_at: expires_at.timestamp(),
            nonce,
        })
        .map_err(|error| AppError::Internal(error.into()))?,
    );
    let url = publishing
        .oauth
        .authorize_url(body.platform, &signed, &redirect)
        .map_err(AppError::Upstream)?;
    Ok(AuthorizationLink { url, expires_at })
}

/// What the platform sends the user back with.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set when the user declined or the platform refused.
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Finishes an OAuth connection: checks the signed state, trades the code for tokens and stores
/// the account.
pub async fn callback(
    state: &AppState,
    platform: Platform,
    query: CallbackQuery,
) -> Result<Account, AppError> {
    let publishing = publishing(state);
    let sealer = sealer(publishing)?;
    let invalid = |why: &str| AppError::bad_request(ErrorCode::InvalidOauthState, why.to_owned());
    let signed: OAuthState = query
        .state
        .as_deref()
        .and_then(|s| sealer.verify(s))
        .and_then(|payload| serde_json::from_slice(&payload).ok())
        .ok_or_else(|| invalid("the state was not signed by this service"))?;
    if signed.platform != platform {
        return Err(invalid("the state is for another platform"));
    }
    if signed.expires_at < state.clock.now().timestamp() {
        return Err(invalid("the connect link expired; start again"));
    }
    // The link is spent only once the platform has answered for good: a platform that could
    // not answer (5xx, timeout) leaves it good for the user's retry. The lock keeps a second
    // callback with the same link waiting until this one has settled it.
    let mut tx = state.pool.begin().await?;
    if !db::accounts::lock_oauth_state(&mut tx, &signed.nonce, signed.project_id).await? {
        return Err(invalid("the connect link was used already; start again"));
    }
    if let Some(error) = query.error {
        spend_oauth_state(tx, &signed).await?;
        return Err(AppError::unprocessable(
            ErrorCode::ProviderRejected,
            format!(
                "{platform} did not grant access: {error} {}",
                query.error_description.unwrap_or_default()
            ),
        ));
    }
    let code = query
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AppError::validation("code", "the platform sent no code"))?;
    let redirect = callback_url(state, platform)?;
    let grant = match publishing.oauth.exchange(platform, &code, &redirect).await {
        Ok(grant) => grant,
        Err(error) => {
            if !matches!(error, ProviderError::Retryable { .. }) {
                spend_oauth_state(tx, &signed).await?;
            }
            return Err(AppError::Upstream(error));
        }
    };
    let account = store_account(
        &mut *tx,
        state,
        signed.project_id,
        &NewAccount {
            platform,
            name: signed.name.clone(),
            external_id: grant.account_id,
            access_token: grant.access_token,
            refresh_token: grant.refresh_token,
            expires_in: grant.expires_in,
        },
    )
    .await?;
    spend_oauth_state(tx, &signed).await?;
    Ok(account)
}

/// Spends a connect link and commits what was done with it.
async fn spend_oauth_state(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    signed: &OAuthState,
) -> Result<(), AppError> {
    db::accounts::spend_oauth_state(&mut tx, &signed.nonce, signed.project_id).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list_accounts(
    state: &AppState,
    project_id: Uuid,
    query: &PageQuery,
) -> Result<Page<Account>, AppError> {
    let page = query.parse()?;
    crate::projects::require(state, project_id).await?;
    let rows = db::accounts::list(&state.pool, project_id, page).await?;
    Ok(Page::from_rows_by(rows, page.limit, |a| {
        crate::pagination::Cursor {
            created_at: a.created_at,
            id: a.id,
        }
    }))
}

pub async fn account(state: &AppState, id: Uuid) -> Result<Account, AppError> {
    db::accounts::get(&state.pool, id)
        .await?
        .map(|stored| stored.account)
        .ok_or(AppError::NotFound("account"))
}

pub async fn delete_account(state: &AppState, id: Uuid) -> Result<(), AppError> {
    if db::accounts::delete(&state.pool, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound("account"))
    }
}

/// An account's access token for a job, refreshed first when it is about to expire or when
/// `force` (the platform just refused it). A refused refresh marks the account.
pub async fn access_token(
    pool: &sqlx::PgPool,
    publishing: &Publishing,
    account_id: Uuid,
    force: bool,
    now: DateTime<Utc>,
) -> Result<(Account, SecretString), JobError> {
    let sealer = publishing.sealer.as_ref().ok_or_else(|| {
        JobError::fatal(ErrorCode::NotConfigured, "publishing.token_key is not set")
    })?;
    let mut tx = pool.begin().await?;
    let stored = db::accounts::get_for_update(&mut *tx, account_id)
        .await?
        .ok_or_else(|| JobError::fatal(ErrorCode::ResourceMissing, "the account was removed"))?;
    let account = stored.account;
    if account.status == AccountStatus::ReauthorizationNeeded {
        return Err(JobError::fatal(
            ErrorCode::AccountReauthorizationNeeded,
            format!(
                "the {} account `{}` needs connecting again: {}",
                account.platform,
                account.name,
                account.status_reason.unwrap_or_default()
            ),
        ));
    }
    let bound = account.id.as_bytes();
    let unreadable =
        |error: sealed::SealError| JobError::fatal(ErrorCode::NotConfigured, error.to_string());
    let token = sealer
        .open(&stored.access_token, bound)
        .map_err(unreadable)?;
    if account.instagram_login == Some(InstagramLogin::Instagram) && !force {
        let token = instagram::refreshed(
            &mut tx,
            publishing,
            &account,
            token,
            stored.token_issued_at,
            now,
        )
        .await;
        tx.commit().await?;
        return Ok((account, token?));
    }
    let expiring = account
        .expires_at
        .is_some_and(|at| at <= now + chrono::Duration::seconds(REFRESH_MARGIN_SECONDS));
    if !(force || expiring) {
        return Ok((account, token));
    }
    let Some(sealed_refresh) = stored.refresh_token else {
        if !force {
            // No way to renew it; the platform will say whether it still works.
            return Ok((account, token));
        }
        let reason = "the platform refused the token and no refresh token is kept";
        db::accounts::mark_reauthorization_needed(&mut *tx, account.id, reason).await?;
        tx.commit().await?;
        return Err(JobError::fatal(
            ErrorCode::AccountReauthorizationNeeded,
            reason,
        ));
    };
    let refresh = sealer.open(&sealed_refresh, bound).map_err(unreadable)?;
    match publishing.oauth.refresh(account.platform, &refresh).await {
        Ok(grant) => {
            db::accounts::store_tokens(
                &mut *tx,
                account.id,
                sealer.seal(&grant.access_token, bound),
                grant.refresh_token.as_ref().map(|t| sealer.seal(t, bound)),
                expiry(now, grant.expires_in),
                now,
            )
            .await?;
            tx.commit().await?;
            Ok((account, grant.access_token))
        }
        Err(error) if error.code() == Some(ErrorCode::AccountReauthorizationNeeded) => {
            let reason = crate::redact::redact(&error.to_string()).into_owned();
            db::accounts::mark_reauthorization_needed(&mut *tx, account.id, &reason).await?;
            tx.commit().await?;
            Err(error.into())
        }
        Err(error) => Err(error.into()),
    }
}

/// The succeeded post a publication takes its words from.
async fn post_for(
    conn: &mut sqlx::PgConnection,
    video_id: Uuid,
    post_id: Option<Uuid>,
) -> Result<Option<(Uuid, PostOutput)>, AppError> {
    let post = match post_id {
        Some(id) => {
            let post = db::resources::get(&mut *conn, ResourceKind::Post, id)
                .await?
                .filter(|post| post.parent_id == Some(video_id))
                .ok_or_else(|| AppError::validation("post_id", "is not a post of this video"))?;
            if post.status != Status::Succeeded {
                return Err(AppError::validation(
                    "post_id",
                    format!("the post is {}; it must have succeeded", post.status),
                ));
            }
            Some(post)
        }
        None => db::resources::list_by_parent(
            &mut *conn,
            ResourceKind::Post,
            video_id,
            crate::pagination::PageRequest {
                after: None,
                limit: 50,
            },
        )
        .await?
        .into_iter()
        .find(|post| post.status == Status::Succeeded),
    };
    post.map(|post| {
        let output = post.output.clone().unwrap_or_default();
        serde_json::from_value::<PostOutput>(output)
            .map(|output| (post.id, output))
            .map_err(|error| AppError::Internal(anyhow::anyhow!("stored post output: {error}")))
    })
    .transpose()
}

/// The field of a publication's `copy` a failed check is about.
fn copy_field(check: &str) -> &'static str {
    // TikTok's `title` is the caption; only YouTube's title is the title.
    if check.starts_with("youtube_title") {
        "copy.title"
    } else if check.contains("hashtag") || check.contains("tags") {
        "copy.hashtags"
    } else {
        "copy.caption"
    }
}

fn video_facts(output: &RenderOutput) -> limits::VideoFacts {
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

fn already_published(existing: &Publication) -> AppError {
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
fn unaudited_problem(
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
    let job = queue::enqueue(
        &mut *conn,
        &NewJob {
            id: Uuid::new_v4(),
            kind: JobKind::Publish,
            project_id: Some(publication.project_id),
            resource: None,
            payload: json!({ "publication_id": publication.id }),
            max_attempts: PUBLISH_ATTEMPTS,
        },
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

async fn settle_orphan(
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
            ErrorInfo {
                code: ErrorCode::Canceled,
                message: "the job was canceled".into(),
            },
        )
    } else {
        (
            PublicationStatus::Failed,
            job.last_error.unwrap_or(ErrorInfo {
                code: ErrorCode::LeaseExpired,
                message: "the publishing job stopped".into(),
            }),
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
        &ErrorInfo {
            code: ErrorCode::Canceled,
            message: "canceled before it was posted".into(),
        },
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

/// The longest caption or title accepted in an edit.
const EDIT_MAX_CHARS: usize = 5_000;

/// A hand edit of a succeeded post's words: checked again, the stored checks always describe
/// the stored words.
pub async fn edit_post(
    state: &AppState,
    id: Uuid,
    patch: PostPatch,
) -> Result<StepResource, AppError> {
    let resource = db::resources::get(&state.pool, ResourceKind::Post, id)
        .await?
        .ok_or(AppError::NotFound("post"))?;
    let (Some(output), Status::Succeeded) = (resource.output.clone(), resource.status) else {
        return Err(AppError::conflict(
            ErrorCode::ParentNotReady,
            format!(
                "the post is {}; only finished words can be edited",
                resource.status
            ),
        ));
    };
    let mut post: PostOutput = serde_json::from_value(output)
        .map_err(|error| AppError::Internal(anyhow::anyhow!("stored post output: {error}")))?;
    let mut problems = Vec::new();
    for (field, value) in [("title", &patch.title), ("caption", &patch.caption)] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > EDIT_MAX_CHARS)
        {
            problems.push(FieldError::new(
                field,
                format!("must be at most {EDIT_MAX_CHARS} characters"),
            ));
        }
    }
    if let Some(tags) = &patch.hashtags {
        for (index, tag) in tags.iter().enumerate() {
            if let Err(problem) = copy::hashtag_problem(tag.trim_start_matches('#')) {
                problems.push(FieldError::new(format!("hashtags[{index}]"), problem));
            }
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    if let Some(title) = patch.title {
        post.title = title.trim().to_owned();
    }
    if let Some(caption) = patch.caption {
        post.caption = caption.trim().to_owned();
    }
    if let Some(tags) = patch.hashtags {
        post.hashtags = copy::merge_hashtags(tags.iter().map(String::as_str), usize::MAX);
    }
    let project = db::projects::get(&state.pool, resource.project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    post.checks = copy::evaluate(
        &post.copy(),
        &post.language,
        project.settings.publishing.allow_emoji,
    );
    post.writer = CopyWriter::Edited;
    post.review_reasons = review_reasons(&post.checks);
    post.needs_review = !post.review_reasons.is_empty();
    let output = serde_json::to_value(&post).map_err(|error| AppError::Internal(error.into()))?;
    AppError::require_storable("title", &output)?;
    let mut tx = state.pool.begin().await?;
    if !db::resources::replace_output(
        &mut *tx,
        ResourceKind::Post,
        id,
        &output,
        resource.updated_at,
    )
    .await?
    {
        return Err(AppError::conflict(
            ErrorCode::ParentNotReady,
            "the post changed while it was being edited; fetch it and try again",
        ));
    }
    db::events::append(
        &mut tx,
        &[NewEvent::about_resource(
            "post.edited".into(),
            ResourceKind::Post,
            id,
            resource.project_id,
            crate::domain::event::data(&crate::domain::event::PostEdited {
                id,
                needs_review: post.needs_review,
                checks: post.checks.clone(),
            }),
        )],
    )
    .await?;
    tx.commit().await?;
    db::resources::get(&state.pool, ResourceKind::Post, id)
        .await?
        .ok_or(AppError::NotFound("post"))
}

/// One reason per failed check.
pub fn review_reasons(checks: &[crate::domain::publishing::CopyCheck]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect()
}

/// The most accounts one run publishes each video to.
const RUN_MAX_ACCOUNTS: usize = 6;

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
const VIDEO_LINK_HOURS: i64 = 24;
const VIDEO_LINK_PURPOSE: &str = "publication video";

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

/// What posting to each platform needs here and has, line by line, for `reelforge doctor`.
/// Without a configured token key, the one kept in the media root (made on the first start with
/// the local store).
pub fn readiness(settings: &PublishSettings, media: &MediaSettings) -> Vec<(String, String)> {
    let kept = media.root.join(sealed::KEY_FILE);
    let configure =
        "several replicas need one key configured on each (REELFORGE__PUBLISHING__TOKEN_KEY";
    let mut lines = vec![(
        "token key".to_owned(),
        match &settings.token_key {
            Some(key) => match Sealer::new(key) {
                Ok(_) => "ready".to_owned(),
                Err(error) => format!("invalid: {error}"),
            },
            None if media.store != MediaStoreKind::Local => format!(
                "not set: no account can be connected; with the s3 store {configure}, openssl rand -base64 32)"
            ),
            None if kept.exists() => format!(
                "kept in {} (made on the first start): enough for one machine; {configure}, this file's content)",
                kept.display()
            ),
            None => format!(
                "not set: the first start makes one in {}, enough for one machine; {configure}, openssl rand -base64 32)",
                kept.display()
            ),
        },
    )];
    let oauth = OAuth::new(settings);
    let base = settings
        .public_base_url
        .as_deref()
        .filter(|b| !b.is_empty());
    for platform in Platform::ALL {
        let connect = match (oauth.offers(*platform), base) {
            (true, Some(base)) => format!(
                "OAuth (callback {}/oauth/{platform}/callback) or pasted tokens",
                base.trim_end_matches('/')
            ),
            (true, None) => {
                "pasted tokens; OAuth also needs REELFORGE__PUBLISHING__PUBLIC_BASE_URL".to_owned()
            }
            (false, _) if *platform == Platform::Instagram => format!(
                "pasted long-lived tokens (Graph API {})",
                settings.instagram.graph_version
            ),
            (false, _) => format!(
                "pasted tokens; for OAuth set REELFORGE__PUBLISHING__{}__CLIENT__ID and __SECRET",
                platform.as_str().to_uppercase()
            ),
        };
        let source = match (*platform, settings.instagram.source, base) {
            (Platform::Instagram, InstagramSource::Url, _) => {
                "; Instagram fetches signed links".to_owned()
            }
            (Platform::Instagram, InstagramSource::Upload, Some(_)) => {
                "; Facebook Login accounts upload resumably, Instagram Login accounts give signed links".to_owned()
            }
            (Platform::Instagram, InstagramSource::Upload, None) => format!(
                "; Facebook Login accounts upload resumably; Instagram Login accounts cannot post ({})",
                crate::providers::publish::instagram::NO_LINK
            ),
            (Platform::Tiktok, _, _) if !settings.tiktok.audited => {
                "; private direct posts only until TikTok audits the app (REELFORGE__PUBLISHING__TIKTOK__AUDITED)".to_owned()
            }
            _ => String::new(),
        };
        lines.push((platform.to_string(), format!("{connect}{source}")));
    }
    lines
}
