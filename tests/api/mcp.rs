//! The MCP server on `/mcp`: a real client (the official TypeScript SDK, in tests/web) drives a
//! pipeline through the tools; the transport's rules are checked here on the wire.

use std::time::Duration;

use serde_json::{json, Value};

use crate::{helpers::spawn_app, web::npm};

const TOOLS: [&str; 18] = [
    "list_projects",
    "create_project",
    "collect",
    "list_reels",
    "select_reel",
    "start_run",
    "estimate_run",
    "get_run",
    "resume_run",
    "cancel_run",
    "get_script",
    "edit_script",
    "get_video_link",
    "write_post",
    "edit_post",
    "list_accounts",
    "publish_video",
    "get_publication",
];

#[tokio::test]
async fn an_mcp_client_runs_a_pipeline_through_the_tools_and_reads_the_script() {
    let app = spawn_app().await;
    let report = npm(&app, "mcp", &[]).await;

    // No token, no access.
    assert!(
        report["withoutToken"].as_str().unwrap().contains("401"),
        "{}",
        report["withoutToken"]
    );
    assert!(report["wrongToken"].as_str().unwrap().contains("401"));

    assert_eq!(report["server"]["name"], "reelforge");
    assert_eq!(report["protocolVersion"], "2025-11-25");
    assert!(report["instructions"]
        .as_str()
        .unwrap()
        .contains("start_run"));
    assert_eq!(report["tools"], json!(TOOLS));

    // Each tool's input is the REST body's own schema, as the OpenAPI document has it.
    let document = reelforge::openapi::spec_value();
    let components = &document["components"]["schemas"];
    let keys = |schema: &Value| {
        schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    let run_input = &report["schemas"]["start_run"];
    assert_eq!(run_input["type"], "object");
    assert_eq!(run_input["properties"]["run"]["$ref"], "#/$defs/CreateRun");
    assert_eq!(
        keys(&run_input["$defs"]["CreateRun"]),
        keys(&components["CreateRun"])
    );
    assert_eq!(
        keys(&report["schemas"]["create_project"]),
        keys(&components["CreateProject"])
    );
    assert_eq!(
        report["schemas"]["create_project"]["properties"]["settings"]["oneOf"][1]["$ref"],
        "#/$defs/ProjectSettingsPatch"
    );
    assert_eq!(
        report["schemas"]["collect"]["properties"]["collection"]["$ref"],
        "#/$defs/NewCollection"
    );
    assert_eq!(
        keys(&report["outputSchemas"]["get_run"]),
        keys(&components["Run"])
    );

    // An estimate queues nothing and prices every step (the fake providers cost nothing).
    let estimate = &report["estimate"];
    assert_eq!(estimate["currency"], "USD");
    assert_eq!(
        estimate["lines"].as_array().unwrap().len(),
        5,
        "{estimate:#}"
    );
    assert_eq!(estimate["within_budget"], true);

    // The pipeline, end to end on the fake providers.
    assert_eq!(report["project"]["language"], "ru");
    assert_eq!(report["collection"]["status"], "succeeded", "{report:#}");
    assert_eq!(report["reels"]["items"].as_array().unwrap().len(), 2);
    let plays: Vec<i64> = report["reels"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|reel| reel["metrics"]["plays"].as_i64().unwrap_or_default())
        .collect();
    assert!(plays[0] >= plays[1], "sorted by plays: {plays:?}");
    assert_eq!(report["run"]["status"], "succeeded", "{:#}", report["run"]);
    assert_eq!(report["run"]["progress"], 100);

    // Progress came from the event bus as the run moved, ending at 100, always rising.
    let progress: Vec<f64> = report["progress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|update| update["progress"].as_f64().unwrap())
        .collect();
    assert!(progress.len() >= 2, "{progress:?}");
    assert!(progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");
    assert_eq!(progress.last(), Some(&100.0));
    assert_eq!(report["progress"][0]["total"], 100);
    assert!(report["progress"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("run "));

    // The script with its checks, then edited and checked again.
    let script = &report["script"];
    assert_eq!(script["status"], "succeeded");
    assert!(!script["output"]["text"].as_str().unwrap().is_empty());
    assert!(!script["output"]["checks"].as_array().unwrap().is_empty());
    let edited = &report["edited"];
    assert_eq!(
        edited["output"]["text"],
        "Каждое утро ты выбираешь, кем станешь. Начни сегодня. Подпишись!"
    );
    assert_eq!(edited["output"]["word_count"], 9);
    assert_eq!(report["runAgain"]["id"], report["run"]["id"]);

    // The video's link downloads the MP4 with the same token.
    let video_id = report["link"]["video"]["id"].as_str().unwrap();
    assert_eq!(
        report["link"]["url"],
        app.url(&format!("/v1/videos/{video_id}/content"))
    );
    assert_eq!(report["videoStatus"], 200);
    assert_eq!(report["videoType"], "video/mp4");
    assert_eq!(report["videoBrand"], "ftyp");
    assert!(report["videoBytes"].as_u64().unwrap() > 1000);

    // The video's post, written while the tool waited, then edited; publishing without an
    // account is refused with the field named.
    let post = &report["post"];
    assert_eq!(post["status"], "succeeded", "{post:#}");
    assert!(!post["output"]["title"].as_str().unwrap().is_empty());
    assert_eq!(
        report["postEdited"]["output"]["title"],
        "Утро начинается с решения"
    );
    assert_eq!(report["accounts"]["items"], json!([]));
    assert!(
        report["publishRefused"].to_string().contains("account_id"),
        "{}",
        report["publishRefused"]
    );
    assert!(report["link"]["files"]["thumbnail.jpg"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/v1/videos/{video_id}/files/thumbnail.jpg")));

    // Errors are the tools' own, with the problem's stable code and field.
    let refused = &report["refused"]["error"];
    assert_eq!(refused["code"], "validation_failed", "{report:#}");
    assert_eq!(refused["status"], 422);
    assert_eq!(refused["errors"][0]["field"], "options.voice.speed");
    let bad = &report["badArguments"]["error"];
    assert_eq!(bad["code"], "invalid_body");
    assert_eq!(bad["errors"][0]["field"], "run");
    assert_eq!(report["unknownTool"]["code"], -32602);
}

/// Posts one JSON-RPC message to `/mcp` with the app's token.
async fn post(app: &crate::helpers::TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/mcp"))
        .bearer_auth(&app.token)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_transport_answers_as_streamable_http_says() {
    let app = spawn_app().await;

    let anonymous = app
        .client
        .post(app.url("/mcp"))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let problem: Value = anonymous.json().await.unwrap();
    assert_eq!(problem["code"], "unauthorized");

    let ping = post(
        &app,
        &json!({"jsonrpc": "2.0", "id": "a", "method": "ping"}),
    )
    .await;
    assert_eq!(ping.status(), 200);
    assert_eq!(
        ping.json::<Value>().await.unwrap(),
        json!({"jsonrpc": "2.0", "id": "a", "result": {}})
    );

    let notification = post(
        &app,
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(notification.status(), 202);
    assert!(notification.bytes().await.unwrap().is_empty());

    let initialize = post(
        &app,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2024-01-01", "capabilities": {}, "clientInfo": {"name": "old", "version": "0"}
        }}),
    )
    .await
    .json::<Value>()
    .await
    .unwrap();
    assert_eq!(
        initialize["result"]["protocolVersion"], "2025-11-25",
        "an unknown revision is offered the newest"
    );

    let unknown = post(
        &app,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "resources/list"}),
    )
    .await
    .json::<Value>()
    .await
    .unwrap();
    assert_eq!(unknown["error"]["code"], -32601);
    assert_eq!(unknown["id"], 2);
    let nameless = post(
        &app,
        &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"arguments": {}}}),
    )
    .await
    .json::<Value>()
    .await
    .unwrap();
    assert_eq!(nameless["error"]["code"], -32602);
    assert!(
        nameless["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing field `name`"),
        "{nameless}"
    );

    for (body, why) in [
        (
            json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]),
            "a batch",
        ),
        (
            json!({"jsonrpc": "1.0", "id": 1, "method": "ping"}),
            "not 2.0",
        ),
        (
            json!({"jsonrpc": "2.0", "id": null, "method": "ping"}),
            "a null id",
        ),
        (
            json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "extra": 1}),
            "an unknown member",
        ),
    ] {
        let response = post(&app, &body).await;
        assert_eq!(response.status(), 400, "{why}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], -32600, "{why}");
        assert_eq!(answer["id"], Value::Null, "{why}");
    }
    let wrong_version = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(&app.token)
        .header("MCP-Protocol-Version", "1999-01-01")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_version.status(), 400);

    // A browser page of another site is refused; the service's own origin is not.
    let ping_from = |origin: String| {
        app.client
            .post(app.url("/mcp"))
            .bearer_auth(&app.token)
            .header("Origin", origin)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
            .send()
    };
    let foreign = ping_from("http://evil.example".into()).await.unwrap();
    assert_eq!(foreign.status(), 403);
    assert_eq!(
        foreign.json::<Value>().await.unwrap()["code"],
        "origin_refused"
    );
    assert_eq!(ping_from(app.address.clone()).await.unwrap().status(), 200);

    // No server-initiated stream: GET is refused, naming what is allowed.
    let get = app
        .client
        .get(app.url("/mcp"))
        .bearer_auth(&app.token)
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");

    // A call with a progress token from a client that takes event streams is answered as one:
    // progress notifications, then the response, then the end of the stream.
    let project = app.create_project(json!({"name": "sse"})).await;
    let streamed = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(&app.token)
        .header("Accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
            "name": "collect",
            "arguments": {"project_id": project["id"], "wait_seconds": 30,
                "collection": {"source": "apify", "provider": "fake", "accounts": ["demo"], "per_source_limit": 3}},
            "_meta": {"progressToken": "p-1"},
        }}))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), 200);
    assert_eq!(streamed.headers()["content-type"], "text/event-stream");
    let text = streamed.text().await.unwrap();
    let messages: Vec<Value> = text
        .split("\n\n")
        .filter(|frame| !frame.trim().is_empty())
        .map(|frame| {
            assert!(frame.starts_with("event: message\ndata: "), "{frame}");
            serde_json::from_str(frame.trim_start_matches("event: message\ndata: ")).unwrap()
        })
        .collect();
    let (response, notifications) = messages.split_last().unwrap();
    assert!(!notifications.is_empty(), "{text}");
    for notification in notifications {
        assert_eq!(notification["method"], "notifications/progress");
        assert_eq!(notification["params"]["progressToken"], "p-1");
    }
    assert_eq!(response["id"], 7);
    assert_eq!(response["result"]["isError"], false);
    assert_eq!(
        response["result"]["structuredContent"]["status"], "succeeded",
        "{text}"
    );
    assert_eq!(
        response["result"]["structuredContent"]["project_id"],
        project["id"]
    );
}

/// `reelforge_sse_subscribers` as `/metrics` reports it.
async fn subscribers(app: &crate::helpers::TestApp) -> i64 {
    app.metrics()
        .await
        .lines()
        .find_map(|line| line.strip_prefix("reelforge_sse_subscribers "))
        .expect("the gauge is exported")
        .trim()
        .parse()
        .unwrap()
}

/// Polls the gauge until it reads `expected`, for at most `within`.
async fn await_subscribers(app: &crate::helpers::TestApp, expected: i64, within: Duration) {
    crate::helpers::eventually(
        &format!("the gauge to read {expected}"),
        within,
        || subscribers(app),
        |now| *now == expected,
    )
    .await;
}

#[tokio::test]
async fn a_call_waiting_on_a_run_lets_go_as_soon_as_its_client_hangs_up() {
    let first = spawn_app().await;
    let project = first.create_project(json!({"name": "leaver"})).await;
    first
        .collect_fake_reels(project["id"].as_str().unwrap(), 1)
        .await;
    // Nothing works on the runs, so each call would wait its full 90 s.
    let app = first.second_instance(false).await;
    drop(first);
    for streamed in [false, true] {
        let mut params = json!({"name": "start_run", "arguments": {
            "project_id": project["id"], "run": {"top": 1}, "wait_seconds": 90}});
        if streamed {
            params["_meta"] = json!({"progressToken": "p"});
        }
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params})
            .to_string();
        let mut socket = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
            .await
            .unwrap();
        let request = format!(
            "POST /mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
             Content-Length: {}\r\n\r\n{body}",
            app.token,
            body.len()
        );
        tokio::io::AsyncWriteExt::write_all(&mut socket, request.as_bytes())
            .await
            .unwrap();
        await_subscribers(&app, 1, Duration::from_secs(15)).await;
        drop(socket);
        // Well under the 90 s asked for; the margin is only for a loaded machine.
        await_subscribers(&app, 0, Duration::from_secs(20)).await;
    }
}
