//! The trend radar: watchlists collected on a schedule read from a manual clock (hours pass in
//! milliseconds), alerts once per rule and reel with their events and signed webhooks, automatic
//! runs within the monthly budget, dry-run estimates, and a reel's metric history.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reelforge::clock::ManualClock;
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};

use crate::{
    helpers::{send_problem, spawn_app_with_clock, wait_for_run, wait_for_run_in, TestApp},
    usage::price,
};

/// What the watch tests wait for settles within this.
const SETTLES: Duration = Duration::from_secs(10);

/// [`crate::helpers::eventually`], within [`SETTLES`].
async fn eventually<T: std::fmt::Debug, F, Fut>(what: &str, read: F, done: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    crate::helpers::eventually(what, SETTLES, read, done).await
}

async fn collections_of(app: &TestApp, watchlist_id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM collections WHERE input->>'watchlist_id' = $1")
        .bind(watchlist_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Lets the scheduler look a few more times, for asserting that nothing more happens.
async fn let_the_scheduler_look() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

fn hours(n: i64) -> chrono::Duration {
    chrono::Duration::hours(n)
}

/// Whole seconds, as PostgreSQL keeps microseconds and the clock nanoseconds.
fn start_of_a_second() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap()
}

async fn project(app: &TestApp, settings: Value) -> String {
    app.create_project(json!({"name": "radar", "language": "ru", "settings": settings}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn create_watchlist(app: &TestApp, project_id: &str, body: Value) -> Value {
    let response = app
        .post(&format!("/v1/projects/{project_id}/watchlists"), &body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

fn demo_collection() -> Value {
    json!({"source": "apify", "accounts": ["demo"], "per_source_limit": 5})
}

#[tokio::test]
async fn a_watchlist_collects_once_per_tick_catches_up_once_and_pauses() {
    let t0 = start_of_a_second();
    let clock = ManualClock::new(t0);
    let app = spawn_app_with_clock(std::sync::Arc::new(clock.clone()), |_| {}).await;
    let project_id = project(&app, json!({})).await;
    let watchlist = create_watchlist(
        &app,
        &project_id,
        json!({"name": "demo", "collection": demo_collection(), "schedule": {"every_hours": 6}}),
    )
    .await;
    let id = watchlist["id"].as_str().unwrap().to_owned();
    assert_eq!(watchlist["provider"], "fake");
    assert_eq!(
        watchlist["next_tick_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        t0
    );

    // The first tick is at once, and the scheduler, looking again and again, takes it once.
    eventually(
        "the first collection",
        || collections_of(&app, &id),
        |n| *n == 1,
    )
    .await;
    let_the_scheduler_look().await;
    assert_eq!(collections_of(&app, &id).await, 1);
    let after_first = app.get_json(&format!("/v1/watchlists/{id}")).await;
    assert_eq!(
        after_first["next_tick_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        t0 + hours(6)
    );
    // Each tick is an ordinary collection of the project.
    let listed = app
        .get_json(&format!("/v1/projects/{project_id}/collections"))
        .await;
    assert_eq!(listed["items"][0]["status"], "succeeded", "{listed:#}");
    assert_eq!(
        listed["items"][0]["parameters"]["watchlist_id"],
        id.as_str()
    );

    clock.advance(hours(6));
    eventually("the second tick", || collections_of(&app, &id), |n| *n == 2).await;

    // Down for 30 hours: five ticks were missed, one collection stands for them all, and the
    // schedule keeps its phase.
    clock.advance(hours(30));
    eventually("the catch-up", || collections_of(&app, &id), |n| *n == 3).await;
    let_the_scheduler_look().await;
    assert_eq!(collections_of(&app, &id).await, 3);
    let caught_up = app.get_json(&format!("/v1/watchlists/{id}")).await;
    assert_eq!(
        caught_up["next_tick_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        t0 + hours(42)
    );

    // Paused, nothing is collected however long; resumed, it collects at once.
    let paused = app
        .patch(&format!("/v1/watchlists/{id}"), &json!({"paused": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), 200);
    clock.advance(hours(24));
    let_the_scheduler_look().await;
    assert_eq!(collections_of(&app, &id).await, 3);
    let resumed: Value = app
        .patch(&format!("/v1/watchlists/{id}"), &json!({"paused": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        resumed["next_tick_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        t0 + hours(60)
    );
    eventually(
        "the tick after resuming",
        || collections_of(&app, &id),
        |n| *n == 4,
    )
    .await;

    // Deleted: gone, with no further ticks.
    assert_eq!(
        app.delete(&format!("/v1/watchlists/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        app.get(&format!("/v1/watchlists/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn replicas_share_the_due_ticks_and_never_collect_twice() {
    let t0 = start_of_a_second();
    let clock = ManualClock::new(t0);
    let app = spawn_app_with_clock(std::sync::Arc::new(clock.clone()), |_| {}).await;
    let project_id = project(&app, json!({})).await;
    let mut ids = Vec::new();
    for n in 0..30 {
        // Hourly on the hour: nothing is due at t0, so only the ticks below run.
        let watchlist = create_watchlist(
            &app,
            &project_id,
            json!({"name": format!("w{n}"), "collection": demo_collection(), "schedule": {"cron": "0 * * * *"}}),
        )
        .await;
        ids.push(watchlist["id"].as_str().unwrap().to_owned());
    }
    let due = t0 + hours(1);
    // Four replicas' schedulers look at the same moment (and this app's own keeps looking at t0).
    let ticks: Vec<_> = (0..4)
        .map(|_| {
            let pool = app.pool.clone();
            let jobs = app.settings.jobs.clone();
            tokio::spawn(async move {
                reelforge::watch::scheduler::tick(&pool, &jobs, due)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut started = 0;
    for tick in ticks {
        started += tick.await.unwrap();
    }
    assert_eq!(started, 30, "every due tick was taken, by one replica each");
    let per_watchlist: Vec<(String, i64)> = sqlx::query_as(
        "SELECT watchlist_id::text, count(*) FROM watchlist_ticks GROUP BY watchlist_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(per_watchlist.len(), 30);
    assert!(
        per_watchlist.iter().all(|(_, n)| *n == 1),
        "{per_watchlist:?}"
    );
    for id in &ids {
        assert_eq!(collections_of(&app, id).await, 1);
    }
    // Taken again at the same moment: nothing is due any more.
    assert_eq!(
        reelforge::watch::scheduler::tick(&app.pool, &app.settings.jobs, due)
            .await
            .unwrap(),
        0
    );
}

/// A receiver for the project's webhook; answers 200 to every delivery.
async fn webhook_receiver(app: &TestApp, project_id: &str) -> MockServer {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let response = app
        .put(
            &format!("/v1/projects/{project_id}/webhook"),
            &json!({"url": format!("{}/hook", receiver.uri()), "secret": "whsec_radar_0123456789"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    receiver
}

async fn alert_events(app: &TestApp, project_id: &str) -> Vec<Value> {
    sqlx::query_scalar(
        "SELECT data FROM events WHERE kind = 'alert' AND project_id = $1::uuid ORDER BY id",
    )
    .bind(project_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn rules_raise_each_alert_once_with_its_event_and_signed_webhook() {
    let clock = ManualClock::new(start_of_a_second());
    let app = spawn_app_with_clock(std::sync::Arc::new(clock.clone()), |s| {
        s.media.fetch_allow_hosts = vec!["127.0.0.1".into()];
    })
    .await;
    let project_id = project(&app, json!({})).await;
    let receiver = webhook_receiver(&app, &project_id).await;
    // The fake scraper's reels of `demo`: plays 1,000 to 5,000 (median 3,000), engagement
    // 5.5%, posted 1 to 5 hours ago.
    let watchlist = create_watchlist(
        &app,
        &project_id,
        json!({
            "name": "demo", "collection": demo_collection(), "schedule": {"every_hours": 1},
            "rules": [
                {"name": "Breakouts", "conditions": {"min_outlier_score": 1.5}},
                {"name": "Fresh and engaging", "conditions": {"min_engagement_rate": 0.05, "posted_within_hours": 3, "language": "en"}},
                {"name": "Nothing", "conditions": {"min_recent_velocity": 1.0}},
            ],
        }),
    )
    .await;
    let id = watchlist["id"].as_str().unwrap().to_owned();
    let rules = watchlist["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3);

    let events = eventually(
        "alerts",
        || alert_events(&app, &project_id),
        |e| e.len() == 3,
    )
    .await;
    let mut matched: Vec<(String, String)> = events
        .iter()
        .map(|event| {
            (
                event["rule_name"].as_str().unwrap().to_owned(),
                event["reel"]["external_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    matched.sort();
    assert_eq!(
        matched,
        [
            ("Breakouts".to_owned(), "demo-4".to_owned()),
            ("Fresh and engaging".to_owned(), "demo-0".to_owned()),
            ("Fresh and engaging".to_owned(), "demo-1".to_owned()),
        ]
    );
    for event in &events {
        assert_eq!(event["watchlist_name"], "demo");
        assert_eq!(event["alert"]["watchlist_id"], id.as_str());
        // Read through the typed event union, as a client would.
        let typed: reelforge::domain::event::EventPayload =
            serde_json::from_value(json!({"kind": "alert", "data": event})).unwrap();
        assert!(matches!(
            typed,
            reelforge::domain::event::EventPayload::Alert(_)
        ));
    }

    // Another tick merges the same reels: no alert twice.
    clock.advance(hours(1));
    eventually("the second tick", || collections_of(&app, &id), |n| *n == 2).await;
    eventually(
        "the second collection to finish",
        || async {
            app.get_json(&format!("/v1/projects/{project_id}/collections?limit=1"))
                .await["items"][0]["status"]
                .clone()
        },
        |status| status == "succeeded",
    )
    .await;
    assert_eq!(alert_events(&app, &project_id).await.len(), 3);

    let alerts = app
        .get_json(&format!(
            "/v1/projects/{project_id}/alerts?watchlist_id={id}"
        ))
        .await;
    assert_eq!(alerts["items"].as_array().unwrap().len(), 3);
    assert_eq!(alerts["items"][0]["auto_run"], false);
    assert!(alerts["items"][0]["metrics"]["plays"].as_i64().is_some());

    // Each alert was delivered to the webhook, signed, once.
    let deliveries = eventually(
        "the deliveries",
        || async { receiver.received_requests().await.unwrap_or_default() },
        |requests| requests.len() == 3,
    )
    .await;
    for delivery in &deliveries {
        assert_eq!(delivery.headers["reelforge-event"], "alert");
        let body: Value = serde_json::from_slice(&delivery.body).unwrap();
        assert_eq!(body["type"], "alert");
        assert_eq!(body["data"]["watchlist_name"], "demo");
        let signature = delivery.headers["reelforge-signature"].to_str().unwrap();
        let (timestamp, _) = signature
            .trim_start_matches("t=")
            .split_once(",v1=")
            .unwrap();
        assert_eq!(
            signature,
            reelforge::jobs::webhook::signature(
                b"whsec_radar_0123456789",
                timestamp.parse().unwrap(),
                &delivery.body
            )
        );
    }
}

/// Fake providers at prices that make a run of one 30-second reel in Russian with scripts of
/// at most 20 words and 10 s of video cost 0.30 + 0.15 + 0.10 = 0.55 USD.
fn priced(settings: &mut reelforge::config::Settings) {
    price(settings, "audio_seconds", 0.01);
    price(settings, "characters", 0.001);
    price(settings, "video_seconds", 0.01);
}

#[tokio::test]
async fn an_estimate_says_the_cost_and_a_run_over_the_budget_is_refused() {
    let app = spawn_app_with_clock(reelforge::clock::system(), priced).await;
    let project_id = project(
        &app,
        json!({"words": {"min": 10, "max": 20}, "target_duration_seconds": 10, "monthly_budget": 0.9}),
    )
    .await;
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
    let quantity = |metric: &str| {
        estimate["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["metric"] == metric)
            .unwrap()["quantity"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(quantity("audio_seconds"), 30.0, "the reel's duration");
    assert_eq!(quantity("characters"), 150.0, "20 words of 7.5 characters");
    assert_eq!(quantity("video_seconds"), 10.0, "the target duration");
    assert!(
        (estimate["total_cost"].as_f64().unwrap() - 0.55).abs() < 1e-9,
        "{estimate:#}"
    );
    assert_eq!(estimate["within_budget"], true);
    assert_eq!(estimate["budget"]["monthly_budget"], 0.9);
    assert_eq!(estimate["budget"]["left"], 0.9);
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM runs")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(queued, 0, "a dry run queues nothing");
    assert_eq!(
        app.get_json(&format!("/v1/reels/{reel_id}")).await["selected"],
        false
    );

    // One run fits; while it is under way its estimate is held, so a second does not.
    let started = crate::helpers::start_run(&app, &project_id, json!({"reel_id": reel_id})).await;
    let (status, problem) =
        send_problem(app.post(&runs, &json!({"reel_id": reels[1]["id"]}))).await;
    assert_eq!(status, 402);
    assert_eq!(problem["code"], "budget_exceeded");
    assert!(
        problem["detail"].as_str().unwrap().contains("0.5500"),
        "{problem:#}"
    );
    let params = &problem["params"];
    assert!(
        params["estimate_usd"].as_f64().unwrap() > params["remaining_usd"].as_f64().unwrap(),
        "{problem:#}"
    );
    let run = wait_for_run(&app, started["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded");

    // The project shows the month: spent, left, and the estimate against what the run cost.
    let project = app.get_json(&format!("/v1/projects/{project_id}")).await;
    let budget = &project["budget"];
    let spent = budget["spent"].as_f64().unwrap();
    assert!(spent > 0.0, "{budget:#}");
    assert_eq!(budget["committed"], 0.0);
    assert!((budget["left"].as_f64().unwrap() - (0.9 - spent)).abs() < 1e-9);
    assert_eq!(budget["estimates"]["runs"], 1);
    assert!((budget["estimates"]["estimated"].as_f64().unwrap() - 0.55).abs() < 1e-9);
    let actual = budget["estimates"]["actual"].as_f64().unwrap();
    assert!((actual - run["usage"]["total_cost"].as_f64().unwrap()).abs() < 1e-9);
    assert!((budget["estimates"]["ratio"].as_f64().unwrap() - actual / 0.55).abs() < 1e-9);

    // A budget can be lifted.
    let lifted = app
        .patch(
            &format!("/v1/projects/{project_id}"),
            &json!({"settings": {"monthly_budget": null}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(lifted.status(), 200);
    let lifted: Value = lifted.json().await.unwrap();
    assert_eq!(lifted["settings"]["monthly_budget"], Value::Null);
    assert_eq!(lifted["settings"]["words"]["max"], 20, "the rest is kept");
}

#[tokio::test]
async fn matching_reels_run_automatically_within_the_budget_and_never_twice() {
    let clock = ManualClock::new(start_of_a_second());
    let app = spawn_app_with_clock(std::sync::Arc::new(clock.clone()), priced).await;
    // Room for one run of 0.55, not two.
    let project_id = project(
        &app,
        json!({"words": {"min": 10, "max": 20}, "target_duration_seconds": 10, "monthly_budget": 0.8}),
    )
    .await;
    let watchlist = create_watchlist(
        &app,
        &project_id,
        json!({
            "name": "auto", "collection": {"source": "apify", "accounts": ["demo"], "per_source_limit": 2},
            "schedule": {"every_hours": 1},
            "rules": [{"name": "all", "auto_run": true}],
        }),
    )
    .await;
    let id = watchlist["id"].as_str().unwrap().to_owned();
    let settled = || async {
        app.get_json(&format!("/v1/projects/{project_id}/alerts"))
            .await["items"]
            .as_array()
            .unwrap()
            .clone()
    };
    let alerts = eventually("both alerts settled", settled, |alerts: &Vec<Value>| {
        alerts.len() == 2
            && alerts
                .iter()
                .all(|a| !a["run_id"].is_null() || !a["run_skipped"].is_null())
    })
    .await;
    let ran: Vec<&Value> = alerts.iter().filter(|a| !a["run_id"].is_null()).collect();
    let skipped: Vec<&Value> = alerts.iter().filter(|a| a["run_id"].is_null()).collect();
    assert_eq!(ran.len(), 1, "{alerts:#?}");
    assert_eq!(skipped[0]["run_skipped"]["code"], "budget_exceeded");
    // The run carries the alert's id: a crash after starting it cannot start another.
    assert_eq!(ran[0]["run_id"], ran[0]["id"]);
    // A new rule's runs stop for a review when the script is flagged (the fake writer's is not
    // about the reel), announced for someone to read it; resumed, the run goes on.
    let run_id = ran[0]["run_id"].as_str().unwrap();
    assert_eq!(watchlist["rules"][0]["review"], "when_flagged");
    assert_eq!(ran[0]["review"], "when_flagged");
    let run = wait_for_run_in(&app, run_id, &["awaiting_review", "succeeded", "failed"]).await;
    assert_eq!(run["input"]["review"], "when_flagged");
    assert_eq!(run["status"], "awaiting_review", "{run:#}");
    let resumed = app
        .post(&format!("/v1/runs/{run_id}/resume"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let run = wait_for_run(&app, run_id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(run["reels"][0]["reel_id"], ran[0]["reel_id"]);

    // Processed reels are hidden on request and never run again: a new rule that would match
    // the run reel raises an alert but starts nothing.
    let unprocessed = app
        .get_json(&format!("/v1/projects/{project_id}/reels?processed=false"))
        .await;
    let unprocessed_ids: Vec<&Value> = unprocessed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert!(!unprocessed_ids.contains(&&ran[0]["reel_id"]));
    assert_eq!(unprocessed_ids.len(), 1);
    let patched = app
        .patch(
            &format!("/v1/watchlists/{id}"),
            &json!({"rules": [{"name": "all", "auto_run": true}, {"name": "again", "auto_run": true, "conditions": {"unprocessed_only": false, "min_duration": 1.0}}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    // Lift the budget so only "processed" can stop the run.
    app.patch(
        &format!("/v1/projects/{project_id}"),
        &json!({"settings": {"monthly_budget": null}}),
    )
    .send()
    .await
    .unwrap();
    clock.advance(hours(1));
    let alerts = eventually(
        "the new rule's alerts settled",
        settled,
        |alerts: &Vec<Value>| {
            alerts.len() == 4
                && alerts
                    .iter()
                    .all(|a| !a["run_id"].is_null() || !a["run_skipped"].is_null())
        },
    )
    .await;
    let again: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["rule_id"] != ran[0]["rule_id"])
        .collect();
    let on_the_run_reel = again
        .iter()
        .find(|a| a["reel_id"] == ran[0]["reel_id"])
        .unwrap();
    assert_eq!(on_the_run_reel["run_skipped"]["code"], "already_processed");
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM runs WHERE reels @> $1")
        .bind(json!([{"reel_id": ran[0]["reel_id"]}]))
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(runs, 1, "the processed reel ran once");
}

#[tokio::test]
async fn a_rule_stored_before_the_review_setting_runs_as_before_and_one_may_always_stop() {
    let clock = ManualClock::new(start_of_a_second());
    let app = spawn_app_with_clock(std::sync::Arc::new(clock.clone()), |_| {}).await;
    let project_id = project(&app, json!({"words": {"min": 10, "max": 20}})).await;
    let watch = |account: &str, rule: Value| {
        json!({
            "name": account, "collection": {"source": "apify", "accounts": [account], "per_source_limit": 1},
            "schedule": {"every_hours": 1}, "paused": true, "rules": [rule],
        })
    };
    let old = create_watchlist(
        &app,
        &project_id,
        watch("demo", json!({"name": "all", "auto_run": true})),
    )
    .await;
    let always = create_watchlist(
        &app,
        &project_id,
        watch(
            "coach.anna",
            json!({"name": "read first", "auto_run": true, "review": "always"}),
        ),
    )
    .await;
    assert_eq!(
        old["rules"][0]["review"], "when_flagged",
        "a new rule's default"
    );
    assert_eq!(always["rules"][0]["review"], "always");
    // The first as a watchlist stored before rules had `review` is kept.
    let old_id = old["id"].as_str().unwrap();
    sqlx::query(
        "UPDATE watchlists SET rules = jsonb_build_array((rules->0) - 'review') WHERE id = $1::uuid",
    )
    .bind(old_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let stored = app.get_json(&format!("/v1/watchlists/{old_id}")).await;
    assert_eq!(stored["rules"][0]["review"], "never", "{stored:#}");

    for watchlist in [&old, &always] {
        let resumed = app
            .patch(
                &format!("/v1/watchlists/{}", watchlist["id"].as_str().unwrap()),
                &json!({"paused": false}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resumed.status(), 200);
    }
    clock.advance(hours(1));
    let alerts = eventually(
        "both watchlists' runs started",
        || async {
            app.get_json(&format!("/v1/projects/{project_id}/alerts"))
                .await["items"]
                .as_array()
                .unwrap()
                .clone()
        },
        |alerts: &Vec<Value>| alerts.len() == 2 && alerts.iter().all(|a| !a["run_id"].is_null()),
    )
    .await;
    for alert in &alerts {
        let run_id = alert["run_id"].as_str().unwrap();
        let run = wait_for_run_in(&app, run_id, &["awaiting_review", "succeeded", "failed"]).await;
        // The stored rule's runs never wait, as before; the other's always does.
        let (review, status) = if alert["watchlist_id"] == old["id"] {
            ("never", "succeeded")
        } else {
            ("always", "awaiting_review")
        };
        assert_eq!(alert["review"], review, "{alert:#}");
        assert_eq!(run["input"]["review"], review);
        assert_eq!(run["status"], status, "{run:#}");
    }
}

#[tokio::test]
async fn a_reels_history_gives_its_velocity_and_acceleration() {
    let app = spawn_app_with_clock(reelforge::clock::system(), |_| {}).await;
    let project_id = project(&app, json!({})).await;
    let import = |plays: i64| json!({"source": "import", "items": [{"shortCode": "RISING", "videoUrl": "https://cdn.invalid/r.mp4", "videoPlayCount": plays, "ownerUsername": "coach"}]});
    let reel_id = || async {
        sqlx::query_scalar::<_, Uuid>("SELECT id FROM reels WHERE external_id = 'RISING'")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    // Three observations an hour apart: 1,000, then 3,000, then 7,000 plays.
    for (plays, hours_ago) in [(1000, 2), (3000, 1), (7000, 0)] {
        let (_, job) = app.start_collection(&project_id, import(plays)).await;
        app.wait_for_status(job["id"].as_str().unwrap(), "succeeded")
            .await;
        if hours_ago > 0 {
            sqlx::query(
                "UPDATE reel_snapshots SET observed_at = observed_at - make_interval(hours => $2)
                 WHERE reel_id = $1 AND observed_at = (SELECT max(observed_at) FROM reel_snapshots WHERE reel_id = $1)",
            )
            .bind(reel_id().await)
            .bind(hours_ago)
            .execute(&app.pool)
            .await
            .unwrap();
        }
    }
    let id = reel_id().await;
    let history = app.get_json(&format!("/v1/reels/{id}/history")).await;
    let observations = history["observations"].as_array().unwrap();
    let plays: Vec<i64> = observations
        .iter()
        .map(|o| o["plays"].as_i64().unwrap())
        .collect();
    assert_eq!(plays, [1000, 3000, 7000]);
    assert!(observations[0]["velocity"].is_null());
    let velocity = |i: usize| observations[i]["velocity"].as_f64().unwrap();
    assert!((velocity(1) - 2000.0).abs() < 5.0, "{history:#}");
    assert!((velocity(2) - 4000.0).abs() < 10.0, "{history:#}");

    let reel = app.get_json(&format!("/v1/reels/{id}")).await;
    let metrics = &reel["metrics"];
    assert!((metrics["recent_velocity"].as_f64().unwrap() - 4000.0).abs() < 10.0);
    // (4,000 - 2,000) plays/h over the hour between the intervals' middles.
    assert!(
        (metrics["acceleration"].as_f64().unwrap() - 2000.0).abs() < 10.0,
        "{metrics:#}"
    );

    let (status, _) = send_problem(app.get(&format!("/v1/reels/{id}/history?limit=0"))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn bad_watchlists_are_refused_naming_the_field() {
    let app = spawn_app_with_clock(reelforge::clock::system(), |_| {}).await;
    let project_id = project(&app, json!({})).await;
    let path = format!("/v1/projects/{project_id}/watchlists");
    let cases = [
        (
            json!({"name": "x", "collection": {"source": "import", "items": [{}]}, "schedule": {"every_hours": 6}}),
            "collection.source",
        ),
        (
            json!({"name": "x", "collection": demo_collection(), "schedule": {"every_hours": 0}}),
            "schedule.every_hours",
        ),
        (
            json!({"name": "x", "collection": demo_collection(), "schedule": {"cron": "*/10 * * * *"}}),
            "schedule.cron",
        ),
        (
            json!({"name": "x", "collection": demo_collection(), "schedule": {"cron": "whenever"}}),
            "schedule.cron",
        ),
        (
            json!({"name": "x", "collection": {"source": "apify"}, "schedule": {"every_hours": 6}}),
            "collection.accounts",
        ),
        (
            json!({"name": "x", "collection": demo_collection(), "schedule": {"every_hours": 6}, "rules": [{"conditions": {"min_outlier_score": -1}}]}),
            "rules[0].conditions.min_outlier_score",
        ),
        (
            json!({"name": "x", "collection": demo_collection(), "schedule": {"every_hours": 6}, "rules": [{"conditions": {"language": "Russian"}}]}),
            "rules[0].conditions.language",
        ),
        (
            json!({"name": "", "collection": demo_collection(), "schedule": {"every_hours": 6}}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let (status, problem) = send_problem(app.post(&path, &body)).await;
        assert_eq!(status, 422, "{body}: {problem:#}");
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem:#}");
    }
    let (status, problem) = send_problem(app.post(
        &path,
        &json!({"name": "x", "collection": demo_collection(), "schedule": {"weekly": true}}),
    ))
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["code"], "invalid_body");
    // An unknown condition is named, not ignored.
    let (status, problem) = send_problem(app.post(
        &path,
        &json!({"name": "x", "collection": demo_collection(), "schedule": {"every_hours": 6},
                "rules": [{"conditions": {"min_outlyer_score": 2}}]}),
    ))
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        problem["errors"][0]["field"],
        "rules[0].conditions.min_outlyer_score"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM watchlists")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_watched_account_is_scraped_and_run_end_to_end_by_the_vendors_clients() {
    use wiremock::matchers::path;

    let apify = MockServer::start().await;
    let openai = MockServer::start().await;
    let cdn = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/reel.mp4"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "video/mp4")
                .set_body_bytes(crate::media::test_clip()),
        )
        .mount(&cdn)
        .await;
    // Apify as documented: an asynchronous run, polled, then its dataset.
    crate::apify::mount_run(
        &apify,
        crate::apify::REEL_SCRAPER,
        &["RUNNING", "SUCCEEDED"],
        None,
        vec![json!({
            "shortCode": "RADAR1", "type": "Video", "ownerUsername": "coach.anna",
            "videoUrl": format!("{}/reel.mp4", cdn.uri()), "videoDuration": 2.0,
            "videoPlayCount": 90_000, "likesCount": 5_000, "commentsCount": 300,
            "caption": "Morning routine that changed everything",
            "timestamp": (Utc::now() - chrono::Duration::hours(3)).to_rfc3339(),
        })],
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/audio/transcriptions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "task": "transcribe", "language": "english", "duration": 2.0,
            "text": "Every morning I wake up early and train. Consistency builds results.",
            "words": [{"word": "Every", "start": 0.0, "end": 0.3}, {"word": "results.", "start": 1.6, "end": 1.9}],
        })))
        .expect(1)
        .mount(&openai)
        .await;
    let script = "Every morning you choose who you become. Start small, keep going, and the results will follow you. Follow and save this video now.";
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": script}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 420, "completion_tokens": 40, "total_tokens": 460}
        })))
        .mount(&openai)
        .await;
    let (apify_uri, openai_uri) = (apify.uri(), openai.uri());
    let clock = ManualClock::new(start_of_a_second());
    let app = spawn_app_with_clock(std::sync::Arc::new(clock), move |s| {
        s.providers.apify.base_url = apify_uri;
        s.providers.apify.api_key = Some("apify_api_test".to_owned().into());
        s.providers.openai.api.base_url = openai_uri;
        s.providers.openai.api.api_key = Some(secrecy::SecretString::from("sk-test"));
        s.media.fetch_allow_hosts = vec!["127.0.0.1".into()];
    })
    .await;
    let project = app
        .create_project(json!({"name": "radar", "language": "en", "settings": {
            "words": {"min": 10, "max": 25}, "target_duration_seconds": 8, "monthly_budget": 0.01,
            "providers": {"collect": "apify", "transcribe": "openai", "rewrite": "openai", "voice": "fake", "render": "fake"},
        }}))
        .await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    create_watchlist(
        &app,
        &project_id,
        json!({"name": "coach", "collection": {"source": "apify", "accounts": ["coach.anna"], "per_source_limit": 5},
               "schedule": {"every_hours": 24}, "rules": [{"name": "everything new", "auto_run": true}]}),
    )
    .await;

    let alert = eventually(
        "the automatic run",
        || async {
            app.get_json(&format!("/v1/projects/{project_id}/alerts"))
                .await["items"][0]
                .clone()
        },
        |alert: &Value| !alert["run_id"].is_null() || !alert["run_skipped"].is_null(),
    )
    .await;
    assert!(alert["run_skipped"].is_null(), "{alert:#}");
    let run = wait_for_run(&app, alert["run_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(crate::apify::run_starts(&apify).await, 1);
    let script_id = run["reels"][0]["steps"][1]["resource_id"].as_str().unwrap();
    let stored = app.get_json(&format!("/v1/scripts/{script_id}")).await;
    assert_eq!(stored["output"]["text"], script);
    assert_eq!(stored["provider"], "openai");

    // The estimate, made before anything was paid, against what the vendors' answers cost.
    let budget = &app.get_json(&format!("/v1/projects/{project_id}")).await["budget"];
    assert_eq!(budget["estimates"]["runs"], 1, "{budget:#}");
    let estimated = budget["estimates"]["estimated"].as_f64().unwrap();
    let actual = budget["estimates"]["actual"].as_f64().unwrap();
    assert!(estimated > 0.0 && actual > 0.0, "{budget:#}");
    // Both are well under a cent; the estimate is within a factor of three of the cost.
    assert!(
        (actual / estimated) > 0.33 && (actual / estimated) < 3.0,
        "{budget:#}"
    );
    assert!(budget["spent"].as_f64().unwrap() >= actual);
    println!("estimate against cost: {}", budget["estimates"]);
}
