//! Server-sent events: order, per-project filtering, replay across replicas, keep-alives and
//! slow subscribers.

use std::time::Duration;

use futures::StreamExt;
use reelforge::{config::EventSettings, db, domain::event::NewEvent, events::EventBus};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::{spawn_app, SseClient};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_project_stream_delivers_its_status_changes_in_order() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "watched"})).await;
    let other = app.create_project(json!({"name": "ignored"})).await;
    let project_id = project["id"].as_str().unwrap();
    let mut events = SseClient::connect(&app, &format!("?project_id={project_id}"), None).await;

    let fake =
        json!({"source": "apify", "provider": "fake", "accounts": ["demo"], "per_source_limit": 1});
    app.start_collection(other["id"].as_str().unwrap(), fake.clone())
        .await;
    let (collection, _) = app.start_collection(project_id, fake).await;
    let frames = events
        .until(WAIT, |f| f.event == "collection.succeeded")
        .await;

    assert!(frames.windows(2).all(|w| w[0].id < w[1].id), "ids increase");
    assert!(
        frames.iter().all(|f| f.data["project_id"] == project["id"]),
        "only this project"
    );
    let kinds: Vec<&str> = frames
        .iter()
        .map(|f| f.event.as_str())
        .filter(|k| *k != "job.progress")
        .collect();
    assert_eq!(
        kinds,
        [
            "job.queued",
            "collection.queued",
            "job.running",
            "collection.running",
            "job.succeeded",
            "collection.succeeded"
        ]
    );
    let last = frames.last().unwrap();
    assert_eq!(last.data["resource_id"], collection["id"]);
    assert_eq!(last.data["data"]["status"], "succeeded");
    let progress: Vec<i64> = frames
        .iter()
        .filter(|f| f.event == "job.progress")
        .map(|f| f.data["data"]["progress"].as_i64().unwrap())
        .collect();
    assert!(
        !progress.is_empty() && progress.iter().all(|p| (1..=100).contains(p)),
        "{progress:?}"
    );
}

#[tokio::test]
async fn a_reconnect_to_another_replica_replays_exactly_the_missed_events() {
    let app = spawn_app().await;
    let replica = app.second_instance(false).await;
    let project = app.create_project(json!({"name": "p"})).await;
    app.run_pipeline(project["id"].as_str().unwrap()).await;

    let all: Vec<i64> = sqlx::query_scalar("SELECT id FROM events ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert!(all.len() >= 30, "five steps make at least six events each");
    let resume_after = all[7];
    let missed: Vec<i64> = all
        .iter()
        .copied()
        .filter(|id| *id > resume_after)
        .collect();

    let mut resumed = SseClient::connect(&replica, "", Some(resume_after)).await;
    let last = *all.last().unwrap();
    let replayed: Vec<i64> = resumed
        .until(WAIT, |f| f.id == last)
        .await
        .iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(replayed, missed, "every missed event once, in order");

    // Changes made through the first replica keep arriving live on the second one.
    app.collect_fake_reels(project["id"].as_str().unwrap(), 1)
        .await;
    let live = resumed
        .until(WAIT, |f| f.event == "collection.succeeded")
        .await;
    assert_eq!(live[0].id, last + 1, "no gap between replay and live");
    assert!(
        live.windows(2).all(|w| w[1].id == w[0].id + 1),
        "contiguous: {:?}",
        live.iter().map(|f| f.id).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn the_query_parameter_also_resumes_and_the_header_wins() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "p"})).await;
    app.run_pipeline(project["id"].as_str().unwrap()).await;
    let all: Vec<i64> = sqlx::query_scalar("SELECT id FROM events ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();

    let mut by_query = SseClient::connect(&app, &format!("?last_event_id={}", all[2]), None).await;
    assert_eq!(by_query.next(WAIT).await.unwrap().id, all[3]);
    let mut by_header =
        SseClient::connect(&app, &format!("?last_event_id={}", all[2]), Some(all[5])).await;
    assert_eq!(by_header.next(WAIT).await.unwrap().id, all[6]);
}

#[tokio::test]
async fn idle_streams_get_keep_alive_comments_and_a_retry_hint() {
    let app = crate::helpers::spawn_app_with(|s| s.events.keepalive_seconds = 1).await;
    let response = app.get("/v1/events").send().await.unwrap();
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(2500);
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, body.next()).await {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.starts_with("retry: 3000\n\n"), "{text:?}");
    assert!(text.matches(": keep-alive\n\n").count() >= 2, "{text:?}");
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_dropped_not_buffered() {
    let settings = crate::helpers::test_settings(&crate::helpers::fresh_database_url());
    let pool = reelforge::startup::prepare_database(&settings)
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let bus = EventBus::start(
        pool.clone(),
        pool.clone(),
        EventSettings {
            subscriber_buffer: 3,
            poll_interval_ms: 50,
            ..EventSettings::default()
        },
        shutdown.clone(),
    )
    .await
    .unwrap();
    let mut slow = bus.subscribe(None);
    let mut tx = pool.begin().await.unwrap();
    let events: Vec<NewEvent> = (0..10)
        .map(|i| NewEvent {
            kind: "test.event".into(),
            project_id: None,
            resource_type: None,
            resource_id: None,
            data: json!({ "i": i }),
        })
        .collect();
    db::events::append(&mut tx, &events).await.unwrap();
    tx.commit().await.unwrap();

    let mut received = Vec::new();
    while let Ok(Some(frame)) = tokio::time::timeout(WAIT, slow.frames.recv()).await {
        received.push(frame.id);
    }
    assert_eq!(
        received.len(),
        3,
        "the buffer's worth, then the stream ends"
    );
    assert_eq!(bus.subscriber_count(), 0);
    // A fresh subscriber is served normally.
    let mut fresh = bus.subscribe(None);
    let mut tx = pool.begin().await.unwrap();
    db::events::append(&mut tx, &events[..1]).await.unwrap();
    tx.commit().await.unwrap();
    let frame = tokio::time::timeout(WAIT, fresh.frames.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(frame.id, 11);
    shutdown.cancel();
}

/// The document's event union describes what is really sent: every event of a run, a pipeline
/// step by step and a script edit reads as a `TypedEvent`, whose `kind` matches the frame's.
#[tokio::test]
async fn every_event_sent_reads_as_the_documented_union() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "typed"})).await;
    let project_id = project["id"].as_str().unwrap();
    let ids = app.run_pipeline(project_id).await;
    let response = app
        .patch(
            &format!("/v1/scripts/{}", ids[2]),
            &json!({"text": "Делай. Подпишись!"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reels = app
        .get_json(&format!("/v1/projects/{project_id}/reels"))
        .await;
    let run = crate::helpers::start_run(
        &app,
        project_id,
        json!({"reel_id": reels["items"][0]["id"]}),
    )
    .await;
    crate::helpers::wait_for_run(&app, run["id"].as_str().unwrap()).await;

    let mut sse = SseClient::connect(&app, &format!("?project_id={project_id}"), Some(0)).await;
    let frames = sse.until(WAIT, |f| f.event == "run.succeeded").await;
    let mut kinds = std::collections::BTreeSet::new();
    for frame in frames {
        let typed: reelforge::domain::event::TypedEvent =
            serde_json::from_value(frame.data.clone())
                .unwrap_or_else(|error| panic!("{}: {error}: {:#}", frame.event, frame.data));
        let round_trip = serde_json::to_value(&typed).unwrap();
        assert_eq!(round_trip["kind"], frame.event.as_str());
        assert_eq!(round_trip, frame.data, "nothing is lost reading it");
        kinds.insert(frame.event);
    }
    for kind in [
        "job.progress",
        "script.edited",
        "script.succeeded",
        "run.queued",
        "run.succeeded",
        "video.succeeded",
    ] {
        assert!(kinds.contains(kind), "{kind} not seen in {kinds:?}");
    }
}
