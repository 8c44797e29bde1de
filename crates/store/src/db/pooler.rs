//! What stands between the service and PostgreSQL, told by probing it (for `doctor`): a
//! pooler in transaction mode hands each transaction whichever server connection is free, so
//! session state does not survive from one statement to the next.

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::{postgres::PgListener, Connection, Executor, PgConnection, Row};

use crate::config::DatabaseSettings;

/// How long one probe may wait on the database before it counts as an answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
const PROBE_CHANNEL: &str = "reelforge_doctor";

/// What the probes found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Findings {
    /// `SHOW server_version` through `database.url`.
    pub server_version: String,
    /// Statements of one client connection reach different server connections.
    pub transaction_pooling: bool,
    /// A prepared statement could be run again from another transaction (always, without a
    /// transaction pooler; with one, when it supports protocol-level prepared statements).
    pub prepared_statements_kept: bool,
    /// A NOTIFY reached a LISTEN on `listen_url` (or `url` when unset).
    pub listen_works: bool,
}

impl Findings {
    /// Whether the service works with this setup.
    pub fn is_usable(&self) -> bool {
        self.prepared_statements_kept && self.listen_works
    }

    /// `doctor`'s lines: (what, how it is).
    pub fn lines(&self, settings: &DatabaseSettings) -> Vec<(&'static str, String)> {
        let route = if self.transaction_pooling {
            "through a pooler in transaction mode"
        } else {
            "direct, or through a pooler in session mode"
        };
        let prepared = match (self.transaction_pooling, self.prepared_statements_kept) {
            (false, _) => "ok (one server connection per client)".to_owned(),
            (true, true) => "ok (the pooler keeps them across server connections)".to_owned(),
            (true, false) => "NOT KEPT by the pooler: use PgBouncer 1.21 or later with \
                max_prepared_statements > 0 (or session mode)"
                .to_owned(),
        };
        let listen_on = if settings.listen_url.is_some() {
            "database.listen_url"
        } else {
            "database.url"
        };
        let listen = match (self.listen_works, settings.listen_url.is_some()) {
            (true, _) => format!("ok on {listen_on}"),
            (false, true) => "FAILS on database.listen_url: point it at PostgreSQL directly".into(),
            (false, false) => "FAILS through the pooler: set REELFORGE__DATABASE__LISTEN_URL \
                to a direct connection"
                .into(),
        };
        vec![
            (
                "url",
                format!("ok (PostgreSQL {}), {route}", self.server_version),
            ),
            ("prepared", prepared),
            ("listen", listen),
        ]
    }
}

async fn connect(url: &str) -> Result<PgConnection, sqlx::Error> {
    tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect(url))
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
}

/// One text answer through the simple query protocol: a single message, so it works through
/// any pooler whatever it does with prepared statements.
async fn text(conn: &mut PgConnection, sql: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::raw_sql(sql).fetch_one(conn).await?.try_get(0)
}

/// Probes `database.url` and the LISTEN connection.
pub async fn probe(settings: &DatabaseSettings) -> Result<Findings, sqlx::Error> {
    let url = settings.url.expose_secret();
    let mut a = connect(url).await?;
    let mut b = connect(url).await?;
    let server_version = text(&mut a, "SHOW server_version")
        .await?
        .unwrap_or_default();

    // A session setting on `a`, then `b` holds a transaction open, so that `a`'s next
    // statement cannot be handed the server connection it had: only a transaction pooler
    // forgets the setting (or, with a single server connection, makes `a` wait).
    let marker = uuid::Uuid::new_v4().simple().to_string();
    text(
        &mut a,
        &format!("SELECT set_config('reelforge.probe', '{marker}', false)"),
    )
    .await?;
    let mut held = b.begin().await?;
    (&mut *held).execute("SELECT 1").await?;
    let seen = tokio::time::timeout(
        PROBE_TIMEOUT,
        text(&mut a, "SELECT current_setting('reelforge.probe', true)"),
    )
    .await;
    held.rollback().await?;
    // No setting outlives the probe on a pooled server connection.
    let _ = sqlx::raw_sql("RESET reelforge.probe").execute(&mut a).await;
    let prepared_statements_kept = match &seen {
        Ok(Ok(Some(value))) if *value == marker => true,
        // A single server connection: nothing moves between them.
        Err(_) => true,
        Ok(_) => prepared_statement_survives(url).await?,
    };
    let transaction_pooling = !matches!(&seen, Ok(Ok(Some(value))) if *value == marker);

    let listen_url = settings.listen_url.as_ref().unwrap_or(&settings.url);
    let listen_works = listens(listen_url.expose_secret(), url).await;
    Ok(Findings {
        server_version,
        transaction_pooling,
        prepared_statements_kept,
        listen_works,
    })
}

/// Whether a named prepared statement (sqlx prepares every query so) can be run again from
/// another server connection of the pooler. Its own connections, since one whose statement
/// failed is left to nothing else. A pooler that passes statements through may also hold one
/// of that name from another client already, and refuse it: that says the same.
async fn prepared_statement_survives(url: &str) -> Result<bool, sqlx::Error> {
    let prepare = || sqlx::query_scalar::<_, i32>("SELECT $1::int4 + 1").bind(1);
    let mut c = connect(url).await?;
    if prepare().fetch_one(&mut c).await.is_err() {
        return Ok(false);
    }
    // `d` holds the server connection `c` just gave back, so `c` runs on another.
    let mut d = connect(url).await?;
    let mut held = d.begin().await?;
    (&mut *held).execute("SELECT 1").await?;
    let again = tokio::time::timeout(PROBE_TIMEOUT, prepare().fetch_one(&mut c)).await;
    held.rollback().await?;
    Ok(matches!(again, Ok(Ok(2))))
}

/// Whether a NOTIFY sent through `notify_url` reaches a LISTEN on `listen_url`.
async fn listens(listen_url: &str, notify_url: &str) -> bool {
    let heard = async {
        let options = listen_url.parse()?;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options);
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(PROBE_CHANNEL).await?;
        let mut sender = connect(notify_url).await?;
        sqlx::raw_sql(&format!("NOTIFY {PROBE_CHANNEL}, 'probe'"))
            .execute(&mut sender)
            .await?;
        listener.recv().await.map(|_| true)
    };
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, heard).await,
        Ok(Ok(true))
    )
}
