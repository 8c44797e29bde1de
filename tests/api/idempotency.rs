//! `Idempotency-Key` on the POSTs that start paid work: a retried request never does the work
//! twice, across replicas and under concurrency.

use serde_json::{json, Value};

use crate::helpers::{send_problem, spawn_app, TestApp};

async fn post_with_key(app: &TestApp, path: &str, key: &str, body: &Value) -> (u16, Value, bool) {
    let response = app
        .post(path, body)
        .header("Idempotency-Key", key)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let replayed = response.headers().get("idempotent-replayed").is_some();
    (status, response.json().await.unwrap(), replayed)
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_repeated_post_answers_the_first_response_and_does_nothing_again() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "retries"})).await;
    let project_id = project["id"].as_str().unwrap();
    let reels = app.collect_fake_reels(project_id, 2).await;
    let reel = reels[0]["id"].as_str().unwrap();
    app.select_reel(project_id, reel).await;
    let jobs = count(&app, "jobs").await;

    // Each case with the table that must have gained exactly one row (counted before the next
    // case: the run goes on to make transcripts of its own).
    let cases = [
        (
            "transcripts",
            format!("/v1/reels/{reel}/transcripts"),
            json!({"provider": "fake"}),
        ),
        (
            "runs",
            format!("/v1/projects/{project_id}/runs"),
            json!({"reel_id": reel}),
        ),
        (
            "collections",
            format!("/v1/projects/{project_id}/collections"),
            json!({"source": "apify", "provider": "fake", "accounts": ["demo"], "per_source_limit": 1}),
        ),
    ];
    for (table, path, body) in &cases {
        let before = count(&app, table).await;
        let key = format!("retry-{}", uuid::Uuid::new_v4());
        let (first_status, first, replayed) = post_with_key(&app, path, &key, body).await;
        assert_eq!((first_status, replayed), (202, false), "{path}: {first}");
        let (second_status, second, replayed) = post_with_key(&app, path, &key, body).await;
        assert_eq!((second_status, replayed), (202, true), "{path}");
        assert_eq!(first, second, "{path}: the stored answer, byte for byte");
        // Another body under the same key is refused and starts nothing.
        let mut other = body.clone();
        other["provider"] = json!("fake");
        other["per_source_limit"] = json!(2);
        let (status, problem) =
            send_problem(app.post(path, &other).header("Idempotency-Key", &key)).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("idempotency_key_reused")),
            "{path}"
        );
        assert_eq!(count(&app, table).await, before + 1, "{path}");
    }
    assert!(count(&app, "jobs").await > jobs);

    // A retry of a job with a key retries once.
    let job = app.get_json("/v1/jobs?kind=collect&limit=1").await["items"][0].clone();
    let job_id = job["id"].as_str().unwrap();
    app.wait_for_status(job_id, "succeeded").await;
    sqlx::query("UPDATE jobs SET status = 'failed' WHERE id = $1::uuid")
        .bind(job_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let retry = format!("/v1/jobs/{job_id}/retry");
    let (status, _, _) = post_with_key(&app, &retry, "retry-the-job", &json!({})).await;
    assert_eq!(status, 202);
    app.wait_for_status(job_id, "succeeded").await;
    let (status, _, replayed) = post_with_key(&app, &retry, "retry-the-job", &json!({})).await;
    assert_eq!(
        (status, replayed),
        (202, true),
        "replayed, not a second retry"
    );
    let stored = app.get_json(&format!("/v1/jobs/{job_id}")).await;
    assert_eq!(
        stored["status"], "succeeded",
        "the job was not queued again"
    );
}

#[tokio::test]
async fn concurrent_requests_with_one_key_create_one_thing() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "race"})).await;
    let project_id = project["id"].as_str().unwrap();
    let path = format!("/v1/projects/{project_id}/collections");
    let body = json!({"source": "apify", "provider": "fake", "accounts": ["demo"], "per_source_limit": 1,
                      "options": {"delay_ms": 10}});
    let replica = app.second_instance(false).await;
    let attempts = (0..6).map(|i| {
        let target = if i % 2 == 0 { &app } else { &replica };
        post_with_key(target, &path, "one-key", &body)
    });
    let answers = futures::future::join_all(attempts).await;
    let ids: Vec<&Value> = answers
        .iter()
        .map(|(_, answer, _)| &answer["collection"]["id"])
        .collect();
    for (status, answer, _) in &answers {
        assert_eq!(*status, 202, "{answer}");
    }
    assert!(
        ids.iter().all(|id| *id == ids[0] && id.is_string()),
        "{ids:?}"
    );
    assert_eq!(
        answers.iter().filter(|(_, _, replayed)| !replayed).count(),
        1
    );
    let collections = app
        .get_json(&format!("/v1/projects/{project_id}/collections"))
        .await;
    assert_eq!(collections["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn only_successes_are_kept_and_keys_belong_to_their_token() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "keys"})).await;
    let project_id = project["id"].as_str().unwrap();
    let transcript_id = app.fake_transcript(project_id).await;
    let scripts = format!("/v1/transcripts/{transcript_id}/scripts");
    // A refused request keeps nothing: the same key may be used once the cause is fixed.
    let (status, problem) = send_problem(
        app.post(&scripts, &json!({"provider": "nope"}))
            .header("Idempotency-Key", "fix-and-retry"),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("unknown_provider"))
    );
    let (status, _, replayed) = post_with_key(
        &app,
        &scripts,
        "fix-and-retry",
        &json!({"provider": "nope"}),
    )
    .await;
    assert_eq!(
        (status, replayed),
        (422, false),
        "refusals are not replayed"
    );

    // Another token's identical key is its own.
    let (status, first, _) = post_with_key(&app, &scripts, "shared-key", &json!({})).await;
    assert_eq!(status, 202);
    let other = crate::helpers::new_token(
        &app.pool,
        "other",
        reelforge::domain::workspace::DEFAULT_WORKSPACE,
        reelforge::domain::workspace::Scope::Write,
    )
    .await;
    let response = app
        .client
        .post(app.url(&scripts))
        .bearer_auth(&other)
        .header("Idempotency-Key", "shared-key")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let second: Value = response.json().await.unwrap();
    assert_ne!(first["resource"]["id"], second["resource"]["id"]);

    for (key, code) in [
        ("", "invalid_idempotency_key"),
        (&"k".repeat(256)[..], "invalid_idempotency_key"),
    ] {
        let (status, problem) = send_problem(
            app.post(&scripts, &json!({}))
                .header("Idempotency-Key", key),
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (400, Some(code)),
            "{key:?}"
        );
    }
    let (status, problem) = send_problem(
        app.upload(project_id, "a.mp4", b"x".to_vec())
            .header("Idempotency-Key", "upload"),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("idempotency_unsupported"))
    );
}
