//! Pipeline runs: one call takes reels through steps 3-6, reuses unchanged outputs, re-runs from
//! a step, keeps going when one reel fails, and survives a restart.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{send_problem, spawn_app, spawn_app_with, start_run, wait_for_run, TestApp};

async fn job_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn steps(run: &Value) -> Vec<(String, bool, String)> {
    run["reels"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_owned(),
                s["reused"].as_bool().unwrap(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_run_takes_a_reel_through_every_step_and_reuses_what_is_unchanged() {
    let app = spawn_app().await;
    let project = app
        .create_project(json!({"name": "runs", "language": "ru"}))
        .await;
    let project_id = project["id"].as_str().unwrap();
    let reels = app.collect_fake_reels(project_id, 2).await;
    let reel_id = reels[0]["id"].as_str().unwrap();

    let started = start_run(&app, project_id, json!({"reel_id": reel_id})).await;
    assert_eq!(started["status"], "queued");
    assert_eq!(started["reels"][0]["reel_id"], reel_id);
    let run = wait_for_run(&app, started["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(run["progress"], 100);
    let fresh = |step: &str| (step.to_owned(), false, "succeeded".to_owned());
    assert_eq!(
        steps(&run),
        vec![
            fresh("transcript"),
            fresh("script"),
            fresh("audio"),
            fresh("video")
        ]
    );
    let video_id = run["reels"][0]["steps"][3]["resource_id"].as_str().unwrap();
    let video = app.get_json(&format!("/v1/videos/{video_id}")).await;
    assert_eq!(
        video["output"]["lineage"]["reel_id"], reel_id,
        "the steps chain back to the reel"
    );
    assert_eq!(
        app.get_json(&format!("/v1/reels/{reel_id}")).await["selected"],
        true
    );

    // The same request again pays for nothing.
    let jobs_before = job_count(&app).await;
    let again = wait_for_run(
        &app,
        start_run(&app, project_id, json!({"reel_id": reel_id})).await["id"]
            .as_str()
            .unwrap(),
    )
    .await;
    let reused = |step: &str| (step.to_owned(), true, "succeeded".to_owned());
    assert_eq!(
        steps(&again),
        vec![
            reused("transcript"),
            reused("script"),
            reused("audio"),
            reused("video")
        ]
    );
    assert_eq!(
        job_count(&app).await,
        jobs_before,
        "no step was started again"
    );

    // From the voice on: the transcript and script are reused, voice and render are new.
    let redo = wait_for_run(
        &app,
        start_run(
            &app,
            project_id,
            json!({"reel_id": reel_id, "from_step": "voice"}),
        )
        .await["id"]
            .as_str()
            .unwrap(),
    )
    .await;
    assert_eq!(
        steps(&redo),
        vec![
            reused("transcript"),
            reused("script"),
            fresh("audio"),
            fresh("video")
        ]
    );
    // A changed option is a new input: that step and the ones after it run again.
    let changed = wait_for_run(
        &app,
        start_run(
            &app,
            project_id,
            json!({"reel_id": reel_id, "options": {"rewrite": {"delay_ms": 1}}}),
        )
        .await["id"]
            .as_str()
            .unwrap(),
    )
    .await;
    assert_eq!(
        steps(&changed),
        vec![
            reused("transcript"),
            fresh("script"),
            fresh("audio"),
            fresh("video")
        ]
    );

    let listed = app
        .get_json(&format!("/v1/projects/{project_id}/runs"))
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 4);
    assert_eq!(listed["items"][0]["id"], changed["id"], "newest first");
}

#[tokio::test]
async fn one_failing_reel_does_not_stop_the_others() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "batch"})).await;
    let project_id = project["id"].as_str().unwrap();
    let good = app.collect_fake_reels(project_id, 1).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An imported reel whose video sits on a private address: the download guard refuses it.
    let (_, job) = app
        .start_collection(project_id, json!({"source": "import", "items": [{
            "shortCode": "Private1", "type": "Video", "videoUrl": "http://10.1.2.3/private.mp4", "videoPlayCount": 10
        }]}))
        .await;
    app.wait_for_status(job["id"].as_str().unwrap(), "succeeded")
        .await;
    let reels = app
        .get_json(&format!("/v1/projects/{project_id}/reels?limit=10"))
        .await;
    let bad = reels["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["external_id"] == "Private1")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let started = start_run(&app, project_id, json!({"reel_ids": [bad, good]})).await;
    let run = wait_for_run(&app, started["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "failed", "{run:#}");
    assert_eq!(run["progress"], 100);
    assert_eq!(run["reels"][0]["status"], "failed");
    assert_eq!(run["reels"][0]["error"]["code"], "reel_not_prepared");
    assert_eq!(
        run["reels"][1]["status"], "succeeded",
        "the good reel went on: {run:#}"
    );
    assert_eq!(run["reels"][1]["steps"].as_array().unwrap().len(), 4);

    // A step that fails stops its reel with the step's error.
    let failing = start_run(
        &app,
        project_id,
        json!({"reel_id": good, "from_step": "voice", "options": {"voice": {"fail": "fatal"}}}),
    )
    .await;
    let run = wait_for_run(&app, failing["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "failed");
    assert_eq!(run["reels"][0]["error"]["code"], "fake_failure", "{run:#}");
    assert_eq!(
        run["reels"][0]["steps"].as_array().unwrap().len(),
        3,
        "render never started"
    );
}

#[tokio::test]
async fn a_run_survives_a_restart() {
    let first = spawn_app().await;
    let project = first.create_project(json!({"name": "restart"})).await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    first.collect_fake_reels(&project_id, 1).await;
    // Every worker replica goes away; an API-only replica accepts the run, which waits.
    let api_only = first.second_instance(false).await;
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let run = start_run(&api_only, &project_id, json!({"top": 1})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        api_only
            .get_json(&format!("/v1/runs/{}", run["id"].as_str().unwrap()))
            .await["status"],
        "queued"
    );

    // A worker replica comes up and finishes it.
    let worker = api_only.second_instance(true).await;
    let finished = wait_for_run(&worker, run["id"].as_str().unwrap()).await;
    assert_eq!(finished["status"], "succeeded", "{finished:#}");
}

#[tokio::test]
async fn run_requests_are_checked() {
    let app = spawn_app_with(|_| {}).await;
    let project = app.create_project(json!({"name": "checks"})).await;
    let project_id = project["id"].as_str().unwrap();
    let path = format!("/v1/projects/{project_id}/runs");
    let (status, body) = send_problem(app.post(&path, &json!({"top": 1}))).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("no_reels")));
    let reel_id = app.collect_fake_reels(project_id, 1).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (body, status, code) in [
        (json!({}), 422, "validation_failed"),
        (
            json!({"reel_id": reel_id, "top": 1}),
            422,
            "validation_failed",
        ),
        (json!({"top": 0}), 422, "validation_failed"),
        (
            json!({"reel_ids": [reel_id, reel_id]}),
            422,
            "validation_failed",
        ),
        (
            json!({"reel_id": reel_id, "providers": {"voice": "nope"}}),
            422,
            "unknown_provider",
        ),
        (
            json!({"reel_id": reel_id, "options": {"paint": {}}}),
            422,
            "invalid_body",
        ),
        (json!({"reel_id": uuid::Uuid::new_v4()}), 404, "not_found"),
    ] {
        let (got, problem) = send_problem(app.post(&path, &body)).await;
        assert_eq!(
            (got, problem["code"].as_str()),
            (status, Some(code)),
            "{body}: {problem}"
        );
    }
    let (status, _) = send_problem(app.get(&format!("/v1/runs/{}", uuid::Uuid::new_v4()))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn concurrent_runs_on_one_unprepared_reel_share_one_preparation() {
    let first = spawn_app().await;
    let project = first.create_project(json!({"name": "one prepare"})).await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let reels = first.collect_fake_reels(&project_id, 1).await;
    let reel_id = reels[0]["id"].as_str().unwrap().to_owned();
    // No worker takes the preparation while the runs start, so all four find the reel
    // unprepared, as four runs do on a slow source.
    let api_only = first.second_instance(false).await;
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let path = format!("/v1/projects/{project_id}/runs");
    let body = json!({"reel_id": reel_id});
    let starts = (0..4).map(|_| api_only.post(&path, &body).send());
    let mut runs = Vec::new();
    for response in futures::future::join_all(starts).await {
        let response = response.unwrap();
        assert_eq!(response.status(), 202);
        let run: Value = response.json().await.unwrap();
        runs.push(run["id"].as_str().unwrap().to_owned());
    }
    let prepares = || async {
        sqlx::query_scalar::<_, uuid::Uuid>("SELECT id FROM jobs WHERE kind = 'prepare_reel'")
            .fetch_all(&api_only.pool)
            .await
            .unwrap()
    };
    let prepare = prepares().await;
    assert_eq!(prepare.len(), 1, "one reel, one preparation");
    let listed = api_only.get_json("/v1/jobs?kind=prepare_reel").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let reel = api_only.get_json(&format!("/v1/reels/{reel_id}")).await;
    assert_eq!(reel["job_id"], prepare[0].to_string());

    // Every run goes on with the reel that one job prepared.
    let worker = api_only.second_instance(true).await;
    for run in &runs {
        let finished = wait_for_run(&worker, run).await;
        assert_eq!(finished["status"], "succeeded", "{finished:#}");
    }
    assert_eq!(prepares().await, prepare);
}
