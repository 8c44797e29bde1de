use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::event::{Event, NewEvent};

/// Any constant works as long as every writer of `events` uses the same one.
const EVENT_LOG_LOCK: i64 = 0x7265_656c_666f_7267; // "reelforg"

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    kind: String,
    project_id: Option<Uuid>,
    workspace_id: Option<Uuid>,
    resource_type: Option<String>,
    resource_id: Option<Uuid>,
    data: serde_json::Value,
    created_at: DateTime<Utc>,
}

impl From<EventRow> for Event {
    fn from(row: EventRow) -> Self {
        Event {
            id: row.id,
            kind: row.kind,
            project_id: row.project_id,
            workspace_id: row.workspace_id,
            resource_type: row.resource_type,
            resource_id: row.resource_id,
            data: row.data,
            created_at: row.created_at,
        }
    }
}

/// Appends events inside the caller's transaction. The advisory lock is held until that
/// transaction ends, so events become visible in id order (see the migration); call this as the
/// last statement of a transaction to keep the lock short. A trigger sends the NOTIFY.
pub async fn append(conn: &mut PgConnection, events: &[NewEvent]) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(EVENT_LOG_LOCK)
        .execute(&mut *conn)
        .await?;
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    let projects: Vec<Option<Uuid>> = events.iter().map(|e| e.project_id).collect();
    let resource_types: Vec<Option<&str>> = events.iter().map(|e| e.resource_type).collect();
    let resource_ids: Vec<Option<Uuid>> = events.iter().map(|e| e.resource_id).collect();
    let data: Vec<&serde_json::Value> = events.iter().map(|e| &e.data).collect();
    sqlx::query(
        "INSERT INTO events (kind, project_id, workspace_id, resource_type, resource_id, data)
         SELECT kind, project_id, (SELECT workspace_id FROM projects p WHERE p.id = e.project_id),
                resource_type, resource_id, data FROM UNNEST($1::text[], $2::uuid[], $3::text[], $4::uuid[], $5::jsonb[])
         WITH ORDINALITY AS e(kind, project_id, resource_type, resource_id, data, n)
         ORDER BY n",
    )
    .bind(kinds)
    .bind(projects)
    .bind(resource_types)
    .bind(resource_ids)
    .bind(data)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Which events a reader sees: all (`None`s), one workspace's, one project's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub workspace_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
}

impl EventFilter {
    pub fn admits(&self, workspace_id: Option<Uuid>, project_id: Option<Uuid>) -> bool {
        (self.workspace_id.is_none() || self.workspace_id == workspace_id)
            && (self.project_id.is_none() || self.project_id == project_id)
    }
}

/// Events after `after_id`, oldest first, as `filter` admits them.
pub async fn list_after(
    db: impl PgExecutor<'_>,
    after_id: i64,
    filter: EventFilter,
    limit: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    sqlx::query_as::<_, EventRow>(
        "SELECT id, kind, project_id, workspace_id, resource_type, resource_id, data, created_at FROM events
         WHERE id > $1 AND ($2::uuid IS NULL OR project_id = $2) AND ($3::uuid IS NULL OR workspace_id = $3)
         ORDER BY id LIMIT $4",
    )
    .bind(after_id)
    .bind(filter.project_id)
    .bind(filter.workspace_id)
    .bind(limit)
    .fetch_all(db)
    .await
    .map(|rows| rows.into_iter().map(Into::into).collect())
}

pub async fn last_id(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events")
        .fetch_one(db)
        .await
}

/// What was announced when an alert was raised (the `alert` event's data).
pub async fn alert(
    db: impl PgExecutor<'_>,
    alert_id: Uuid,
) -> Result<Option<crate::domain::watchlist::AlertRaised>, sqlx::Error> {
    let data: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT data FROM events WHERE kind = 'alert' AND resource_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(alert_id)
    .fetch_optional(db)
    .await?;
    Ok(data.and_then(|data| serde_json::from_value(data).ok()))
}
