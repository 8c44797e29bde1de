//! Spine benchmarks, on whatever machine runs them (numbers go to BENCHMARKS.md via bench/spine):
//! 1. GET /v1/projects latency at 64 concurrent connections, beside the bare SELECT it wraps;
//! 2. SSE fan-out delivery latency to 1,000 subscribers and the server's RSS, beside a bare
//!    LISTEN/NOTIFY round trip;
//! 3. queue throughput with no-op jobs across two worker pools, beside bare claim+finish UPDATEs.
//!
//! The server runs as a child process (`target/release/reelforge serve`) so its RSS is its own.

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use common::{database_url, now_micros, start_server, summarize, wrk, Latency, Server};

use futures::StreamExt;
use reelforge::{
    config::Settings,
    db::{self, jobs::NewJob},
    domain::{event::NewEvent, JobKind},
    jobs::{self, queue, worker::WorkerPool},
    providers::Providers,
    startup::prepare_database,
};
use secrecy::SecretString;
use serde_json::json;
use sqlx::{postgres::PgListener, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

async fn bench_list(server: &Server, pool: &PgPool, token: &str) -> (Latency, Latency, Latency) {
    let workspace = common::default_workspace(pool).await;
    for i in 0..100 {
        db::projects::insert(
            pool,
            workspace,
            &format!("project {i}"),
            "ru",
            &Settings::default().defaults.settings,
        )
        .await
        .unwrap();
    }
    const CONNECTIONS: usize = 64;
    const PER_CONNECTION: usize = 200;
    let url = format!("{}/v1/projects?limit=20", server.address);
    let http = wrk(&url, token, CONNECTIONS, 15);
    let unsaturated = wrk(&url, token, 4, 10);

    let page = reelforge::pagination::PageQuery {
        limit: Some(20),
        cursor: None,
    }
    .parse()
    .unwrap();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut samples = Vec::with_capacity(PER_CONNECTION);
                for _ in 0..PER_CONNECTION {
                    let t = Instant::now();
                    db::projects::list(&pool, workspace, page).await.unwrap();
                    samples.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                samples
            })
        })
        .collect();
    let mut bare = Vec::new();
    for task in tasks {
        bare.extend(task.await.unwrap());
    }
    (http, summarize(bare), unsaturated)
}

async fn bench_fanout(server: &Server, pool: &PgPool, token: &str) -> (Latency, Latency, u64, u64) {
    const SUBSCRIBERS: usize = 1000;
    const EVENTS: usize = 20;
    let rss_before = server.rss_kib("VmRSS:");
    let client = reqwest::Client::new();
    let mut streams = Vec::with_capacity(SUBSCRIBERS);
    for _ in 0..SUBSCRIBERS {
        let response = client
            .get(format!("{}/v1/events", server.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        streams.push(response.bytes_stream());
    }
    let readers: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                let mut samples = Vec::with_capacity(EVENTS);
                let mut buffer = String::new();
                while samples.len() < EVENTS {
                    let Some(Ok(chunk)) = stream.next().await else {
                        break;
                    };
                    buffer.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = buffer.find("\n\n") {
                        let frame: String = buffer.drain(..end + 2).collect();
                        if let Some(sent) = frame.split("\"sent_at_us\":").nth(1) {
                            let sent: i64 = sent
                                .trim_end_matches(|c: char| !c.is_ascii_digit())
                                .split(|c: char| !c.is_ascii_digit())
                                .next()
                                .unwrap()
                                .parse()
                                .unwrap();
                            samples.push((now_micros() - sent) as f64 / 1000.0);
                        }
                    }
                }
                samples
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..EVENTS {
        let mut tx = pool.begin().await.unwrap();
        let event = NewEvent {
            kind: "bench.tick".into(),
            project_id: None,
            resource_type: None,
            resource_id: None,
            data: json!({ "sent_at_us": now_micros() }),
        };
        db::events::append(&mut tx, &[event]).await.unwrap();
        tx.commit().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut delivered = Vec::new();
    for reader in readers {
        delivered.extend(
            tokio::time::timeout(Duration::from_secs(30), reader)
                .await
                .expect("all delivered")
                .unwrap(),
        );
    }
    assert_eq!(
        delivered.len(),
        SUBSCRIBERS * EVENTS,
        "every subscriber got every event"
    );
    let rss_with_subscribers = server.rss_kib("VmRSS:");

    // Bare: one LISTEN connection receiving a NOTIFY.
    let mut listener = PgListener::connect_with(pool).await.unwrap();
    listener.listen("bench_bare").await.unwrap();
    let mut bare = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        sqlx::query("SELECT pg_notify('bench_bare', '')")
            .execute(pool)
            .await
            .unwrap();
        listener.recv().await.unwrap();
        bare.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (
        summarize(delivered),
        summarize(bare),
        rss_before,
        rss_with_subscribers,
    )
}

async fn bench_queue(database_url: &str, concurrency: usize) -> (f64, f64) {
    const JOBS: usize = 10_000;
    let mut settings = Settings::default();
    settings.database.url = SecretString::from(database_url.to_owned());
    settings.database.max_connections = 40;
    settings.jobs.concurrency = concurrency;
    settings.jobs.poll_interval_ms = 50;
    let pool = prepare_database(&settings).await.unwrap();
    sqlx::query("DELETE FROM jobs")
        .execute(&pool)
        .await
        .unwrap();

    let enqueue = |pool: PgPool| async move {
        let mut tx = pool.begin().await.unwrap();
        for _ in 0..JOBS {
            queue::enqueue(
                &mut tx,
                &NewJob {
                    id: Uuid::new_v4(),
                    kind: JobKind::Noop,
                    project_id: None,
                    resource: None,
                    payload: reelforge::domain::job::JobPayload::Resource,
                    max_attempts: 3,
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    };
    enqueue(pool.clone()).await;

    let providers = Arc::new(Providers::from_settings(&settings).unwrap());
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let pools: Vec<_> = (0..2)
        .map(|_| {
            WorkerPool::new(
                pool.clone(),
                settings.jobs.clone(),
                jobs::handlers(providers.clone(), &settings, reelforge::clock::system()),
            )
            .spawn(shutdown.clone())
        })
        .collect();
    loop {
        let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'succeeded'")
            .fetch_one(&pool)
            .await
            .unwrap();
        if done as usize == JOBS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let engine = JOBS as f64 / started.elapsed().as_secs_f64();
    shutdown.cancel();
    for handle in pools {
        handle.await.unwrap();
    }

    // Bare: the same claim and finish UPDATEs, no events, no resource mirroring, same parallelism.
    sqlx::query("DELETE FROM jobs")
        .execute(&pool)
        .await
        .unwrap();
    enqueue(pool.clone()).await;
    let started = Instant::now();
    let workers: Vec<_> = (0..2 * concurrency)
        .map(|i| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let worker = format!("bare-{i}");
                loop {
                    let claimed = db::jobs::claim(&pool, &worker, 1, Duration::from_secs(30))
                        .await
                        .unwrap();
                    let Some(job) = claimed.first() else { break };
                    db::jobs::finish(
                        &pool,
                        job.id,
                        &worker,
                        reelforge::domain::Status::Succeeded,
                        None,
                    )
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let bare = JOBS as f64 / started.elapsed().as_secs_f64();
    (engine, bare)
}

#[tokio::main]
async fn main() {
    let database_url = database_url();
    let mut settings = Settings::default();
    settings.database.url = SecretString::from(database_url.clone());
    let pool = prepare_database(&settings).await.unwrap();
    let token = common::bench_token(&pool).await;
    let server = start_server(&database_url, false, &[]).await;

    let (http, bare_select, unsaturated) = bench_list(&server, &pool, &token).await;
    let (fanout, bare_notify, rss_before, rss_after) = bench_fanout(&server, &pool, &token).await;
    let peak = server.rss_kib("VmHWM:");
    drop(server);
    let mut queue_rows = Vec::new();
    for concurrency in [8, 32] {
        let (engine, bare) = bench_queue(&database_url, concurrency).await;
        queue_rows.push(format!(
            "| queue, 2 pools x {concurrency} workers, 10,000 no-op jobs | {engine:.0} jobs/s | {bare:.0} jobs/s (claim + finish UPDATEs only) | {:.2}x slower |",
            bare / engine
        ));
    }

    println!("| what | reelforge | bare Postgres | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| GET /v1/projects?limit=20, 64 connections (wrk, 15 s) | p50 {:.2} ms, p99 {:.2} ms ({} req/s) | same SELECT, 64 tasks on a 20-connection pool: p50 {:.2} ms, p99 {:.2} ms | p99 {:.1}x |",
        http.p50, http.p99, http.count, bare_select.p50, bare_select.p99, http.p99 / bare_select.p99
    );
    println!(
        "| GET /v1/projects?limit=20, 4 connections (wrk, 10 s) | p50 {:.2} ms, p99 {:.2} ms ({} req/s) | | |",
        unsaturated.p50, unsaturated.p99, unsaturated.count
    );
    println!(
        "| SSE fan-out, 1,000 subscribers x 20 events ({} deliveries) | p50 {:.1} ms, p99 {:.1} ms | LISTEN/NOTIFY round trip: p50 {:.2} ms, p99 {:.2} ms | p99 {:.0}x |",
        fanout.count, fanout.p50, fanout.p99, bare_notify.p50, bare_notify.p99, fanout.p99 / bare_notify.p99
    );
    println!(
        "| server RSS | {:.1} MB idle, {:.1} MB with 1,000 subscribers, peak {:.1} MB | | |",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    for row in queue_rows {
        println!("{row}");
    }
}
