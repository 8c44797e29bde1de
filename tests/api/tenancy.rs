//! Workspaces and scopes: a token sees only its workspace (another's resources answer 404, as if
//! missing, on every route family and MCP tool), `read` tokens only read, and only `admin`
//! tokens manage tokens.

use std::time::Duration;

use reelforge::domain::workspace::{Scope, DEFAULT_WORKSPACE};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{new_token, problem, spawn_app, SseClient, TestApp};

/// Sends a request as `token` and answers its status and JSON body (null when there is none).
async fn send(
    app: &TestApp,
    token: &str,
    method: &Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method.clone(), app.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Calls an MCP tool as `token`; answers `(is_error, structured answer or problem)`.
async fn call_tool(app: &TestApp, token: &str, name: &str, arguments: Value) -> (bool, Value) {
    let message = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": name, "arguments": arguments}});
    let (status, response) = send(app, token, &Method::POST, "/mcp", Some(&message)).await;
    assert_eq!(status, 200, "{response}");
    let result = &response["result"];
    if result["isError"] == true {
        let text = result["content"][0]["text"].as_str().unwrap();
        (true, serde_json::from_str(text).unwrap())
    } else {
        (false, result["structuredContent"].clone())
    }
}

/// One resource of every kind in the default workspace, made by its admin (the app's token).
struct Owned {
    project: String,
    collection: String,
    reel: String,
    transcript: String,
    script: String,
    audio: String,
    video: String,
    post: String,
    run: String,
    job: String,
    watchlist: String,
    asset: Uuid,
    voice: Uuid,
    account: Uuid,
    publication: Uuid,
}

async fn owned_resources(app: &TestApp) -> Owned {
    let project = app.create_project(json!({"name": "A's"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ids = app.run_pipeline(&project).await;
    let collections = app
        .get_json(&format!("/v1/projects/{project}/collections"))
        .await;
    let (post, _) = app
        .start_step(&format!("/v1/videos/{}/posts", ids[4]), json!({}))
        .await;
    let response = app
        .post(
            &format!("/v1/projects/{project}/runs"),
            &json!({"reel_id": ids[0], "from_step": "voice"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    let run: Value = response.json().await.unwrap();
    let jobs = app
        .get_json(&format!("/v1/jobs?project_id={project}"))
        .await;
    let response = app
        .post(
            &format!("/v1/projects/{project}/watchlists"),
            &json!({"name": "radar",
                "collection": {"source": "apify", "provider": "fake", "accounts": ["demo"], "per_source_limit": 5},
                "schedule": {"every_hours": 6}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let watchlist: Value = response.json().await.unwrap();

    // What needs a vendor to make (a clone, an OAuth grant, a post) is stored directly: the
    // routes under test only have to find it.
    let project_id: Uuid = project.parse().unwrap();
    let (asset, voice, account, publication) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    sqlx::query(
        "INSERT INTO assets (id, project_id, kind, name, key, size_bytes)
         VALUES ($1, $2, 'image', 'logo.png', 'projects/' || $2 || '/assets/logo.png', 1)",
    )
    .bind(asset)
    .bind(project_id)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO voices (id, project_id, name, provider, provider_voice_id, sample_keys)
         VALUES ($1, $2, 'mine', 'elevenlabs', 'pv1', '[]')",
    )
    .bind(voice)
    .bind(project_id)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO platform_accounts (id, project_id, platform, name, access_token)
         VALUES ($1, $2, 'youtube', 'channel', '\\x00')",
    )
    .bind(account)
    .bind(project_id)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO publications (id, project_id, video_id, account_id, platform, status, request)
         VALUES ($1, $2, $3, $4, 'youtube', 'failed', '{}')",
    )
    .bind(publication)
    .bind(project_id)
    .bind(ids[4].parse::<Uuid>().unwrap())
    .bind(account)
    .execute(&app.pool)
    .await
    .unwrap();
    Owned {
        project,
        collection: collections["items"][0]["id"].as_str().unwrap().to_owned(),
        reel: ids[0].clone(),
        transcript: ids[1].clone(),
        script: ids[2].clone(),
        audio: ids[3].clone(),
        video: ids[4].clone(),
        post: post["id"].as_str().unwrap().to_owned(),
        run: run["id"].as_str().unwrap().to_owned(),
        job: jobs["items"][0]["id"].as_str().unwrap().to_owned(),
        watchlist: watchlist["id"].as_str().unwrap().to_owned(),
        asset,
        voice,
        account,
        publication,
    }
}

/// Every route family, addressing `o`'s resources: `(method, path, body)`.
fn every_route(o: &Owned) -> Vec<(Method, String, Option<Value>)> {
    let p = &o.project;
    let empty = Some(json!({}));
    let get = |path: String| (Method::GET, path, None);
    let post = |path: String| (Method::POST, path, empty.clone());
    let patch = |path: String, body: Value| (Method::PATCH, path, Some(body));
    let delete = |path: String| (Method::DELETE, path, None);
    vec![
        get(format!("/v1/projects/{p}")),
        patch(format!("/v1/projects/{p}"), json!({"name": "taken"})),
        delete(format!("/v1/projects/{p}")),
        get(format!("/v1/projects/{p}/collections")),
        post(format!("/v1/projects/{p}/collections")),
        get(format!("/v1/projects/{p}/collections/{}", o.collection)),
        post(format!("/v1/projects/{p}/collections/import")),
        get(format!("/v1/projects/{p}/reels")),
        post(format!("/v1/projects/{p}/reels/{}/select", o.reel)),
        get(format!("/v1/reels/{}", o.reel)),
        get(format!("/v1/reels/{}/history", o.reel)),
        get(format!("/v1/reels/{}/video", o.reel)),
        get(format!("/v1/reels/{}/transcripts", o.reel)),
        post(format!("/v1/reels/{}/transcripts", o.reel)),
        get(format!("/v1/projects/{p}/runs")),
        post(format!("/v1/projects/{p}/runs")),
        get(format!("/v1/runs/{}", o.run)),
        get(format!("/v1/jobs/{}", o.job)),
        post(format!("/v1/jobs/{}/cancel", o.job)),
        post(format!("/v1/jobs/{}/retry", o.job)),
        get(format!("/v1/transcripts/{}", o.transcript)),
        post(format!("/v1/transcripts/{}/scripts", o.transcript)),
        get(format!("/v1/scripts/{}", o.script)),
        patch(
            format!("/v1/scripts/{}", o.script),
            json!({"text": "Taken over."}),
        ),
        post(format!("/v1/scripts/{}/audio", o.script)),
        get(format!("/v1/audio/{}", o.audio)),
        get(format!("/v1/audio/{}/content", o.audio)),
        post(format!("/v1/audio/{}/videos", o.audio)),
        get(format!("/v1/videos/{}", o.video)),
        get(format!("/v1/videos/{}/content", o.video)),
        get(format!("/v1/videos/{}/posts", o.video)),
        post(format!("/v1/videos/{}/posts", o.video)),
        get(format!("/v1/videos/{}/publications", o.video)),
        post(format!("/v1/videos/{}/publications", o.video)),
        get(format!("/v1/posts/{}", o.post)),
        patch(format!("/v1/posts/{}", o.post), json!({"title": "Taken"})),
        get(format!("/v1/posts/{}/cover", o.post)),
        get(format!("/v1/projects/{p}/assets")),
        get(format!("/v1/assets/{}", o.asset)),
        get(format!("/v1/assets/{}/content", o.asset)),
        delete(format!("/v1/assets/{}", o.asset)),
        get(format!("/v1/projects/{p}/voices")),
        post(format!("/v1/projects/{p}/voices")),
        get(format!("/v1/voices/{}", o.voice)),
        patch(format!("/v1/voices/{}", o.voice), json!({"name": "taken"})),
        delete(format!("/v1/voices/{}", o.voice)),
        get(format!("/v1/projects/{p}/accounts")),
        post(format!("/v1/projects/{p}/accounts")),
        post(format!("/v1/projects/{p}/accounts/authorize")),
        get(format!("/v1/accounts/{}", o.account)),
        delete(format!("/v1/accounts/{}", o.account)),
        get(format!("/v1/publications/{}", o.publication)),
        post(format!("/v1/publications/{}/cancel", o.publication)),
        get(format!("/v1/projects/{p}/watchlists")),
        post(format!("/v1/projects/{p}/watchlists")),
        get(format!("/v1/watchlists/{}", o.watchlist)),
        patch(
            format!("/v1/watchlists/{}", o.watchlist),
            json!({"paused": true}),
        ),
        (
            Method::DELETE,
            format!("/v1/watchlists/{}", o.watchlist),
            None,
        ),
        get(format!("/v1/projects/{p}/alerts")),
        get(format!("/v1/projects/{p}/webhook")),
        (
            Method::PUT,
            format!("/v1/projects/{p}/webhook"),
            Some(json!({"url": "https://example.com/hook", "secret": "0123456789abcdef"})),
        ),
        delete(format!("/v1/projects/{p}/webhook")),
    ]
}

#[tokio::test]
async fn another_workspace_finds_nothing_on_any_route_or_tool_and_changes_nothing() {
    let app = spawn_app().await;
    let a = owned_resources(&app).await;
    let b = new_token(&app.pool, "b", "b", Scope::Write).await;

    for (method, path, body) in every_route(&a) {
        let (status, problem) = send(&app, &b, &method, &path, body.as_ref()).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (404, Some("not_found")),
            "{method} {path}: {problem}"
        );
    }
    // Nothing was changed or deleted by those requests.
    let project = app.get_json(&format!("/v1/projects/{}", a.project)).await;
    assert_eq!(project["name"], "A's");
    for path in [
        format!("/v1/accounts/{}", a.account),
        format!("/v1/voices/{}", a.voice),
        format!("/v1/assets/{}", a.asset),
    ] {
        app.get_json(&path).await;
    }
    let watchlist = app
        .get_json(&format!("/v1/watchlists/{}", a.watchlist))
        .await;
    assert_eq!(watchlist["paused"], false);

    // Lists show only the workspace's own.
    let mine = send(
        &app,
        &b,
        &Method::POST,
        "/v1/projects",
        Some(&json!({"name": "B's"})),
    )
    .await;
    assert_eq!(mine.0, 201);
    let (_, projects) = send(&app, &b, &Method::GET, "/v1/projects", None).await;
    let names: Vec<&Value> = projects["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["name"])
        .collect();
    assert_eq!(names, [&json!("B's")]);
    let (_, projects) = send(&app, &app.token, &Method::GET, "/v1/projects", None).await;
    assert!(projects["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["name"] != "B's"));
    for query in ["", "?project_id="] {
        let target = if query.is_empty() {
            String::new()
        } else {
            a.project.clone()
        };
        let (status, jobs) = send(
            &app,
            &b,
            &Method::GET,
            &format!("/v1/jobs{query}{target}"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(jobs["items"], json!([]), "B sees no job of A's");
    }

    // MCP tools apply the same workspace.
    for (tool, arguments) in [
        ("list_reels", json!({"project_id": a.project})),
        (
            "select_reel",
            json!({"project_id": a.project, "reel_id": a.reel}),
        ),
        (
            "collect",
            json!({"project_id": a.project, "collection": {"source": "apify", "provider": "fake", "accounts": ["x"]}}),
        ),
        (
            "start_run",
            json!({"project_id": a.project, "run": {"reel_id": a.reel}}),
        ),
        (
            "estimate_run",
            json!({"project_id": a.project, "run": {"reel_id": a.reel}}),
        ),
        ("get_run", json!({"run_id": a.run})),
        ("get_script", json!({"script_id": a.script})),
        (
            "edit_script",
            json!({"script_id": a.script, "edit": {"text": "Taken over."}}),
        ),
        ("get_video_link", json!({"video_id": a.video})),
        ("write_post", json!({"video_id": a.video})),
        (
            "edit_post",
            json!({"post_id": a.post, "edit": {"title": "Taken"}}),
        ),
        ("list_accounts", json!({"project_id": a.project})),
        (
            "publish_video",
            json!({"video_id": a.video, "publication": {"account_id": a.account}}),
        ),
        ("get_publication", json!({"publication_id": a.publication})),
    ] {
        let (is_error, problem) = call_tool(&app, &b, tool, arguments).await;
        assert!(is_error, "{tool} answered {problem}");
        assert_eq!(problem["code"], "not_found", "{tool}: {problem}");
    }
    let (_, projects) = call_tool(&app, &b, "list_projects", json!({})).await;
    assert_eq!(projects["items"].as_array().unwrap().len(), 1);
    assert_eq!(projects["items"][0]["name"], "B's");
}

#[tokio::test]
async fn a_read_token_reads_and_is_refused_every_change_with_insufficient_scope() {
    let app = spawn_app().await;
    let a = owned_resources(&app).await;
    let reader = new_token(&app.pool, "reader", DEFAULT_WORKSPACE, Scope::Read).await;

    for (method, path, body) in every_route(&a) {
        let (status, problem) = send(&app, &reader, &method, &path, body.as_ref()).await;
        if method == Method::GET {
            assert_ne!(status, 403, "GET {path}: {problem}");
            assert_ne!(status, 401, "GET {path}: {problem}");
        } else {
            assert_eq!(
                (status, problem["code"].as_str()),
                (403, Some("insufficient_scope")),
                "{method} {path}: {problem}"
            );
        }
    }
    for path in ["/v1/projects", "/v1/jobs", "/v1/providers"] {
        assert_eq!(
            send(&app, &reader, &Method::GET, path, None).await.0,
            200,
            "{path}"
        );
    }
    let (status, problem) = send(
        &app,
        &reader,
        &Method::POST,
        "/v1/projects",
        Some(&json!({"name": "no"})),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let project = app.get_json(&format!("/v1/projects/{}", a.project)).await;
    assert_eq!(project["name"], "A's", "nothing changed");

    // MCP: the tools that read answer, the ones that change are refused.
    let (is_error, projects) = call_tool(&app, &reader, "list_projects", json!({})).await;
    assert!(!is_error && projects["items"][0]["id"] == json!(a.project));
    let (is_error, script) =
        call_tool(&app, &reader, "get_script", json!({"script_id": a.script})).await;
    assert!(!is_error, "{script}");
    for (tool, arguments) in [
        ("create_project", json!({"name": "no"})),
        (
            "edit_script",
            json!({"script_id": a.script, "edit": {"text": "Changed."}}),
        ),
        (
            "start_run",
            json!({"project_id": a.project, "run": {"reel_id": a.reel}}),
        ),
        (
            "select_reel",
            json!({"project_id": a.project, "reel_id": a.reel}),
        ),
    ] {
        let (is_error, problem) = call_tool(&app, &reader, tool, arguments).await;
        assert!(is_error, "{tool} answered {problem}");
        assert_eq!(problem["code"], "insufficient_scope", "{tool}: {problem}");
    }
}

#[tokio::test]
async fn only_admins_manage_tokens_and_only_their_workspaces() {
    let app = spawn_app().await;
    let writer = new_token(&app.pool, "writer", DEFAULT_WORKSPACE, Scope::Write).await;
    let other_admin = new_token(&app.pool, "b-admin", "b", Scope::Admin).await;
    for (method, path) in [
        (Method::GET, "/v1/tokens".to_owned()),
        (Method::POST, "/v1/tokens".to_owned()),
        (Method::DELETE, format!("/v1/tokens/{}", Uuid::new_v4())),
    ] {
        let (status, problem) =
            send(&app, &writer, &method, &path, Some(&json!({"name": "x"}))).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (403, Some("insufficient_scope")),
            "{method} {path}"
        );
    }

    // The default workspace's admin (the app's token) makes a read token: shown once, working.
    let (status, created) = send(
        &app,
        &app.token,
        &Method::POST,
        "/v1/tokens",
        Some(&json!({"name": "dashboard", "scope": "read"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (created["workspace"].as_str(), created["scope"].as_str()),
        (Some("default"), Some("read"))
    );
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        send(&app, &secret, &Method::GET, "/v1/projects", None)
            .await
            .0,
        200
    );
    let (status, _) = send(
        &app,
        &app.token,
        &Method::POST,
        "/v1/tokens",
        Some(&json!({"name": " "})),
    )
    .await;
    assert_eq!(status, 422);
    let (status, problem) = problem(
        app.post("/v1/tokens", &json!({"name": "again"}))
            .header("Idempotency-Key", "k1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("idempotency_unsupported")),
        "a secret is never stored to replay"
    );

    // Each admin sees and revokes only its own workspace's tokens.
    let (_, listed) = send(&app, &app.token, &Method::GET, "/v1/tokens", None).await;
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["test", "writer", "dashboard"]);
    assert!(
        listed.to_string().find(&secret).is_none(),
        "no secret is listed"
    );
    let (_, listed) = send(&app, &other_admin, &Method::GET, "/v1/tokens", None).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["workspace"], "b");
    let dashboard = created["id"].as_str().unwrap();
    let path = format!("/v1/tokens/{dashboard}");
    assert_eq!(
        send(&app, &other_admin, &Method::DELETE, &path, None)
            .await
            .0,
        404
    );
    assert_eq!(
        send(&app, &secret, &Method::GET, "/v1/projects", None)
            .await
            .0,
        200
    );
    assert_eq!(
        send(&app, &app.token, &Method::DELETE, &path, None).await.0,
        204
    );
    assert_eq!(
        send(&app, &secret, &Method::GET, "/v1/projects", None)
            .await
            .0,
        401
    );
    assert_eq!(
        send(&app, &app.token, &Method::DELETE, &path, None).await.0,
        404,
        "already revoked"
    );
}

#[tokio::test]
async fn the_event_stream_carries_only_the_workspaces_events() {
    let app = spawn_app().await;
    let b = new_token(&app.pool, "b", "b", Scope::Write).await;
    let a_project = app.create_project(json!({"name": "A's"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.collect_fake_reels(&a_project, 1).await;
    let (_, b_project) = send(
        &app,
        &b,
        &Method::POST,
        "/v1/projects",
        Some(&json!({"name": "B's"})),
    )
    .await;
    let b_project = b_project["id"].as_str().unwrap().to_owned();
    let collect =
        json!({"source": "apify", "provider": "fake", "accounts": ["demo"], "per_source_limit": 1});
    let path = format!("/v1/projects/{b_project}/collections");
    let ended = |frame: &crate::helpers::SseFrame| frame.event == "collection.succeeded";

    // Replayed from the start of the log: A's events, written first, are not among them.
    let (status, _) = send(&app, &b, &Method::POST, &path, Some(&collect)).await;
    assert_eq!(status, 202);
    let mut stream = SseClient::connect_as(&app, &b, "", Some(0)).await;
    let frames = stream.until(Duration::from_secs(15), ended).await;
    // Live: A collects again, then B; B's stream goes from its own event to its own event.
    app.collect_fake_reels(&a_project, 1).await;
    let (status, _) = send(&app, &b, &Method::POST, &path, Some(&collect)).await;
    assert_eq!(status, 202);
    let live = stream.until(Duration::from_secs(15), ended).await;
    for frame in frames.iter().chain(&live) {
        assert_eq!(frame.data["project_id"], json!(b_project), "{frame:?}");
    }
}

#[tokio::test]
async fn two_workspaces_may_send_the_same_idempotency_key() {
    let app = spawn_app().await;
    let b = new_token(&app.pool, "b", "b", Scope::Write).await;
    let mut made = Vec::new();
    for token in [&app.token, &b] {
        let response = app
            .client
            .post(app.url("/v1/projects"))
            .bearer_auth(token)
            .header("Idempotency-Key", "same-key")
            .json(&json!({"name": "same"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        assert!(response.headers().get("Idempotent-Replayed").is_none());
        let project: Value = response.json().await.unwrap();
        made.push(project["id"].clone());
    }
    assert_ne!(made[0], made[1], "each workspace got its own project");
}

/// Runs `reelforge token ...` against the app's database; answers stdout.
fn cli(app: &TestApp, args: &[&str]) -> String {
    use secrecy::ExposeSecret;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_reelforge"))
        .arg("token")
        .args(args)
        .env(
            "REELFORGE__DATABASE__URL",
            app.settings.database.url.expose_secret(),
        )
        .output()
        .expect("the reelforge binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn the_cli_makes_tokens_of_a_workspace_and_scope() {
    let app = spawn_app().await;
    app.create_project(json!({"name": "default's"})).await;

    // A new workspace is made with its first token; it starts empty.
    let reader = cli(
        &app,
        &[
            "create",
            "--name",
            "viewer",
            "--workspace",
            "team",
            "--scope",
            "read",
        ],
    );
    let reader = reader.trim();
    let (status, projects) = send(&app, reader, &Method::GET, "/v1/projects", None).await;
    assert_eq!((status, projects["items"].clone()), (200, json!([])));
    let (status, problem) = send(
        &app,
        reader,
        &Method::POST,
        "/v1/projects",
        Some(&json!({"name": "no"})),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("insufficient_scope"))
    );

    // Without flags: a `write` token of `default`, which sees what was there.
    let writer = cli(&app, &["create", "--name", "plain"]);
    let (_, projects) = send(&app, writer.trim(), &Method::GET, "/v1/projects", None).await;
    assert_eq!(projects["items"][0]["name"], "default's");
    assert_eq!(
        send(&app, writer.trim(), &Method::GET, "/v1/tokens", None)
            .await
            .0,
        403
    );

    let listed: Vec<Value> = cli(&app, &["list"])
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let seen: Vec<(&str, &str, &str)> = listed
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["workspace"].as_str().unwrap(),
                t["scope"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("test", "default", "admin"),
            ("viewer", "team", "read"),
            ("plain", "default", "write")
        ]
    );
}
