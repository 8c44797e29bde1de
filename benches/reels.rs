//! Issue #3 benchmarks (numbers go to BENCHMARKS.md via bench/reels):
//! 1. the server's memory while it downloads a 200 MB video (streamed to disk);
//! 2. importing 10,000 dataset items through the API, beside a bare UNNEST insert of the rows;
//! 3. ranked reel lists over 10,000 reels through HTTP, beside the same query from a client.

mod common;

use std::{
    io::{Read, Write},
    net::TcpListener,
    time::{Duration, Instant},
};

use common::{database_url, start_server, summarize, wrk, Server};
use reelforge::{config::Settings, db, domain::reel::ReelQuery, startup::prepare_database};
use secrecy::SecretString;
use serde_json::{json, Value};
use uuid::Uuid;

const DOWNLOAD_BYTES: usize = 200 * 1024 * 1024;

/// Serves DOWNLOAD_BYTES of zeros as video/mp4, once, without holding them in memory.
fn serve_big_file() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request);
        write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: {DOWNLOAD_BYTES}\r\nConnection: close\r\n\r\n").unwrap();
        let chunk = vec![0u8; 64 * 1024];
        for _ in 0..DOWNLOAD_BYTES / chunk.len() {
            if stream.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    port
}

struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn post(&self, path: &str, body: &Value) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn wait(&self, job_id: &str) -> Value {
        loop {
            let job = self.get(&format!("/v1/jobs/{job_id}")).await;
            if matches!(
                job["status"].as_str(),
                Some("succeeded" | "failed" | "canceled")
            ) {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn items(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| {
            json!({
                "shortCode": format!("B{i:07}"), "type": "Video", "ownerUsername": format!("owner{}", i % 200),
                "videoUrl": format!("https://scontent.cdninstagram.com/v/{i}.mp4"),
                "videoPlayCount": (i * 7919) % 1_000_000, "likesCount": (i * 31) % 50_000, "commentsCount": i % 900,
                "videoDuration": 15 + i % 45, "caption": format!("Reel {i} #motivation #tag{}", i % 50),
                "timestamp": "2026-11-20T10:00:00.000Z",
            })
        })
        .collect()
}

async fn download_growth(server: &Server, api: &Api) -> (f64, f64) {
    let project = api.post("/v1/projects", &json!({"name": "download"})).await;
    let project_id = project["id"].as_str().unwrap();
    let port = serve_big_file();
    let item = json!({"shortCode": "BIG", "videoUrl": format!("http://127.0.0.1:{port}/big.mp4"), "videoPlayCount": 1});
    let started = api
        .post(
            &format!("/v1/projects/{project_id}/collections"),
            &json!({"source": "import", "items": [item]}),
        )
        .await;
    api.wait(started["job"]["id"].as_str().unwrap()).await;
    let reels = api.get(&format!("/v1/projects/{project_id}/reels")).await;
    let reel_id = reels["items"][0]["id"].as_str().unwrap();
    let before = server.rss_kib("VmRSS:");
    let clock = Instant::now();
    let selected = api
        .post(
            &format!("/v1/projects/{project_id}/reels/{reel_id}/select"),
            &json!({}),
        )
        .await;
    let job = api.wait(selected["job"]["id"].as_str().unwrap()).await;
    let seconds = clock.elapsed().as_secs_f64();
    // Zeros are not a video: ffprobe refuses them after the whole download, which is the point.
    assert_eq!(job["last_error"]["code"], "not_a_video", "{job}");
    let peak = server.rss_kib("VmHWM:");
    ((peak.saturating_sub(before)) as f64 / 1024.0, seconds)
}

/// Seeds `size` reels straight into a new project (about 50 per owner, as creators have), then
/// sends 100 one-item imports at once, each a new reel of an existing owner. Answers the wall
/// time, the failed jobs, the jobs that needed a second attempt and the deadlocks PostgreSQL
/// counted meanwhile.
async fn concurrent_imports(
    api: &Api,
    pool: &sqlx::PgPool,
    size: usize,
) -> (f64, usize, usize, i64) {
    const IMPORTS: usize = 100;
    let project = api
        .post("/v1/projects", &json!({"name": format!("busy {size}")}))
        .await;
    let project_id: Uuid = project["id"].as_str().unwrap().parse().unwrap();
    let owners = (size / 50).max(1);
    let ids: Vec<Uuid> = (0..size).map(|_| Uuid::new_v4()).collect();
    let codes: Vec<String> = (0..size).map(|i| format!("S{i:07}")).collect();
    let owner_names: Vec<String> = (0..size).map(|i| format!("owner{}", i % owners)).collect();
    let plays: Vec<i64> = (0..size as i64)
        .map(|i| 1_000 + (i * 7919) % 1_000_000)
        .collect();
    sqlx::query(
        "INSERT INTO reels (id, project_id, status, provider, external_id, owner_username, plays, posted_at)
         SELECT u.id, $1, 'pending', 'import', u.code, u.owner, u.plays, now() - interval '1 day'
         FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::int8[]) AS u(id, code, owner, plays)",
    )
    .bind(project_id)
    .bind(&ids)
    .bind(&codes)
    .bind(&owner_names)
    .bind(&plays)
    .execute(pool)
    .await
    .unwrap();
    db::reels::refresh_statistics(pool).await.unwrap();
    let deadlocks = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    };
    let deadlocks_before = deadlocks().await;
    let clock = Instant::now();
    let imports = (0..IMPORTS).map(|i| async move {
        let item = json!({
            "shortCode": format!("N{size}-{i}"), "ownerUsername": format!("owner{}", i % owners),
            "videoUrl": format!("https://scontent.cdninstagram.com/v/n{i}.mp4"), "videoPlayCount": 5_000 + i,
            "timestamp": "2026-11-20T10:00:00.000Z",
        });
        let started = api
            .post(
                &format!("/v1/projects/{project_id}/collections"),
                &json!({"source": "import", "items": [item]}),
            )
            .await;
        api.wait(started["job"]["id"].as_str().unwrap()).await
    });
    let jobs = futures::future::join_all(imports).await;
    let seconds = clock.elapsed().as_secs_f64();
    // The statistics collector reports with a short delay.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let deadlocks = deadlocks().await - deadlocks_before;
    let failed = jobs.iter().filter(|j| j["status"] != "succeeded").count();
    let retried = jobs
        .iter()
        .filter(|j| j["attempts"].as_u64() > Some(1))
        .count();
    (seconds, failed, retried, deadlocks)
}

#[tokio::main]
async fn main() {
    let url = database_url();
    let mut settings = Settings::default();
    settings.database.url = SecretString::from(url.clone());
    let pool = prepare_database(&settings).await.unwrap();
    let token = common::bench_token(&pool).await;
    let media =
        std::env::temp_dir().join(format!("reelforge-bench-media-{}", Uuid::new_v4().simple()));
    let server = start_server(
        &url,
        true,
        &[
            ("REELFORGE__MEDIA__FETCH_ALLOW_HOSTS", "127.0.0.1".into()),
            (
                "REELFORGE__MEDIA__MAX_DOWNLOAD_BYTES",
                (DOWNLOAD_BYTES * 2).to_string(),
            ),
            ("REELFORGE__MEDIA__ROOT", media.display().to_string()),
            (
                "REELFORGE__SERVER__BODY_LIMIT_BYTES",
                (64 * 1024 * 1024).to_string(),
            ),
            ("REELFORGE__JOBS__POLL_INTERVAL_MS", "20".into()),
        ],
    )
    .await;
    let api = Api {
        client: reqwest::Client::new(),
        base: server.address.clone(),
        token: token.clone(),
    };

    let (growth_mb, download_seconds) = download_growth(&server, &api).await;
    // REELFORGE_BENCH_IMPORT_SIZES=1000,10000 measures an older build, whose imports into
    // 100,000 reels take too long to wait for.
    let sizes: Vec<usize> = std::env::var("REELFORGE_BENCH_IMPORT_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .map(|size| size.trim().parse().expect("sizes are numbers"))
        .collect();
    let mut busy = Vec::new();
    for size in sizes {
        busy.push((size, concurrent_imports(&api, &pool, size).await));
    }

    let project = api.post("/v1/projects", &json!({"name": "ranked"})).await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let batch = items(10_000);
    let clock = Instant::now();
    let started = api
        .post(
            &format!("/v1/projects/{project_id}/collections"),
            &json!({"source": "import", "items": batch}),
        )
        .await;
    let job = api.wait(started["job"]["id"].as_str().unwrap()).await;
    let import_seconds = clock.elapsed().as_secs_f64();
    assert_eq!(job["status"], "succeeded");

    // Bare: the same rows' essential insert, one UNNEST statement.
    let bare_project = db::projects::insert(
        &pool,
        common::default_workspace(&pool).await,
        "bare",
        "ru",
        &settings.defaults.settings,
    )
    .await
    .unwrap();
    let ids: Vec<Uuid> = (0..10_000).map(|_| Uuid::new_v4()).collect();
    let codes: Vec<String> = (0..10_000).map(|i| format!("B{i:07}")).collect();
    let plays: Vec<i64> = (0..10_000).map(|i| (i * 7919) % 1_000_000).collect();
    let clock = Instant::now();
    sqlx::query(
        "INSERT INTO reels (id, project_id, status, provider, external_id, plays)
         SELECT u.id, $1, 'pending', 'import', u.code, u.plays FROM UNNEST($2::uuid[], $3::text[], $4::int8[]) AS u(id, code, plays)",
    )
    .bind(bare_project.id)
    .bind(&ids)
    .bind(&codes)
    .bind(&plays)
    .execute(&pool)
    .await
    .unwrap();
    let bare_import = clock.elapsed().as_secs_f64();

    let base = format!("{}/v1/projects/{project_id}/reels?limit=20", server.address);
    let by_trend = wrk(&base, &token, 8, 10);
    let filtered = wrk(
        &format!("{base}&sort=plays&hashtag=tag7&min_plays=1000"),
        &token,
        8,
        10,
    );
    let project_uuid: Uuid = project_id.parse().unwrap();
    let page = db::reels::ReelPage {
        offset: 0,
        limit: 20,
    };
    let mut bare = Vec::new();
    for _ in 0..500 {
        let clock = Instant::now();
        db::reels::list(&pool, project_uuid, &ReelQuery::default(), &page)
            .await
            .unwrap();
        bare.push(clock.elapsed().as_secs_f64() * 1000.0);
    }
    let bare = summarize(bare);
    let _ = std::fs::remove_dir_all(&media);

    println!("| what | reelforge | bare | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| import 10,000 dataset items (POST to collection succeeded: normalise, merge, snapshots, metrics) | {import_seconds:.2} s | one UNNEST insert of the rows: {bare_import:.2} s | {:.1}x |",
        import_seconds / bare_import
    );
    println!(
        "| ranked list over 10,000 reels, `trend_score`, 8 connections (wrk, 10 s) | p50 {:.2} ms, p99 {:.2} ms ({} req/s) | same query, one client, sequential: p50 {:.2} ms, p99 {:.2} ms | p99 {:.1}x |",
        by_trend.p50, by_trend.p99, by_trend.count, bare.p50, bare.p99, by_trend.p99 / bare.p99
    );
    println!(
        "| ranked list, `sort=plays&hashtag=…&min_plays=…`, 8 connections | p50 {:.2} ms, p99 {:.2} ms ({} req/s) | | |",
        filtered.p50, filtered.p99, filtered.count
    );
    println!(
        "| server memory while downloading a 200 MB video | peak RSS growth {growth_mb:.1} MB ({download_seconds:.1} s, streamed to disk) | | |"
    );
    let per_import = |seconds: f64| seconds * 1000.0 / 100.0;
    let smallest = busy[0].1 .0;
    for (size, (seconds, failed, retried, deadlocks)) in &busy {
        println!(
            "| 100 concurrent one-item imports into a {size}-reel project (4 workers) | {seconds:.2} s, {:.1} ms per import; {failed} failed, {retried} retried, {deadlocks} deadlocks | the same into 1000 reels: {:.1} ms per import | {:.1}x |",
            per_import(*seconds),
            per_import(smallest),
            seconds / smallest
        );
    }
}
