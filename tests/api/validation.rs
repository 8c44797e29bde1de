//! Bad input always gets a clear 4xx problem and never changes stored data.

use serde_json::{json, Value};

use crate::helpers::{problem, send_problem, spawn_app, TestApp};

async fn raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, Value) {
    let response = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&app.token)
        .header("Content-Type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    problem(response).await
}

#[tokio::test]
async fn malformed_bodies_are_refused_with_stable_codes() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "keep me"})).await;
    let path = format!("/v1/projects/{}", project["id"].as_str().unwrap());
    let json_type = "application/json";

    let cases: Vec<(&str, &str, u16, &str)> = vec![
        (json_type, "{\"name\": ", 400, "malformed_json"),
        (json_type, "not json", 400, "malformed_json"),
        (json_type, r#"{"name": 42}"#, 422, "invalid_body"),
        (
            json_type,
            r#"{"settings": {"style_preset": "angry"}}"#,
            422,
            "invalid_body",
        ),
        (
            json_type,
            r#"{"settings": {"words": {"min": -5, "max": 10}}}"#,
            422,
            "invalid_body",
        ),
        (
            json_type,
            r#"{"settings": {"target_duration_seconds": 99999999999}}"#,
            422,
            "invalid_body",
        ),
        (json_type, r#"{"nmae": "typo"}"#, 422, "invalid_body"),
        (json_type, r#"{"name": ""}"#, 422, "validation_failed"),
        (
            json_type,
            r#"{"language": "Russian!"}"#,
            422,
            "validation_failed",
        ),
        (
            json_type,
            r#"{"settings": {"words": {"min": 130, "max": 100}}}"#,
            422,
            "validation_failed",
        ),
        (
            json_type,
            r#"{"settings": {"target_duration_seconds": 3}}"#,
            422,
            "validation_failed",
        ),
        (
            json_type,
            r#"{"settings": {"providers": {"voice": "nope"}}}"#,
            422,
            "validation_failed",
        ),
        (
            "text/plain",
            r#"{"name": "x"}"#,
            415,
            "unsupported_media_type",
        ),
    ];
    for (content_type, body, status, code) in cases {
        let (got_status, problem) =
            raw(&app, reqwest::Method::PATCH, &path, content_type, body).await;
        assert_eq!(
            (got_status, problem["code"].as_str().unwrap()),
            (status, code),
            "{body}: {problem}"
        );
    }
    assert_eq!(
        app.project_without_usage(project["id"].as_str().unwrap())
            .await,
        project,
        "nothing changed"
    );
}

#[tokio::test]
async fn validation_problems_name_every_field() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/v1/projects",
            &json!({"name": " ", "language": "x", "settings": {"words": {"min": 200, "max": 100}, "providers": {"render": "heygen-xl"}}}),
        )
        .send()
        .await
        .unwrap();
    let (status, body) = problem(response).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "language",
            "settings.words",
            "settings.providers.render"
        ]
    );
    assert!(body["errors"][3]["message"]
        .as_str()
        .unwrap()
        .contains("available: fake"));
    assert_eq!(app.get_json("/v1/projects").await["items"], json!([]));
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = spawn_app_with_small_limit().await;
    let big = json!({"name": "x".repeat(5000)}).to_string();
    let (status, body) = raw(
        &app,
        reqwest::Method::POST,
        "/v1/projects",
        "application/json",
        &big,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large"))
    );
}

async fn spawn_app_with_small_limit() -> TestApp {
    crate::helpers::spawn_app_with(|s| s.server.body_limit_bytes = 1024).await
}

#[tokio::test]
async fn bad_ids_cursors_limits_and_routes_are_4xx() {
    let app = spawn_app().await;
    let cases: Vec<(String, u16, &str)> = vec![
        (
            "/v1/projects/not-a-uuid".into(),
            400,
            "invalid_path_parameter",
        ),
        (
            format!("/v1/projects/{}", uuid::Uuid::new_v4()),
            404,
            "not_found",
        ),
        (
            format!("/v1/reels/{}", uuid::Uuid::new_v4()),
            404,
            "not_found",
        ),
        (
            format!("/v1/jobs/{}", uuid::Uuid::new_v4()),
            404,
            "not_found",
        ),
        (
            format!("/v1/projects/{}/reels", uuid::Uuid::new_v4()),
            404,
            "not_found",
        ),
        (
            format!("/v1/reels/{}/transcripts", uuid::Uuid::new_v4()),
            404,
            "not_found",
        ),
        ("/v1/projects?cursor=garbage".into(), 400, "invalid_cursor"),
        ("/v1/projects?limit=0".into(), 400, "invalid_query"),
        ("/v1/projects?limit=1000".into(), 400, "invalid_query"),
        ("/v1/projects?limit=-1".into(), 400, "invalid_query"),
        ("/v1/jobs?status=exploded".into(), 400, "invalid_query"),
        ("/v1/jobs?kind=mine".into(), 400, "invalid_query"),
        ("/v1/jobs?project_id=7".into(), 400, "invalid_query"),
        ("/v1/nothing-here".into(), 404, "not_found"),
    ];
    for (path, status, code) in cases {
        let (got, body) = send_problem(app.get(&path)).await;
        assert_eq!(
            (got, body["code"].as_str().unwrap()),
            (status, code),
            "{path}: {body}"
        );
    }
    let bad_last_id = app
        .get("/v1/events")
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    let (status, body) = problem(bad_last_id).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_last_event_id"))
    );
}

#[tokio::test]
async fn starting_a_collection_checks_source_provider_and_limits() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    let collections = format!(
        "/v1/projects/{}/collections",
        project["id"].as_str().unwrap()
    );

    let cases = [
        (
            json!({"source": "apify", "accounts": ["a"], "provider": "apify-deluxe"}),
            422,
            "unknown_provider",
        ),
        (
            json!({"source": "apify", "accounts": ["a"], "provider": "apify"}),
            422,
            "unknown_provider",
        ),
        (json!({"source": "apify"}), 422, "validation_failed"),
        (
            json!({"source": "apify", "accounts": [" "]}),
            422,
            "validation_failed",
        ),
        (
            json!({"source": "apify", "accounts": ["a"], "per_source_limit": 0}),
            422,
            "validation_failed",
        ),
        (
            json!({"source": "apify", "hashtags": ["a"], "max_items": 20000}),
            422,
            "validation_failed",
        ),
        (
            json!({"source": "apify", "accounts": ["a"], "surprise": true}),
            422,
            "invalid_body",
        ),
        (
            json!({"source": "tiktok", "accounts": ["a"]}),
            422,
            "invalid_body",
        ),
        (json!({"accounts": ["a"]}), 422, "invalid_body"),
        (
            json!({"source": "import", "items": []}),
            422,
            "validation_failed",
        ),
        (
            json!({"source": "import", "items": "all of them"}),
            422,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let (got, problem) = send_problem(app.post(&collections, &body)).await;
        assert_eq!(
            (got, problem["code"].as_str().unwrap()),
            (status, code),
            "{body}: {problem}"
        );
    }
    assert_eq!(app.get_json(&collections).await["items"], json!([]));
    assert_eq!(app.get_json("/v1/jobs").await["items"], json!([]));
}

#[tokio::test]
async fn starting_a_step_checks_provider_parent_and_fields() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let reels = app.collect_fake_reels(project_id, 2).await;

    // A transcript can only start from a reel whose media is ready.
    let pending = format!("/v1/reels/{}/transcripts", reels[1]["id"].as_str().unwrap());
    let (status, body) = send_problem(app.post(&pending, &json!({}))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("parent_not_ready"))
    );
    assert!(
        body["detail"].as_str().unwrap().contains("pending"),
        "{body}"
    );

    app.select_reel(project_id, reels[0]["id"].as_str().unwrap())
        .await;
    let transcripts = format!("/v1/reels/{}/transcripts", reels[0]["id"].as_str().unwrap());
    let cases = [
        (json!({"provider": "whisper-9000"}), 422, "unknown_provider"),
        (
            json!({"options": "should be an object"}),
            422,
            "invalid_body",
        ),
        (
            json!({"source_url": "https://example.com"}),
            422,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let (got, problem) = send_problem(app.post(&transcripts, &body)).await;
        assert_eq!(
            (got, problem["code"].as_str().unwrap()),
            (status, code),
            "{body}"
        );
    }
    assert_eq!(app.get_json(&transcripts).await["items"], json!([]));
}

#[tokio::test]
async fn the_server_answers_as_its_document_says() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "contract"})).await;
    let project_id = project["id"].as_str().unwrap();
    let document = reelforge::openapi::spec_value();

    // An integer the document bounds is refused past its bound, naming the field.
    let conditions = &document["components"]["schemas"]["RuleConditions"]["properties"];
    assert_eq!(conditions["posted_within_hours"]["maximum"], 8760);
    let watchlist = json!({"name": "w", "schedule": {"every_hours": 6},
        "collection": {"source": "apify", "provider": "fake", "accounts": ["demo"]},
        "rules": [{"conditions": {"posted_within_hours": 2147483648u64}}]});
    let (status, body) =
        send_problem(app.post(&format!("/v1/projects/{project_id}/watchlists"), &watchlist)).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["errors"][0]["field"]
            .as_str()
            .unwrap()
            .ends_with("posted_within_hours"),
        "{body}"
    );

    // NUL in any query parameter is the documented 400, the token's included.
    let reels = format!("/v1/projects/{project_id}/reels");
    for path in [
        format!("{reels}?owner=a%00b"),
        format!("/v1/events?access_token={}%00", app.token),
    ] {
        let (status, body) = send_problem(app.get(&path)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_query")),
            "{path}: {body}"
        );
    }

    // The limits of `Idempotency-Key` and of the reel filters are in the document.
    let operation = &document["paths"]["/v1/projects"]["post"];
    let key = operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap();
    assert_eq!(
        (
            &key["schema"]["minLength"],
            &key["schema"]["maxLength"],
            key["schema"]["pattern"].as_str()
        ),
        (&json!(1), &json!(255), Some("^[ -~]*[!-~][ -~]*$"))
    );
    let filters = document["paths"]["/v1/projects/{id}/reels"]["get"]["parameters"]
        .as_array()
        .unwrap();
    for name in ["min_plays", "max_duration"] {
        let filter = filters.iter().find(|p| p["name"] == name).unwrap();
        assert_eq!(filter["schema"]["minimum"], 0, "{name}");
    }
    let (status, body) = send_problem(app.get(&format!("{reels}?max_duration=NaN"))).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["detail"],
        "max_duration must be a finite number of seconds"
    );

    // A target past 8 KiB gets a problem, not a bare 400.
    let (status, body) =
        send_problem(app.get(&format!("{reels}?owner={}", "a".repeat(20_000)))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (414, Some("uri_too_long")),
        "{body}"
    );
    let operation = &document["paths"]["/v1/projects/{id}/reels"]["get"];
    assert!(operation["responses"]["414"].is_object());

    // JSON sent to an upload is the wrong media type.
    let assets = format!("/v1/projects/{project_id}/assets");
    let (status, body) = send_problem(app.post(&assets, &json!({"file": "x"}))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("unsupported_media_type")),
        "{body}"
    );

    // A second part is refused, not dropped unseen, and nothing is stored.
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![1u8; 10]).file_name("a.png"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![2u8; 10]).file_name("b.png"),
        );
    let (status, body) = send_problem(app.post_form(&assets, form)).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("file")),
        "{body}"
    );
    assert_eq!(app.get_json(&assets).await["items"], json!([]));

    // A key given twice is refused, naming it, whichever of the two a reader would keep.
    for (path, body, key) in [
        ("/v1/projects", r#"{"name": "a", "name": "b"}"#, "`name`"),
        (
            "/v1/projects",
            r#"{"name": "a", "settings": {"target_duration_seconds": 30, "target_duration_seconds": 40}}"#,
            "`settings.target_duration_seconds`",
        ),
        (
            "/mcp",
            r#"{"jsonrpc": "2.0", "id": 1, "id": 2, "method": "ping"}"#,
            "`id`",
        ),
    ] {
        let (status, problem) =
            raw(&app, reqwest::Method::POST, path, "application/json", body).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("invalid_body")),
            "{body}: {problem}"
        );
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(key) && detail.contains("twice"), "{detail}");
    }
    assert_eq!(
        app.get_json("/v1/projects").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
