//! PostgreSQL behind a real PgBouncer (Debian's, installed by scripts/setup), as managed
//! deployments run it: the service's queries through the pooler, its LISTEN connections on
//! `database.listen_url`, straight to PostgreSQL.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::Duration,
};

use secrecy::SecretString;
use serde_json::json;

use crate::helpers::{fresh_database_url, start, test_settings};

const PGBOUNCER: &str = "/usr/sbin/pgbouncer";

/// A PgBouncer of this test's own on a free port, stopped when dropped.
struct Bouncer {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Bouncer {
    /// Serves `database` (on the test's PostgreSQL) as `tx` in transaction mode and as
    /// `session` in session mode.
    fn start(direct_url: &str) -> Bouncer {
        let url = reqwest::Url::parse(direct_url).unwrap();
        let database = url.path().trim_start_matches('/');
        let (host, port) = (url.host_str().unwrap(), url.port().unwrap_or(5432));
        let user = if url.username().is_empty() {
            "postgres"
        } else {
            url.username()
        };
        let password = url
            .password()
            .map(|p| format!(" password={p}"))
            .unwrap_or_default();
        let free = TcpListener::bind("127.0.0.1:0").unwrap();
        let listen_port = free.local_addr().unwrap().port();
        drop(free);
        let dir = std::env::temp_dir().join(format!(
            "reelforge-pgbouncer-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir(&dir).unwrap();
        let server = format!("host={host} port={port} dbname={database} user={user}{password}");
        let config = format!(
            "[databases]\n\
             tx = {server} pool_mode=transaction\n\
             session = {server} pool_mode=session\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {listen_port}\n\
             unix_socket_dir =\n\
             auth_type = any\n\
             default_pool_size = 20\n\
             max_client_conn = 200\n\
             ignore_startup_parameters = extra_float_digits\n\
             logfile = {log}\n",
            log = dir.join("pgbouncer.log").display(),
        );
        let ini = dir.join("pgbouncer.ini");
        std::fs::write(&ini, config).unwrap();
        let mut command = Command::new(PGBOUNCER);
        // PgBouncer refuses to run as root; the tests may.
        if running_as_root() {
            make_world_writable(&dir);
            command.args(["-u", "postgres"]);
        }
        let child = command
            .arg(&ini)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pgbouncer runs (scripts/setup installs it)");
        let bouncer = Bouncer {
            child,
            port: listen_port,
            dir,
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", listen_port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "pgbouncer did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        bouncer
    }

    fn url(&self, alias: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{alias}", self.port)
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn make_world_writable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
}

/// PgBouncer keeps protocol-level prepared statements across server connections from 1.21
/// on (with `max_prepared_statements`, which this config leaves at its default: 0 before
/// 1.22, 200 after).
fn keeps_prepared_statements() -> bool {
    let out = Command::new(PGBOUNCER).arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let version: Vec<u32> = text
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .unwrap_or_default()
        .split('.')
        .filter_map(|part| part.parse().ok())
        .collect();
    version.as_slice() >= [1, 22].as_slice()
}

async fn create_database(url: &str) {
    use sqlx::migrate::MigrateDatabase;
    sqlx::Postgres::create_database(url).await.unwrap();
}

#[tokio::test]
async fn doctor_tells_a_transaction_pooler_and_where_listen_works() {
    let direct = fresh_database_url();
    create_database(&direct).await;
    let bouncer = Bouncer::start(&direct);
    let mut settings = test_settings(&bouncer.url("tx"));

    // Through the pooler alone, LISTEN hears nothing.
    let alone = reelforge::db::pooler::probe(&settings.database)
        .await
        .unwrap();
    assert!(alone.transaction_pooling, "{alone:?}");
    assert!(!alone.listen_works, "{alone:?}");
    assert_eq!(alone.prepared_statements_kept, keeps_prepared_statements());
    let lines = alone.lines(&settings.database);
    assert!(
        lines[2].1.contains("REELFORGE__DATABASE__LISTEN_URL"),
        "{lines:?}"
    );

    settings.database.listen_url = Some(SecretString::from(direct.clone()));
    let paired = reelforge::db::pooler::probe(&settings.database)
        .await
        .unwrap();
    assert!(
        paired.transaction_pooling && paired.listen_works,
        "{paired:?}"
    );
    let (report, _) = reelforge::doctor::report(&settings).await;
    assert!(
        report.contains("through a pooler in transaction mode")
            && report.contains("ok on database.listen_url"),
        "{report}"
    );
    // A pooler that keeps prepared statements is always told as one. One that does not (PgBouncer
    // before 1.21) is told only when its second server connection is the one the probe lands
    // on, which PgBouncer does not promise: that verdict is not asserted here.
    if keeps_prepared_statements() {
        assert!(report.contains("the pooler keeps them"), "{report}");
    }

    // PostgreSQL itself: no pooler, and LISTEN works on the one URL.
    let plain = reelforge::db::pooler::probe(&test_settings(&direct).database)
        .await
        .unwrap();
    assert!(plain.is_usable() && !plain.transaction_pooling, "{plain:?}");
}

/// A pipeline with every query through PgBouncer and LISTEN on the direct URL. Debian
/// bookworm's PgBouncer (1.18) cannot keep sqlx's prepared statements in transaction mode, so
/// there it runs in session mode; from 1.22 on, in transaction mode.
#[tokio::test]
async fn a_pipeline_runs_through_pgbouncer_with_listen_on_the_direct_url() {
    let direct = fresh_database_url();
    create_database(&direct).await;
    let bouncer = Bouncer::start(&direct);
    let alias = if keeps_prepared_statements() {
        "tx"
    } else {
        "session"
    };
    let mut settings = test_settings(&bouncer.url(alias));
    settings.database.listen_url = Some(SecretString::from(direct.clone()));
    let app = start(settings, true).await;
    let project = app.create_project(json!({"name": "pooled"})).await;
    let project_id = project["id"].as_str().unwrap();
    let ids = app.run_pipeline(project_id).await;
    assert_eq!(ids.len(), 5);
    let video = app.get_json(&format!("/v1/videos/{}", ids[4])).await;
    assert_eq!(video["status"], "succeeded", "{video}");

    // Every LISTEN was made on the direct connections (named by the service), none through
    // the pooler.
    let direct_pool = sqlx::PgPool::connect(&direct).await.unwrap();
    let listening: Vec<(Option<String>, String)> = sqlx::query_as(
        "SELECT application_name, query FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_all(&direct_pool)
    .await
    .unwrap();
    assert!(listening.len() >= 3, "{listening:?}");
    assert!(
        listening
            .iter()
            .all(|(name, _)| name.as_deref() == Some("reelforge-listen")),
        "{listening:?}"
    );
}
