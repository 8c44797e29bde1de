//! Shared by the benchmark binaries: a release server as a child process, wrk, percentiles.
#![allow(dead_code)] // each benchmark binary uses its own subset

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use uuid::Uuid;

/// The workspace benchmarks work in: `default`, where `reelforge token create` puts tokens.
pub async fn default_workspace(pool: &sqlx::PgPool) -> Uuid {
    reelforge::db::tokens::ensure_workspace(pool, reelforge::domain::workspace::DEFAULT_WORKSPACE)
        .await
        .unwrap()
}

/// A `write` token of the default workspace, as `reelforge token create --name bench` makes.
pub async fn bench_token(pool: &sqlx::PgPool) -> String {
    let (token, hash) = reelforge::access::generate();
    let workspace = default_workspace(pool).await;
    reelforge::db::tokens::insert(
        pool,
        "bench",
        &hash,
        workspace,
        reelforge::domain::workspace::Scope::Write,
    )
    .await
    .unwrap();
    token
}

pub fn database_url() -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut url = reqwest::Url::parse(&base).expect("DATABASE_URL is a URL");
    url.set_path(&format!("reelforge_bench_{}", Uuid::new_v4().simple()));
    url.to_string()
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub count: usize,
}

pub fn summarize(mut samples: Vec<f64>) -> Latency {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Latency {
        p50: percentile(&samples, 0.50),
        p99: percentile(&samples, 0.99),
        count: samples.len(),
    }
}

pub struct Server {
    pub child: Child,
    pub address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn rss_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

/// Starts `target/release/reelforge serve` (with workers when asked) with extra environment.
pub async fn start_server(database_url: &str, workers: bool, env: &[(&str, String)]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Another build (an older commit's, say) can be measured against this one's numbers.
    let binary = std::env::var("REELFORGE_BENCH_BINARY").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/reelforge").to_owned()
    });
    let server = Server {
        child: Command::new(&binary)
            .args(if workers {
                vec!["serve"]
            } else {
                vec!["serve", "--no-workers"]
            })
            .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
            .env("DATABASE_URL", database_url)
            .env("REELFORGE__SERVER__PORT", port.to_string())
            .env("REELFORGE__EVENTS__SUBSCRIBER_BUFFER", "1024")
            // The benchmarks time the service around providers that answer at once.
            .env("REELFORGE__PROVIDERS__FAKE", "true")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("build the release binary first: cargo build --release"),
        address: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if reqwest::get(format!("{}/readyz", server.address))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

pub fn wrk(url: &str, token: &str, connections: usize, seconds: u32) -> Latency {
    // wrk is a C load generator: an in-process client would steal most of the two cores.
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-H",
        ])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(url)
        .output()
        .expect("wrk is installed (bench/spine installs it)");
    parse_wrk(&String::from_utf8_lossy(&output.stdout))
}

/// Reads p50, p99 and requests/s from `wrk --latency` (count holds requests/s).
pub fn parse_wrk(report: &str) -> Latency {
    let millis = |text: &str| {
        let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic()).unwrap());
        let value: f64 = number.parse().unwrap();
        value
            * match unit {
                "us" => 0.001,
                "ms" => 1.0,
                "s" => 1000.0,
                other => panic!("unknown wrk unit {other}"),
            }
    };
    let field = |prefix: &str| {
        report
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or_else(|| panic!("no `{prefix}` in wrk output:\n{report}"))
    };
    Latency {
        p50: millis(field("50%")),
        p99: millis(field("99%")),
        count: field("Requests/sec:").parse::<f64>().unwrap() as usize,
    }
}

pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}
