//! The voice library's rows.

use chrono::{DateTime, Utc};
use sqlx::{types::Json, PgExecutor};
use uuid::Uuid;

use crate::{domain::cloned_voice::ClonedVoice, pagination::PageRequest};

#[derive(sqlx::FromRow)]
struct VoiceRow {
    id: Uuid,
    project_id: Uuid,
    name: String,
    provider: String,
    provider_voice_id: String,
    sample_keys: Json<Vec<String>>,
    description: Option<String>,
    requires_verification: bool,
    is_default: bool,
    created_at: DateTime<Utc>,
}

impl From<VoiceRow> for ClonedVoice {
    fn from(row: VoiceRow) -> Self {
        ClonedVoice {
            id: row.id,
            project_id: row.project_id,
            name: row.name,
            provider: row.provider,
            provider_voice_id: row.provider_voice_id,
            sample_keys: row.sample_keys.0,
            description: row.description,
            requires_verification: row.requires_verification,
            default: row.is_default,
            created_at: row.created_at,
        }
    }
}

const COLUMNS: &str = "id, project_id, name, provider, provider_voice_id, sample_keys, \
    description, requires_verification, is_default, created_at";

pub async fn insert(
    db: impl PgExecutor<'_>,
    voice: &ClonedVoice,
) -> Result<ClonedVoice, sqlx::Error> {
    sqlx::query_as::<_, VoiceRow>(&format!(
        "INSERT INTO voices (id, project_id, name, provider, provider_voice_id, sample_keys,
             description, requires_verification, is_default)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false)
         RETURNING {COLUMNS}"
    ))
    .bind(voice.id)
    .bind(voice.project_id)
    .bind(&voice.name)
    .bind(&voice.provider)
    .bind(&voice.provider_voice_id)
    .bind(Json(&voice.sample_keys))
    .bind(&voice.description)
    .bind(voice.requires_verification)
    .fetch_one(db)
    .await
    .map(Into::into)
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<ClonedVoice>, sqlx::Error> {
    sqlx::query_as::<_, VoiceRow>(&format!("SELECT {COLUMNS} FROM voices WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
        .map(|row| row.map(Into::into))
}

pub async fn list(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
    page: PageRequest,
) -> Result<Vec<ClonedVoice>, sqlx::Error> {
    super::project_page::<VoiceRow, _>(db, COLUMNS, "voices", project_id, page).await
}

/// The project's default voice, if it has one.
pub async fn default_for(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
) -> Result<Option<ClonedVoice>, sqlx::Error> {
    sqlx::query_as::<_, VoiceRow>(&format!(
        "SELECT {COLUMNS} FROM voices WHERE project_id = $1 AND is_default"
    ))
    .bind(project_id)
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

/// Makes the voice its project's default, or no longer the default; the caller holds the
/// project's lock, so the project never has two.
pub async fn set_default(
    conn: &mut sqlx::PgConnection,
    id: Uuid,
    default: bool,
) -> Result<Option<ClonedVoice>, sqlx::Error> {
    if default {
        sqlx::query(
            "UPDATE voices SET is_default = false
             WHERE project_id = (SELECT project_id FROM voices WHERE id = $1)
               AND is_default AND id <> $1",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query_as::<_, VoiceRow>(&format!(
        "UPDATE voices SET is_default = $2 WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(default)
    .fetch_optional(&mut *conn)
    .await
    .map(|row| row.map(Into::into))
}

pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<ClonedVoice>, sqlx::Error> {
    sqlx::query_as::<_, VoiceRow>(&format!(
        "DELETE FROM voices WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}
