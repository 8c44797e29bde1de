//! Step 6 with HeyGen's v3 API. The stand-in answers as HeyGen documents v3 (provider-contracts.md,
//! "HeyGen v3"), and strictly: it refuses v2 fields, a missing or malformed `Idempotency-Key`
//! and a wrong `X-Api-Key` with v3's error shape, replays a repeated key's first answer and
//! answers 409 `request_in_progress` while that first request is still in flight.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use secrecy::SecretString;
use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path, path_regex},
    Mock, MockServer, Request, Respond, ResponseTemplate,
};

use crate::{
    helpers::{fresh_database_url, spawn_app_with, start, test_settings, TestApp, WorkerProcess},
    media::test_clip,
    render::voiced_reel,
};

const KEY: &str = "hg-key";
const AVATAR: &str = "Daisy-inskirt-20220818";
/// HeyGen's upload limit for `POST /v3/assets`.
const MAX_ASSET_BYTES: usize = 32 * 1024 * 1024;

/// A refusal HeyGen documents: status, `error.code`, `error.message`, `Retry-After`.
#[derive(Clone)]
pub struct Refusal {
    status: u16,
    code: &'static str,
    message: &'static str,
    retry_after: Option<u64>,
}

fn refusal(status: u16, code: &'static str, message: &'static str) -> Refusal {
    Refusal {
        status,
        code,
        message,
        retry_after: None,
    }
}

fn error(status: u16, code: &str, message: &str, param: Option<&str>) -> ResponseTemplate {
    let mut error = json!({
        "code": code,
        "message": message,
        "doc_url": format!("https://developers.heygen.com/docs/error-codes#{code}"),
    });
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    ResponseTemplate::new(status).set_body_json(json!({ "error": error }))
}

impl Refusal {
    fn answer(&self) -> ResponseTemplate {
        let answer = error(self.status, self.code, self.message, None);
        match self.retry_after {
            Some(seconds) => answer.insert_header("retry-after", seconds.to_string().as_str()),
            None => answer,
        }
    }
}

/// One `POST /v3/videos` as it arrived.
#[derive(Clone, Debug)]
pub struct CreateCall {
    pub key: String,
    pub body: Value,
    /// Whether it made a new (billed) video, rather than replaying or being refused.
    pub accepted: bool,
    pub at: Instant,
}

/// What HeyGen did for the first request carrying a key: its answer is replayed to repeats.
struct Made {
    video_id: String,
    done_at: Instant,
}

#[derive(Default)]
struct State {
    uploads: Vec<(String, usize)>,
    creates: Vec<CreateCall>,
    made: HashMap<String, Made>,
    /// Each new video walks through these statuses, one per GET, staying on the last.
    script: Vec<&'static str>,
    polls: HashMap<String, usize>,
    /// Answered instead of the next create, upload or GET; nothing is stored for them.
    create_refusals: VecDeque<Refusal>,
    upload_refusals: VecDeque<Refusal>,
    status_refusals: VecDeque<Refusal>,
    /// How long a create takes to answer (HeyGen has taken it from the start).
    create_delay: Duration,
}

/// HeyGen v3 on a local port.
pub struct HeyGen {
    pub server: MockServer,
    state: Arc<Mutex<State>>,
    clip: Vec<u8>,
}

#[derive(Clone)]
struct Handler {
    state: Arc<Mutex<State>>,
    base: String,
    kind: Endpoint,
}

#[derive(Clone, Copy)]
enum Endpoint {
    Upload,
    Create,
    Status,
}

impl HeyGen {
    /// Every video made goes `waiting`, `pending`, `processing`, then `completed`.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            script: vec!["waiting", "pending", "processing", "completed"],
            ..State::default()
        }));
        let handler = |kind| Handler {
            state: state.clone(),
            base: server.uri(),
            kind,
        };
        Mock::given(method("POST"))
            .and(path("/v3/assets"))
            .respond_with(handler(Endpoint::Upload))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v3/videos"))
            .respond_with(handler(Endpoint::Create))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex("^/v3/videos/[^/]+$"))
            .respond_with(handler(Endpoint::Status))
            .mount(&server)
            .await;
        let clip = test_clip();
        Mock::given(method("GET"))
            .and(path_regex("^/files/[^/]+\\.mp4$"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "video/mp4")
                    .set_body_bytes(clip.clone()),
            )
            .mount(&server)
            .await;
        HeyGen {
            server,
            state,
            clip,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    pub fn statuses(&self, script: &[&'static str]) {
        self.state().script = script.to_vec();
    }

    pub fn refuse_create(&self, refusal: Refusal) {
        self.state().create_refusals.push_back(refusal);
    }

    pub fn refuse_status(&self, refusal: Refusal) {
        self.state().status_refusals.push_back(refusal);
    }

    pub fn refuse_upload(&self, refusal: Refusal) {
        self.state().upload_refusals.push_back(refusal);
    }

    pub fn create_delay(&self, delay: Duration) {
        self.state().create_delay = delay;
    }

    pub fn creates(&self) -> Vec<CreateCall> {
        self.state().creates.clone()
    }

    /// Creates that made a new video: what HeyGen billed.
    pub fn videos_made(&self) -> Vec<CreateCall> {
        self.creates().into_iter().filter(|c| c.accepted).collect()
    }

    /// Each upload's detected MIME type and size.
    pub fn uploads(&self) -> Vec<(String, usize)> {
        self.state().uploads.clone()
    }

    /// The video's content is the MP4 every completed video's `video_url` answers.
    pub async fn assert_served(&self, app: &TestApp, video: &Value) {
        let id = video["id"].as_str().unwrap();
        let mp4 = app.download(&format!("/v1/videos/{id}/content")).await;
        assert_eq!(mp4, self.clip);
    }

    /// An app whose HeyGen is this stand-in, called with `key`.
    pub async fn app_with_key(&self, key: &str) -> TestApp {
        let (uri, key) = (self.server.uri(), key.to_owned());
        spawn_app_with(move |s| {
            s.providers.heygen.api.base_url = uri;
            s.providers.heygen.api.api_key = Some(SecretString::from(key));
            s.providers.heygen.avatar_id = Some(AVATAR.into());
            s.providers.heygen.poll_interval_ms = 10;
            s.media.fetch_allow_hosts = vec!["127.0.0.1".into()];
        })
        .await
    }

    /// A voiced reel rendered by HeyGen with the right key; answers the app and the video.
    pub async fn render(&self) -> (TestApp, Value) {
        let app = self.app_with_key(KEY).await;
        let video = render_with(&app).await;
        (app, video)
    }
}

async fn render_with(app: &TestApp) -> Value {
    let audio = voiced_reel(app).await;
    app.finished_step(
        &format!("/v1/audio/{}/videos", audio["id"].as_str().unwrap()),
        json!({"provider": "heygen"}),
        "videos",
    )
    .await
}

impl Respond for Handler {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let key = request
            .headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok());
        if key != Some(KEY) {
            return error(401, "unauthorized", "Invalid or missing API key", None);
        }
        let mut state = self.state.lock().unwrap();
        match self.kind {
            Endpoint::Upload => upload(&mut state, request),
            Endpoint::Create => create(&mut state, request),
            Endpoint::Status => status(&mut state, request, &self.base),
        }
    }
}

/// The `file` part of a multipart body, if it is one.
fn file_part(request: &Request) -> Option<&[u8]> {
    let content_type = request.headers.get("content-type")?.to_str().ok()?;
    let boundary = content_type
        .strip_prefix("multipart/form-data")?
        .split("boundary=")
        .nth(1)?
        .trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let body = &request.body;
    let find = |haystack: &[u8], needle: &[u8]| {
        haystack
            .windows(needle.len())
            .position(|window| window == needle)
    };
    let mut rest = body.as_slice();
    while let Some(start) = find(rest, &delimiter) {
        rest = &rest[start + delimiter.len()..];
        let headers_end = find(rest, b"\r\n\r\n")?;
        let headers = String::from_utf8_lossy(&rest[..headers_end]).to_lowercase();
        let content = &rest[headers_end + 4..];
        let end = find(content, &[b"\r\n".as_slice(), &delimiter].concat())?;
        if headers.contains("name=\"file\"") {
            return Some(&content[..end]);
        }
    }
    None
}

/// HeyGen detects the MIME type from the bytes; of audio, v3 takes MP3 and WAV.
fn audio_mime(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        Some("audio/wav")
    } else if bytes.starts_with(b"ID3")
        || (bytes.len() > 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
    {
        Some("audio/mpeg")
    } else {
        None
    }
}

fn upload(state: &mut State, request: &Request) -> ResponseTemplate {
    if let Some(refusal) = state.upload_refusals.pop_front() {
        return refusal.answer();
    }
    let Some(file) = file_part(request) else {
        return error(
            400,
            "invalid_parameter",
            "a multipart field `file` is required",
            Some("file"),
        );
    };
    if file.len() > MAX_ASSET_BYTES {
        return error(400, "invalid_parameter", "files up to 32 MB", Some("file"));
    }
    let Some(mime) = audio_mime(file) else {
        return error(
            400,
            "invalid_parameter",
            "unsupported file type",
            Some("file"),
        );
    };
    state.uploads.push((mime.to_owned(), file.len()));
    let id = format!("asset-{}", state.uploads.len());
    ResponseTemplate::new(200).set_body_json(json!({"data": {
        "asset_id": id, "url": format!("https://resource.heygen.ai/{id}"),
        "mime_type": mime, "size_bytes": file.len(),
    }}))
}

/// Why a create body is not v3's, naming the parameter.
fn invalid_create(state: &State, body: &Value) -> Option<(&'static str, &'static str)> {
    for v2 in ["dimension", "avatar_style", "video_inputs", "test"] {
        if body.get(v2).is_some() {
            return Some((v2, "not a v3 parameter"));
        }
    }
    let text = |name| body.get(name).and_then(Value::as_str);
    if text("type") != Some("avatar") {
        return Some(("type", "must be avatar"));
    }
    if text("avatar_id").is_none_or(str::is_empty) {
        return Some(("avatar_id", "is required"));
    }
    let audio = ["audio_asset_id", "audio_url", "script"]
        .iter()
        .filter(|name| body.get(**name).is_some())
        .count();
    if audio != 1 {
        return Some((
            "audio_asset_id",
            "give one of audio_asset_id, audio_url, script",
        ));
    }
    if let Some(asset) = text("audio_asset_id") {
        let known = (1..=state.uploads.len()).any(|n| asset == format!("asset-{n}"));
        if !known {
            return Some(("audio_asset_id", "no such asset"));
        }
    }
    if !matches!(text("resolution"), None | Some("4k" | "1080p" | "720p")) {
        return Some(("resolution", "one of 4k, 1080p, 720p"));
    }
    if !matches!(
        text("aspect_ratio"),
        None | Some("16:9" | "9:16" | "4:5" | "5:4" | "1:1" | "auto")
    ) {
        return Some(("aspect_ratio", "one of 16:9, 9:16, 4:5, 5:4, 1:1, auto"));
    }
    None
}

fn valid_idempotency_key(key: &str) -> bool {
    (1..=255).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_:.-".contains(&b))
}

fn create(state: &mut State, request: &Request) -> ResponseTemplate {
    let Some(key) = request
        .headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|key| valid_idempotency_key(key))
        .map(str::to_owned)
    else {
        return error(
            400,
            "invalid_parameter",
            "Idempotency-Key must be 1-255 of [A-Za-z0-9_:.-]",
            Some("Idempotency-Key"),
        );
    };
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return error(400, "invalid_parameter", "the body is not JSON", None);
    };
    let mut call = CreateCall {
        key: key.clone(),
        body: body.clone(),
        accepted: false,
        at: Instant::now(),
    };
    if let Some((param, message)) = invalid_create(state, &body) {
        state.creates.push(call);
        return error(400, "invalid_parameter", message, Some(param));
    }
    if let Some(refusal) = state.create_refusals.pop_front() {
        state.creates.push(call);
        return refusal.answer();
    }
    let answer = |video_id: &str| {
        ResponseTemplate::new(200).set_body_json(json!({"data": {
            "video_id": video_id, "status": "waiting", "output_format": "mp4"
        }}))
    };
    let response = match state.made.get(&key) {
        Some(made) if Instant::now() < made.done_at => error(
            409,
            "request_in_progress",
            "A request with this Idempotency-Key is still being processed",
            None,
        ),
        Some(made) => answer(&made.video_id),
        None => {
            let video_id = format!("vid-{}", state.made.len() + 1);
            let delay = state.create_delay;
            state.made.insert(
                key,
                Made {
                    video_id: video_id.clone(),
                    done_at: Instant::now() + delay,
                },
            );
            call.accepted = true;
            answer(&video_id).set_delay(delay)
        }
    };
    state.creates.push(call);
    response
}

fn status(state: &mut State, request: &Request, base: &str) -> ResponseTemplate {
    if let Some(refusal) = state.status_refusals.pop_front() {
        return refusal.answer();
    }
    let id = request.url.path().rsplit('/').next().unwrap_or_default();
    if !state.made.values().any(|made| made.video_id == id) {
        return error(404, "not_found", "Video not found", None);
    }
    let polls = state.polls.entry(id.to_owned()).or_default();
    let step = (*polls).min(state.script.len() - 1);
    *polls += 1;
    let status = state.script[step];
    let mut data = json!({
        "id": id, "title": "t", "status": status, "created_at": 1796600000,
        "video_url": null, "thumbnail_url": null, "duration": null,
        "failure_code": null, "failure_message": null, "completed_at": null,
    });
    match status {
        "completed" => {
            data["video_url"] = json!(format!("{base}/files/{id}.mp4?X-Amz-Signature=abc"));
            data["thumbnail_url"] = json!(format!("{base}/files/{id}.jpg?X-Amz-Signature=abc"));
            data["duration"] = json!(5.0);
            data["completed_at"] = json!(1796600300);
        }
        "failed" => {
            data["failure_code"] = json!("AVATAR_NOT_FOUND");
            data["failure_message"] = json!("avatar look not found");
        }
        _ => {}
    }
    ResponseTemplate::new(200).set_body_json(json!({ "data": data }))
}

/// The key every create for `video` must carry, the `n`th key when earlier ones were spent.
fn key_of(video: &Value, n: usize) -> String {
    let id = video["id"].as_str().unwrap();
    match n {
        1 => format!("reelforge-render-{id}"),
        n => format!("reelforge-render-{id}-{n}"),
    }
}

async fn job_of(app: &TestApp, video: &Value) -> Value {
    app.get_json(&format!("/v1/jobs/{}", video["job_id"].as_str().unwrap()))
        .await
}

/// The video failed with `code`, saying `says`, on its first attempt.
async fn assert_failed(app: &TestApp, video: &Value, code: &str, says: &str) {
    assert_eq!(video["status"], "failed", "{video:#}");
    assert_eq!(video["error"]["code"], code, "{video:#}");
    let message = video["error"]["message"].as_str().unwrap();
    assert!(message.contains(says), "{message}");
    assert!(!message.contains(KEY), "{message}");
    assert_eq!(job_of(app, video).await["attempts"], 1, "not retried");
}

#[tokio::test]
async fn the_stand_in_refuses_what_v3_does_not_document() {
    let heygen = HeyGen::start().await;
    let client = reqwest::Client::new();
    let create = |body: Value, key: Option<&str>, api_key: &str| {
        let mut request = client
            .post(format!("{}/v3/videos", heygen.server.uri()))
            .header("x-api-key", api_key)
            .json(&body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request.send()
    };
    let v3 = json!({"type": "avatar", "avatar_id": AVATAR, "script": "hi", "voice_id": "v"});
    let mut v2 = v3.clone();
    v2["dimension"] = json!({"width": 1080, "height": 1920});
    for (body, key, api_key, status, param) in [
        (v2, Some("k1"), KEY, 400, Some("dimension")),
        (v3.clone(), None, KEY, 400, Some("Idempotency-Key")),
        (
            v3.clone(),
            Some("has space"),
            KEY,
            400,
            Some("Idempotency-Key"),
        ),
        (v3.clone(), Some("k1"), "wrong", 401, None),
    ] {
        let response = create(body, key, api_key).await.unwrap();
        assert_eq!(response.status(), status);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["param"].as_str(), param, "{answer}");
        assert!(answer["error"]["doc_url"].is_string(), "{answer}");
    }
    let first: Value = create(v3.clone(), Some("k1"), KEY)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let again: Value = create(v3, Some("k1"), KEY)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first, again, "a repeated key replays the first answer");
    assert_eq!(heygen.videos_made().len(), 1);
}

#[tokio::test]
async fn heygen_v3_renders_a_vertical_avatar_video_from_the_uploaded_voice() {
    let heygen = HeyGen::start().await;
    let (app, video) = heygen.render().await;
    assert_eq!(video["status"], "succeeded", "{video:#}");
    assert_eq!(video["output"]["provider_job_id"], "vid-1");
    assert_eq!(video["output"]["model"], "heygen-v3");
    // The local voice is a WAV, which v3's asset upload takes as it is.
    assert_eq!(heygen.uploads().len(), 1);
    assert_eq!(heygen.uploads()[0].0, "audio/wav");
    let made = heygen.videos_made();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].key, key_of(&video, 1));
    assert_eq!(
        made[0].body,
        json!({
            "type": "avatar", "avatar_id": AVATAR, "audio_asset_id": "asset-1",
            "title": format!("reelforge-{}", video["id"].as_str().unwrap()),
            "resolution": "1080p", "aspect_ratio": "9:16",
            "background": {"type": "color", "value": "#101010"},
        })
    );
    let polls = heygen
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/v3/videos/vid-1")
        .count();
    assert_eq!(polls, 4, "waiting, pending and processing are waited out");
    heygen.assert_served(&app, &video).await;
}

#[tokio::test]
async fn a_failed_heygen_video_fails_the_job_with_its_reason_and_a_retry_orders_a_new_one() {
    let heygen = HeyGen::start().await;
    heygen.statuses(&["pending", "failed"]);
    let (app, video) = heygen.render().await;
    assert_failed(&app, &video, "provider_job_failed", "AVATAR_NOT_FOUND").await;
    assert!(video["error"]["message"]
        .as_str()
        .unwrap()
        .contains("avatar look not found"));

    // That video will never exist: retrying the job orders another under a new key.
    heygen.statuses(&["completed"]);
    let job = job_of(&app, &video).await;
    let response = app
        .post(
            &format!("/v1/jobs/{}/retry", job["id"].as_str().unwrap()),
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    app.wait_for_job(job["id"].as_str().unwrap(), Duration::from_secs(60), |j| {
        j["status"] == "succeeded" || j["status"] == "failed"
    })
    .await;
    let video = app
        .get_json(&format!("/v1/videos/{}", video["id"].as_str().unwrap()))
        .await;
    assert_eq!(video["status"], "succeeded", "{video:#}");
    assert_eq!(video["output"]["provider_job_id"], "vid-2");
    let keys: Vec<String> = heygen.videos_made().into_iter().map(|c| c.key).collect();
    assert_eq!(keys, [key_of(&video, 1), key_of(&video, 2)]);
    assert_eq!(
        heygen.uploads().len(),
        1,
        "the uploaded voice is used again"
    );
}

#[tokio::test]
async fn a_request_heygen_finds_invalid_fails_the_video() {
    let heygen = HeyGen::start().await;
    heygen.refuse_create(refusal(400, "invalid_parameter", "avatar_id not found"));
    let (app, video) = heygen.render().await;
    assert_failed(&app, &video, "provider_rejected", "avatar_id not found").await;
    assert!(heygen.videos_made().is_empty());
}

#[tokio::test]
async fn a_wrong_api_key_fails_the_video_as_a_configuration_error() {
    let heygen = HeyGen::start().await;
    let app = heygen.app_with_key("not-the-key").await;
    let video = render_with(&app).await;
    assert_failed(&app, &video, "provider_auth", "401").await;
    assert!(heygen.uploads().is_empty() && heygen.creates().is_empty());
}

#[tokio::test]
async fn an_account_out_of_credit_fails_the_video_and_bills_nothing() {
    let heygen = HeyGen::start().await;
    heygen.refuse_create(refusal(402, "insufficient_credit", "Not enough credits"));
    let (app, video) = heygen.render().await;
    assert_failed(
        &app,
        &video,
        "provider_out_of_credit",
        "insufficient_credit",
    )
    .await;
    assert!(heygen.videos_made().is_empty());
}

#[tokio::test]
async fn an_avatar_the_plan_forbids_fails_the_video() {
    let heygen = HeyGen::start().await;
    heygen.refuse_create(refusal(
        403,
        "forbidden",
        "This avatar is not available on your plan",
    ));
    let (app, video) = heygen.render().await;
    assert_failed(
        &app,
        &video,
        "provider_forbidden",
        "not available on your plan",
    )
    .await;
}

#[tokio::test]
async fn a_video_heygen_no_longer_knows_fails_the_job() {
    let heygen = HeyGen::start().await;
    heygen.refuse_status(refusal(404, "not_found", "Video not found"));
    let (app, video) = heygen.render().await;
    assert_failed(&app, &video, "provider_not_found", "Video not found").await;
    assert_eq!(heygen.videos_made().len(), 1);
}

#[tokio::test]
async fn a_create_still_in_flight_is_waited_for_with_the_same_key() {
    let heygen = HeyGen::start().await;
    heygen.refuse_create(refusal(
        409,
        "request_in_progress",
        "A request with this Idempotency-Key is still being processed",
    ));
    let (app, video) = heygen.render().await;
    assert_eq!(video["status"], "succeeded", "{video:#}");
    assert_eq!(
        job_of(&app, &video).await["attempts"],
        1,
        "waited, not failed"
    );
    let keys: Vec<String> = heygen.creates().into_iter().map(|c| c.key).collect();
    assert_eq!(keys, [key_of(&video, 1), key_of(&video, 1)]);
    assert_eq!(heygen.videos_made().len(), 1);
}

#[tokio::test]
async fn a_rate_limit_waits_as_long_as_retry_after_asks_then_the_same_key_is_sent() {
    let heygen = HeyGen::start().await;
    heygen.refuse_create(Refusal {
        retry_after: Some(1),
        ..refusal(429, "rate_limit_exceeded", "Too many concurrent video jobs")
    });
    let (app, video) = heygen.render().await;
    assert_eq!(video["status"], "succeeded", "{video:#}");
    let job = job_of(&app, &video).await;
    assert_eq!(job["attempts"], 2, "{job:#}");
    let creates = heygen.creates();
    assert_eq!(creates.len(), 2);
    assert!(
        creates[1].at - creates[0].at >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(creates[0].key, creates[1].key);
    assert_eq!(creates[0].body, creates[1].body);
    assert_eq!(heygen.uploads().len(), 1, "the uploaded voice was kept");
    assert_eq!(heygen.videos_made().len(), 1);
}

#[tokio::test]
async fn a_heygen_outage_is_retried_and_a_restarted_job_resumes_polling() {
    let heygen = HeyGen::start().await;
    heygen.refuse_upload(refusal(
        503,
        "unclassified_server_error",
        "Service unavailable",
    ));
    heygen.refuse_create(refusal(502, "unclassified_server_error", "Bad gateway"));
    heygen.refuse_status(refusal(500, "unclassified_server_error", "Internal error"));
    let (app, video) = heygen.render().await;
    assert_eq!(video["status"], "succeeded", "{video:#}");
    assert_eq!(video["output"]["provider_job_id"], "vid-1");
    let job = job_of(&app, &video).await;
    assert_eq!(job["attempts"], 4, "one attempt per outage: {job:#}");
    assert!(
        job["last_error"].is_null(),
        "a success leaves no error: {job}"
    );
    let keys: Vec<String> = heygen.creates().into_iter().map(|c| c.key).collect();
    assert_eq!(keys, [key_of(&video, 1), key_of(&video, 1)]);
    assert_eq!(
        heygen.videos_made().len(),
        1,
        "polling resumed, no second video"
    );
    heygen.assert_served(&app, &video).await;
}

#[tokio::test]
async fn a_worker_killed_during_the_create_never_makes_heygen_render_twice() {
    let heygen = HeyGen::start().await;
    // HeyGen takes the order (and bills it) but answers slowly: the worker dies waiting, and
    // the next worker's repeat meets the first request still in flight, then its replay.
    heygen.create_delay(Duration::from_secs(3));
    let uri = heygen.server.uri();
    let mut settings = test_settings(&fresh_database_url());
    settings.jobs.lease_seconds = 2;
    settings.media.fetch_allow_hosts = vec!["127.0.0.1".into()];
    settings.providers.heygen.api.base_url = uri.clone();
    settings.providers.heygen.api.api_key = Some(SecretString::from(KEY));
    settings.providers.heygen.avatar_id = Some(AVATAR.into());
    settings.providers.heygen.poll_interval_ms = 10;
    let environment = [
        ("REELFORGE__PROVIDERS__HEYGEN__BASE_URL", uri),
        ("REELFORGE__PROVIDERS__HEYGEN__API_KEY", KEY.to_owned()),
        ("REELFORGE__PROVIDERS__HEYGEN__AVATAR_ID", AVATAR.to_owned()),
        (
            "REELFORGE__PROVIDERS__HEYGEN__POLL_INTERVAL_MS",
            "10".to_owned(),
        ),
    ];
    // The API without workers; every job runs in the worker process until it is killed.
    let app = start(settings, false).await;
    let mut worker = WorkerProcess::spawn(&app.settings, &environment);
    let audio = voiced_reel(&app).await;
    let (video, job) = app
        .start_step(
            &format!("/v1/audio/{}/videos", audio["id"].as_str().unwrap()),
            json!({"provider": "heygen"}),
        )
        .await;
    crate::helpers::eventually(
        "the create to be sent",
        Duration::from_secs(60),
        || async { heygen.creates().len() },
        |creates| *creates > 0,
    )
    .await;
    worker.kill();

    // A replica with workers in this process takes the job over once its lease runs out.
    let replica = app.second_instance(true).await;
    let job = replica
        .wait_for_job(job["id"].as_str().unwrap(), Duration::from_secs(60), |j| {
            j["status"] == "succeeded" || j["status"] == "failed"
        })
        .await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    let video = replica
        .get_json(&format!("/v1/videos/{}", video["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        video["output"]["provider_job_id"], "vid-1",
        "the billed video was adopted"
    );
    let creates = heygen.creates();
    assert!(creates.len() >= 2, "the create was sent again");
    assert!(
        creates
            .iter()
            .all(|c| c.key == key_of(&video, 1) && c.body == creates[0].body),
        "every repeat is the same request under the same key"
    );
    assert_eq!(heygen.videos_made().len(), 1, "exactly one video made");
    assert_eq!(heygen.uploads().len(), 1, "the voice was uploaded once");
    heygen.assert_served(&replica, &video).await;
}
