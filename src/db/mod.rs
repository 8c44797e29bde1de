//! Query functions. Single-statement functions take `impl PgExecutor` so the caller chooses the
//! transaction; multi-statement ones take `&mut PgConnection` (pass `&mut *tx`).

pub mod events;
pub mod idempotency;
pub mod jobs;
pub mod projects;
pub mod reels;
pub mod resources;
pub mod runs;
pub mod tokens;
pub mod usage;
pub mod watchlists;
pub mod webhooks;

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::{
    migrate::MigrateDatabase,
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool, Postgres,
};

use crate::config::DatabaseSettings;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub fn connect_options(settings: &DatabaseSettings) -> Result<PgConnectOptions, sqlx::Error> {
    settings.url.expose_secret().parse()
}

/// Connects, creating the database first when configured to and it is missing.
pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    let url = settings.url.expose_secret();
    if settings.create_if_missing && !Postgres::database_exists(url).await? {
        // Two replicas starting together may both try; the loser's error is harmless.
        if let Err(error) = Postgres::create_database(url).await {
            if !Postgres::database_exists(url).await? {
                return Err(error);
            }
        }
    }
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(settings.acquire_timeout_seconds))
        .connect_with(connect_options(settings)?)
        .await
}

/// Whether every migration this binary knows has been applied.
pub async fn is_migrated(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?;
    Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
}
