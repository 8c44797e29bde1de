//! Usage and estimated cost per run and project, and signed completion webhooks.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use wiremock::{matchers::method, matchers::path, Mock, MockServer, ResponseTemplate};

use crate::helpers::{send_problem, spawn_app, spawn_app_with, start_run, wait_for_run};

pub fn price(settings: &mut reelforge::config::Settings, metric: &str, usd: f64) {
    settings
        .prices
        .entry("fake".into())
        .or_default()
        .insert(metric.into(), usd);
}

/// The receivers here listen on loopback, which deliveries refuse unless allowed.
fn allow_loopback(settings: &mut reelforge::config::Settings) {
    settings.media.fetch_allow_hosts = vec!["127.0.0.1".into()];
}

fn line<'a>(usage: &'a Value, metric: &str) -> &'a Value {
    usage["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["metric"] == metric)
        .unwrap_or_else(|| panic!("no {metric} line in {usage:#}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

#[tokio::test]
async fn runs_and_projects_total_each_providers_usage_at_configured_prices() {
    let app = spawn_app_with(|settings| {
        price(settings, "audio_seconds", 0.01);
        price(settings, "input_tokens", 0.001);
        price(settings, "output_tokens", 0.002);
        price(settings, "characters", 0.0001);
        price(settings, "video_seconds", 0.05);
    })
    .await;
    let project = app
        .create_project(json!({"name": "costs", "language": "en"}))
        .await;
    let project_id = project["id"].as_str().unwrap();
    let reels = app.collect_fake_reels(project_id, 1).await;
    let reel_id = reels[0]["id"].as_str().unwrap();
    let started = start_run(&app, project_id, json!({"reel_id": reel_id})).await;
    let run = wait_for_run(&app, started["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");

    let output = |index: usize, kind: &str| {
        let id = run["reels"][0]["steps"][index]["resource_id"]
            .as_str()
            .unwrap();
        let app = &app;
        let kind = kind.to_owned();
        async move { app.get_json(&format!("/v1/{kind}/{id}")).await["output"].clone() }
    };
    let transcript = output(0, "transcripts").await;
    let script = output(1, "scripts").await;
    let audio = output(2, "audio").await;
    let video = output(3, "videos").await;
    let expected = [
        (
            "transcribe",
            "audio_seconds",
            transcript["audio_seconds"].as_f64().unwrap(),
            0.01,
        ),
        (
            "rewrite",
            "input_tokens",
            script["usage"]["prompt_tokens"].as_f64().unwrap(),
            0.001,
        ),
        (
            "rewrite",
            "output_tokens",
            script["usage"]["completion_tokens"].as_f64().unwrap(),
            0.002,
        ),
        (
            "voice",
            "characters",
            audio["characters"].as_f64().unwrap(),
            0.0001,
        ),
        (
            "render",
            "video_seconds",
            video["duration_ms"].as_f64().unwrap() / 1000.0,
            0.05,
        ),
    ];

    let usage = &run["usage"];
    assert_eq!(usage["currency"], "USD");
    assert_eq!(
        usage["lines"].as_array().unwrap().len(),
        expected.len(),
        "{usage:#}"
    );
    let mut total = 0.0;
    for (step, metric, quantity, unit_price) in expected {
        assert!(quantity > 0.0, "{metric} was measured");
        let line = line(usage, metric);
        assert_eq!(line["step"], step);
        assert_eq!(line["provider"], "fake");
        assert!(
            close(line["quantity"].as_f64().unwrap(), quantity),
            "{line}"
        );
        assert!(
            close(line["cost"].as_f64().unwrap(), quantity * unit_price),
            "{line}"
        );
        total += quantity * unit_price;
    }
    assert!(close(usage["total_cost"].as_f64().unwrap(), total));
    let listed = app
        .get_json(&format!("/v1/projects/{project_id}/runs"))
        .await;
    assert_eq!(listed["items"][0]["usage"], *usage);

    // The same run again reuses every step and pays nothing; the project's total is the run's
    // plus the collection (the fake scraper's one item, unpriced here).
    let again = start_run(&app, project_id, json!({"reel_id": reel_id})).await;
    let again = wait_for_run(&app, again["id"].as_str().unwrap()).await;
    assert_eq!(again["usage"]["total_cost"], 0.0);
    assert_eq!(again["usage"]["lines"], json!([]));
    let project = app.get_json(&format!("/v1/projects/{project_id}")).await;
    assert!(close(
        project["usage"]["total_cost"].as_f64().unwrap(),
        total
    ));
    let collected = line(&project["usage"], "actor_items");
    assert_eq!(
        (collected["step"].as_str(), collected["quantity"].as_f64()),
        (Some("collect"), Some(1.0))
    );
    let mut project_lines = project["usage"]["lines"].as_array().unwrap().clone();
    project_lines.retain(|l| l["metric"] != "actor_items");
    assert_eq!(Value::from(project_lines), usage["lines"]);
}

#[tokio::test]
async fn a_finished_run_is_posted_signed_to_the_webhook_and_retried_until_accepted() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let app = spawn_app_with(allow_loopback).await;
    let project = app
        .create_project(json!({"name": "hooks", "language": "ru"}))
        .await;
    let project_id = project["id"].as_str().unwrap();
    let hook = format!("/v1/projects/{project_id}/webhook");
    let secret = "whsec_0123456789abcdef";

    let (status, problem) = send_problem(app.put(
        &hook,
        &json!({"url": "ftp://example.com/x", "secret": "short"}),
    ))
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["url", "secret"], "{problem:#}");
    let long = format!("https://example.com/{}", "x".repeat(3000));
    let (status, problem) =
        send_problem(app.put(&hook, &json!({"url": long, "secret": "s".repeat(300)}))).await;
    assert_eq!(status, 422);
    assert_eq!(
        problem["errors"],
        json!([
            {"field": "url", "message": "must be at most 2048 characters"},
            {"field": "secret", "message": "must be 16 to 256 characters"}
        ])
    );
    let (status, problem) = send_problem(app.put(&hook, &json!({"url": 42}))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("invalid_body")),
        "{problem}"
    );
    let (status, _) = send_problem(app.get(&hook)).await;
    assert_eq!(status, 404, "nothing was stored");

    let url = format!("{}/hook", receiver.uri());
    let response = app
        .put(&hook, &json!({"url": url, "secret": secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let shown = response.text().await.unwrap();
    assert!(
        !shown.contains(secret),
        "the secret is never returned: {shown}"
    );
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["url"], url);
    assert_eq!(shown["secret_set"], true);
    assert!(!app
        .get(&hook)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains(secret));

    let reels = app.collect_fake_reels(project_id, 1).await;
    let started = start_run(&app, project_id, json!({"reel_id": reels[0]["id"]})).await;
    let run_id = started["id"].as_str().unwrap();
    assert_eq!(wait_for_run(&app, run_id).await["status"], "succeeded");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let deliveries = loop {
        let received = receiver.received_requests().await.unwrap();
        if received.len() >= 2 {
            break received;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} deliveries",
            received.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(deliveries.len(), 2, "no delivery after the 2xx");
    let header = |i: usize, name: &str| {
        deliveries[i]
            .headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        header(0, "reelforge-delivery"),
        header(1, "reelforge-delivery"),
        "a retry keeps the delivery id"
    );
    assert_eq!(header(1, "reelforge-event"), "run.succeeded");
    assert_eq!(header(1, "content-type"), "application/json");

    let delivered = &deliveries[1];
    let signature = header(1, "reelforge-signature");
    let (timestamp, sent_mac) = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
        .expect("t=...,v1=...");
    let now = chrono::Utc::now().timestamp();
    assert!((now - timestamp.parse::<i64>().unwrap()).abs() < 300);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&delivered.body);
    assert_eq!(sent_mac, hex::encode(mac.finalize().into_bytes()));

    let body: Value = serde_json::from_slice(&delivered.body).unwrap();
    assert_eq!(body["type"], "run.succeeded");
    assert_eq!(body["id"], header(1, "reelforge-delivery"));
    assert_eq!(body["data"]["id"], run_id);
    assert_eq!(body["data"]["status"], "succeeded");
    assert_eq!(body["data"]["usage"]["currency"], "USD");
    // The fake writer's stock script is flagged, and the receiver is told.
    assert_eq!(body["data"]["reels"][0]["needs_review"], true, "{body:#}");
    assert!(body["data"]["reels"][0]["review_reasons"][0]
        .as_str()
        .unwrap()
        .starts_with("not about the reel"));

    assert_eq!(app.delete(&hook).send().await.unwrap().status(), 204);
    assert_eq!(app.delete(&hook).send().await.unwrap().status(), 404);
}

/// Runs one reel in a project whose webhook answers `status` and waits until its delivery job
/// has failed; answers the job and how many requests the receiver got.
async fn failed_delivery(allow_loopback_receivers: bool, status: u16) -> (Value, usize) {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&receiver)
        .await;
    let app = if allow_loopback_receivers {
        spawn_app_with(allow_loopback).await
    } else {
        spawn_app().await
    };
    let project = app
        .create_project(json!({"name": "failing hook", "language": "ru"}))
        .await;
    let project_id = project["id"].as_str().unwrap();
    let hook = json!({"url": format!("{}/hook", receiver.uri()), "secret": "0123456789abcdef"});
    if allow_loopback_receivers {
        let response = app
            .put(&format!("/v1/projects/{project_id}/webhook"), &hook)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    } else {
        // A name that resolved to a public address when the webhook was set and to an internal
        // one at delivery (DNS rebinding): the PUT check passed, the delivery guard must not.
        reelforge::db::webhooks::put(
            &app.pool,
            project_id.parse().unwrap(),
            hook["url"].as_str().unwrap(),
            "0123456789abcdef",
        )
        .await
        .unwrap();
    }
    let reels = app.collect_fake_reels(project_id, 1).await;
    let run = start_run(&app, project_id, json!({"reel_id": reels[0]["id"]})).await;
    wait_for_run(&app, run["id"].as_str().unwrap()).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let jobs = app.get_json("/v1/jobs?kind=webhook").await;
        if jobs["items"][0]["status"] == "failed" {
            let received = receiver.received_requests().await.unwrap().len();
            return (jobs["items"][0].clone(), received);
        }
        assert!(tokio::time::Instant::now() < deadline, "{jobs:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_receiver_that_answers_410_stops_the_deliveries() {
    let (job, received) = failed_delivery(true, 410).await;
    assert_eq!(job["last_error"]["code"], "webhook_gone");
    assert_eq!(job["attempts"], 1);
    assert_eq!(received, 1);
}

#[tokio::test]
async fn webhooks_on_internal_addresses_are_refused_when_set() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "hooks"})).await;
    let hook = format!("/v1/projects/{}/webhook", project["id"].as_str().unwrap());
    for url in [
        "http://127.0.0.1:9/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data",
        "http://[64:ff9b::a9fe:a9fe]/hook",
        "http://[2002:7f00:1::]/hook",
        "http://[::1]/hook",
        "http://10.0.0.8/hook",
    ] {
        let (status, body) =
            send_problem(app.put(&hook, &json!({"url": url, "secret": "0123456789abcdef"}))).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("validation_failed")),
            "{url}: {body}"
        );
        assert_eq!(body["errors"][0]["field"], "url", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("internal address"),
            "{body}"
        );
    }
    assert_eq!(
        app.get(&hook).send().await.unwrap().status(),
        404,
        "nothing was stored"
    );
}

#[tokio::test]
async fn a_webhook_on_an_internal_address_is_refused_at_delivery() {
    let (job, received) = failed_delivery(false, 204).await;
    assert_eq!(job["last_error"]["code"], "url_refused");
    assert!(job["last_error"]["message"]
        .as_str()
        .unwrap()
        .contains("internal address"));
    assert_eq!(received, 0, "nothing was sent to the internal address");
}
