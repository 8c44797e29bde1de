use chrono::{DateTime, Utc};
use sqlx::{types::Json, PgExecutor};
use uuid::Uuid;

use crate::{
    domain::project::{Project, ProjectSettings},
    pagination::PageRequest,
};

#[derive(sqlx::FromRow)]
struct ProjectRow {
    id: Uuid,
    name: String,
    language: String,
    settings: Json<ProjectSettings>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ProjectRow> for Project {
    fn from(row: ProjectRow) -> Self {
        Project {
            id: row.id,
            name: row.name,
            language: row.language,
            settings: row.settings.0,
            created_at: row.created_at,
            updated_at: row.updated_at,
            usage: None,
            budget: None,
        }
    }
}

const COLUMNS: &str = "id, name, language, settings, created_at, updated_at";

pub async fn insert(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    name: &str,
    language: &str,
    settings: &ProjectSettings,
) -> Result<Project, sqlx::Error> {
    sqlx::query_as::<_, ProjectRow>(&format!(
        "INSERT INTO projects (id, workspace_id, name, language, settings) VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(workspace_id)
    .bind(name)
    .bind(language)
    .bind(Json(settings))
    .fetch_one(db)
    .await
    .map(Into::into)
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Project>, sqlx::Error> {
    sqlx::query_as::<_, ProjectRow>(&format!("SELECT {COLUMNS} FROM projects WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
        .map(|row| row.map(Into::into))
}

/// Locks the row so concurrent updates apply one after the other.
pub async fn get_for_update(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<Project>, sqlx::Error> {
    sqlx::query_as::<_, ProjectRow>(&format!(
        "SELECT {COLUMNS} FROM projects WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

/// A workspace's projects, newest first; fetches one row more than the page to tell whether
/// another page exists.
pub async fn list(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    page: PageRequest,
) -> Result<Vec<Project>, sqlx::Error> {
    let sql = super::newest_first(COLUMNS, "projects", "workspace_id = $1", 1);
    super::bind_page(
        sqlx::query_as::<_, ProjectRow>(&sql).bind(workspace_id),
        page,
    )
    .fetch_all(db)
    .await
    .map(|rows| rows.into_iter().map(Into::into).collect())
}

pub async fn update(db: impl PgExecutor<'_>, project: &Project) -> Result<Project, sqlx::Error> {
    sqlx::query_as::<_, ProjectRow>(&format!(
        "UPDATE projects SET name = $2, language = $3, settings = $4, updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(project.id)
    .bind(&project.name)
    .bind(&project.language)
    .bind(Json(&project.settings))
    .fetch_one(db)
    .await
    .map(Into::into)
}

pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM projects WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Serialises changes to one project's libraries (media, voices) until the transaction ends.
pub async fn lock(db: impl PgExecutor<'_>, project_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM projects WHERE id = $1 FOR NO KEY UPDATE")
        .bind(project_id)
        .execute(db)
        .await
        .map(|_| ())
}
