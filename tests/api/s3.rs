//! The media store on an S3-compatible service (moto's server standing in for S3): files land in
//! the bucket, a replica on another disk serves them with ranges, and deleting the project empties
//! the bucket's project prefix.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::{json, Value};

use crate::{helpers::spawn_app_with, media::test_clip};

const BUCKET: &str = "reelforge-media";

/// A moto S3 server on a free port, killed when dropped.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `REELFORGE_MOTO_SERVER`, else the project's Python environment (scripts/test installs it
/// there), else `PATH`.
fn moto_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("REELFORGE_MOTO_SERVER") {
        return path.into();
    }
    let cache = std::env::var_os("REELFORGE_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/reelforge")));
    cache
        .map(|c| c.join("venv/bin/moto_server"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "moto_server".into())
}

async fn start_s3() -> S3Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let binary = moto_server_binary();
    let child = Command::new(&binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{} runs (scripts/test installs moto[server]): {e}",
                binary.display()
            )
        });
    let server = S3Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(response) = client
            .put(format!("{}/{BUCKET}", server.endpoint))
            .send()
            .await
        {
            assert!(response.status().is_success(), "bucket created");
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto_server did not start on {}", server.endpoint);
}

/// The keys in the bucket under `prefix`, read from the S3 ListObjectsV2 XML.
async fn bucket_keys(s3: &S3Server, prefix: &str) -> Vec<String> {
    let xml = reqwest::get(format!(
        "{}/{BUCKET}?list-type=2&prefix={prefix}",
        s3.endpoint
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let mut keys: Vec<String> = xml
        .split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split("</Key>").next())
        .map(str::to_owned)
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn media_lives_in_the_bucket_and_any_replica_serves_it() {
    let s3 = start_s3().await;
    let endpoint = s3.endpoint.clone();
    let app = spawn_app_with(move |s| {
        s.media.store = reelforge::config::MediaStoreKind::S3;
        s.media.s3.bucket = BUCKET.into();
        s.media.s3.endpoint = Some(endpoint);
        s.media.s3.region = Some("us-east-1".into());
        s.media.s3.access_key_id = Some("testing".into());
        s.media.s3.secret_access_key = Some("testing".to_owned().into());
        s.media.s3.allow_http = true;
    })
    .await;
    let clip = test_clip();
    let project = app.create_project(json!({"name": "s3"})).await;
    let project_id = project["id"].as_str().unwrap();
    let started: Value = app
        .upload(project_id, "clip.mp4", clip.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.finished_collection(project_id, &started).await;
    let reels = app
        .get_json(&format!("/v1/projects/{project_id}/reels"))
        .await;
    let reel_id = reels["items"][0]["id"].as_str().unwrap().to_owned();
    app.wait_for_job(
        reels["items"][0]["job_id"].as_str().unwrap(),
        Duration::from_secs(30),
        |j| j["status"] == "succeeded",
    )
    .await;

    let prefix = format!("projects/{project_id}/");
    let keys = bucket_keys(&s3, &prefix).await;
    let names: Vec<&str> = keys.iter().map(|k| k.rsplit('/').next().unwrap()).collect();
    assert_eq!(
        names,
        ["audio.wav", "thumbnail.jpg", "video.mp4"],
        "{keys:?}"
    );
    assert_eq!(
        bucket_keys(&s3, "tmp/").await,
        Vec::<String>::new(),
        "uploads are cleaned up"
    );

    // Another machine: its own empty disk, the same database and bucket.
    let other_root =
        std::env::temp_dir().join(format!("reelforge-replica-{}", uuid::Uuid::new_v4()));
    let replica = app
        .second_instance_with(false, |s| s.media.root = other_root.clone())
        .await;
    let ranged = replica
        .get(&format!("/v1/reels/{reel_id}/video"))
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().await.unwrap().as_ref(), &clip[100..200]);
    let whole = replica
        .get(&format!("/v1/reels/{reel_id}/video"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        whole.headers()["content-type"].to_str().unwrap(),
        "video/mp4"
    );
    assert_eq!(whole.bytes().await.unwrap().as_ref(), clip.as_slice());

    let deleted = replica
        .delete(&format!("/v1/projects/{project_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(bucket_keys(&s3, &prefix).await, Vec::<String>::new());
    assert!(!other_root.join(&prefix).exists());
}
