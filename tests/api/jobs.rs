//! Job lifecycle through the API with the fake providers.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{send_problem, spawn_app};

/// Two fake reels, with the fake provider's failure options.
fn fake_collection(options: serde_json::Value) -> serde_json::Value {
    json!({"source": "apify", "provider": "fake", "accounts": ["demo"], "per_source_limit": 2, "options": options})
}

fn collection_path(project_id: &str, collection: &serde_json::Value) -> String {
    format!(
        "/v1/projects/{project_id}/collections/{}",
        collection["id"].as_str().unwrap()
    )
}

#[tokio::test]
async fn every_step_runs_to_success_and_records_its_output() {
    let app = spawn_app().await;
    let project = app
        .create_project(json!({"name": "p", "language": "ru"}))
        .await;
    let ids = app.run_pipeline(project["id"].as_str().unwrap()).await;

    let reel = app.get_json(&format!("/v1/reels/{}", ids[0])).await;
    assert_eq!(
        (reel["status"].as_str(), reel["media"]["width"].as_u64()),
        (Some("succeeded"), Some(1080))
    );
    assert_eq!(reel["selected"], true);

    let transcript = app.get_json(&format!("/v1/transcripts/{}", ids[1])).await;
    assert_eq!(transcript["parent_id"], json!(ids[0]));
    assert_eq!(transcript["output"]["words"].as_array().unwrap().len(), 16);

    let script = app.get_json(&format!("/v1/scripts/{}", ids[2])).await;
    let words = script["output"]["word_count"].as_u64().unwrap();
    assert!((100..=120).contains(&words), "the default range: {words}");
    assert_eq!(script["output"]["language"], "ru");
    assert!(crate::helpers::gates_passed(&script["output"]));
    // The fake writer's stock sentences are not about the fake reel, and say so.
    assert_eq!(script["output"]["needs_review"], true);
    assert!(script["output"]["review_reasons"][0]
        .as_str()
        .unwrap()
        .starts_with("not about the reel"));
    assert!(script["output"]["text"]
        .as_str()
        .unwrap()
        .ends_with("Сохрани это видео, подпишись и начни прямо сейчас."));

    let audio = app.get_json(&format!("/v1/audio/{}", ids[3])).await;
    assert_eq!(audio["output"]["duration_ms"], 40_000);

    let video = app.get_json(&format!("/v1/videos/{}", ids[4])).await;
    let measured = video["output"]["duration_ms"].as_u64().unwrap();
    assert!(
        measured.abs_diff(40_000) <= 100,
        "measured from the file: {measured}"
    );
    assert!(video["output"]["size_bytes"].as_u64().unwrap() > 0);
    assert_eq!(
        (
            video["output"]["width"].as_u64(),
            video["output"]["height"].as_u64()
        ),
        (Some(1080), Some(1920))
    );

    let job = app
        .get_json(&format!("/v1/jobs/{}", video["job_id"].as_str().unwrap()))
        .await;
    assert_eq!(
        (
            job["status"].as_str(),
            job["attempts"].as_i64(),
            job["progress"].as_i64()
        ),
        (Some("succeeded"), Some(1), Some(100))
    );
    assert_eq!(job["kind"], "render");
    assert!(job["finished_at"].is_string() && job["started_at"].is_string());

    let listed = app.get_json(&format!("/v1/audio/{}/videos", ids[3])).await;
    assert_eq!(listed["items"][0]["id"], json!(ids[4]));
    let filtered = app.get_json("/v1/jobs?kind=rewrite&status=succeeded").await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["items"][0]["resource_id"], json!(ids[2]));
}

#[tokio::test]
async fn a_retryable_failure_is_retried_until_it_succeeds() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let (collection, job) = app
        .start_collection(
            project_id,
            fake_collection(json!({"fail": "retryable", "fail_attempts": 2})),
        )
        .await;
    let job = app
        .wait_for_status(job["id"].as_str().unwrap(), "succeeded")
        .await;
    assert_eq!(job["attempts"], 3);
    assert!(
        job["last_error"].is_null(),
        "a success leaves no error of an earlier attempt: {job}"
    );
    let collection = app
        .get_json(&collection_path(project_id, &collection))
        .await;
    assert_eq!(
        (collection["status"].as_str(), &collection["error"]),
        (Some("succeeded"), &json!(null))
    );
    assert_eq!(collection["counts"]["added"], 2);
}

#[tokio::test]
async fn retryable_failures_stop_at_max_attempts() {
    let app = spawn_app_with_attempts(3).await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let (collection, job) = app
        .start_collection(project_id, fake_collection(json!({"fail": "retryable"})))
        .await;
    let job = app
        .wait_for_status(job["id"].as_str().unwrap(), "failed")
        .await;
    assert_eq!(job["attempts"], 3);
    let collection = app
        .get_json(&collection_path(project_id, &collection))
        .await;
    assert_eq!(collection["status"], "failed");
    assert_eq!(
        collection["error"]["message"],
        "fake provider failed attempt 3 on purpose"
    );
}

async fn spawn_app_with_attempts(attempts: i32) -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(|s| s.jobs.max_attempts = attempts).await
}

#[tokio::test]
async fn a_fatal_failure_is_not_retried() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let (collection, job) = app
        .start_collection(project_id, fake_collection(json!({"fail": "fatal"})))
        .await;
    let job = app
        .wait_for_status(job["id"].as_str().unwrap(), "failed")
        .await;
    assert_eq!(job["attempts"], 1);
    assert_eq!(
        job["last_error"],
        json!({"code": "fake_failure", "message": "fake provider failed on purpose"})
    );
    let collection = app
        .get_json(&collection_path(project_id, &collection))
        .await;
    assert_eq!(collection["error"]["code"], "fake_failure");
    assert_eq!(
        app.get_json(&format!("/v1/projects/{project_id}/reels"))
            .await["items"],
        json!([])
    );
}

#[tokio::test]
async fn a_step_that_panics_fails_its_job_and_the_worker_carries_on() {
    // One worker slot: the next job runs only if the panic freed it.
    let app = crate::helpers::spawn_app_with(|s| s.jobs.concurrency = 1).await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let (_, job) = app
        .start_collection(project_id, fake_collection(json!({"fail": "panic"})))
        .await;
    let job = app
        .wait_for_status(job["id"].as_str().unwrap(), "failed")
        .await;
    assert_eq!(job["attempts"], 1);
    assert_eq!(job["last_error"]["code"], "internal", "{job:#}");
    assert!(
        !job["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("on purpose"),
        "the panic's text stays in the log: {job:#}"
    );
    let (_, next) = app
        .start_collection(project_id, fake_collection(json!({})))
        .await;
    app.wait_for_status(next["id"].as_str().unwrap(), "succeeded")
        .await;
}

#[tokio::test]
async fn cancel_stops_a_running_job_promptly_and_retry_runs_it_again() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    // Four stages of 1.5 s: six seconds unless canceled.
    let project_id = project["id"].as_str().unwrap();
    let (collection, job) = app
        .start_collection(project_id, fake_collection(json!({"delay_ms": 1500})))
        .await;
    let job_id = job["id"].as_str().unwrap();
    app.wait_for_status(job_id, "running").await;

    let asked = std::time::Instant::now();
    let response = app
        .post(&format!("/v1/jobs/{job_id}/cancel"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let accepted: serde_json::Value = response.json().await.unwrap();
    assert_eq!(accepted["cancel_requested"], true);
    let canceled = app
        .wait_for_job(job_id, Duration::from_secs(3), |j| {
            j["status"] == "canceled"
        })
        .await;
    let took = asked.elapsed();
    assert!(
        took < Duration::from_millis(1500),
        "stopped mid-stage, not at the end ({took:?})"
    );
    assert_eq!(canceled["last_error"]["code"], "canceled");
    let collection_path = collection_path(project_id, &collection);
    assert_eq!(app.get_json(&collection_path).await["status"], "canceled");

    let (status, body) =
        send_problem(app.post(&format!("/v1/jobs/{job_id}/cancel"), &json!({}))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("job_not_active"))
    );

    let retried = app
        .post(&format!("/v1/jobs/{job_id}/retry"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 202);
    let done = app
        .wait_for_job(job_id, Duration::from_secs(15), |j| {
            j["status"] == "succeeded"
        })
        .await;
    assert_eq!(done["attempts"], 1);
    assert_eq!(app.get_json(&collection_path).await["status"], "succeeded");

    let (status, body) =
        send_problem(app.post(&format!("/v1/jobs/{job_id}/retry"), &json!({}))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("job_not_retryable"))
    );
}

#[tokio::test]
async fn a_queued_job_is_canceled_at_once() {
    // No workers: the job stays queued.
    let settings = crate::helpers::test_settings(&crate::helpers::fresh_database_url());
    let app = crate::helpers::start(settings, false).await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let (collection, job) = app
        .start_collection(project_id, fake_collection(json!({})))
        .await;
    let response = app
        .post(
            &format!("/v1/jobs/{}/cancel", job["id"].as_str().unwrap()),
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    let canceled: serde_json::Value = response.json().await.unwrap();
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(
        app.get_json(&collection_path(project_id, &collection))
            .await["status"],
        "canceled"
    );
}
