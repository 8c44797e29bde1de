//! Faults the service must survive (issue #12): PostgreSQL restarting under it, SIGTERM in the
//! middle of a job, a full media disk, and providers that hang or trickle.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::helpers::{
    fresh_database_url, spawn_app_with, start, test_settings, SseClient, TestApp, WorkerProcess,
};

/// A PostgreSQL cluster of this test's own, on a free port, so it can be stopped and started
/// without touching the server every other test uses.
struct PrivateCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

fn as_postgres(program: &Path) -> Command {
    // PostgreSQL refuses to run as root; CI runs as root.
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

impl PrivateCluster {
    fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server binaries are installed")
            .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .max()
            .expect("an initdb under /usr/lib/postgresql");
        let dir = std::env::temp_dir().join(format!("reelforge-pg-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = Command::new("chown").arg("postgres:").arg(&dir).status();
        let initdb = as_postgres(&bin.join("initdb"))
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(dir.join("data"))
            .output()
            .unwrap();
        assert!(
            initdb.status.success(),
            "{}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = PrivateCluster { bin, dir, port };
        cluster.up();
        cluster
    }

    fn pg_ctl(&self, args: &[&str]) {
        let output = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "pg_ctl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn up(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").display().to_string();
        self.pg_ctl(&["-w", "-l", &log, "-o", &options, "start"]);
    }

    /// Stops as a crash would: connections are cut, nothing is flushed politely.
    fn crash(&self) {
        self.pg_ctl(&["-w", "-m", "immediate", "stop"]);
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/reelforge_restart",
            self.port
        )
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn ready_status(app: &TestApp) -> u16 {
    match app.client.get(app.url("/readyz")).send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

async fn until_ready_is(app: &TestApp, status: u16, within: Duration) {
    crate::helpers::eventually(
        &format!("/readyz to answer {status}"),
        within,
        || ready_status(app),
        |now| *now == status,
    )
    .await;
}

/// Reads the project's events until `done`, reconnecting with `Last-Event-ID` whenever the stream
/// ends; answers the ids in the order they arrived.
async fn read_events_until(
    app: &TestApp,
    query: &str,
    mut last_id: i64,
    done: impl Fn(&crate::helpers::SseFrame) -> bool,
) -> Vec<i64> {
    let mut ids = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "events stopped at {ids:?}");
        let mut sse = SseClient::connect(app, query, Some(last_id)).await;
        while let Some(frame) = sse.next(Duration::from_secs(10)).await {
            ids.push(frame.id);
            last_id = frame.id;
            if done(&frame) {
                return ids;
            }
        }
    }
}

#[tokio::test]
async fn the_service_rides_out_a_postgres_restart() {
    let cluster = PrivateCluster::start();
    let mut settings = test_settings(&cluster.url());
    settings.jobs.lease_seconds = 3;
    let app = start(settings, true).await;
    let project = app.create_project(json!({"name": "outage"})).await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let query = format!("?project_id={project_id}");
    // A stream opened before the outage.
    let mut sse = SseClient::connect(&app, &query, Some(0)).await;

    // A job that is in flight while the database goes away.
    let slow = json!({"source": "apify", "provider": "fake", "accounts": ["a"], "per_source_limit": 3,
                      "options": {"delay_ms": 2500}});
    let (_, in_flight) = app.start_collection(&project_id, slow).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.crash();
    until_ready_is(&app, 503, Duration::from_secs(10)).await;
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.up();
    until_ready_is(&app, 200, Duration::from_secs(30)).await;

    let in_flight = app
        .wait_for_job(
            in_flight["id"].as_str().unwrap(),
            Duration::from_secs(60),
            |j| j["status"] == "succeeded" || j["status"] == "failed",
        )
        .await;
    assert_eq!(in_flight["status"], "succeeded", "{in_flight:#}");
    // Workers, NOTIFY listeners and the advancer work again: a new run goes end to end.
    let reels = app.collect_fake_reels(&project_id, 2).await;
    let run =
        crate::helpers::start_run(&app, &project_id, json!({"reel_id": reels[0]["id"]})).await;
    let run = crate::helpers::wait_for_run(&app, run["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");

    // The stream, resumed by id after the outage, misses nothing and repeats nothing.
    let run_id = run["id"].as_str().unwrap().to_owned();
    let done = |f: &crate::helpers::SseFrame| {
        f.event == "run.succeeded" && f.data["resource_id"] == run_id.as_str()
    };
    let mut received = Vec::new();
    let mut finished = false;
    while let Some(frame) = sse.next(Duration::from_secs(3)).await {
        received.push(frame.id);
        if done(&frame) {
            finished = true;
            break;
        }
    }
    if !finished {
        let last = received.last().copied().unwrap_or(0);
        received.extend(read_events_until(&app, &query, last, done).await);
    }
    let logged: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM events WHERE project_id = $1 AND id <= $2 ORDER BY id")
            .bind(project_id.parse::<Uuid>().unwrap())
            .bind(*received.last().unwrap())
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(received, logged);
}

async fn until_running(app: &TestApp, job_id: &str) {
    app.wait_for_job(job_id, Duration::from_secs(30), |j| {
        j["status"] == "running"
    })
    .await;
}

#[tokio::test]
async fn sigterm_lets_a_short_job_finish_and_releases_a_long_one() {
    let mut settings = test_settings(&fresh_database_url());
    settings.jobs.shutdown_grace_seconds = 5;
    // The API here; every job runs in the worker process that gets the signal.
    let app = start(settings, false).await;
    let mut worker = WorkerProcess::spawn(&app.settings, &[]);
    let project = app.create_project(json!({"name": "sigterm"})).await;
    let transcript_id = app.fake_transcript(project["id"].as_str().unwrap()).await;
    let (_, job) = app
        .start_step(
            &format!("/v1/transcripts/{transcript_id}/scripts"),
            // The fake writer may be asked for a draft and its revisions: 3 × 0.6 s < 5 s.
            json!({"provider": "fake", "options": {"delay_ms": 600}}),
        )
        .await;
    let short = job["id"].as_str().unwrap().to_owned();
    until_running(&app, &short).await;
    assert!(
        worker.terminate(Duration::from_secs(15)).await,
        "a clean exit"
    );
    let done = app.get_json(&format!("/v1/jobs/{short}")).await;
    assert_eq!(
        (done["status"].as_str(), done["attempts"].as_u64()),
        (Some("succeeded"), Some(1)),
        "{done:#}"
    );

    // A job longer than the grace period is released, not failed, and runs once more elsewhere
    // without the interrupted attempt counting.
    let mut worker = WorkerProcess::spawn(
        &app.settings,
        &[("REELFORGE__JOBS__SHUTDOWN_GRACE_SECONDS", "1".into())],
    );
    let (_, job) = app
        .start_step(
            &format!("/v1/transcripts/{transcript_id}/scripts"),
            json!({"provider": "fake", "options": {"delay_ms": 4000}}),
        )
        .await;
    let long = job["id"].as_str().unwrap().to_owned();
    until_running(&app, &long).await;
    let signalled = Instant::now();
    assert!(
        worker.terminate(Duration::from_secs(15)).await,
        "a clean exit"
    );
    assert!(
        signalled.elapsed() < Duration::from_secs(4),
        "it did not wait for the job"
    );
    let released = app.get_json(&format!("/v1/jobs/{long}")).await;
    assert_eq!(
        (released["status"].as_str(), released["attempts"].as_u64()),
        (Some("queued"), Some(0)),
        "{released:#}"
    );
    let replica = app.second_instance(true).await;
    let finished = replica
        .wait_for_job(&long, Duration::from_secs(30), |j| {
            j["status"] == "succeeded"
        })
        .await;
    assert_eq!(finished["attempts"], 1, "{finished:#}");
}

/// A media root on a 1 MiB filesystem of its own: the render's files cannot fit.
struct TinyDisk(PathBuf);

impl TinyDisk {
    fn mount() -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("reelforge-tiny-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(TinyDisk(dir))
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[tokio::test]
async fn a_full_media_disk_fails_the_job_clearly_and_leaves_nothing_behind() {
    let Some(disk) = TinyDisk::mount() else {
        // Mounting needs root (CI and scripts/test run as root); say so rather than pass quietly.
        panic!("could not mount a tmpfs: run the tests as root, as scripts/test does");
    };
    let root = disk.0.clone();
    let app = spawn_app_with(move |s| {
        s.media.root = root;
        s.media.fetch_allow_hosts = vec!["127.0.0.1".into()];
    })
    .await;
    let project = app
        .create_project(json!({"name": "full disk", "language": "en"}))
        .await;
    let project_id = project["id"].as_str().unwrap();
    // A 2 MB upload cannot be stored on a 1 MiB disk.
    let clip = crate::media::test_clip();
    let filler = vec![0u8; 2 * 1024 * 1024];
    let before = files_under(&disk.0);
    let response = app
        .upload(project_id, "big.mp4", [clip.as_slice(), &filler].concat())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 507, "{body}");
    assert_eq!(body["code"], "storage_full", "{body}");
    assert!(
        !body["detail"]
            .as_str()
            .unwrap()
            .contains(disk.0.to_str().unwrap()),
        "{body}"
    );
    assert_eq!(
        files_under(&disk.0),
        before,
        "no partial upload is left behind"
    );

    // A job that writes onto the full disk fails at once with the same clear code.
    let host = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/clip.mp4"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "video/mp4")
                .set_body_bytes(clip),
        )
        .mount(&host)
        .await;
    let filler = disk.0.join("filler");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&filler).unwrap();
        while file.write_all(&[7u8; 4096]).is_ok() {}
    }
    let before = files_under(&disk.0);
    let import = json!({"source": "import", "prepare_all": true, "items": [
        {"shortCode": "FULL1", "videoUrl": format!("{}/clip.mp4", host.uri()), "videoPlayCount": 10}
    ]});
    let (collection, job) = app.start_collection(project_id, import).await;
    app.finished_collection(project_id, &json!({"collection": collection, "job": job}))
        .await;
    let reels = app
        .get_json(&format!("/v1/projects/{project_id}/reels"))
        .await;
    let prepare = reels["items"][0]["job_id"].as_str().unwrap().to_owned();
    let failed = app
        .wait_for_job(&prepare, Duration::from_secs(30), |j| {
            j["status"] == "failed"
        })
        .await;
    assert_eq!(failed["last_error"]["code"], "storage_full", "{failed:#}");
    assert_eq!(
        failed["attempts"], 1,
        "a full disk is not retried blindly: {failed:#}"
    );
    assert_eq!(
        files_under(&disk.0),
        before,
        "no partial download is left behind"
    );

    // Space freed, the same job goes through; nothing else was broken meanwhile.
    std::fs::remove_file(&filler).unwrap();
    let retried = app
        .post(&format!("/v1/jobs/{prepare}/retry"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 202);
    let done = app
        .wait_for_job(&prepare, Duration::from_secs(30), |j| {
            j["status"] == "succeeded"
        })
        .await;
    assert!(done["last_error"].is_null(), "{done:#}");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn a_provider_that_hangs_or_trickles_times_out_and_frees_the_worker() {
    // Accepts connections and never answers; the second one sends a byte a second, forever.
    let hang = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hang_port = hang.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hang.incoming().flatten() {
            held.push(stream);
        }
    });
    let trickle = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let trickle_port = trickle.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in trickle.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut stream = stream;
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
                if stream.write_all(head).is_err() {
                    return;
                }
                for _ in 0..120 {
                    std::thread::sleep(Duration::from_millis(500));
                    if stream.write_all(b" ").is_err() {
                        return;
                    }
                }
            });
        }
    });
    for port in [hang_port, trickle_port] {
        let app = spawn_app_with(move |s| {
            s.providers.openai.api.base_url = format!("http://127.0.0.1:{port}/v1");
            s.providers.openai.api.timeout_seconds = 2;
            s.jobs.concurrency = 1;
            s.jobs.max_attempts = 2;
        })
        .await;
        let project = app
            .create_project(json!({"name": "slow vendor", "language": "en"}))
            .await;
        let project_id = project["id"].as_str().unwrap();
        let reel_id = app.upload_clip(project_id, crate::media::test_clip()).await;
        let started = Instant::now();
        let (_, job) = app
            .start_step(
                &format!("/v1/reels/{reel_id}/transcripts"),
                json!({"provider": "openai", "options": {"language": "en"}}),
            )
            .await;
        let job = app
            .wait_for_job(job["id"].as_str().unwrap(), Duration::from_secs(60), |j| {
                j["status"] == "failed" || j["status"] == "succeeded"
            })
            .await;
        let message = job["last_error"]["message"].as_str().unwrap_or_default();
        assert_eq!(job["status"], "failed", "port {port}: {job:#}");
        assert_eq!(job["attempts"], 2, "retried, then failed: {job:#}");
        assert!(
            message.contains("timed out") || message.contains("could not be reached"),
            "{message}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
        // The single worker slot is free again: a fake step runs at once.
        let other = app
            .fake_step(&format!("/v1/reels/{reel_id}/transcripts"))
            .await;
        let transcript = app.get_json(&format!("/v1/transcripts/{other}")).await;
        assert_eq!(transcript["status"], "succeeded");
    }
}
