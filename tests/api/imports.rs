//! Dataset files past the JSON body limit: streamed to the store, merged in batches with the
//! job's progress, bad lines reported as problems with their line.

use serde_json::{json, Value};

use crate::helpers::{send_problem, spawn_app, spawn_app_with, TestApp};

/// An item as Apify's Instagram Reel scraper exports it (trimmed of empty lists).
fn apify_item(i: usize) -> Value {
    json!({
        "inputUrl": "https://www.instagram.com/coach.anna/reels/",
        "id": format!("{}", 3_264_891_234_567_890_000u64 + i as u64),
        "type": "Video",
        "productType": "clips",
        "shortCode": format!("S{i:06}"),
        "url": format!("https://www.instagram.com/reel/S{i:06}/"),
        "caption": format!("Утро без телефона, день {i} #мотивация #утро{}", i % 7),
        "hashtags": ["мотивация", format!("утро{}", i % 7)],
        "ownerUsername": format!("coach{}", i % 40),
        "ownerId": format!("{}", 1_000_000 + i % 40),
        "videoUrl": format!("https://scontent.cdninstagram.com/o1/v/t16/f2/m86/{i}.mp4?efg=eyJ2ZW5jb2RlX3RhZyI6"),
        "displayUrl": format!("https://scontent.cdninstagram.com/v/t51.29350-15/{i}.jpg"),
        "videoPlayCount": 10_000 + i * 37,
        "videoViewCount": 5_000 + i * 11,
        "likesCount": 400 + i % 300,
        "commentsCount": i % 90,
        "videoDuration": 20.5 + (i % 30) as f64,
        "dimensionsWidth": 1080,
        "dimensionsHeight": 1920,
        "timestamp": format!("2026-11-{:02}T10:00:00.000Z", 1 + i % 28),
        "musicInfo": {"artist_name": "coach", "song_name": "Original audio", "uses_original_audio": true},
    })
}

fn import_request(
    app: &TestApp,
    project_id: &str,
    content_type: &str,
    body: String,
) -> reqwest::RequestBuilder {
    app.client
        .post(app.url(&format!("/v1/projects/{project_id}/collections/import")))
        .bearer_auth(&app.token)
        .header("Content-Type", content_type)
        .body(body)
}

async fn reel_by_code(app: &TestApp, project_id: &str, owner: &str, code: &str) -> Value {
    let mut path = format!("/v1/projects/{project_id}/reels?owner={owner}&limit=100");
    loop {
        let page = app.get_json(&path).await;
        if let Some(reel) = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["external_id"] == code)
        {
            return reel.clone();
        }
        let cursor = page["next_cursor"]
            .as_str()
            .unwrap_or_else(|| panic!("no reel {code}"));
        path = format!("/v1/projects/{project_id}/reels?owner={owner}&limit=100&cursor={cursor}");
    }
}

#[tokio::test]
async fn json_lines_past_the_body_limit_merge_in_batches_and_bad_lines_become_problems() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "big"})).await;
    let project_id = project["id"].as_str().unwrap();
    // 4,500 items (three batches), about 3 MB: three times the JSON body limit.
    let mut lines: Vec<String> = (0..4500).map(|i| apify_item(i).to_string()).collect();
    lines.insert(2300, "{\"shortCode\": \"broken\", ".into()); // line 2301
    lines.insert(
        3000,
        json!({"shortCode": "P1", "type": "Image"}).to_string(),
    ); // line 3001
    lines.insert(
        3500,
        json!({"shortCode": "N1", "caption": "a\u{0}b"}).to_string(),
    ); // line 3501
    let body = lines.join("\n") + "\n";
    assert!(body.len() > 3 * app.settings.server.body_limit_bytes);

    let response = import_request(&app, project_id, "application/x-ndjson", body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let started: Value = response.json().await.unwrap();
    assert_eq!(started["collection"]["parameters"]["item_count"], 4503);
    assert_eq!(started["collection"]["parameters"]["format"], "lines");
    let collection = app.finished_collection(project_id, &started).await;
    assert_eq!(collection["status"], "succeeded", "{collection}");
    assert_eq!(
        collection["counts"],
        json!({"received": 4503, "added": 4500, "merged": 0, "rejected": 3, "preparing": 0, "covers": 0, "covers_failed": 0})
    );
    let problems: Vec<(u64, &str)> = collection["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_u64().unwrap(), p["item"].as_str().unwrap()))
        .collect();
    assert_eq!(
        problems,
        [(2301, "line 2301"), (3001, "P1"), (3501, "line 3501")]
    );
    let reasons: Vec<&str> = collection["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].starts_with("not JSON"), "{reasons:?}");
    assert!(reasons[1].contains("not a video"), "{reasons:?}");
    assert!(reasons[2].contains("caption"), "{reasons:?}");

    // What was stored is what the items said.
    let reel = reel_by_code(&app, project_id, "coach17", "S004017").await;
    let expected = apify_item(4017);
    assert_eq!(reel["metrics"]["plays"], expected["videoPlayCount"]);
    assert_eq!(reel["metrics"]["likes"], expected["likesCount"]);
    assert_eq!(reel["caption"], expected["caption"]);
    assert_eq!(reel["video_url"], expected["videoUrl"]);
    assert_eq!(reel["url"], expected["url"]);
    assert_eq!(reel["hashtags"], json!(["мотивация", "утро6"]));
    assert_eq!(reel["duration_ms"], 47_500);
    assert_eq!(reel["posted_at"], "2026-11-14T10:00:00Z");

    // The job told how far it got while it merged.
    let stages: Vec<String> = sqlx::query_scalar(
        "SELECT data->>'stage' FROM events WHERE kind = 'job.progress' AND resource_id = $1 ORDER BY id",
    )
    .bind(uuid::Uuid::parse_str(collection["id"].as_str().unwrap()).unwrap())
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(
        stages
            .first()
            .is_some_and(|s| s.starts_with("2000 of 4503 items read, 2000 merged")),
        "{stages:?}"
    );
}

#[tokio::test]
async fn a_json_array_import_merges_into_what_is_there() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "array"})).await;
    let project_id = project["id"].as_str().unwrap();
    let first: Vec<Value> = (0..2500).map(apify_item).collect();
    let response = import_request(
        &app,
        project_id,
        "application/json",
        serde_json::to_string_pretty(&first).unwrap(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 202);
    let started: Value = response.json().await.unwrap();
    let collection = app.finished_collection(project_id, &started).await;
    assert_eq!(collection["counts"]["added"], 2500, "{collection}");

    // Again, later: the same reels with more plays, and one new; one item is not an object.
    let mut again: Vec<Value> = (2000..2501).map(apify_item).collect();
    again[0]["videoPlayCount"] = json!(9_999_999);
    again.push(json!("not an object"));
    let body = format!(
        "[\n{}\n]",
        again
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(",\n")
    );
    let response = import_request(&app, project_id, "application/json", body)
        .send()
        .await
        .unwrap();
    let started: Value = response.json().await.unwrap();
    let collection = app.finished_collection(project_id, &started).await;
    assert_eq!(
        collection["counts"],
        json!({"received": 502, "added": 1, "merged": 500, "rejected": 1, "preparing": 0, "covers": 0, "covers_failed": 0})
    );
    assert_eq!(collection["problems"][0]["line"], 503, "{collection}");
    let reel = reel_by_code(&app, project_id, "coach0", "S002000").await;
    assert_eq!(reel["metrics"]["plays"], 9_999_999);
}

#[tokio::test]
async fn an_import_over_its_limits_or_not_a_dataset_is_refused_and_keeps_nothing() {
    let app = spawn_app_with(|s| {
        s.collect.max_import_bytes = 64 * 1024;
        s.collect.max_import_items = 40;
    })
    .await;
    let project = app.create_project(json!({"name": "limits"})).await;
    let project_id = project["id"].as_str().unwrap();
    let lines = |count: usize| {
        (0..count)
            .map(|i| apify_item(i).to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };

    let big: Vec<String> = (0..30)
        .map(|i| {
            let mut item = apify_item(i);
            item["alt"] = json!("x".repeat(3000));
            item.to_string()
        })
        .collect();
    let (status, body) = send_problem(import_request(
        &app,
        project_id,
        "application/x-ndjson",
        big.join("\n"),
    ))
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large")),
        "{body}"
    );
    let (status, body) = send_problem(import_request(
        &app,
        project_id,
        "application/x-ndjson",
        lines(41),
    ))
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("validation_failed")),
        "{body}"
    );
    let (status, body) = send_problem(import_request(
        &app,
        project_id,
        "application/json",
        "\n\n{\"items\": []}".into(),
    ))
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_json")),
        "{body}"
    );
    assert!(
        body["detail"].as_str().unwrap().starts_with("line 3"),
        "{body}"
    );
    let (status, _) = send_problem(import_request(
        &app,
        project_id,
        "application/json",
        "[{\"a\": 1}".into(),
    ))
    .await;
    assert_eq!(status, 400);

    let collections = app
        .get_json(&format!("/v1/projects/{project_id}/collections"))
        .await;
    assert_eq!(collections["items"], json!([]));
    let imports = std::path::Path::new(&app.settings.media.root)
        .join(format!("projects/{project_id}/imports"));
    assert!(
        std::fs::read_dir(&imports).map_or(true, |mut d| d.next().is_none()),
        "no spooled file is left"
    );
}
