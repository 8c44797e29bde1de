//! Publications' rows. Status changes name the status they leave, so a late worker never
//! overwrites a cancel or a finished post.

use chrono::{DateTime, Utc};
use sqlx::{types::Json, PgExecutor};
use uuid::Uuid;

use crate::{
    domain::{
        publishing::{
            Platform, Publication, PublicationCover, PublicationRequest, PublicationStatus,
            PublicationWait, PublishOutcome,
        },
        ErrorInfo,
    },
    pagination::PageRequest,
};

#[derive(sqlx::FromRow)]
struct PublicationRow {
    id: Uuid,
    project_id: Uuid,
    video_id: Uuid,
    account_id: Uuid,
    #[sqlx(try_from = "String")]
    platform: Platform,
    #[sqlx(try_from = "String")]
    status: PublicationStatus,
    request: Json<PublicationRequest>,
    schedule_at: Option<DateTime<Utc>>,
    job_id: Option<Uuid>,
    post_id: Option<String>,
    post_url: Option<String>,
    outcome: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    waiting: Option<Json<PublicationWait>>,
    cover: Option<Json<PublicationCover>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
}

impl From<PublicationRow> for Publication {
    fn from(row: PublicationRow) -> Self {
        Publication {
            id: row.id,
            project_id: row.project_id,
            video_id: row.video_id,
            account_id: row.account_id,
            platform: row.platform,
            status: row.status,
            request: row.request.0,
            schedule_at: row.schedule_at,
            job_id: row.job_id,
            post_id: row.post_id,
            post_url: row.post_url,
            outcome: row.outcome.and_then(|o| o.parse().ok()),
            error: ErrorInfo::from_parts(row.error_code, row.error_message),
            waiting: row.waiting.map(|w| w.0),
            cover: row.cover.map(|c| c.0),
            created_at: row.created_at,
            updated_at: row.updated_at,
            published_at: row.published_at,
        }
    }
}

const COLUMNS: &str = "id, project_id, video_id, account_id, platform, status, request, schedule_at, \
    job_id, post_id, post_url, outcome, error_code, error_message, waiting, cover, created_at, updated_at, \
    published_at";

type MaybePublication = Result<Option<Publication>, sqlx::Error>;

pub async fn insert(
    db: impl PgExecutor<'_>,
    publication: &Publication,
) -> Result<Publication, sqlx::Error> {
    sqlx::query_as::<_, PublicationRow>(&format!(
        "INSERT INTO publications (id, project_id, video_id, account_id, platform, status, request,
             schedule_at, job_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
    ))
    .bind(publication.id)
    .bind(publication.project_id)
    .bind(publication.video_id)
    .bind(publication.account_id)
    .bind(publication.platform.as_str())
    .bind(publication.status.as_str())
    .bind(Json(&publication.request))
    .bind(publication.schedule_at)
    .bind(publication.job_id)
    .fetch_one(db)
    .await
    .map(Into::into)
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> MaybePublication {
    sqlx::query_as::<_, PublicationRow>(&format!(
        "SELECT {COLUMNS} FROM publications WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

pub async fn list_for_video(
    db: impl PgExecutor<'_>,
    video_id: Uuid,
    page: PageRequest,
) -> Result<Vec<Publication>, sqlx::Error> {
    let sql = super::newest_first(COLUMNS, "publications", "video_id = $1", 1);
    super::bind_page(
        sqlx::query_as::<_, PublicationRow>(&sql).bind(video_id),
        page,
    )
    .fetch_all(db)
    .await
    .map(|rows| rows.into_iter().map(Into::into).collect())
}

/// Moves an unfinished publication forward to `status`; none when it is there or further
/// already, or has finished or been canceled.
pub async fn advance(
    db: impl PgExecutor<'_>,
    id: Uuid,
    status: PublicationStatus,
) -> MaybePublication {
    sqlx::query_as::<_, PublicationRow>(&format!(
        "UPDATE publications SET status = $2, updated_at = now()
         WHERE id = $1
           AND array_position(ARRAY['scheduled', 'uploading', 'processing'], status)
             < array_position(ARRAY['scheduled', 'uploading', 'processing'], $2)
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(status.as_str())
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

pub async fn mark_published(
    db: impl PgExecutor<'_>,
    id: Uuid,
    post_id: Option<&str>,
    post_url: Option<&str>,
    outcome: PublishOutcome,
    published_at: DateTime<Utc>,
) -> MaybePublication {
    sqlx::query_as::<_, PublicationRow>(&format!(
        "UPDATE publications SET status = 'published', post_id = $2, post_url = $3, outcome = $4,
             published_at = $5, error_code = NULL, error_message = NULL, waiting = NULL,
             updated_at = now()
         WHERE id = $1 AND status IN ('scheduled', 'uploading', 'processing')
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(post_id)
    .bind(post_url)
    .bind(outcome.as_str())
    .bind(published_at)
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

/// Ends an unfinished publication as failed or canceled, with why.
pub async fn finish_unpublished(
    db: impl PgExecutor<'_>,
    id: Uuid,
    status: PublicationStatus,
    error: &ErrorInfo,
    only_from: &[PublicationStatus],
) -> MaybePublication {
    let from: Vec<&str> = only_from.iter().map(|s| s.as_str()).collect();
    sqlx::query_as::<_, PublicationRow>(&format!(
        "UPDATE publications SET status = $2, error_code = $3, error_message = $4, waiting = NULL,
             updated_at = now()
         WHERE id = $1 AND status = ANY($5)
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(status.as_str())
    .bind(error.code.as_str())
    .bind(&error.message)
    .bind(&from)
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

/// Records what an unfinished publication waits for (none: it waits no more).
pub async fn set_waiting(
    db: impl PgExecutor<'_>,
    id: Uuid,
    waiting: Option<&PublicationWait>,
) -> MaybePublication {
    sqlx::query_as::<_, PublicationRow>(&format!(
        "UPDATE publications SET waiting = $2, updated_at = now()
         WHERE id = $1 AND status IN ('scheduled', 'uploading', 'processing')
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(waiting.map(Json))
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

/// Records where a published post's cover stands.
pub async fn set_cover(
    db: impl PgExecutor<'_>,
    id: Uuid,
    cover: &PublicationCover,
) -> MaybePublication {
    sqlx::query_as::<_, PublicationRow>(&format!(
        "UPDATE publications SET cover = $2, updated_at = now()
         WHERE id = $1 AND status = 'published'
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(Json(cover))
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

/// The publication a job posts.
pub async fn for_job(db: impl PgExecutor<'_>, job_id: Uuid) -> MaybePublication {
    sqlx::query_as::<_, PublicationRow>(&format!(
        "SELECT {COLUMNS} FROM publications WHERE job_id = $1"
    ))
    .bind(job_id)
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

/// Opens a failed publication again, for its job retried by hand.
pub async fn reopen(db: impl PgExecutor<'_>, id: Uuid) -> MaybePublication {
    sqlx::query_as::<_, PublicationRow>(&format!(
        "UPDATE publications SET status = 'scheduled', error_code = NULL, error_message = NULL,
             updated_at = now()
         WHERE id = $1 AND status = 'failed'
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

/// The video's live publication to the account (scheduled, under way or published), if any.
pub async fn active_for(
    db: impl PgExecutor<'_>,
    video_id: Uuid,
    account_id: Uuid,
) -> MaybePublication {
    sqlx::query_as::<_, PublicationRow>(&format!(
        "SELECT {COLUMNS} FROM publications
         WHERE video_id = $1 AND account_id = $2
           AND status IN ('scheduled', 'uploading', 'processing', 'published')"
    ))
    .bind(video_id)
    .bind(account_id)
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}
