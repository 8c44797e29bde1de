//! Pipeline runs: one call takes reels through steps 3-6, reuses unchanged outputs, re-runs from
//! a step, keeps going when one reel fails, and survives a restart.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{
    send_problem, spawn_app, spawn_app_with, start_run, wait_for_run, wait_for_run_in, TestApp,
};

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
            fresh("transcribe"),
            fresh("rewrite"),
            fresh("voice"),
            fresh("render")
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
            reused("transcribe"),
            reused("rewrite"),
            reused("voice"),
            reused("render")
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
            reused("transcribe"),
            reused("rewrite"),
            fresh("voice"),
            fresh("render")
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
            reused("transcribe"),
            fresh("rewrite"),
            fresh("voice"),
            fresh("render")
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
    // The reel's own reason, not only that it could not be prepared.
    assert_eq!(run["reels"][0]["error"]["code"], "url_refused", "{run:#}");
    assert!(run["reels"][0]["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("the reel's media could not be prepared: "));
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
    // Which step failed and whose service it was, typed, for a client to say in its words.
    assert_eq!(
        run["reels"][0]["error"]["params"],
        json!({"step": "voice", "provider": "fake"}),
        "{run:#}"
    );
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
        if code == "unknown_provider" {
            assert_eq!(
                problem["params"],
                json!({"step": "voice", "provider": "nope"}),
                "{problem}"
            );
        }
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

/// The kinds of the events about `run_id`, oldest first.
async fn run_event_kinds(app: &TestApp, run_id: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT kind FROM events WHERE resource_id = $1::uuid ORDER BY id")
        .bind(run_id)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_run_with_review_stops_after_the_script_and_voices_the_edited_text_once_resumed() {
    let app = spawn_app().await;
    let project = app
        .create_project(json!({"name": "review", "language": "ru"}))
        .await;
    let project_id = project["id"].as_str().unwrap();
    let reel_id = app.collect_fake_reels(project_id, 1).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A first run, as before the option: it does not stop, and voices the writer's script.
    let first = start_run(&app, project_id, json!({"reel_id": reel_id})).await;
    assert_eq!(first["input"]["review"], "never");
    let first = wait_for_run(&app, first["id"].as_str().unwrap()).await;
    assert_eq!(first["status"], "succeeded", "{first:#}");
    let script_id = first["reels"][0]["steps"][1]["resource_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let started = start_run(
        &app,
        project_id,
        json!({"reel_id": reel_id, "review": "always"}),
    )
    .await;
    let run_id = started["id"].as_str().unwrap();
    let run = wait_for_run_in(&app, run_id, &["awaiting_review", "succeeded", "failed"]).await;
    assert_eq!(run["status"], "awaiting_review", "{run:#}");
    assert_eq!(run["reels"][0]["status"], "awaiting_review");
    assert_eq!(run["reels"][0]["reviewed"], false);
    assert!(run["finished_at"].is_null());
    assert_eq!(run["progress"], 50, "two of four steps");
    let reused = |step: &str| (step.to_owned(), true, "succeeded".to_owned());
    assert_eq!(steps(&run), vec![reused("transcribe"), reused("rewrite")]);
    assert_eq!(
        run["reels"][0]["steps"][1]["resource_id"],
        script_id.as_str()
    );
    // It stays stopped: nothing is voiced or rendered while it waits.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let still = app.get_json(&format!("/v1/runs/{run_id}")).await;
    assert_eq!(still["status"], "awaiting_review");
    assert_eq!(still["reels"][0]["steps"].as_array().unwrap().len(), 2);
    let audio: i64 = sqlx::query_scalar("SELECT count(*) FROM audio WHERE script_id = $1::uuid")
        .bind(&script_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audio, 1, "only the first run's voice");
    let kinds = run_event_kinds(&app, run_id).await;
    assert_eq!(kinds.first().map(String::as_str), Some("run.queued"));
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("run.awaiting_review"),
        "{kinds:?}"
    );

    // A hand edit, then resume: the edited text is voiced and rendered.
    let edited = "Каждое утро ты выбираешь, кем станешь сегодня. Встань раньше и сделай первый шаг. Подпишись, чтобы не пропустить новые видео!";
    let response = app
        .patch(
            &format!("/v1/scripts/{script_id}"),
            &json!({"text": edited}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let response = app
        .post(&format!("/v1/runs/{run_id}/resume"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let resumed: Value = response.json().await.unwrap();
    assert_eq!(resumed["status"], "running");
    assert_eq!(resumed["reels"][0]["status"], "running");
    assert_eq!(resumed["reels"][0]["reviewed"], true);
    let run = wait_for_run(&app, run_id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let fresh = |step: &str| (step.to_owned(), false, "succeeded".to_owned());
    assert_eq!(
        steps(&run),
        vec![
            reused("transcribe"),
            reused("rewrite"),
            // The first run's voice says the old words: it is not reused.
            fresh("voice"),
            fresh("render")
        ]
    );
    let audio_id = run["reels"][0]["steps"][2]["resource_id"].as_str().unwrap();
    let audio = app.get_json(&format!("/v1/audio/{audio_id}")).await;
    assert_eq!(audio["parent_id"], script_id.as_str(), "{audio:#}");
    let spoken: Vec<&str> = audio["output"]["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|word| word["text"].as_str().unwrap())
        .collect();
    assert_eq!(spoken, edited.split_whitespace().collect::<Vec<_>>());
    let video_id = run["reels"][0]["steps"][3]["resource_id"].as_str().unwrap();
    let video = app.get_json(&format!("/v1/videos/{video_id}")).await;
    assert_eq!(video["parent_id"], audio_id, "{video:#}");
    let kinds = run_event_kinds(&app, run_id).await;
    assert_eq!(kinds.last().map(String::as_str), Some("run.succeeded"));
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| *kind == "run.awaiting_review")
            .count(),
        1,
        "it never stopped again: {kinds:?}"
    );

    // Only a stopped run resumes.
    let (status, problem) =
        send_problem(app.post(&format!("/v1/runs/{run_id}/resume"), &json!({}))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("run_not_awaiting_review"))
    );
    assert!(problem["detail"].as_str().unwrap().contains("succeeded"));
    assert_eq!(problem["params"], json!({"status": "succeeded"}));
}

#[tokio::test]
async fn when_flagged_stops_only_for_a_flagged_script_and_a_running_run_does_not_resume() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "flagged"})).await;
    let project_id = project["id"].as_str().unwrap();
    let reels = app.collect_fake_reels(project_id, 2).await;
    let when_flagged = json!({"reel_id": reels[0]["id"], "review": "when_flagged"});
    // The fake writer's stock sentences are not about the fake reel: the script is flagged.
    let started = start_run(&app, project_id, when_flagged.clone()).await;
    assert_eq!(started["input"]["review"], "when_flagged");
    let run_id = started["id"].as_str().unwrap();
    let run = wait_for_run_in(&app, run_id, &["awaiting_review", "succeeded", "failed"]).await;
    assert_eq!(run["status"], "awaiting_review", "{run:#}");
    assert_eq!(run["reels"][0]["needs_review"], true);
    let script_id = run["reels"][0]["steps"][1]["resource_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let script = app.get_json(&format!("/v1/scripts/{script_id}")).await;
    assert_eq!(script["output"]["needs_review"], true, "{script:#}");
    assert_eq!(
        run["reels"][0]["review_reasons"], script["output"]["review_reasons"],
        "the run repeats the script's reasons"
    );
    let response = app
        .post(&format!("/v1/runs/{run_id}/resume"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let run = wait_for_run(&app, run_id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");

    // A script that needs no review (as one passing every check reads) is voiced at once.
    sqlx::query(
        "UPDATE scripts SET output = output || '{\"needs_review\": false, \"review_reasons\": []}'
         WHERE id = $1::uuid",
    )
    .bind(&script_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let started = start_run(&app, project_id, when_flagged).await;
    let run_id = started["id"].as_str().unwrap();
    let run = wait_for_run_in(&app, run_id, &["awaiting_review", "succeeded", "failed"]).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(run["reels"][0]["steps"].as_array().unwrap().len(), 4);
    assert_eq!(
        run["reels"][0]["steps"][1]["resource_id"],
        script_id.as_str()
    );
    assert_eq!(run["reels"][0]["needs_review"], false);
    assert_eq!(run["reels"][0]["reviewed"], false);
    let kinds = run_event_kinds(&app, run_id).await;
    assert!(
        !kinds.contains(&"run.awaiting_review".to_owned()),
        "{kinds:?}"
    );

    // A run under way is not resumed (its transcript takes a while here).
    let slow = start_run(
        &app,
        project_id,
        json!({"reel_id": reels[1]["id"], "review": "always", "options": {"transcribe": {"delay_ms": 3000}}}),
    )
    .await;
    let slow_id = slow["id"].as_str().unwrap();
    let running = wait_for_run_in(&app, slow_id, &["running"]).await;
    assert_eq!(running["reels"][0]["steps"].as_array().unwrap().len(), 1);
    let (status, problem) =
        send_problem(app.post(&format!("/v1/runs/{slow_id}/resume"), &json!({}))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("run_not_awaiting_review")),
        "{problem:#}"
    );
    assert!(problem["detail"].as_str().unwrap().contains("running"));
    let after = app.get_json(&format!("/v1/runs/{slow_id}")).await;
    assert_eq!(
        after["reels"][0]["reviewed"], false,
        "a refused resume changes nothing"
    );
    let (status, problem) = send_problem(app.post(
        "/v1/runs/00000000-0000-0000-0000-000000000000/resume",
        &json!({}),
    ))
    .await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn a_run_on_reels_whose_media_cannot_be_prepared_says_why_for_each() {
    use wiremock::{matchers::path, Mock, MockServer, ResponseTemplate};
    let cdn = MockServer::start().await;
    Mock::given(path("/expired.mp4"))
        .respond_with(ResponseTemplate::new(410))
        .mount(&cdn)
        .await;
    Mock::given(path("/login.mp4"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>log in</html>", "text/html"))
        .mount(&cdn)
        .await;
    let app = spawn_app_with(|s| s.media.fetch_allow_hosts = vec!["127.0.0.1".into()]).await;
    let project = app.create_project(json!({"name": "unprepared"})).await;
    let project_id = project["id"].as_str().unwrap();
    let items: Vec<Value> = ["expired", "login"]
        .iter()
        .map(|name| json!({"shortCode": name, "type": "Video", "videoUrl": format!("{}/{name}.mp4", cdn.uri()), "videoPlayCount": 10}))
        .collect();
    let (_, job) = app
        .start_collection(project_id, json!({"source": "import", "items": items}))
        .await;
    app.wait_for_status(job["id"].as_str().unwrap(), "succeeded")
        .await;
    let reels = app
        .get_json(&format!("/v1/projects/{project_id}/reels?limit=10"))
        .await;
    let id_of = |code: &str| {
        reels["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["external_id"] == code)
            .unwrap()["id"]
            .clone()
    };

    let started = start_run(
        &app,
        project_id,
        json!({"reel_ids": [id_of("expired"), id_of("login")]}),
    )
    .await;
    let run = wait_for_run(&app, started["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "failed", "{run:#}");
    let errors: Vec<(&str, &str)> = run["reels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|reel| {
            (
                reel["error"]["code"].as_str().unwrap(),
                reel["error"]["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(errors[0].0, "media_url_expired", "{run:#}");
    assert!(errors[0].1.contains("410"), "{}", errors[0].1);
    assert_eq!(errors[1].0, "not_a_video", "{run:#}");
    for (_, message) in &errors {
        assert!(message.starts_with("the reel's media could not be prepared: "));
    }
    // The run says what the reel says.
    let reel = app
        .get_json(&format!("/v1/reels/{}", id_of("expired").as_str().unwrap()))
        .await;
    assert_eq!(reel["error"]["code"], "media_url_expired");
    assert!(errors[0]
        .1
        .ends_with(reel["error"]["message"].as_str().unwrap()));
}

/// Runs stored before their steps were named by the step (migration 0038) read, and replay on
/// the event stream, with the step names a client reads today.
#[tokio::test]
async fn runs_stored_with_resource_names_read_with_step_names_after_the_upgrade() {
    use reelforge::domain::{event::EventPayload, run::Run, step::Step};

    let (url, pool) = crate::helpers::database_before(38).await;
    let settings = crate::helpers::test_settings(&url);
    let (project_id, run_id, reel_id) = (
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
    );
    sqlx::query(
        "INSERT INTO projects (id, name, language, settings, workspace_id)
         SELECT $1, 'p', 'ru', $2, id FROM workspaces WHERE name = 'default'",
    )
    .bind(project_id)
    .bind(serde_json::to_value(&settings.defaults.settings).unwrap())
    .execute(&pool)
    .await
    .unwrap();
    let stored_steps: Vec<Value> = ["transcript", "script", "audio", "video", "post"]
        .into_iter()
        .map(|name| {
            json!({"step": name, "resource_id": uuid::Uuid::new_v4(), "provider": "fake",
                   "reused": false, "status": "succeeded", "duration_ms": 5})
        })
        .collect();
    let reels = json!([{"reel_id": reel_id, "status": "succeeded", "steps": stored_steps,
                        "error": null}]);
    sqlx::query(
        "INSERT INTO runs (id, project_id, status, input, reels) VALUES ($1, $2, 'succeeded', $3, $4)",
    )
    .bind(run_id)
    .bind(project_id)
    .bind(json!({"reel_id": reel_id}))
    .bind(&reels)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO events (project_id, kind, resource_type, resource_id, data, workspace_id)
         SELECT $1, 'run.succeeded', 'run', $2, $3, id FROM workspaces WHERE name = 'default'",
    )
    .bind(project_id)
    .bind(run_id)
    .bind(json!({"id": run_id, "status": "succeeded", "progress": 100, "reels": reels}))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let app = crate::helpers::start(settings, false).await;
    let expected = [
        Step::Transcribe,
        Step::Rewrite,
        Step::Voice,
        Step::Render,
        Step::WritePost,
    ];
    let run: Run =
        serde_json::from_value(app.get_json(&format!("/v1/runs/{run_id}")).await).unwrap();
    let steps: Vec<Step> = run.reels[0].steps.iter().map(|step| step.step).collect();
    assert_eq!(steps, expected);
    assert_eq!(
        run.reels[0].steps[3].resource_id,
        stored_steps[3]["resource_id"]
            .as_str()
            .unwrap()
            .parse::<uuid::Uuid>()
            .unwrap(),
        "only the names changed"
    );

    let mut events =
        crate::helpers::SseClient::connect(&app, &format!("?project_id={project_id}"), Some(0))
            .await;
    let frame = events
        .next(Duration::from_secs(10))
        .await
        .expect("the stored event replays");
    let typed: reelforge::domain::event::TypedEvent = serde_json::from_value(frame.data).unwrap();
    let EventPayload::RunSucceeded(update) = typed.payload else {
        panic!("{:?}", typed.payload);
    };
    let steps: Vec<Step> = update.reels[0].steps.iter().map(|step| step.step).collect();
    assert_eq!(steps, expected);
}

#[tokio::test]
async fn a_run_waiting_for_review_or_under_way_is_canceled_with_its_step() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "cancel"})).await;
    let project_id = project["id"].as_str().unwrap();
    let reels = app.collect_fake_reels(project_id, 2).await;

    // Waiting for a review nobody will give: canceled, and it stays so.
    let started = start_run(
        &app,
        project_id,
        json!({"reel_id": reels[0]["id"], "review": "always"}),
    )
    .await;
    let run_id = started["id"].as_str().unwrap();
    let run = wait_for_run_in(&app, run_id, &["awaiting_review", "succeeded", "failed"]).await;
    assert_eq!(run["status"], "awaiting_review", "{run:#}");
    let response = app
        .post(&format!("/v1/runs/{run_id}/cancel"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let canceled: Value = response.json().await.unwrap();
    assert_eq!(canceled["status"], "canceled", "{canceled:#}");
    assert!(!canceled["finished_at"].is_null());
    assert_eq!(canceled["reels"][0]["status"], "canceled");
    assert_eq!(canceled["reels"][0]["error"]["code"], "canceled");
    assert_eq!(
        steps(&canceled).len(),
        2,
        "the transcript and script it made stay"
    );
    let kinds = run_event_kinds(&app, run_id).await;
    assert_eq!(kinds.last().map(String::as_str), Some("run.canceled"));
    // It neither resumes nor cancels again.
    let (status, problem) =
        send_problem(app.post(&format!("/v1/runs/{run_id}/resume"), &json!({}))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("run_not_awaiting_review"))
    );
    assert_eq!(problem["params"], json!({"status": "canceled"}));
    let (status, problem) =
        send_problem(app.post(&format!("/v1/runs/{run_id}/cancel"), &json!({}))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("run_not_active")),
        "{problem}"
    );
    assert_eq!(problem["params"], json!({"status": "canceled"}));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let still = app.get_json(&format!("/v1/runs/{run_id}")).await;
    assert_eq!(still["status"], "canceled", "the advancer leaves it be");

    // Under way, a slow voice running: the voice's job is canceled with the run.
    let started = start_run(
        &app,
        project_id,
        json!({"reel_id": reels[1]["id"], "options": {"voice": {"delay_ms": 20000}}}),
    )
    .await;
    let run_id = started["id"].as_str().unwrap();
    let running = crate::helpers::eventually(
        "the voice to run",
        Duration::from_secs(30),
        || async { app.get_json(&format!("/v1/runs/{run_id}")).await },
        |run| run["reels"][0]["steps"][2]["status"] == "running",
    )
    .await;
    let audio_id = running["reels"][0]["steps"][2]["resource_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let canceled: Value = app
        .post(&format!("/v1/runs/{run_id}/cancel"), &json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(canceled["status"], "canceled", "{canceled:#}");
    assert_eq!(canceled["reels"][0]["steps"][2]["status"], "canceled");
    let audio = crate::helpers::eventually(
        "the voice to stop",
        Duration::from_secs(15),
        || async { app.get_json(&format!("/v1/audio/{audio_id}")).await },
        |audio| audio["status"] == "canceled",
    )
    .await;
    assert_eq!(audio["error"]["code"], "canceled");
    let run = app.get_json(&format!("/v1/runs/{run_id}")).await;
    assert_eq!(run["status"], "canceled");
    assert_eq!(
        run["reels"][0]["steps"].as_array().unwrap().len(),
        3,
        "no video was started"
    );
}

#[tokio::test]
async fn a_queued_run_is_canceled_and_its_reels_preparation_goes_on() {
    let first = spawn_app().await;
    let project = first.create_project(json!({"name": "queued"})).await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let reel_id = first.collect_fake_reels(&project_id, 1).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Nothing works the queue now: the run waits for its reel's preparation.
    let app = first.second_instance(false).await;
    drop(first);
    let started = start_run(&app, &project_id, json!({"reel_id": reel_id})).await;
    let run_id = started["id"].as_str().unwrap();
    assert_eq!(started["status"], "queued");
    let canceled: Value = app
        .post(&format!("/v1/runs/{run_id}/cancel"), &json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(canceled["status"], "canceled", "{canceled:#}");
    assert_eq!(canceled["reels"][0]["status"], "canceled");
    assert_eq!(steps(&canceled).len(), 0);
    // The preparation is the reel's, not the run's: it is still to be done.
    let reel = app.get_json(&format!("/v1/reels/{reel_id}")).await;
    assert_eq!(reel["status"], "queued", "{reel:#}");
    assert_eq!(reel["selected"], true);
}
