use std::time::Duration;

use futures::StreamExt;
use reelforge::{
    config::Settings,
    db,
    domain::workspace::{Scope, DEFAULT_WORKSPACE},
    startup::{Application, Roles},
};
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Where test databases are created: `DATABASE_URL` names the server (its database part is
/// replaced per test).
/// How often tests poll: often enough to be quick, rare enough not to load busy cores.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The most a local model's step may take on two busy cores before a test calls it hung.
pub const MODEL_STEP_CAP: Duration = Duration::from_secs(600);

pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn fresh_database_url() -> String {
    let mut url = reqwest::Url::parse(&server_url()).expect("DATABASE_URL is a URL");
    url.set_path(&format!("reelforge_test_{}", Uuid::new_v4().simple()));
    url.to_string()
}

/// A fresh database with the schema as it was before migration `version`, for a test of what
/// that migration does to data stored before it; answers its URL and a pool on it.
pub async fn database_before(version: i64) -> (String, PgPool) {
    use sqlx::migrate::MigrateDatabase;
    let url = fresh_database_url();
    sqlx::Postgres::create_database(&url).await.unwrap();
    let pool = PgPool::connect(&url).await.unwrap();
    let before = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(
            db::MIGRATOR
                .iter()
                .filter(|migration| migration.version < version)
                .cloned()
                .collect(),
        ),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    };
    before.run(&pool).await.unwrap();
    (url, pool)
}

/// Settings tuned for fast tests: short polls and backoffs, one HTTP worker.
pub fn test_settings(database_url: &str) -> Settings {
    let mut settings = Settings::default();
    settings.database.url = SecretString::from(database_url.to_owned());
    settings.database.max_connections = 10;
    settings.server.port = 0;
    settings.server.http_workers = Some(1);
    settings.jobs.poll_interval_ms = 100;
    settings.jobs.backoff_base_ms = 10;
    settings.jobs.backoff_max_ms = 50;
    settings.jobs.shutdown_grace_seconds = 2;
    settings.events.poll_interval_ms = 200;
    // Tests poll and fuzz faster than any client should; the rate limit's own test sets one.
    settings.rate_limit.per_minute = 0;
    settings.media.root =
        std::env::temp_dir().join(format!("reelforge-test-media-{}", Uuid::new_v4().simple()));
    // No engine process per test; the engine test turns it on.
    settings.engines.enabled = Some(false);
    // Imported items name Instagram's CDN, which tests cannot reach; the covers' tests turn it on.
    settings.collect.max_covers = 0;
    // Instant, deterministic steps unless a test names a provider; production never offers them.
    settings.providers.fake = true;
    settings.defaults.settings.providers = serde_json::from_value(json!({
        "collect": "fake", "transcribe": "fake", "rewrite": "fake", "voice": "fake", "render": "fake"
    }))
    .unwrap();
    settings
}

/// Makes a token as `reelforge token create` does (the workspace too, if new); answers its
/// secret.
pub async fn new_token(pool: &PgPool, name: &str, workspace: &str, scope: Scope) -> String {
    let workspace_id = db::tokens::ensure_workspace(pool, workspace)
        .await
        .expect("workspace stored");
    let (token, hash) = reelforge::access::generate();
    db::tokens::insert(pool, name, &hash, workspace_id, scope)
        .await
        .expect("token stored");
    token
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub token: String,
    pub pool: PgPool,
    pub settings: Settings,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings(&fresh_database_url());
    configure(&mut settings);
    start(settings, true).await
}

pub async fn start(settings: Settings, workers: bool) -> TestApp {
    launch(settings, workers, None, reelforge::clock::system()).await
}

/// An instance whose schedules and budgets read `clock`, its scheduler looking every 50 ms.
pub async fn spawn_app_with_clock(
    clock: reelforge::clock::SharedClock,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = test_settings(&fresh_database_url());
    settings.watch.tick_interval_ms = 50;
    configure(&mut settings);
    launch(settings, true, None, clock).await
}

/// Starts an instance; without `token`, a new one is created for it.
async fn launch(
    settings: Settings,
    workers: bool,
    token: Option<String>,
    clock: reelforge::clock::SharedClock,
) -> TestApp {
    let app = Application::build_with_clock(
        settings.clone(),
        Roles {
            http: true,
            workers,
        },
        clock,
    )
    .await
    .expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port().expect("http is on"));
    let pool = app.pool().clone();
    let shutdown = app.shutdown_token();
    tokio::spawn(app.run_until_stopped());
    let token = match token {
        Some(token) => token,
        // The default workspace's admin: it may do everything the API offers.
        None => new_token(&pool, "test", DEFAULT_WORKSPACE, Scope::Admin).await,
    };
    TestApp {
        address,
        // Idle connections are dropped before the server's 5 s keep-alive closes them, so a
        // request never goes out on a connection the server is closing.
        client: reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .unwrap(),
        token,
        pool,
        settings,
        shutdown,
    }
}

impl TestApp {
    /// Another replica on the same database, as a second machine would run it.
    pub async fn second_instance(&self, workers: bool) -> TestApp {
        self.second_instance_with(workers, |_| {}).await
    }

    /// Another replica, with settings of its own (another machine's disk, say).
    pub async fn second_instance_with(
        &self,
        workers: bool,
        configure: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let mut settings = self.settings.clone();
        configure(&mut settings);
        launch(
            settings,
            workers,
            Some(self.token.clone()),
            reelforge::clock::system(),
        )
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.token)
    }

    pub fn post(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
    }

    pub fn put(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .put(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
    }

    pub fn patch(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .patch(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.delete(self.url(path)).bearer_auth(&self.token)
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).send().await.expect("request sent");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }

    /// A project as `GET /v1/projects/{id}` shows it, without its usage totals (which only
    /// that route carries), to compare with what create and update answered.
    /// The project as `GET` shows it, less what only `GET` adds (usage and budget).
    pub async fn project_without_usage(&self, id: &str) -> Value {
        let mut project = self.get_json(&format!("/v1/projects/{id}")).await;
        let fields = project.as_object_mut().unwrap();
        assert_eq!(fields.remove("usage").unwrap()["currency"], "USD");
        assert_eq!(fields.remove("budget").unwrap()["currency"], "USD");
        project
    }

    pub async fn create_project(&self, body: Value) -> Value {
        let response = self.post("/v1/projects", &body).send().await.unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json().await.unwrap()
    }

    /// Starts a step and answers `(resource, job)`.
    pub async fn start_step(&self, path: &str, body: Value) -> (Value, Value) {
        let response = self.post(path, &body).send().await.unwrap();
        assert_eq!(
            response.status(),
            202,
            "POST {path}: {}",
            response.text().await.unwrap()
        );
        let started: Value = response.json().await.unwrap();
        (started["resource"].clone(), started["job"].clone())
    }

    /// Polls a job until `done` says so, or panics after `timeout`.
    pub async fn wait_for_job(
        &self,
        job_id: &str,
        timeout: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        eventually(
            "the job to reach the state",
            timeout,
            || async { self.get_json(&format!("/v1/jobs/{job_id}")).await },
            done,
        )
        .await
    }

    pub async fn wait_for_status(&self, job_id: &str, status: &str) -> Value {
        self.wait_for_job(job_id, Duration::from_secs(15), |job| {
            job["status"] == status
        })
        .await
    }

    /// Starts a collection and answers `(collection, job)`.
    pub async fn start_collection(&self, project_id: &str, body: Value) -> (Value, Value) {
        let path = format!("/v1/projects/{project_id}/collections");
        let response = self.post(&path, &body).send().await.unwrap();
        assert_eq!(
            response.status(),
            202,
            "POST {path}: {}",
            response.text().await.unwrap()
        );
        let started: Value = response.json().await.unwrap();
        (started["collection"].clone(), started["job"].clone())
    }

    /// Waits for a started collection (`{"collection", "job"}`) to succeed and answers it.
    pub async fn finished_collection(&self, project_id: &str, started: &Value) -> Value {
        self.wait_for_status(started["job"]["id"].as_str().unwrap(), "succeeded")
            .await;
        self.collection(project_id, &started["collection"]).await
    }

    /// A collection (as answered when it was started) as it is stored now.
    pub async fn collection(&self, project_id: &str, collection: &Value) -> Value {
        let id = collection["id"].as_str().unwrap();
        self.get_json(&format!("/v1/projects/{project_id}/collections/{id}"))
            .await
    }

    /// Collects `count` fake reels of one account and waits until they are stored.
    pub async fn collect_fake_reels(&self, project_id: &str, count: u32) -> Vec<Value> {
        let body = json!({"source": "apify", "provider": "fake", "accounts": ["demo"], "per_source_limit": count});
        let (_, job) = self.start_collection(project_id, body).await;
        self.wait_for_status(job["id"].as_str().unwrap(), "succeeded")
            .await;
        let reels = self
            .get_json(&format!("/v1/projects/{project_id}/reels?limit=100"))
            .await;
        reels["items"].as_array().unwrap().clone()
    }

    /// Selects a reel and waits until its media is prepared.
    pub async fn select_reel(&self, project_id: &str, reel_id: &str) -> Value {
        let response = self
            .post(
                &format!("/v1/projects/{project_id}/reels/{reel_id}/select"),
                &json!({}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
        let selected: Value = response.json().await.unwrap();
        self.wait_for_status(selected["job"]["id"].as_str().unwrap(), "succeeded")
            .await;
        self.get_json(&format!("/v1/reels/{reel_id}")).await
    }

    /// Runs a project through every step with the fake providers; answers the ids in order
    /// (reel, transcript, script, audio, video).
    pub async fn run_pipeline(&self, project_id: &str) -> Vec<String> {
        let reels = self.collect_fake_reels(project_id, 1).await;
        let reel_id = reels[0]["id"].as_str().unwrap().to_owned();
        self.select_reel(project_id, &reel_id).await;
        let mut ids = vec![reel_id.clone()];
        let mut path = format!("/v1/reels/{reel_id}/transcripts");
        for (collection, next) in [
            ("transcripts", "scripts"),
            ("scripts", "audio"),
            ("audio", "videos"),
            ("videos", ""),
        ] {
            let (resource, job) = self.start_step(&path, json!({})).await;
            self.wait_for_status(job["id"].as_str().unwrap(), "succeeded")
                .await;
            let id = resource["id"].as_str().unwrap().to_owned();
            path = format!("/v1/{collection}/{id}/{next}");
            ids.push(id);
        }
        ids
    }
}

/// A mono WAV of `seconds` of tone at `rate` Hz, made by ffmpeg.
pub fn tone_wav_at(seconds: f64, rate: u32) -> std::path::PathBuf {
    let out = std::env::temp_dir().join(format!("reelforge-{}.wav", Uuid::new_v4().simple()));
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!(
            "sine=frequency=300:sample_rate={rate}:duration={seconds}"
        ))
        .args(["-ac", "1"])
        .arg(&out)
        .status()
        .expect("ffmpeg is installed");
    assert!(status.success());
    out
}

/// A 16 kHz WAV of whole seconds, as preparing a reel extracts.
pub fn tone_wav(seconds: u32) -> std::path::PathBuf {
    tone_wav_at(f64::from(seconds), 16_000)
}

/// A provider call context for testing clients directly.
pub fn call_context() -> reelforge::providers::CallContext<'static> {
    static NO_PROGRESS: NoProgress = NoProgress;
    reelforge::providers::CallContext {
        attempt: 1,
        progress: &NO_PROGRESS,
        checkpoints: &reelforge::providers::NoCheckpoints,
    }
}

/// Checkpoints kept in memory across "restarts", as the job table keeps them across workers.
#[derive(Default)]
pub struct MemoryCheckpoints(pub std::sync::Mutex<Option<Value>>);

#[async_trait::async_trait]
impl reelforge::providers::CheckpointStore for MemoryCheckpoints {
    async fn load(&self) -> Result<Option<Value>, reelforge::providers::ProviderError> {
        Ok(self.0.lock().unwrap().clone())
    }

    async fn save(&self, checkpoint: &Value) -> Result<(), reelforge::providers::ProviderError> {
        *self.0.lock().unwrap() = Some(checkpoint.clone());
        Ok(())
    }
}

impl MemoryCheckpoints {
    /// A provider call context that keeps its checkpoints here.
    pub fn call(&self) -> reelforge::providers::CallContext<'_> {
        static NO_PROGRESS: NoProgress = NoProgress;
        reelforge::providers::CallContext {
            attempt: 1,
            progress: &NO_PROGRESS,
            checkpoints: self,
        }
    }
}

pub struct NoProgress;

#[async_trait::async_trait]
impl reelforge::providers::ProgressSink for NoProgress {
    async fn report(&self, _percent: u8, _stage: &str) {}
}

impl TestApp {
    /// Uploads a real clip (`files` source) and answers the reel's id once it is prepared.
    /// A multipart upload of one file as the project's `file` part, ready to send.
    pub fn upload(&self, project_id: &str, name: &str, bytes: Vec<u8>) -> reqwest::RequestBuilder {
        self.upload_to(
            &format!("/v1/projects/{project_id}/collections/files"),
            name,
            bytes,
        )
    }

    /// A multipart POST of one `file` part to `path`.
    pub fn upload_to(&self, path: &str, name: &str, bytes: Vec<u8>) -> reqwest::RequestBuilder {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
        self.post_form(path, form)
    }

    /// A multipart POST of `form` to `path`.
    pub fn post_form(&self, path: &str, form: reqwest::multipart::Form) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .bearer_auth(&self.token)
            .multipart(form)
    }

    /// What `/metrics` answers (it takes no token).
    pub async fn metrics(&self) -> String {
        let response = self.client.get(self.url("/metrics")).send().await.unwrap();
        response.text().await.unwrap()
    }

    /// Uploads a file to the project's media library; answers the asset.
    pub async fn upload_asset(&self, project_id: &str, name: &str, bytes: Vec<u8>) -> Value {
        let response = self
            .upload_to(&format!("/v1/projects/{project_id}/assets"), name, bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{name}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let asset: Value = response.json().await.unwrap();
        assert_eq!(
            location,
            format!("/v1/assets/{}", asset["id"].as_str().unwrap())
        );
        asset
    }

    /// The bytes a GET of `path` answers, which must be 200.
    pub async fn download(&self, path: &str) -> Vec<u8> {
        let response = self.get(path).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.bytes().await.unwrap().to_vec()
    }

    pub async fn upload_clip(&self, project_id: &str, clip: Vec<u8>) -> String {
        let response = self
            .upload(project_id, "clip.mp4", clip)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        let started: Value = response.json().await.unwrap();
        self.finished_collection(project_id, &started).await;
        let reels = self
            .get_json(&format!("/v1/projects/{project_id}/reels"))
            .await;
        self.wait_for_status(reels["items"][0]["job_id"].as_str().unwrap(), "succeeded")
            .await;
        reels["items"][0]["id"].as_str().unwrap().to_owned()
    }

    /// A succeeded script (fake providers) whose text is then set to `text`; answers its id.
    pub async fn script_with_text(&self, project_id: &str, text: &str) -> String {
        let transcript_id = self.fake_transcript(project_id).await;
        self.script_of(&transcript_id, text).await
    }

    /// A succeeded script of a transcript (fake provider), edited to `text`; answers its id.
    pub async fn script_of(&self, transcript_id: &str, text: &str) -> String {
        let id = self
            .fake_step(&format!("/v1/transcripts/{transcript_id}/scripts"))
            .await;
        let response = self
            .patch(&format!("/v1/scripts/{id}"), &json!({ "text": text }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        id
    }

    /// Runs a step with the fake provider to success; answers the resource id.
    pub async fn fake_step(&self, path: &str) -> String {
        let (resource, job) = self.start_step(path, json!({"provider": "fake"})).await;
        self.wait_for_status(job["id"].as_str().unwrap(), "succeeded")
            .await;
        resource["id"].as_str().unwrap().to_owned()
    }

    /// Runs a step to its end and answers the resource as stored.
    pub async fn finished_step(&self, path: &str, body: Value, resource: &str) -> Value {
        self.finished_step_within(path, body, resource, Duration::from_secs(60))
            .await
    }

    /// Like `finished_step`, for steps whose worst case is longer: a local model writing on two
    /// busy cores. The cap is a hang detector, not a timing assertion.
    pub async fn finished_step_within(
        &self,
        path: &str,
        body: Value,
        resource: &str,
        cap: Duration,
    ) -> Value {
        let (started, job) = self.start_step(path, body).await;
        self.wait_for_job(job["id"].as_str().unwrap(), cap, |j| {
            matches!(j["status"].as_str(), Some("succeeded" | "failed"))
        })
        .await;
        self.get_json(&format!(
            "/v1/{resource}/{}",
            started["id"].as_str().unwrap()
        ))
        .await
    }

    /// A succeeded transcript of a fake reel, for the later steps; answers its id.
    pub async fn fake_transcript(&self, project_id: &str) -> String {
        let reels = self.collect_fake_reels(project_id, 1).await;
        let reel_id = reels[0]["id"].as_str().unwrap();
        self.select_reel(project_id, reel_id).await;
        self.fake_step(&format!("/v1/reels/{reel_id}/transcripts"))
            .await
    }
}

/// Runs `inspect` on `bytes` written to a temporary file with `extension`.
pub fn with_temp_file<T>(
    bytes: &[u8],
    extension: &str,
    inspect: impl FnOnce(&std::path::Path) -> T,
) -> T {
    let file =
        std::env::temp_dir().join(format!("reelforge-{}.{extension}", Uuid::new_v4().simple()));
    std::fs::write(&file, bytes).unwrap();
    let result = inspect(&file);
    std::fs::remove_file(file).unwrap();
    result
}

/// Sends a request expected to fail and reads its problem document.
/// Asserts that `request` is refused with 422 `validation_failed` whose first error names
/// `field` and says `says`.
pub async fn assert_refused(request: reqwest::RequestBuilder, field: &str, says: &str) {
    let (status, problem) = send_problem(request).await;
    assert_eq!(
        (
            status,
            problem["code"].as_str(),
            problem["errors"][0]["field"].as_str()
        ),
        (422, Some("validation_failed"), Some(field)),
        "{problem}"
    );
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(says), "{problem}");
}

/// An app whose ElevenLabs lives at `server`, with the key `xi-key`.
pub async fn spawn_app_with_elevenlabs(server: &wiremock::MockServer) -> TestApp {
    let base_url = server.uri();
    spawn_app_with(move |s| {
        s.providers.elevenlabs.api.base_url = base_url;
        s.providers.elevenlabs.api.api_key = Some(SecretString::from("xi-key"));
    })
    .await
}

/// One frame of a video of `size` as RGB pixels, via ffmpeg.
pub fn frame_rgb(video: &[u8], at_ms: u64, (width, height): (usize, usize)) -> Vec<u8> {
    let output = with_temp_file(video, "mp4", |file| {
        std::process::Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-ss",
                &format!("{:.3}", at_ms as f64 / 1000.0),
                "-i",
            ])
            .arg(file)
            .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
            .output()
            .unwrap()
    });
    assert!(output.status.success());
    assert_eq!(output.stdout.len(), width * height * 3);
    output.stdout
}

pub async fn send_problem(request: reqwest::RequestBuilder) -> (u16, Value) {
    problem(request.send().await.unwrap()).await
}

pub async fn problem(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json", "status {status}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .ends_with(body["code"].as_str().unwrap()),
        "{body}"
    );
    (status, body)
}

/// One parsed SSE frame.
#[derive(Debug, Clone)]
pub struct SseFrame {
    pub id: i64,
    pub event: String,
    pub data: Value,
}

/// A minimal SSE reader: frames are split on blank lines; comments and `retry:` are skipped.
pub struct SseClient {
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl SseClient {
    pub async fn connect(app: &TestApp, query: &str, last_event_id: Option<i64>) -> SseClient {
        SseClient::connect_as(app, &app.token, query, last_event_id).await
    }

    /// Connects with another token than the app's.
    pub async fn connect_as(
        app: &TestApp,
        token: &str,
        query: &str,
        last_event_id: Option<i64>,
    ) -> SseClient {
        let mut request = app
            .client
            .get(app.url(&format!("/v1/events{query}")))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        SseClient {
            stream: response.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next event frame, or `None` if none comes within `timeout` or the stream ends.
    pub async fn next(&mut self, timeout: Duration) -> Option<SseFrame> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                let mut frame = (None, None, None);
                for line in raw.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        frame.0 = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        frame.1 = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        frame.2 = serde_json::from_str(v).ok();
                    }
                }
                if let (Some(id), Some(event), Some(data)) = frame {
                    return Some(SseFrame { id, event, data });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??
                .ok()?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Collects frames until one satisfies `last`, panicking after `timeout`.
    pub async fn until(
        &mut self,
        timeout: Duration,
        last: impl Fn(&SseFrame) -> bool,
    ) -> Vec<SseFrame> {
        let mut frames = Vec::new();
        loop {
            let frame = self
                .next(timeout)
                .await
                .unwrap_or_else(|| panic!("stream ended or stalled after {frames:#?}"));
            let done = last(&frame);
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }
}

/// A worker replica in a process of its own (the real binary), for tests that kill or signal
/// one. It reads the same settings as `settings` would give, through the environment.
pub struct WorkerProcess(std::process::Child);

impl WorkerProcess {
    pub fn spawn(settings: &Settings, extra: &[(&str, String)]) -> Self {
        Self::run(&["worker"], settings, extra, std::process::Stdio::inherit())
    }

    /// The binary running `args` (`worker`, `serve`), its log (stderr) written to `log`: a
    /// process that starts with nothing in memory, whose every log line can be read.
    pub fn spawn_logged(
        args: &[&str],
        settings: &Settings,
        extra: &[(&str, String)],
        log: &std::path::Path,
    ) -> Self {
        let file = std::fs::File::create(log).expect("the log file is created");
        Self::run(args, settings, extra, file.into())
    }

    fn run(
        args: &[&str],
        settings: &Settings,
        extra: &[(&str, String)],
        stderr: std::process::Stdio,
    ) -> Self {
        use secrecy::ExposeSecret;
        let jobs = &settings.jobs;
        let log = std::env::var("REELFORGE_TEST_WORKER_LOG").unwrap_or_else(|_| "warn".into());
        let environment = [
            (
                "REELFORGE__DATABASE__URL",
                settings.database.url.expose_secret().to_owned(),
            ),
            (
                "REELFORGE__MEDIA__ROOT",
                settings.media.root.display().to_string(),
            ),
            (
                "REELFORGE__MEDIA__FETCH_ALLOW_HOSTS",
                settings.media.fetch_allow_hosts.join(","),
            ),
            ("REELFORGE__ENGINES__ENABLED", "false".to_owned()),
            (
                "REELFORGE__RATE_LIMIT__PER_MINUTE",
                settings.rate_limit.per_minute.to_string(),
            ),
            (
                "REELFORGE__PROVIDERS__FAKE",
                settings.providers.fake.to_string(),
            ),
            (
                "REELFORGE__JOBS__LEASE_SECONDS",
                jobs.lease_seconds.to_string(),
            ),
            (
                "REELFORGE__JOBS__POLL_INTERVAL_MS",
                jobs.poll_interval_ms.to_string(),
            ),
            (
                "REELFORGE__JOBS__BACKOFF_BASE_MS",
                jobs.backoff_base_ms.to_string(),
            ),
            (
                "REELFORGE__JOBS__BACKOFF_MAX_MS",
                jobs.backoff_max_ms.to_string(),
            ),
            (
                "REELFORGE__JOBS__SHUTDOWN_GRACE_SECONDS",
                jobs.shutdown_grace_seconds.to_string(),
            ),
            ("RUST_LOG", log),
        ];
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_reelforge"))
            .args(args)
            .envs(environment)
            .envs(extra.iter().map(|(name, value)| (*name, value.as_str())))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("the reelforge binary starts");
        WorkerProcess(child)
    }

    /// `kill -9`: no drain, no release; the job's lease must run out.
    pub fn kill(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }

    /// SIGTERM, then waits for the process to exit; answers whether it exited cleanly.
    pub async fn terminate(&mut self, within: Duration) -> bool {
        let pid = self.0.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status.success();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the worker did not exit within {within:?} of SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The log at `path` once it holds `needle`, panicking after `timeout`.
pub async fn log_with(path: &std::path::Path, needle: &str, timeout: Duration) -> String {
    eventually(
        &format!("the log to show {needle:?}"),
        timeout,
        || async { String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned() },
        |log| log.contains(needle),
    )
    .await
}

/// An app whose OpenAI-compatible provider is `server` with `key`, and an English project with
/// one uploaded clip: answers the app, the project id and the reel id.
pub async fn openai_reel(server_uri: &str, key: &'static str) -> (TestApp, String, String) {
    let base_url = format!("{server_uri}/v1");
    let app = spawn_app_with(move |s| {
        s.providers.openai.api.base_url = base_url;
        s.providers.openai.api.api_key = Some(SecretString::from(key));
    })
    .await;
    let project = app
        .create_project(json!({"name": "openai", "language": "en"}))
        .await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let reel_id = app
        .upload_clip(&project_id, crate::media::test_clip())
        .await;
    (app, project_id, reel_id)
}

/// Whether a script output passed every gate; `grounded` only flags a script for review.
pub fn gates_passed(output: &Value) -> bool {
    output["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|check| check["passed"] == true || check["name"] == "grounded")
}

/// Reads `read` every `POLL_INTERVAL` until `done` says so of its value, and answers that value;
/// panics with `what` and the last value after `within`. Every test that waits, waits here.
pub async fn eventually<T: std::fmt::Debug, F, Fut>(
    what: &str,
    within: Duration,
    mut read: F,
    done: impl Fn(&T) -> bool,
) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let value = read().await;
        if done(&value) {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {within:?}: {value:?}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Polls a run until it has ended.
pub async fn wait_for_run(app: &TestApp, run_id: &str) -> Value {
    wait_for_run_in(app, run_id, &["succeeded", "failed"]).await
}

/// The run once its status is one of `statuses`.
pub async fn wait_for_run_in(app: &TestApp, run_id: &str, statuses: &[&str]) -> Value {
    eventually(
        &format!("the run to get to {statuses:?}"),
        Duration::from_secs(30),
        || async { app.get_json(&format!("/v1/runs/{run_id}")).await },
        |run| statuses.contains(&run["status"].as_str().unwrap_or_default()),
    )
    .await
}

/// Starts a run of `project_id` with `body`, expecting it accepted.
pub async fn start_run(app: &TestApp, project_id: &str, body: Value) -> Value {
    let response = app
        .post(&format!("/v1/projects/{project_id}/runs"), &body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}
