//! Projects' completion webhooks.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use sqlx::PgExecutor;
use uuid::Uuid;

pub struct Webhook {
    pub url: String,
    pub secret: SecretString,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct WebhookRow {
    url: String,
    secret: String,
    updated_at: DateTime<Utc>,
}

impl From<WebhookRow> for Webhook {
    fn from(row: WebhookRow) -> Self {
        // Registered as it is read, so a receiver that echoes it is masked on every replica.
        crate::redact::register(&row.secret);
        Webhook {
            url: row.url,
            secret: row.secret.into(),
            updated_at: row.updated_at,
        }
    }
}

pub async fn get(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
) -> Result<Option<Webhook>, sqlx::Error> {
    sqlx::query_as::<_, WebhookRow>(
        "SELECT url, secret, updated_at FROM project_webhooks WHERE project_id = $1",
    )
    .bind(project_id)
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

pub async fn put(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
    url: &str,
    secret: &str,
) -> Result<Webhook, sqlx::Error> {
    sqlx::query_as::<_, WebhookRow>(
        "INSERT INTO project_webhooks (project_id, url, secret) VALUES ($1, $2, $3)
         ON CONFLICT (project_id) DO UPDATE SET url = $2, secret = $3, updated_at = now()
         RETURNING url, secret, updated_at",
    )
    .bind(project_id)
    .bind(url)
    .bind(secret)
    .fetch_one(db)
    .await
    .map(Into::into)
}

/// Answers whether there was one.
pub async fn delete(db: impl PgExecutor<'_>, project_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM project_webhooks WHERE project_id = $1")
        .bind(project_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}
