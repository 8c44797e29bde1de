//! Collecting reels: import normalisation and problems, merging with metric history, ranking
//! and filters, selection, and the Apify source end to end through the API.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::{
    apify::{mount_run, run_starts, HASHTAG_SCRAPER},
    helpers::{problem, send_problem, spawn_app, spawn_app_with, TestApp},
};

fn item(code: &str, owner: &str, plays: i64, hours_ago: i64) -> Value {
    json!({
        "shortCode": code, "type": "Video", "ownerUsername": owner,
        "videoUrl": format!("https://scontent.cdninstagram.com/v/{code}.mp4"),
        "videoPlayCount": plays, "likesCount": plays / 20, "commentsCount": plays / 200,
        "videoDuration": 30.5, "caption": format!("Утренний ритуал #мотивация {code}"),
        "timestamp": (chrono::Utc::now() - chrono::Duration::hours(hours_ago)).to_rfc3339(),
    })
}

async fn import(app: &TestApp, project_id: &str, items: Vec<Value>) -> Value {
    let (collection, job) = app
        .start_collection(project_id, json!({"source": "import", "items": items}))
        .await;
    app.wait_for_status(job["id"].as_str().unwrap(), "succeeded")
        .await;
    app.get_json(&format!(
        "/v1/projects/{project_id}/collections/{}",
        collection["id"].as_str().unwrap()
    ))
    .await
}

async fn ranked(app: &TestApp, project_id: &str, query: &str) -> Vec<String> {
    let page = app
        .get_json(&format!("/v1/projects/{project_id}/reels?{query}"))
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["external_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_import_keeps_good_items_and_reports_the_rest() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let items = vec![
        item("GOOD1", "anna", 10_000, 5),
        json!({"shortCode": "PHOTO", "type": "Image", "displayUrl": "https://x/y.jpg"}),
        json!({"shortCode": "NOVIDEO", "type": "Video"}),
        json!(42),
        item("GOOD2", "anna", 20_000, 10),
        item("GOOD1", "anna", 12_000, 5),
    ];
    let collection = import(&app, project_id, items).await;
    assert_eq!(collection["source"], "import");
    assert_eq!(
        collection["parameters"],
        json!({"source": "import", "item_count": 6, "prepare_all": false}),
        "items are not echoed"
    );
    assert_eq!(
        collection["counts"],
        json!({"received": 6, "added": 2, "merged": 1, "rejected": 3, "preparing": 0, "covers": 0, "covers_failed": 0})
    );
    assert_eq!(
        collection["problems"],
        json!([
            {"item": "PHOTO", "reason": "not a video (type Image)"},
            {"item": "NOVIDEO", "reason": "no video URL"},
            {"item": "#3", "reason": "not a JSON object"},
        ])
    );
    let reels = app
        .get_json(&format!("/v1/projects/{project_id}/reels?sort=plays"))
        .await;
    let first = &reels["items"][0];
    assert_eq!(first["external_id"], "GOOD2");
    assert_eq!(first["status"], "pending");
    assert_eq!(first["hashtags"], json!(["мотивация"]));
    assert_eq!(first["caption_language"], "ru");
    assert_eq!(first["duration_ms"], 30_500);
    assert_eq!(
        reels["items"][1]["metrics"]["plays"], 12_000,
        "the later duplicate wins"
    );
}

#[tokio::test]
async fn a_second_observation_merges_and_gives_recent_velocity() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    import(&app, project_id, vec![item("R1", "anna", 1_000, 10)]).await;
    // Backdate the first observation by two hours: 1,000 → 3,000 plays is 1,000 plays/hour.
    sqlx::query("UPDATE reel_snapshots SET observed_at = observed_at - interval '2 hours'")
        .execute(&app.pool)
        .await
        .unwrap();
    let mut again = item("R1", "anna", 3_000, 10);
    again["likesCount"] = json!(-1);
    let collection = import(&app, project_id, vec![again]).await;
    assert_eq!(
        collection["counts"],
        json!({"received": 1, "added": 0, "merged": 1, "rejected": 0, "preparing": 0, "covers": 0, "covers_failed": 0})
    );

    let reels = app
        .get_json(&format!("/v1/projects/{project_id}/reels"))
        .await;
    assert_eq!(
        reels["items"].as_array().unwrap().len(),
        1,
        "merged, never duplicated"
    );
    let metrics = &reels["items"][0]["metrics"];
    assert_eq!(metrics["plays"], 3_000);
    assert_eq!(metrics["likes"], json!(null), "hidden now");
    let recent = metrics["recent_velocity"].as_f64().unwrap();
    assert!((recent - 1_000.0).abs() < 5.0, "{recent}");
    let lifetime = metrics["velocity"].as_f64().unwrap();
    assert!(
        (lifetime - 300.0).abs() < 5.0,
        "3,000 plays over 10 hours: {lifetime}"
    );
    let snapshots: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reel_snapshots")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(snapshots, 2);
}

#[tokio::test]
async fn reels_rank_by_every_metric_and_filter() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let mut items = vec![
        item("A1", "anna", 1_001, 100),
        item("A2", "anna", 1_000, 100),
        item("A3", "anna", 999, 100),
        item("A4", "anna", 50_000, 100),
        item("B1", "bob", 200_000, 1000),
        item("B2", "bob", 5_000, 2),
    ];
    items[5]["caption"] = json!("Morning routine #discipline");
    items[5]["hashtags"] = json!(["Discipline"]);
    items[5]["videoDuration"] = json!(12);
    import(&app, project_id, items).await;

    assert_eq!(
        ranked(&app, project_id, "sort=plays").await,
        ["B1", "A4", "B2", "A1", "A2", "A3"]
    );
    // 5,000 in 2 h, then 50,000 in 100 h, then 200,000 in 1,000 h.
    assert_eq!(
        ranked(&app, project_id, "sort=velocity").await[..3],
        ["B2", "A4", "B1"]
    );
    // anna's median is 1,000.5 (4 reels): A4 is a 50x outlier; bob has only 2 reels, so no score.
    let page = app
        .get_json(&format!(
            "/v1/projects/{project_id}/reels?sort=outlier_score"
        ))
        .await;
    assert_eq!(page["items"][0]["external_id"], "A4");
    let outlier = page["items"][0]["metrics"]["outlier_score"]
        .as_f64()
        .unwrap();
    assert!((outlier - 50_000.0 / 1_000.5).abs() < 1e-9, "{outlier}");
    let bob = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["external_id"] == "B1")
        .unwrap();
    assert_eq!(bob["metrics"]["outlier_score"], json!(null));
    let trend = ranked(&app, project_id, "").await;
    assert_eq!(trend[0], "A4", "default order is trend_score: {trend:?}");

    assert_eq!(
        ranked(&app, project_id, "sort=plays&min_plays=5000").await,
        ["B1", "A4", "B2"]
    );
    assert_eq!(
        ranked(&app, project_id, "sort=plays&owner=@Bob").await,
        ["B1", "B2"]
    );
    assert_eq!(
        ranked(&app, project_id, "hashtag=%23discipline").await,
        ["B2"]
    );
    assert_eq!(ranked(&app, project_id, "language=en").await, ["B2"]);
    assert_eq!(ranked(&app, project_id, "max_duration=15").await, ["B2"]);
    let recent = (chrono::Utc::now() - chrono::Duration::hours(3))
        .to_rfc3339()
        .replace('+', "%2B");
    assert_eq!(
        ranked(&app, project_id, &format!("posted_after={recent}")).await,
        ["B2"]
    );

    // Pages of two, in order, without overlap.
    let mut seen = Vec::new();
    let mut query = "sort=plays&limit=2".to_owned();
    loop {
        let page = app
            .get_json(&format!("/v1/projects/{project_id}/reels?{query}"))
            .await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["external_id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("sort=plays&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["B1", "A4", "B2", "A1", "A2", "A3"]);

    for bad in [
        "sort=random",
        "min_plays=-1",
        "cursor=zzz",
        "posted_after=yesterday",
        "limit=500",
    ] {
        let (status, _) =
            send_problem(app.get(&format!("/v1/projects/{project_id}/reels?{bad}"))).await;
        assert_eq!(status, 400, "{bad}");
    }
}

#[tokio::test]
async fn trend_weights_are_per_project() {
    let app = spawn_app().await;
    let project = app
        .create_project(json!({"name": "p", "settings": {"trend_weights": {"plays": 0, "velocity": 0, "engagement": 1, "outlier": 0}}}))
        .await;
    let project_id = project["id"].as_str().unwrap();
    let mut engaging = item("E1", "anna", 1_000, 10);
    engaging["likesCount"] = json!(400);
    import(
        &app,
        project_id,
        vec![item("P1", "anna", 900_000, 10), engaging],
    )
    .await;
    assert_eq!(ranked(&app, project_id, "").await, ["E1", "P1"]);
    let reel = &app
        .get_json(&format!("/v1/projects/{project_id}/reels"))
        .await["items"][0];
    let rate = reel["metrics"]["engagement_rate"].as_f64().unwrap();
    assert!(
        (rate - 0.405).abs() < 1e-9,
        "(400 likes + 5 comments) / 1000 plays: {rate}"
    );
    assert!((reel["metrics"]["trend_score"].as_f64().unwrap() - 40.5).abs() < 1e-6);
}

#[tokio::test]
async fn selecting_prepares_once_and_marks_the_reel() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let reels = app.collect_fake_reels(project_id, 3).await;
    let reel_id = reels[0]["id"].as_str().unwrap();
    let prepared = app.select_reel(project_id, reel_id).await;
    assert_eq!(
        (prepared["status"].as_str(), prepared["selected"].as_bool()),
        (Some("succeeded"), Some(true))
    );
    assert_eq!(prepared["media"]["height"], 1920);

    let again = app
        .post(
            &format!("/v1/projects/{project_id}/reels/{reel_id}/select"),
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        200,
        "already prepared: nothing new to pay for"
    );
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["job"], json!(null));
    assert_eq!(
        ranked(&app, project_id, "selected=true").await,
        [reels[0]["external_id"].as_str().unwrap()]
    );

    let other_project = app.create_project(json!({"name": "q"})).await;
    let wrong = app
        .post(
            &format!(
                "/v1/projects/{}/reels/{reel_id}/select",
                other_project["id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
}

/// An app whose Apify is `apify`, a project collecting with it, and a started hashtag
/// collection: answers the app, the project id, and the collection and job as started.
async fn apify_collection(apify: &MockServer) -> (TestApp, String, Value, Value) {
    let uri = apify.uri();
    let app = spawn_app_with(move |s| {
        s.providers.apify.base_url = uri;
        s.providers.apify.api_key = Some("apify_api_test".to_owned().into());
    })
    .await;
    let project = app
        .create_project(json!({"name": "p", "settings": {"providers": {"collect": "apify"}}}))
        .await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let (collection, job) = app
        .start_collection(
            &project_id,
            json!({"source": "apify", "hashtags": ["#мотивация"], "per_source_limit": 10}),
        )
        .await;
    assert_eq!(collection["provider"], "apify");
    (app, project_id, collection, job)
}

/// Waits for the collection's job to end; answers the job and the collection as stored.
async fn finished(
    app: &TestApp,
    project_id: &str,
    collection: &Value,
    job: &Value,
) -> (Value, Value) {
    let job = app
        .wait_for_job(job["id"].as_str().unwrap(), Duration::from_secs(30), |j| {
            matches!(j["status"].as_str(), Some("succeeded" | "failed"))
        })
        .await;
    let collection = app.collection(project_id, collection).await;
    (job, collection)
}

/// Two reels, with empty rows around them that `clean=true` drops.
fn scraped() -> Vec<Value> {
    vec![
        json!({}),
        item("H1", "anna", 7_000, 3),
        json!({}),
        item("H2", "bob", 9_000, 3),
    ]
}

#[tokio::test]
async fn an_apify_collection_runs_through_the_api() {
    let apify = MockServer::start().await;
    mount_run(
        &apify,
        HASHTAG_SCRAPER,
        &["READY", "RUNNING", "SUCCEEDED"],
        None,
        scraped(),
    )
    .await;
    let (app, project_id, collection, job) = apify_collection(&apify).await;
    let (job, collection) = finished(&app, &project_id, &collection, &job).await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert_eq!(
        collection["counts"],
        json!({"received": 2, "added": 2, "merged": 0, "rejected": 0, "preparing": 0, "covers": 0, "covers_failed": 0}),
        "{collection:#}"
    );
    assert_eq!(ranked(&app, &project_id, "sort=plays").await, ["H2", "H1"]);
    let reel = &app
        .get_json(&format!("/v1/projects/{project_id}/reels"))
        .await["items"][0];
    assert_eq!(reel["provider"], "apify");
    assert_eq!(run_starts(&apify).await, 1);
}

#[tokio::test]
async fn a_failed_apify_run_fails_the_collection_with_its_status() {
    let apify = MockServer::start().await;
    mount_run(
        &apify,
        HASHTAG_SCRAPER,
        &["RUNNING", "TIMED-OUT"],
        Some("The Actor run timed out after 3600 seconds"),
        Vec::new(),
    )
    .await;
    let (app, project_id, collection, job) = apify_collection(&apify).await;
    let (job, collection) = finished(&app, &project_id, &collection, &job).await;
    assert_eq!(job["status"], "failed");
    assert_eq!(collection["status"], "failed", "{collection:#}");
    assert_eq!(collection["error"]["code"], "provider_job_failed");
    let message = collection["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("TIMED-OUT") && message.contains("timed out after 3600 seconds"),
        "{message}"
    );
    assert!(app
        .get_json(&format!("/v1/projects/{project_id}/reels"))
        .await["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_collection_retried_mid_run_polls_the_same_run_and_pays_once() {
    let apify = MockServer::start().await;
    mount_run(
        &apify,
        HASHTAG_SCRAPER,
        &["RUNNING", "SUCCEEDED"],
        None,
        scraped(),
    )
    .await;
    // The first attempt dies on a 502 while polling; the retried job must resume run1.
    Mock::given(method("GET"))
        .and(path("/v2/actor-runs/run1"))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&apify)
        .await;
    let (app, project_id, collection, job) = apify_collection(&apify).await;
    let (job, collection) = finished(&app, &project_id, &collection, &job).await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert_eq!(job["attempts"], 2, "the first attempt failed mid-polling");
    assert_eq!(collection["counts"]["added"], 2, "{collection:#}");
    assert_eq!(run_starts(&apify).await, 1, "never a second run");
}

#[tokio::test]
async fn prepare_all_prepares_every_collected_reel() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let body = json!({"source": "apify", "provider": "fake", "accounts": ["demo"], "per_source_limit": 3, "prepare_all": true});
    let (collection, job) = app.start_collection(project_id, body).await;
    assert_eq!(collection["parameters"]["prepare_all"], true);
    app.wait_for_status(job["id"].as_str().unwrap(), "succeeded")
        .await;
    let collection = app.collection(project_id, &collection).await;
    assert_eq!(collection["counts"]["preparing"], 3);
    let reels = crate::helpers::eventually(
        "every reel prepared",
        Duration::from_secs(15),
        || async {
            app.get_json(&format!("/v1/projects/{project_id}/reels"))
                .await["items"]
                .as_array()
                .unwrap()
                .clone()
        },
        |reels| reels.iter().all(|r| r["status"] == "succeeded") && reels.len() == 3,
    )
    .await;
    assert!(
        reels.iter().all(|r| r["selected"] == false),
        "prepared, not selected"
    );
}

#[tokio::test]
async fn a_dataset_file_imports_as_json_array_or_json_lines() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let path = format!("/v1/projects/{project_id}/collections/import");
    let upload = |content_type: &'static str, body: String| {
        app.client
            .post(app.url(&path))
            .bearer_auth(&app.token)
            .header("Content-Type", content_type)
            .body(body)
    };

    let array = serde_json::to_string(&vec![
        item("F1", "anna", 5_000, 4),
        item("F2", "anna", 6_000, 4),
    ])
    .unwrap();
    let response = upload("application/json", array).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let started: Value = response.json().await.unwrap();
    app.wait_for_status(started["job"]["id"].as_str().unwrap(), "succeeded")
        .await;

    let lines = format!(
        "{}\n\n{}\n",
        item("F3", "bob", 7_000, 4),
        item("F1", "anna", 5_500, 4)
    );
    let response = upload("application/x-ndjson; charset=utf-8", lines)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let started: Value = response.json().await.unwrap();
    let collection = app.finished_collection(project_id, &started).await;
    assert_eq!(
        (
            collection["counts"]["added"].as_u64(),
            collection["counts"]["merged"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        ranked(&app, project_id, "sort=plays").await,
        ["F3", "F2", "F1"]
    );

    // A bad line is the collection's problem, not a failed import.
    let bad_line = format!("{}\n{{not json\n", item("F4", "bob", 1, 1));
    let response = upload("application/x-ndjson", bad_line)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let started: Value = response.json().await.unwrap();
    let collection = app.finished_collection(project_id, &started).await;
    assert_eq!(collection["counts"]["added"], 1, "{collection}");
    assert_eq!(
        (
            &collection["problems"][0]["line"],
            &collection["problems"][0]["item"]
        ),
        (&json!(2), &json!("line 2")),
        "{collection}"
    );
    let (status, _) = send_problem(upload("application/json", "{\"items\": []}".into())).await;
    assert_eq!(status, 400);
    let (status, body) = send_problem(upload("text/csv", "a,b".into())).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (status, body) = send_problem(upload("application/json", "[]".into())).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("validation_failed"))
    );
    assert_eq!(
        ranked(&app, project_id, "").await.len(),
        4,
        "no refused upload changed anything"
    );
}

#[tokio::test]
async fn an_oversized_dataset_file_gets_413() {
    let app = spawn_app_with(|s| s.collect.max_import_bytes = 2048).await;
    let project = app.create_project(json!({"name": "p"})).await;
    let items: Vec<Value> = (0..50)
        .map(|i| item(&format!("X{i}"), "anna", 1, 1))
        .collect();
    let response = app
        .client
        .post(app.url(&format!(
            "/v1/projects/{}/collections/import",
            project["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.token)
        .header("Content-Type", "application/json")
        .body(serde_json::to_string(&items).unwrap())
        .send()
        .await
        .unwrap();
    let (status, body) = problem(response).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large"))
    );
}

/// Many small imports into one busy project at once: each used to recompute every reel of the
/// project in its transaction, in no fixed order, and they deadlocked. Now each touches only its
/// reels and their owners, under one project lock: all succeed on their first attempt, and the
/// scores they leave are those a full recomputation gives.
#[tokio::test]
async fn concurrent_imports_into_a_busy_project_neither_deadlock_nor_fail() {
    let app = spawn_app_with(|s| s.jobs.concurrency = 8).await;
    let project = app.create_project(json!({"name": "busy"})).await;
    let project_id = project["id"].as_str().unwrap();
    let seed: Vec<Value> = (0..1500)
        .map(|i| {
            item(
                &format!("S{i}"),
                &format!("owner{}", i % 30),
                1000 + i * 37 % 5000,
                24,
            )
        })
        .collect();
    import(&app, project_id, seed).await;
    let deadlocks = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    let before = deadlocks().await;

    // Each import merges two known reels of two owners (in both orders across imports) and adds
    // one new reel.
    let imports = (0..24).map(|i| {
        let (a, b) = if i % 2 == 0 {
            (i, 1499 - i)
        } else {
            (1499 - i, i)
        };
        let items = vec![
            item(&format!("S{a}"), &format!("owner{}", a % 30), 90_000 + i, 2),
            item(&format!("S{b}"), &format!("owner{}", b % 30), 80_000 + i, 2),
            item(&format!("N{i}"), &format!("owner{}", i % 30), 70_000 + i, 1),
        ];
        app.start_collection(project_id, json!({"source": "import", "items": items}))
    });
    let started = futures::future::join_all(imports).await;
    for (_, job) in &started {
        let job = app
            .wait_for_job(job["id"].as_str().unwrap(), Duration::from_secs(60), |j| {
                j["status"] == "succeeded" || j["status"] == "failed"
            })
            .await;
        assert_eq!(job["status"], "succeeded", "{job:#}");
        assert_eq!(
            job["attempts"], 1,
            "no attempt was lost to a deadlock: {job:#}"
        );
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(deadlocks().await, before, "PostgreSQL counted deadlocks");

    // Incremental scores equal a recomputation from scratch.
    let outliers: Vec<(String, Option<f64>, Option<f64>)> = sqlx::query_as(
        "WITH owners AS (
             SELECT owner_username, COUNT(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY plays) AS median
             FROM reels WHERE plays IS NOT NULL GROUP BY owner_username)
         SELECT r.external_id, r.outlier_score,
                CASE WHEN o.n >= 3 AND o.median > 0 THEN r.plays / o.median END
         FROM reels r JOIN owners o USING (owner_username)",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(outliers.len(), 1524);
    for (reel, stored, expected) in outliers {
        let close = match (stored, expected) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-9,
            (a, b) => a == b,
        };
        assert!(close, "{reel}: stored {stored:?}, recomputed {expected:?}");
    }
}

/// A real 16×16 JPEG, made by ffmpeg.
pub fn tiny_jpeg() -> Vec<u8> {
    let bytes = crate::media::made_by_ffmpeg(
        "jpg",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=orange:s=16x16",
            "-frames:v",
            "1",
        ],
    );
    assert_eq!(&bytes[..3], [0xFF, 0xD8, 0xFF]);
    bytes
}

#[tokio::test]
async fn a_collected_reels_cover_is_kept_and_served_after_its_link_expires() {
    let cdn = MockServer::start().await;
    let jpeg = tiny_jpeg();
    Mock::given(method("GET"))
        .and(path("/v/cover.jpg"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/jpeg")
                .set_body_bytes(jpeg.clone()),
        )
        // Fetched once, at collection time: the link expires afterwards.
        .expect(1)
        .mount(&cdn)
        .await;
    Mock::given(method("GET"))
        .and(path("/v/expired.jpg"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&cdn)
        .await;
    Mock::given(method("GET"))
        .and(path("/v/page.jpg"))
        // A login page that calls itself an image: told by its first bytes.
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/jpeg")
                .set_body_string("<!DOCTYPE html><p>login</p>"),
        )
        .mount(&cdn)
        .await;
    let app = spawn_app_with(|s| {
        s.media.fetch_allow_hosts = vec!["127.0.0.1".into()];
        s.collect.max_covers = 200;
    })
    .await;
    let project = app.create_project(json!({"name": "covers"})).await;
    let project_id = project["id"].as_str().unwrap();
    let with_cover = |code: &str, cover: &str| {
        let mut item = item(code, "anna", 10_000, 5);
        item["displayUrl"] = json!(format!("{}/v/{cover}", cdn.uri()));
        item
    };
    let collection = import(
        &app,
        project_id,
        vec![
            with_cover("KEPT", "cover.jpg"),
            with_cover("EXPIRED", "expired.jpg"),
            with_cover("PAGE", "page.jpg"),
            item("NONE", "anna", 10_000, 5),
        ],
    )
    .await;
    assert_eq!(collection["status"], "succeeded", "{collection}");
    assert_eq!(collection["counts"]["added"], 4, "{collection}");
    assert_eq!(collection["counts"]["covers"], 1, "{collection}");
    assert_eq!(
        collection["counts"]["covers_failed"], 2,
        "an expired link and a page that is not an image are counted, never fatal: {collection}"
    );

    let reels = app
        .get_json(&format!("/v1/projects/{project_id}/reels?limit=10"))
        .await;
    let reel = |code: &str| {
        reels["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["external_id"] == code)
            .unwrap()
            .clone()
    };
    for code in ["EXPIRED", "PAGE", "NONE"] {
        assert!(reel(code)["cover_content_url"].is_null(), "{code}");
    }
    let kept = reel("KEPT");
    let link = kept["cover_content_url"].as_str().unwrap();
    let id = kept["id"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("/v1/reels/{id}/cover?expires=")),
        "{link}"
    );
    // The signed link opens without a token, with the bytes Instagram served and their type.
    let response = reqwest::get(app.url(link)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.bytes().await.unwrap().to_vec(), jpeg);
    assert_eq!(app.download(&format!("/v1/reels/{id}/cover")).await, jpeg);
    // No cover kept: 404.
    let none = reel("NONE");
    let (status, problem) =
        send_problem(app.get(&format!("/v1/reels/{}/cover", none["id"].as_str().unwrap()))).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));

    // Collected again: the kept cover is not fetched twice (`expect(1)`), the others are tried
    // again with the new links.
    let again = import(&app, project_id, vec![with_cover("KEPT", "cover.jpg")]).await;
    assert_eq!(again["counts"]["covers"], 0, "{again}");
    assert_eq!(
        app.get_json(&format!("/v1/reels/{id}")).await["cover_content_url"]
            .as_str()
            .map(|l| l.split('?').next().unwrap().to_owned()),
        Some(format!("/v1/reels/{id}/cover"))
    );
}
