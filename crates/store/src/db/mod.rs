//! Query functions. Single-statement functions take `impl PgExecutor` so the caller chooses the
//! transaction; multi-statement ones take `&mut PgConnection` (pass `&mut *tx`).

pub mod accounts;
pub mod assets;
pub mod budget;
pub mod events;
pub mod idempotency;
pub mod jobs;
pub mod link_keys;
pub mod pooler;
pub mod projects;
pub mod publications;
pub mod reels;
pub mod resources;
pub mod runs;
pub mod stock;
pub mod tokens;
pub mod usage;
pub mod voices;
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

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// A page of `table`'s rows where `filter` holds, newest first from the cursor, one row past the
/// page (to tell whether another follows). `filter` uses `$1` to `$binds`; the cursor and the
/// limit come after, bound by [`bind_page`].
pub fn newest_first(columns: &str, table: &str, filter: &str, binds: usize) -> String {
    let (at, id, limit) = (binds + 1, binds + 2, binds + 3);
    format!(
        "SELECT {columns} FROM {table}
         WHERE {filter} AND (${at}::timestamptz IS NULL OR (created_at, id) < (${at}, ${id}))
         ORDER BY created_at DESC, id DESC LIMIT ${limit}"
    )
}

/// Binds what [`newest_first`] expects after the filter's own parameters.
pub fn bind_page<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    page: crate::pagination::PageRequest,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    query
        .bind(page.after.map(|c| c.created_at))
        .bind(page.after.map(|c| c.id))
        .bind(i64::from(page.limit) + 1)
}

/// One page of a project's rows of `table` (read as `R`, answered as `T`), newest first.
pub async fn project_page<R, T>(
    db: impl sqlx::PgExecutor<'_>,
    columns: &str,
    table: &str,
    project_id: uuid::Uuid,
    page: crate::pagination::PageRequest,
) -> Result<Vec<T>, sqlx::Error>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    T: From<R>,
{
    let sql = newest_first(columns, table, "project_id = $1", 1);
    bind_page(sqlx::query_as::<_, R>(&sql).bind(project_id), page)
        .fetch_all(db)
        .await
        .map(|rows| rows.into_iter().map(Into::into).collect())
}

pub fn connect_options(settings: &DatabaseSettings) -> Result<PgConnectOptions, sqlx::Error> {
    settings.url.expose_secret().parse()
}

/// LISTEN connections one replica holds at most: the event bus, the workers, the run advancer
/// and the token cache, with room for reconnecting and the migrations.
const DIRECT_CONNECTIONS: u32 = 8;

/// Where LISTEN connections (and the migrations, which hold a session-level advisory lock) come
/// from: a pool of their own on `listen_url` when it is set, since behind a pooler in
/// transaction mode a LISTEN hears nothing once its server connection goes back to the pool;
/// otherwise `pool` itself. Connections are made when first needed.
pub fn direct_pool(settings: &DatabaseSettings, pool: &PgPool) -> Result<PgPool, sqlx::Error> {
    let Some(url) = &settings.listen_url else {
        return Ok(pool.clone());
    };
    let options: PgConnectOptions = url.expose_secret().parse()?;
    Ok(PgPoolOptions::new()
        .max_connections(DIRECT_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(settings.acquire_timeout_seconds))
        .connect_lazy_with(options.application_name("reelforge-listen")))
}

/// Connects, creating the database first when configured to and it is missing (through the
/// direct connection when there is one: a pooler only knows the databases it was given).
pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    let url = settings
        .listen_url
        .as_ref()
        .unwrap_or(&settings.url)
        .expose_secret();
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
