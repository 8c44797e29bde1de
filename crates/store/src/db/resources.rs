//! Queries shared by every step resource table. Table and column names come from
//! [`ResourceKind`], never from input.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::{
    domain::{resource::StepResource, ErrorInfo, ResourceKind, Status},
    pagination::PageRequest,
};

#[derive(sqlx::FromRow)]
struct ResourceRow {
    id: Uuid,
    project_id: Uuid,
    parent_id: Option<Uuid>,
    #[sqlx(try_from = "String")]
    status: Status,
    provider: String,
    input: serde_json::Value,
    output: Option<serde_json::Value>,
    job_id: Option<Uuid>,
    error_code: Option<String>,
    error_message: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl ResourceRow {
    fn into_resource(self, kind: ResourceKind) -> StepResource {
        StepResource {
            id: self.id,
            kind,
            project_id: self.project_id,
            parent_id: self.parent_id,
            status: self.status,
            provider: self.provider,
            input: self.input,
            output: self.output,
            job_id: self.job_id,
            error: ErrorInfo::from_parts(self.error_code, self.error_message),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn columns(kind: ResourceKind) -> String {
    let parent = match kind.parent() {
        Some(_) => kind.parent_column(),
        None => "NULL::uuid",
    };
    format!(
        "id, project_id, {parent} AS parent_id, status, provider, input, output, job_id,
         error_code, error_message, created_at, updated_at"
    )
}

pub struct NewResource<'a> {
    pub id: Uuid,
    pub project_id: Uuid,
    /// The parent resource; ignored for reels, whose parent is the project.
    pub parent_id: Uuid,
    pub provider: &'a str,
    pub input: &'a serde_json::Value,
    pub job_id: Uuid,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    kind: ResourceKind,
    new: NewResource<'_>,
) -> Result<StepResource, sqlx::Error> {
    let sql = match kind.parent() {
        Some(_) => format!(
            "INSERT INTO {table} (id, project_id, {parent}, status, provider, input, job_id)
             VALUES ($1, $2, $3, 'queued', $4, $5, $6) RETURNING {columns}",
            table = kind.table(),
            parent = kind.parent_column(),
            columns = columns(kind),
        ),
        None => format!(
            "INSERT INTO {table} (id, project_id, status, provider, input, job_id)
             VALUES ($1, $2, 'queued', $4, $5, $6) RETURNING {columns}",
            table = kind.table(),
            columns = columns(kind),
        ),
    };
    sqlx::query_as::<_, ResourceRow>(&sql)
        .bind(new.id)
        .bind(new.project_id)
        .bind(new.parent_id)
        .bind(new.provider)
        .bind(new.input)
        .bind(new.job_id)
        .fetch_one(db)
        .await
        .map(|row| row.into_resource(kind))
}

pub async fn get(
    db: impl PgExecutor<'_>,
    kind: ResourceKind,
    id: Uuid,
) -> Result<Option<StepResource>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM {} WHERE id = $1",
        columns(kind),
        kind.table()
    );
    sqlx::query_as::<_, ResourceRow>(&sql)
        .bind(id)
        .fetch_optional(db)
        .await
        .map(|row| row.map(|r| r.into_resource(kind)))
}

/// Newest first among the children of `parent_id` (a project for reels).
pub async fn list_by_parent(
    db: impl PgExecutor<'_>,
    kind: ResourceKind,
    parent_id: Uuid,
    page: PageRequest,
) -> Result<Vec<StepResource>, sqlx::Error> {
    let sql = super::newest_first(
        &columns(kind),
        kind.table(),
        &format!("{} = $1", kind.parent_column()),
        1,
    );
    super::bind_page(sqlx::query_as::<_, ResourceRow>(&sql).bind(parent_id), page)
        .fetch_all(db)
        .await
        .map(|rows| rows.into_iter().map(|r| r.into_resource(kind)).collect())
}

/// Newest first among a project's resources of `kind`, in `status` when one is given.
pub async fn list_in_project(
    db: impl PgExecutor<'_>,
    kind: ResourceKind,
    project_id: Uuid,
    status: Option<Status>,
    page: PageRequest,
) -> Result<Vec<StepResource>, sqlx::Error> {
    let sql = super::newest_first(
        &columns(kind),
        kind.table(),
        "project_id = $1 AND ($2::text IS NULL OR status = $2)",
        2,
    );
    let query = sqlx::query_as::<_, ResourceRow>(&sql)
        .bind(project_id)
        .bind(status.map(Status::as_str));
    super::bind_page(query, page)
        .fetch_all(db)
        .await
        .map(|rows| rows.into_iter().map(|r| r.into_resource(kind)).collect())
}

/// Moves a resource to `status`. `output` and `error` replace the stored ones when given.
pub async fn set_status(
    db: impl PgExecutor<'_>,
    kind: ResourceKind,
    id: Uuid,
    status: Status,
    output: Option<&serde_json::Value>,
    error: Option<&ErrorInfo>,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "UPDATE {} SET status = $2, output = COALESCE($3, output), error_code = $4, error_message = $5,
         updated_at = now() WHERE id = $1",
        kind.table()
    );
    sqlx::query(&sql)
        .bind(id)
        .bind(status.as_str())
        .bind(output)
        .bind(error.map(|e| e.code.as_str()))
        .bind(error.map(|e| &e.message))
        .execute(db)
        .await?;
    Ok(())
}

/// Replaces a succeeded resource's output (a hand edit); answers whether it was succeeded.
/// Replaces a succeeded resource's output, if it is still the one read at `seen` (its
/// `updated_at`): of two edits made from the same version, the second is refused, not lost.
pub async fn replace_output(
    db: impl PgExecutor<'_>,
    kind: ResourceKind,
    id: Uuid,
    output: &serde_json::Value,
    seen: chrono::DateTime<chrono::Utc>,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE {} SET output = $2, updated_at = now()
         WHERE id = $1 AND status = 'succeeded' AND updated_at = $3",
        kind.table()
    );
    let result = sqlx::query(&sql)
        .bind(id)
        .bind(output)
        .bind(seen)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Points a resource at a new job and puts it back in `queued`.
pub async fn requeue(
    db: impl PgExecutor<'_>,
    kind: ResourceKind,
    id: Uuid,
    job_id: Uuid,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "UPDATE {} SET job_id = $2, status = 'queued', error_code = NULL, error_message = NULL, updated_at = now()
         WHERE id = $1",
        kind.table()
    );
    sqlx::query(&sql).bind(id).bind(job_id).execute(db).await?;
    Ok(())
}
