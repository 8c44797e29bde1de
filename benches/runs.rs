//! Pipeline-run benchmarks (numbers go to BENCHMARKS.md via bench/runs):
//! 1. orchestration overhead: wall time of a whole run (4 steps) whose providers answer at once,
//!    i.e. what the API, queue, workers and run advancer add around provider calls;
//! 2. 50 runs started together, each step taking 2 s at its provider, beside one run alone.
//!    Rewrite and voice are the real OpenAI clients against a wiremock server that answers after
//!    2 s; transcribe and render are the fake providers told to take 2 s (the fake reels carry no
//!    audio to upload, and a HeyGen render is a dozen calls).
//!
//! The server runs as a child process (`target/release/reelforge serve`).

mod common;

use std::time::{Duration, Instant};

use common::{database_url, start_server, summarize, Server};
use futures::StreamExt;
use reelforge::{config::Settings, startup::prepare_database};
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use wiremock::{matchers, Mock, MockServer, ResponseTemplate};

const LATENCY: Duration = Duration::from_secs(2);
const SCRIPT: &str = "Stop waiting for the perfect moment and start with one small step today. \
                      Your future self will thank you. Follow for more.";

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// A project with `count` fake reels, collected and stored (and with their media prepared,
    /// when `prepare_all`).
    async fn project_with_reels(
        &self,
        settings: Value,
        count: u32,
        prepare_all: bool,
    ) -> (String, Vec<String>) {
        let project = self
            .post(
                "/v1/projects",
                json!({"name": "bench", "language": "en", "settings": settings}),
            )
            .await;
        let id = project["id"].as_str().unwrap().to_owned();
        let started = self
            .post(
                &format!("/v1/projects/{id}/collections"),
                json!({"source": "apify", "provider": "fake", "accounts": ["bench"],
                       "per_source_limit": count, "prepare_all": prepare_all}),
            )
            .await;
        let job = started["job"]["id"].as_str().unwrap().to_owned();
        while self.get(&format!("/v1/jobs/{job}")).await["status"] != "succeeded" {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut reels = self
            .get(&format!("/v1/projects/{id}/reels?limit=100"))
            .await;
        while prepare_all
            && reels["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["status"] != "succeeded")
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
            reels = self
                .get(&format!("/v1/projects/{id}/reels?limit=100"))
                .await;
        }
        let reels = reels["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        (id, reels)
    }

    async fn start_run(&self, project: &str, reel: &str, options: &Value) -> String {
        let run = self
            .post(
                &format!("/v1/projects/{project}/runs"),
                json!({"reel_id": reel, "options": options}),
            )
            .await;
        run["id"].as_str().unwrap().to_owned()
    }

    async fn wait_run(&self, id: &str, poll: Duration) -> Value {
        loop {
            let run = self.get(&format!("/v1/runs/{id}")).await;
            match run["status"].as_str() {
                Some("succeeded") => return run,
                Some("failed") => panic!("run failed: {run:#}"),
                _ => tokio::time::sleep(poll).await,
            }
        }
    }

    /// Starts one run and answers its wall time.
    /// Starts one run and answers its wall time and its steps' own durations.
    async fn timed_run(
        &self,
        project: &str,
        reel: &str,
        options: &Value,
        poll: Duration,
    ) -> (f64, String) {
        let started = Instant::now();
        let id = self.start_run(project, reel, options).await;
        let run = self.wait_run(&id, poll).await;
        let wall = started.elapsed().as_secs_f64() * 1000.0;
        let steps = run["reels"][0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{} {:.2} s",
                    s["step"].as_str().unwrap(),
                    s["duration_ms"].as_f64().unwrap() / 1000.0
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        (wall, steps)
    }
}

async fn server(database_url: &str, env: &[(&str, String)]) -> (Server, Client) {
    let pool = prepare_database(&{
        let mut settings = Settings::default();
        settings.database.url = SecretString::from(database_url.to_owned());
        settings
    })
    .await
    .unwrap();
    let token = common::bench_token(&pool).await;
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(key, value)| ((*key).to_owned(), value.clone()))
        .collect();
    for step in ["COLLECT", "TRANSCRIBE", "REWRITE", "VOICE", "RENDER"] {
        env.push((
            format!("REELFORGE__DEFAULTS__SETTINGS__PROVIDERS__{step}"),
            "fake".into(),
        ));
    }
    env.push(("REELFORGE__ENGINES__ENABLED".into(), "false".into()));
    // Steps wait on providers, not on the CPU: one replica runs all 50 runs' steps at once.
    env.push(("REELFORGE__JOBS__CONCURRENCY".into(), "64".into()));
    env.push(("REELFORGE__DATABASE__MAX_CONNECTIONS".into(), "30".into()));
    let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let server = start_server(database_url, true, &env).await;
    let client = Client {
        http: reqwest::Client::new(),
        base: server.address.clone(),
        token,
    };
    (server, client)
}

/// The ids of runs that succeeded, as the project's event stream announces them.
async fn finished_runs(client: &Client, project: &str) -> mpsc::UnboundedReceiver<String> {
    let response = client
        .http
        .get(format!("{}/v1/events?project_id={project}", client.base))
        .bearer_auth(&client.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                if !frame.contains("event: run.succeeded") {
                    continue;
                }
                let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) else {
                    continue;
                };
                let event: Value = serde_json::from_str(data).unwrap();
                let _ = sender.send(event["resource_id"].as_str().unwrap().to_owned());
            }
        }
    });
    receiver
}

/// Each run is timed from its POST until the event stream says it succeeded: waiting on the
/// stream, not polling, so the measurement itself adds no load. With `prepared` reels a run is
/// the four steps alone; otherwise it prepares the reel's media first.
async fn overhead(client: &Client, prepared: bool) -> common::Latency {
    const RUNS: usize = 31;
    let (project, reels) = client
        .project_with_reels(json!({}), RUNS as u32, prepared)
        .await;
    let mut finished = finished_runs(client, &project).await;
    let mut samples = Vec::new();
    for reel in &reels {
        let started = Instant::now();
        let id = client.start_run(&project, reel, &json!({})).await;
        while finished.recv().await.expect("the event stream stays open") != id {}
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    // The first run warms connections and caches.
    summarize(samples.split_off(1))
}

/// A 16 kHz mono WAV of `seconds` of tone, as the speech stand-in's answer.
fn wav(seconds: u32) -> Vec<u8> {
    let rate = 16_000u32;
    let samples = rate * seconds;
    let mut bytes = Vec::with_capacity(44 + samples as usize * 2);
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + samples * 2).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&rate.to_le_bytes());
    bytes.extend_from_slice(&(rate * 2).to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&(samples * 2).to_le_bytes());
    for i in 0..samples {
        let t = i as f64 / rate as f64;
        let value = ((t * 440.0 * std::f64::consts::TAU).sin() * 8000.0) as i16;
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    bytes
}

async fn concurrent() -> (f64, String, f64, usize) {
    const RUNS: usize = 50;
    let vendor = MockServer::start().await;
    Mock::given(matchers::path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(LATENCY)
                .set_body_json(json!({
                    "id": "chatcmpl-bench", "object": "chat.completion", "model": "gpt-4o-mini",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": SCRIPT}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 420, "completion_tokens": 30, "total_tokens": 450},
                })),
        )
        .mount(&vendor)
        .await;
    Mock::given(matchers::path("/v1/audio/speech"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(LATENCY)
                .insert_header("content-type", "audio/wav")
                .set_body_bytes(wav(6)),
        )
        .mount(&vendor)
        .await;
    let env = [
        (
            "REELFORGE__PROVIDERS__OPENAI__BASE_URL",
            format!("{}/v1", vendor.uri()),
        ),
        (
            "REELFORGE__PROVIDERS__OPENAI__API_KEY",
            "sk-bench".to_owned(),
        ),
    ];
    let (_server, client) = server(&database_url(), &env).await;
    let settings = json!({
        "words": {"min": 10, "max": 30},
        "target_duration_seconds": 6,
        "providers": {"rewrite": "openai", "voice": "openai"},
    });
    let (project, reels) = client
        .project_with_reels(settings, RUNS as u32 + 1, false)
        .await;
    // The fake providers sleep this long at each of their four progress stages.
    let delay = LATENCY.as_millis() as u64 / 4;
    let options = json!({"transcribe": {"delay_ms": delay}, "render": {"delay_ms": delay}});
    let poll = Duration::from_millis(20);

    let (alone, steps) = client.timed_run(&project, &reels[0], &options, poll).await;

    let started = Instant::now();
    let mut ids = Vec::new();
    for reel in &reels[1..=RUNS] {
        ids.push(client.start_run(&project, reel, &options).await);
    }
    for id in &ids {
        client.wait_run(id, poll).await;
    }
    let together = started.elapsed().as_secs_f64() * 1000.0;
    let calls = vendor.received_requests().await.unwrap().len();
    (alone, steps, together, calls)
}

#[tokio::main]
async fn main() {
    let (server, client) = server(&database_url(), &[]).await;
    let steps_only = overhead(&client, true).await;
    let with_preparation = overhead(&client, false).await;
    drop(server);
    let (alone, steps, together, calls) = concurrent().await;
    println!("| what | result | target |");
    println!("|---|---|---|");
    println!(
        "| orchestration overhead per run: 4 steps with instant fake providers, reel prepared, POST to the `run.succeeded` event ({} runs, one after another) | p50 {:.1} ms, p99 {:.1} ms | < 50 ms |",
        steps_only.count, steps_only.p50, steps_only.p99
    );
    println!(
        "| the same with the reel's media prepared by the run first (5 jobs) | p50 {:.1} ms, p99 {:.1} ms | |",
        with_preparation.p50, with_preparation.p99
    );
    println!(
        "| one run, each of its 4 steps taking 2 s at the provider | {:.2} s ({steps}) | |",
        alone / 1000.0
    );
    println!(
        "| 50 runs started together, same providers ({calls} calls to the wiremock vendor) | {:.2} s, {:.2}x one run | < 3x one run |",
        together / 1000.0,
        together / alone
    );
}
