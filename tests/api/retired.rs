//! A provider whose vendor shut its API down (OpenAI's Assistants, 2026-08-26) is retired: naming
//! it anywhere is a 422 that says why and what to use, nothing offers it, and the migration moves
//! the projects that had it, recording the move in their event stream.

use std::time::Duration;

use reelforge::domain::event::EventPayload;
use secrecy::SecretString;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{
    assert_refused, database_before, send_problem, spawn_app_with, start, test_settings, SseClient,
};

/// A `provider_retired` problem that says why and what to use.
fn assert_retired(status: u16, problem: &Value) {
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("provider_retired")),
        "{problem:#}"
    );
    let detail = problem["detail"].as_str().unwrap();
    for says in [
        "openai_assistant",
        "2026-08-26",
        "`openai`",
        "settings.rewrite.instructions",
    ] {
        assert!(detail.contains(says), "{says}: {detail}");
    }
}

#[tokio::test]
async fn the_assistants_provider_is_refused_everywhere_saying_why_and_what_to_use() {
    let app = spawn_app_with(|s| {
        s.providers.openai.api.api_key = Some(SecretString::from("sk-test"));
        s.providers.openai.api.base_url = "http://127.0.0.1:9".into();
    })
    .await;
    let retired = json!({"providers": {"rewrite": "openai_assistant"}});

    // Project settings, at creation and in a patch; the project keeps what it had.
    let (status, problem) =
        send_problem(app.post("/v1/projects", &json!({"name": "p", "settings": retired}))).await;
    assert_retired(status, &problem);
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .starts_with("settings.providers.rewrite"));
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let (status, problem) = send_problem(app.patch(
        &format!("/v1/projects/{project_id}"),
        &json!({"settings": retired}),
    ))
    .await;
    assert_retired(status, &problem);
    assert_eq!(
        app.get_json(&format!("/v1/projects/{project_id}")).await["settings"]["providers"]
            ["rewrite"],
        "fake"
    );

    // A step and a run.
    let transcript = app.fake_transcript(project_id).await;
    let scripts = format!("/v1/transcripts/{transcript}/scripts");
    let (status, problem) = send_problem(app.post(
        &scripts,
        &json!({"provider": "openai_assistant", "options": {"assistant_id": "asst_1"}}),
    ))
    .await;
    assert_retired(status, &problem);
    let reel = app.get_json(&format!("/v1/transcripts/{transcript}")).await["parent_id"].clone();
    let runs = format!("/v1/projects/{project_id}/runs");
    let (status, problem) = send_problem(app.post(
        &runs,
        &json!({"reel_id": reel, "providers": {"rewrite": "openai_assistant"}}),
    ))
    .await;
    assert_retired(status, &problem);
    // The assistant's id is refused with the same reason, whichever provider is asked.
    assert_refused(
        app.post(
            &runs,
            &json!({"reel_id": reel, "options": {"rewrite": {"assistant_id": "asst_1"}}}),
        ),
        "options.rewrite.assistant_id",
        "settings.rewrite.instructions",
    )
    .await;
    assert_eq!(
        app.get_json(&scripts).await["items"],
        json!([]),
        "nothing was queued"
    );
    assert_eq!(app.get_json(&runs).await["items"], json!([]));

    // A name that never was a provider is still just unknown.
    let (status, problem) =
        send_problem(app.post(&scripts, &json!({"provider": "openai_assistants"}))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("unknown_provider"))
    );

    // Nothing offers it; doctor says why it is gone.
    let providers = app.get_json("/v1/providers").await;
    let rewrite = providers
        .as_array()
        .unwrap()
        .iter()
        .find(|step| step["step"] == "rewrite")
        .unwrap();
    assert_eq!(rewrite["available"], json!(["fake", "openai"]));
    let (doctor, _) = reelforge::doctor::report(&app.settings).await;
    let line = doctor
        .lines()
        .find(|line| line.contains("openai_assistant"))
        .unwrap_or_else(|| panic!("{doctor}"));
    assert!(
        line.contains("retired, use openai") && line.contains("2026-08-26"),
        "{line}"
    );
}

#[tokio::test]
async fn the_migration_moves_projects_off_the_assistants_provider_and_says_so() {
    // The schema as it was before the provider was retired, with a project of each kind.
    let (url, pool) = database_before(15).await;
    let settings = test_settings(&url);
    let stored = |rewrite: &str| {
        let mut value = serde_json::to_value(&settings.defaults.settings).unwrap();
        value["providers"]["rewrite"] = json!(rewrite);
        value
    };
    let (assistant, chat) = (Uuid::new_v4(), Uuid::new_v4());
    for (id, rewrite) in [(assistant, "openai_assistant"), (chat, "fake")] {
        sqlx::query(
            "INSERT INTO projects (id, name, language, settings) VALUES ($1, 'p', 'ru', $2)",
        )
        .bind(id)
        .bind(stored(rewrite))
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    // Starting the new version migrates.
    let app = start(settings, false).await;
    let moved = app.get_json(&format!("/v1/projects/{assistant}")).await;
    assert_eq!(moved["settings"]["providers"]["rewrite"], "openai");
    assert_eq!(
        moved["settings"]["providers"]["transcribe"], "fake",
        "only the retired provider changed"
    );
    let kept = app.get_json(&format!("/v1/projects/{chat}")).await;
    assert_eq!(kept["settings"]["providers"]["rewrite"], "fake");

    // The project's event stream says what changed and why.
    let mut events = SseClient::connect(&app, &format!("?project_id={assistant}"), Some(0)).await;
    let frame = events
        .next(Duration::from_secs(10))
        .await
        .expect("the move was recorded");
    assert_eq!(frame.event, "project.provider_retired");
    let typed: reelforge::domain::event::TypedEvent =
        serde_json::from_value(frame.data.clone()).unwrap();
    assert_eq!(typed.resource_id, Some(assistant));
    let EventPayload::ProjectProviderRetired(retired) = typed.payload else {
        panic!("{:#}", frame.data);
    };
    assert_eq!(
        (
            retired.step.as_str(),
            retired.from.as_str(),
            retired.to.as_str()
        ),
        ("rewrite", "openai_assistant", "openai")
    );
    assert!(
        retired.reason.contains("2026-08-26")
            && retired.reason.contains("settings.rewrite.instructions"),
        "{}",
        retired.reason
    );
    let recorded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE kind = 'project.provider_retired'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(recorded, 1, "one event, for the project that moved");
}
