//! Defects found by hostile testing (issue #12), each with the request that used to break the
//! service: secrets echoed by vendors, NUL bytes and unstorable numbers, revoked tokens on open
//! streams, undeclared methods and empty cursors; and lines forged into the log (issue #27).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::helpers::{log_with, send_problem, spawn_app, SseClient, TestApp, WorkerProcess};

const CONFIGURED_KEY: &str = "sk-configured-Q1w2E3r4T5y6U7i8";
const ECHOED_KEY: &str = "sk-proj-9f8e7d6c5b4a3210ZYXW";

#[tokio::test]
async fn a_key_the_vendor_echoes_is_never_stored_streamed_or_returned() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/audio/transcriptions"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
            "message": format!("Incorrect API key provided: {ECHOED_KEY}. Your key {CONFIGURED_KEY} has no access; Authorization: Bearer {CONFIGURED_KEY}"),
            "type": "invalid_request_error", "code": "invalid_api_key"
        }})))
        .mount(&server)
        .await;
    let (app, project_id, reel_id) =
        crate::helpers::openai_reel(&server.uri(), CONFIGURED_KEY).await;
    let project_id = project_id.as_str();
    let (transcript, job) = app
        .start_step(
            &format!("/v1/reels/{reel_id}/transcripts"),
            json!({"provider": "openai"}),
        )
        .await;
    let job = app
        .wait_for_status(job["id"].as_str().unwrap(), "failed")
        .await;
    let message = job["last_error"]["message"].as_str().unwrap();
    assert_eq!(job["last_error"]["code"], "provider_forbidden");
    assert!(
        message.contains("Incorrect API key provided: [redacted]"),
        "{message}"
    );

    let transcript = app
        .get_json(&format!(
            "/v1/transcripts/{}",
            transcript["id"].as_str().unwrap()
        ))
        .await;
    let mut sse = SseClient::connect(&app, &format!("?project_id={project_id}"), Some(0)).await;
    let events = sse
        .until(Duration::from_secs(10), |f| f.event == "transcript.failed")
        .await
        .into_iter()
        .map(|f| f.data.to_string())
        .collect::<String>();
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT data::text FROM events UNION ALL SELECT COALESCE(last_error_message, '') FROM jobs",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for (place, text) in [
        ("job", job.to_string()),
        ("transcript", transcript.to_string()),
        ("stream", events),
        ("tables", stored.join("\n")),
    ] {
        for key in [CONFIGURED_KEY, ECHOED_KEY] {
            assert!(!text.contains(key), "the {place} shows {key}: {text}");
        }
        assert!(
            text.contains("[redacted]"),
            "the {place} lost the message: {text}"
        );
    }
}

/// Every kind of request that can carry text: none may answer 500, and none may store a thing.
#[tokio::test]
async fn nul_bytes_and_control_characters_are_refused_with_a_code() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "clean"})).await;
    let project_id = project["id"].as_str().unwrap();
    let projects = format!("/v1/projects/{project_id}");

    let cases: Vec<(reqwest::RequestBuilder, &str)> = vec![
        (app.post("/v1/projects", &json!({"name": "bad\u{0000}name"})), "name"),
        (app.post("/v1/projects", &json!({"name": "\u{1b}[31mred\u{1b}[0m"})), "name"),
        (app.patch(&projects, &json!({"name": "line\nbreak"})), "name"),
        (
            app.patch(&projects, &json!({"settings": {"rewrite": {"instructions": "be\u{0000}brief"}}})),
            "settings.rewrite.instructions",
        ),
        (
            app.post(
                &format!("{projects}/collections"),
                &json!({"source": "import", "items": [{"shortCode": "A1", "videoUrl": "https://x.test/a.mp4", "caption": "x\u{0000}y"}]}),
            ),
            "items[0].caption",
        ),
        (
            app.put(
                &format!("{projects}/webhook"),
                &json!({"url": "https://example.com/\u{0000}hook", "secret": "0123456789abcdef"}),
            ),
            "url",
        ),
    ];
    for (request, field) in cases {
        let (status, body) = send_problem(request).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("validation_failed")),
            "{field}: {body}"
        );
        assert_eq!(body["errors"][0]["field"], field, "{body}");
    }
    // A query is refused before anything reads it, as the document's 400 says.
    for query in ["?hashtag=%00", "?owner=a%00b"] {
        let (status, body) = send_problem(app.get(&format!("{projects}/reels{query}"))).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_query")),
            "{query}: {body}"
        );
    }
    let listed = app.get_json("/v1/projects").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["name"], "clean");
    assert!(listed["items"][0]["settings"]["rewrite"]["instructions"].is_null());
    let collections = app.get_json(&format!("{projects}/collections")).await;
    assert_eq!(collections["items"], json!([]));
}

#[tokio::test]
async fn numbers_jsonb_cannot_give_back_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "numbers"})).await;
    let project_id = project["id"].as_str().unwrap();
    let huge: Value = serde_json::from_str("1.7976931348623157e308").unwrap();
    let import = json!({"source": "import", "items": [
        {"shortCode": "OK1", "videoUrl": "https://x.test/1.mp4", "videoPlayCount": 10},
        {"shortCode": "BIG", "videoUrl": "https://x.test/2.mp4", "videoPlayCount": huge},
    ]});
    let (status, body) =
        send_problem(app.post(&format!("/v1/projects/{project_id}/collections"), &import)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["errors"][0]["field"], "items[1].videoPlayCount",
        "{body}"
    );

    let transcript_id = app.fake_transcript(project_id).await;
    let (status, body) = send_problem(app.post(
        &format!("/v1/transcripts/{transcript_id}/scripts"),
        &json!({"options": {"temperature": huge}}),
    ))
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "options.temperature", "{body}");
    let (status, body) = send_problem(app.post(
        &format!("/v1/projects/{project_id}/runs"),
        &json!({"top": 1, "options": {"voice": {"speed": huge}}}),
    ))
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "options.voice.speed", "{body}");
    let scripts = app
        .get_json(&format!("/v1/transcripts/{transcript_id}/scripts"))
        .await;
    assert_eq!(scripts["items"], json!([]), "nothing was queued");
}

async fn stream_ends_soon_after_revocation(reader: &TestApp, revoker: &TestApp) {
    let mut sse = SseClient::connect(reader, "", None).await;
    // Events flow while the token is valid.
    let project = reader.create_project(json!({"name": "before"})).await;
    reader
        .collect_fake_reels(project["id"].as_str().unwrap(), 1)
        .await;
    assert!(sse.next(Duration::from_secs(5)).await.is_some());
    let revoked_at = Instant::now();
    let revoked = reelforge::db::tokens::revoke(&revoker.pool, "test")
        .await
        .unwrap();
    assert_eq!(revoked, 1);
    // Whatever was already on its way may still arrive; then the stream ends, well before the
    // 15 s keep-alive would have shown anything.
    while sse.next(Duration::from_secs(10)).await.is_some() {}
    let waited = revoked_at.elapsed();
    assert!(
        waited < Duration::from_secs(2),
        "the stream ended after {waited:?}"
    );
    assert_eq!(
        reader.get("/v1/projects").send().await.unwrap().status(),
        401
    );
}

#[tokio::test]
async fn revoking_a_token_closes_its_event_streams_on_every_replica() {
    let app = spawn_app().await;
    stream_ends_soon_after_revocation(&app, &app).await;

    let app = spawn_app().await;
    let replica = app.second_instance(false).await;
    stream_ends_soon_after_revocation(&replica, &app).await;
}

#[tokio::test]
async fn a_stream_outlives_the_revocation_of_another_token() {
    let app = spawn_app().await;
    crate::helpers::new_token(
        &app.pool,
        "other",
        reelforge::domain::workspace::DEFAULT_WORKSPACE,
        reelforge::domain::workspace::Scope::Write,
    )
    .await;
    let mut sse = SseClient::connect(&app, "", None).await;
    reelforge::db::tokens::revoke(&app.pool, "other")
        .await
        .unwrap();
    let project = app.create_project(json!({"name": "after"})).await;
    app.collect_fake_reels(project["id"].as_str().unwrap(), 1)
        .await;
    assert!(
        sse.next(Duration::from_secs(5)).await.is_some(),
        "the stream of the valid token goes on"
    );
}

#[tokio::test]
async fn undeclared_methods_answer_405_with_allow() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    let id = project["id"].as_str().unwrap();
    let cases = [
        (reqwest::Method::PUT, "/v1/projects".to_owned(), "GET, POST"),
        (reqwest::Method::DELETE, "/v1/jobs".to_owned(), "GET"),
        (
            reqwest::Method::POST,
            format!("/v1/projects/{id}"),
            "GET, PATCH, DELETE",
        ),
        (reqwest::Method::POST, "/healthz".to_owned(), "GET"),
        // Every module of the page is known to be GET only, not just its first file.
        (reqwest::Method::POST, "/studio.js".to_owned(), "GET"),
    ];
    for (method, path, allow) in cases {
        let response = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let (status, body) = crate::helpers::problem(response).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (405, Some("method_not_allowed")),
            "{method} {path}"
        );
    }
    let (status, body) = send_problem(app.get("/v1/nothing-here")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
}

#[tokio::test]
async fn an_empty_cursor_asks_for_the_first_page() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    let id = project["id"].as_str().unwrap();
    app.collect_fake_reels(id, 2).await;
    for path in [
        "/v1/projects?cursor=".to_owned(),
        format!("/v1/projects/{id}/reels?cursor="),
        format!("/v1/projects/{id}/collections?cursor=&limit=1"),
        "/v1/jobs?cursor=".to_owned(),
    ] {
        let response = app.get(&path).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let page: Value = response.json().await.unwrap();
        assert!(
            !page["items"].as_array().unwrap().is_empty(),
            "{path}: {page}"
        );
    }
    let (status, body) = send_problem(app.get("/v1/projects?cursor=garbage")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_cursor"))
    );
}

/// Issue #27: whatever a request carries (a percent-encoded newline in its path, a NUL in its
/// query, a credential in an OAuth callback's description) is logged escaped or masked: it can
/// neither write a line of its own into the log nor leave a NUL or a token there.
#[tokio::test]
async fn a_request_cannot_forge_a_log_line_or_smuggle_control_characters() {
    // The in-process app prepares the database and the token; the real binary serves, its
    // log written to a file as an operator would read it.
    let app = spawn_app().await;
    let log = std::env::temp_dir().join(format!(
        "reelforge-serve-{}.log",
        uuid::Uuid::new_v4().simple()
    ));
    let _server = WorkerProcess::spawn_logged(
        &["serve", "--no-workers"],
        &app.settings,
        &[
            ("REELFORGE__SERVER__PORT", "0".to_owned()),
            ("RUST_LOG", "info".to_owned()),
        ],
        &log,
    );
    let started = log_with(&log, "(docs at /docs)", Duration::from_secs(60)).await;
    let address = started
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split(" (docs").next())
        .unwrap()
        .to_owned();
    let client = reqwest::Client::new();
    let forged = client
        .get(format!(
            "{address}/oauth/x%0A2026-12-06T00:00:00.000000Z%20ERROR%20reelforge:%20FORGED/callback"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    let nul = client
        .get(format!("{address}/v1/jobs?kind=%00"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(nul.status(), 400);
    client
        .get(format!(
            "{address}/oauth/tiktok/callback?state=x&error=access_denied&error_description=denied%20access_token%3Dtt9Zq8Wv7Xu6Rs5"
        ))
        .send()
        .await
        .unwrap();

    let logged = log_with(&log, "error_description=denied", Duration::from_secs(10)).await;
    assert!(
        !logged.contains("\n2026-12-06T00:00:00.000000Z"),
        "a forged line: {logged}"
    );
    assert!(
        logged.contains(r"x\n2026-12-06T00:00:00.000000Z ERROR reelforge: FORGED"),
        "the path is logged, escaped: {logged}"
    );
    assert!(!logged.contains('\0'), "a NUL byte: {logged:?}");
    // A NUL in a query is refused before any route reads it; the log names why.
    assert!(
        logged.contains("kind=%00") && logged.contains("must not contain NUL characters"),
        "the query is logged with its refusal: {logged}"
    );
    assert!(!logged.contains("tt9Zq8Wv7Xu6Rs5"), "a token: {logged}");
}
