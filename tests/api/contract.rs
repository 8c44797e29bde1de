//! The contract a frontend ships on: the run estimate as its own operation, signed media links
//! (`content_url`) that play in a browser without a token, and the per-token rate limit.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    assets::clip,
    helpers::{new_token, send_problem, spawn_app, spawn_app_with, spawn_app_with_clock, TestApp},
};

async fn project(app: &TestApp) -> String {
    app.create_project(json!({"name": "contract"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_estimate_has_its_own_operation_and_a_run_answers_only_a_run() {
    let app = spawn_app().await;
    let project_id = project(&app).await;
    let reels = app.collect_fake_reels(&project_id, 2).await;
    let reel_id = reels[0]["id"].as_str().unwrap();
    let runs = format!("/v1/projects/{project_id}/runs");

    let response = app
        .post(&format!("{runs}/estimate"), &json!({"reel_id": reel_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let estimate: Value = response.json().await.unwrap();
    assert_eq!(estimate["within_budget"], true, "{estimate:#}");
    assert!(estimate["lines"].is_array(), "{estimate:#}");
    // Nothing was queued.
    assert_eq!(app.get_json(&runs).await["items"], json!([]));

    // The old way is refused with where to go, not answered with another schema.
    let (status, problem) =
        send_problem(app.post(&runs, &json!({"reel_id": reel_id, "dry_run": true}))).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "dry_run");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("/runs/estimate"),
        "{problem:#}"
    );

    // `dry_run: false` (older clients send it) still starts a run; its input reads as the body.
    let response = app
        .post(&runs, &json!({"reel_id": reel_id, "dry_run": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let run: Value = response.json().await.unwrap();
    assert_eq!(run["input"]["reel_id"], reel_id);
    let input: reelforge::domain::run::CreateRun =
        serde_json::from_value(run["input"].clone()).expect("Run.input is a CreateRun");
    assert_eq!(input.reel_id.unwrap().to_string(), reel_id);
}

/// A reel prepared from an uploaded clip, so it has a real video, sound and frame to serve.
async fn prepared_reel(app: &TestApp, project_id: &str) -> Value {
    let reel_id = app.upload_clip(project_id, clip("teal")).await;
    let reel = app.get_json(&format!("/v1/reels/{reel_id}")).await;
    assert_eq!(reel["status"], "succeeded", "{reel:#}");
    reel
}

fn path_and_query(link: &str) -> (&str, &str) {
    link.split_once('?').expect("a signed link has a query")
}

#[tokio::test]
async fn a_content_url_plays_without_a_token_in_ranges_until_it_expires() {
    let clock = reelforge::clock::ManualClock::new(chrono::Utc::now());
    let app = spawn_app_with_clock(std::sync::Arc::new(clock.clone()), |_| {}).await;
    let project_id = project(&app).await;
    let reel = prepared_reel(&app, &project_id).await;
    let link = reel["content_url"].as_str().unwrap().to_owned();
    let (path, _) = path_and_query(&link);
    assert_eq!(
        path,
        format!("/v1/reels/{}/video", reel["id"].as_str().unwrap())
    );
    assert!(reel["thumbnail_content_url"].is_string(), "{reel:#}");
    let whole = app.download(path).await;

    // No token: the link alone opens the file, in ranges as a `<video>` asks.
    let plain = reqwest::Client::new();
    let response = plain
        .get(app.url(&link))
        .header("Range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes 0-99/{}", whole.len()).as_str()
    );
    assert_eq!(response.bytes().await.unwrap(), whole[..100]);
    let response = plain.get(app.url(&link)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap(), whole);

    // Read again within the same stretch of time, the link is the same (players keep playing).
    let again = app
        .get_json(&format!("/v1/reels/{}", reel["id"].as_str().unwrap()))
        .await;
    assert_eq!(again["content_url"], link.as_str());

    // Altered: another file, another expiry, another signature.
    let other = link.replace("/video?", "/audio?");
    let (status, problem) = send_problem(plain.get(app.url(&other))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("invalid_link"))
    );
    let (_, query) = path_and_query(&link);
    let expires: i64 = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("expires="))
        .unwrap()
        .parse()
        .unwrap();
    let later = link.replace(
        &format!("expires={expires}"),
        &format!("expires={}", expires + 3600),
    );
    let (status, _) = send_problem(plain.get(app.url(&later))).await;
    assert_eq!(status, 403);
    let (status, _) = send_problem(plain.get(app.url(&format!("{link}x")))).await;
    assert_eq!(status, 403);
    // A signature opens content routes only: the reel itself still needs a token.
    let (_, query) = path_and_query(&link);
    let (status, _) = send_problem(plain.get(app.url(&format!(
        "/v1/reels/{}?{query}",
        reel["id"].as_str().unwrap()
    ))))
    .await;
    assert_eq!(status, 401);

    // Expired.
    clock.advance(chrono::Duration::seconds(3601));
    let (status, problem) = send_problem(plain.get(app.url(&link))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("invalid_link"))
    );
}

#[tokio::test]
async fn a_link_opens_only_the_file_it_names_and_every_replica_shares_the_key() {
    let app = spawn_app().await;
    let project_id = project(&app).await;
    let mine = app
        .upload_asset(&project_id, "mine.png", crate::assets::png("red"))
        .await;
    // Another workspace's asset, behind a token of its own.
    let theirs_token = new_token(
        &app.pool,
        "them",
        "another",
        reelforge::domain::workspace::Scope::Write,
    )
    .await;
    let their_project: Value = app
        .client
        .post(app.url("/v1/projects"))
        .bearer_auth(&theirs_token)
        .json(&json!({"name": "theirs"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(crate::assets::png("blue")).file_name("theirs.png"),
    );
    let theirs: Value = app
        .client
        .post(app.url(&format!(
            "/v1/projects/{}/assets",
            their_project["id"].as_str().unwrap()
        )))
        .bearer_auth(&theirs_token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let link = mine["content_url"].as_str().unwrap();
    let plain = reqwest::Client::new();
    assert_eq!(plain.get(app.url(link)).send().await.unwrap().status(), 200);
    // My signature on their asset's path opens nothing.
    let (_, query) = path_and_query(link);
    let forged = format!(
        "/v1/assets/{}/content?{query}",
        theirs["id"].as_str().unwrap()
    );
    let (status, problem) = send_problem(plain.get(app.url(&forged))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("invalid_link"))
    );

    // A second replica made no key of its own: my link opens there too.
    let replica = app.second_instance(false).await;
    assert_eq!(
        plain.get(replica.url(link)).send().await.unwrap().status(),
        200
    );
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM link_keys")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(keys, 1);
}

#[tokio::test]
async fn a_token_past_its_rate_limit_waits_as_told_and_others_do_not() {
    let app = spawn_app_with(|s| s.rate_limit.per_minute = 3).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let response = app.get("/v1/projects").send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["ratelimit-policy"],
            "\"per-token\";q=3;w=60"
        );
        let standing = response.headers()["ratelimit"].to_str().unwrap().to_owned();
        remaining.push(standing);
    }
    assert!(
        remaining[0].starts_with("\"per-token\";r=2;t="),
        "{remaining:?}"
    );
    assert!(
        remaining[2].starts_with("\"per-token\";r=0;t="),
        "{remaining:?}"
    );

    let response = app.get("/v1/projects").send().await.unwrap();
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    assert!(response.headers().contains_key("ratelimit"));
    let (_, problem) = crate::helpers::problem(response).await;
    assert_eq!(problem["code"], "rate_limited");
    assert_eq!(
        problem["params"],
        json!({"retry_after_seconds": wait}),
        "the wait in the problem is the header's"
    );

    // Another token has its own bucket; health and metrics are not counted.
    let other = new_token(
        &app.pool,
        "other",
        reelforge::domain::workspace::DEFAULT_WORKSPACE,
        reelforge::domain::workspace::Scope::Read,
    )
    .await;
    let response = app
        .client
        .get(app.url("/v1/projects"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(!health.headers().contains_key("ratelimit"));
}

#[tokio::test]
async fn a_refusal_at_the_door_and_mcp_count_against_the_limit_too() {
    let app = spawn_app_with(|s| s.rate_limit.per_minute = 2).await;
    // A wrong token is refused and counted: guessing tokens runs into the limit.
    let guess = || {
        app.client
            .get(app.url("/v1/projects"))
            .bearer_auth("rf_not-a-token")
            .send()
    };
    let first = guess().await.unwrap();
    assert_eq!(first.status(), 401);
    assert_eq!(
        first.headers()["ratelimit-policy"],
        "\"per-token\";q=2;w=60"
    );
    assert!(first.headers()["ratelimit"]
        .to_str()
        .unwrap()
        .starts_with("\"per-token\";r=1;t="));
    assert_eq!(guess().await.unwrap().status(), 401);
    let limited = guess().await.unwrap();
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));

    // MCP's calls share the token's bucket with its REST calls.
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let mcp = || {
        app.client
            .post(app.url("/mcp"))
            .bearer_auth(&app.token)
            .header("Accept", "application/json, text/event-stream")
            .json(&list)
            .send()
    };
    let answered = mcp().await.unwrap();
    assert_eq!(answered.status(), 200);
    assert!(answered.headers()["ratelimit"]
        .to_str()
        .unwrap()
        .starts_with("\"per-token\";r=1;t="));
    assert_eq!(app.get("/v1/projects").send().await.unwrap().status(), 200);
    let (status, problem) = crate::helpers::problem(mcp().await.unwrap()).await;
    assert_eq!(status, 429);
    assert_eq!(problem["code"], "rate_limited");
}
