//! Issue #32 benchmark (numbers go to BENCHMARKS.md via bench/imports): Apify dataset exports
//! of realistic reel items (about 1 KB each) posted to `collections/import` as a stream, timed
//! from the first byte sent to the collection's job succeeding, with the release server's
//! resident memory before and at its peak.

mod common;

use std::{path::Path, time::Instant};

use common::{database_url, start_server, Server};
use reelforge::{config::Settings, startup::prepare_database};
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// An item as Apify's Instagram Reel scraper exports it: CDN addresses with their signed
/// query strings, a caption with hashtags and mentions, the music, the first comment.
fn apify_item(i: usize) -> Value {
    let code = format!("C{i:010}x");
    json!({
        "inputUrl": format!("https://www.instagram.com/creator{}/reels/", i % 500),
        "id": format!("{}", 3_264_891_234_567_890_000u64 + i as u64),
        "type": "Video",
        "productType": "clips",
        "shortCode": code,
        "caption": format!("Day {i} of waking up at 5am: what changed after a month #morningroutine #discipline #tag{} @coach.anna", i % 300),
        "hashtags": ["morningroutine", "discipline", format!("tag{}", i % 300)],
        "mentions": ["coach.anna"],
        "url": format!("https://www.instagram.com/reel/{code}/"),
        "commentsCount": i % 900,
        "firstComment": "This is exactly what I needed today, thank you!",
        "dimensionsHeight": 1920,
        "dimensionsWidth": 1080,
        "displayUrl": format!("https://scontent-fra5-2.cdninstagram.com/v/t51.29350-15/{i}_n.jpg?stp=dst-jpg_e15&_nc_ht=scontent-fra5-2.cdninstagram.com&_nc_cat=1&_nc_ohc=Xy{i}&oh=00_AYB{i}&oe=674A2B3C"),
        "videoUrl": format!("https://scontent-fra5-1.cdninstagram.com/o1/v/t16/f2/m86/{i}.mp4?efg=eyJ2ZW5jb2RlX3RhZyI6InZ0c192b2RfdXJsZ2VuLmNsaXBzLnVua25vd24tQzMuNzIwLmRhc2hfYmFzZWxpbmVfMV92MSJ9&_nc_ht=scontent-fra5-1.cdninstagram.com&_nc_cat=104&vs={i}&oh=00_AYC{i}&oe=674A1F2E"),
        "alt": null,
        "likesCount": (i * 31) % 50_000,
        "videoViewCount": (i * 3571) % 700_000,
        "videoPlayCount": (i * 7919) % 1_000_000,
        "timestamp": format!("2026-11-{:02}T{:02}:15:00.000Z", 1 + i % 28, i % 24),
        "ownerFullName": format!("Creator {}", i % 500),
        "ownerUsername": format!("creator{}", i % 500),
        "ownerId": format!("{}", 50_000_000 + i % 500),
        "videoDuration": 15.2 + (i % 45) as f64,
        "isSponsored": false,
        "musicInfo": {"artist_name": format!("creator{}", i % 500), "song_name": "Original audio", "uses_original_audio": true, "should_mute_audio": false, "audio_id": format!("{}", 900_000 + i)},
    })
}

/// Writes `count` items as JSON lines to a file (so the client holds none of them either).
async fn write_dataset(path: &Path, count: usize) -> u64 {
    let mut file = tokio::io::BufWriter::new(tokio::fs::File::create(path).await.unwrap());
    for i in 0..count {
        file.write_all(apify_item(i).to_string().as_bytes())
            .await
            .unwrap();
        file.write_all(b"\n").await.unwrap();
    }
    file.flush().await.unwrap();
    tokio::fs::metadata(path).await.unwrap().len()
}

struct Measured {
    items: usize,
    megabytes: f64,
    seconds: f64,
    upload_seconds: f64,
    growth_mb: f64,
    added: u64,
}

async fn import(server: &Server, token: &str, count: usize, dir: &Path) -> Measured {
    let client = reqwest::Client::new();
    let project: Value = client
        .post(format!("{}/v1/projects", server.address))
        .bearer_auth(token)
        .json(&json!({"name": format!("import {count}")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let project_id = project["id"].as_str().unwrap();
    let path = dir.join(format!("dataset-{count}.jsonl"));
    let bytes = write_dataset(&path, count).await;
    let before = server.rss_kib("VmRSS:");

    let clock = Instant::now();
    let file = tokio::fs::File::open(&path).await.unwrap();
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
    let response = client
        .post(format!(
            "{}/v1/projects/{project_id}/collections/import",
            server.address
        ))
        .bearer_auth(token)
        .header("Content-Type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    let upload_seconds = clock.elapsed().as_secs_f64();
    let started: Value = response.json().await.unwrap();
    let job_id = started["job"]["id"].as_str().unwrap();
    let job = loop {
        let job: Value = client
            .get(format!("{}/v1/jobs/{job_id}", server.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if matches!(
            job["status"].as_str(),
            Some("succeeded" | "failed" | "canceled")
        ) {
            break job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let seconds = clock.elapsed().as_secs_f64();
    assert_eq!(job["status"], "succeeded", "{job}");
    let peak = server.rss_kib("VmHWM:");
    let collection: Value = client
        .get(format!(
            "{}/v1/projects/{project_id}/collections/{}",
            server.address,
            started["collection"]["id"].as_str().unwrap()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = tokio::fs::remove_file(&path).await;
    Measured {
        items: count,
        megabytes: bytes as f64 / 1e6,
        seconds,
        upload_seconds,
        growth_mb: peak.saturating_sub(before) as f64 / 1024.0,
        added: collection["counts"]["added"].as_u64().unwrap_or(0),
    }
}

#[tokio::main]
async fn main() {
    let url = database_url();
    let mut settings = Settings::default();
    settings.database.url = SecretString::from(url.clone());
    let pool = prepare_database(&settings).await.unwrap();
    let token = common::bench_token(&pool).await;
    let dir = std::env::temp_dir().join(format!(
        "reelforge-bench-imports-{}",
        Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let server = start_server(
        &url,
        true,
        &[
            (
                "REELFORGE__MEDIA__ROOT",
                dir.join("media").display().to_string(),
            ),
            ("REELFORGE__JOBS__POLL_INTERVAL_MS", "20".into()),
        ],
    )
    .await;
    let sizes: Vec<usize> = std::env::var("REELFORGE_BENCH_IMPORT_ITEMS")
        .unwrap_or_else(|_| "20000,100000".into())
        .split(',')
        .map(|size| size.trim().parse().expect("sizes are numbers"))
        .collect();
    let mut results = Vec::new();
    for size in sizes {
        results.push(import(&server, &token, size, &dir).await);
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!("| items (JSON lines, ~1 KB each) | body | import: POST to job succeeded | of which the upload | items/s | server RSS growth (peak) | reels added |");
    println!("|---|---|---|---|---|---|---|");
    for m in results {
        println!(
            "| {} | {:.1} MB | {:.1} s | {:.1} s | {:.0} | {:.1} MB | {} |",
            m.items,
            m.megabytes,
            m.seconds,
            m.upload_seconds,
            m.items as f64 / m.seconds,
            m.growth_mb,
            m.added
        );
    }
}
