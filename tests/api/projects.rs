use serde_json::{json, Value};

use crate::helpers::{send_problem, spawn_app};

#[tokio::test]
async fn create_applies_defaults_and_overrides() {
    let app = spawn_app().await;
    let project = app
        .create_project(json!({"name": "  Утренняя мотивация ", "settings": {"words": {"min": 90, "max": 110}}}))
        .await;
    assert_eq!(project["name"], "Утренняя мотивация");
    assert_eq!(project["language"], "ru");
    assert_eq!(project["settings"]["words"], json!({"min": 90, "max": 110}));
    assert_eq!(project["settings"]["target_duration_seconds"], 40);
    assert_eq!(project["settings"]["style_preset"], "motivating");
    assert_eq!(project["settings"]["providers"]["rewrite"], "fake");

    let fetched = app
        .project_without_usage(project["id"].as_str().unwrap())
        .await;
    assert_eq!(fetched, project);
}

#[tokio::test]
async fn list_pages_newest_first_without_overlap() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.create_project(json!({"name": format!("p{i}")})).await;
    }
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/projects?limit=2&cursor={c}"),
            None => "/v1/projects?limit=2".into(),
        };
        let page = app.get_json(&path).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        names.extend(items.iter().map(|p| p["name"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(names, ["p4", "p3", "p2", "p1", "p0"]);
}

#[tokio::test]
async fn update_merges_settings_and_keeps_the_rest() {
    let app = spawn_app().await;
    let project = app
        .create_project(json!({"name": "p", "language": "en"}))
        .await;
    let id = project["id"].as_str().unwrap();
    let response = app
        .patch(
            &format!("/v1/projects/{id}"),
            &json!({"name": "renamed", "settings": {"target_duration_seconds": 45, "style_preset": "calm"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let updated: serde_json::Value = response.json().await.unwrap();
    assert_eq!(updated["name"], "renamed");
    assert_eq!(updated["language"], "en");
    assert_eq!(updated["settings"]["target_duration_seconds"], 45);
    assert_eq!(updated["settings"]["style_preset"], "calm");
    assert_eq!(updated["settings"]["words"], project["settings"]["words"]);
    assert_eq!(app.project_without_usage(id).await, updated);
}

#[tokio::test]
async fn delete_cascades_to_resources_jobs_and_media() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "doomed"})).await;
    let id = project["id"].as_str().unwrap();
    let ids = app.run_pipeline(id).await;
    let media = app.settings.media.root.join("projects").join(id);
    std::fs::create_dir_all(&media).unwrap();
    std::fs::write(media.join("video.mp4"), b"not really").unwrap();

    let response = app
        .delete(&format!("/v1/projects/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(!media.exists());
    let (status, body) = send_problem(app.get(&format!("/v1/projects/{id}"))).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (404, Some("project not found"))
    );
    assert_eq!(
        app.get(&format!("/v1/videos/{}", ids[4]))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/v1/reels/{}", ids[0]))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let jobs = app.get_json(&format!("/v1/jobs?project_id={id}")).await;
    assert_eq!(jobs["items"], json!([]));
    // Deleting twice is a clean 404.
    assert_eq!(
        app.delete(&format!("/v1/projects/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn auto_providers_prefer_cloud_keys_then_local_engines() {
    let auto = || {
        serde_json::from_value(json!({
            "collect": "auto", "transcribe": "auto", "rewrite": "auto", "voice": "auto", "render": "auto"
        }))
        .unwrap()
    };
    let offline =
        crate::helpers::spawn_app_with(move |s| s.defaults.settings.providers = auto()).await;
    let project = offline.create_project(json!({"name": "offline"})).await;
    assert_eq!(
        project["settings"]["providers"],
        json!({"collect": "fake", "transcribe": "fake", "rewrite": "fake", "voice": "local", "render": "local"}),
        "no keys and no engine: the offline voice and composer, fakes elsewhere"
    );
    let with_engine = crate::helpers::spawn_app_with(move |s| {
        s.defaults.settings.providers = auto();
        s.engines.enabled = Some(true);
        s.engines.manage = false;
    })
    .await;
    let project = with_engine.create_project(json!({"name": "engine"})).await;
    assert_eq!(project["settings"]["providers"]["transcribe"], "local");
    assert_eq!(project["settings"]["providers"]["rewrite"], "local");
    let cloud = crate::helpers::spawn_app_with(move |s| {
        s.defaults.settings.providers = auto();
        s.engines.enabled = Some(true);
        s.engines.manage = false;
        s.providers.openai.api.api_key = Some(secrecy::SecretString::from("sk-test"));
    })
    .await;
    let project = cloud
        .create_project(json!({"name": "cloud", "settings": {"providers": {"voice": "local"}}}))
        .await;
    assert_eq!(
        project["settings"]["providers"],
        json!({"collect": "fake", "transcribe": "openai", "rewrite": "openai", "voice": "local", "render": "local"}),
        "a configured key wins; an explicit choice stays"
    );
}

/// With no keys, no engines and the fakes off (as in production), nothing is invented: the
/// providers list offers only what works, and a step nothing can serve is refused when it is
/// started, saying what to configure.
#[tokio::test]
async fn without_a_usable_provider_a_step_is_refused_with_what_to_configure() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.providers.fake = false;
        s.defaults.settings.providers = serde_json::from_value(json!({
            "collect": "auto", "transcribe": "auto", "rewrite": "auto", "voice": "auto", "render": "auto"
        }))
        .unwrap();
    })
    .await;
    let providers = app.get_json("/v1/providers").await;
    assert!(!providers.to_string().contains("\"fake\""), "{providers:#}");
    let transcribe = providers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["step"] == "transcribe")
        .unwrap();
    assert!(transcribe["preferred"].is_null(), "{transcribe}");
    assert!(transcribe["configure"]
        .as_str()
        .unwrap()
        .contains("scripts/setup"));

    let project = app
        .create_project(json!({"name": "no fakes", "language": "en"}))
        .await;
    let project_id = project["id"].as_str().unwrap();
    assert_eq!(
        project["settings"]["providers"]["transcribe"], "auto",
        "{project:#}"
    );
    assert_eq!(project["settings"]["providers"]["voice"], "local");
    let reel_id = app.upload_clip(project_id, crate::media::test_clip()).await;
    let transcripts = format!("/v1/reels/{reel_id}/transcripts");
    let (status, problem) = send_problem(app.post(&transcripts, &json!({}))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("no_provider")),
        "{problem}"
    );
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("REELFORGE__PROVIDERS__ASSEMBLYAI__API_KEY")
            && detail.contains("scripts/setup"),
        "{detail}"
    );
    let (status, problem) =
        send_problem(app.post(&transcripts, &json!({"provider": "fake"}))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("unknown_provider")),
        "{problem}"
    );
    let (status, problem) = send_problem(app.post(
        &format!("/v1/projects/{project_id}/runs"),
        &json!({"reel_id": reel_id}),
    ))
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("no_provider")),
        "{problem}"
    );
    let (status, problem) = send_problem(app.post(
        &format!("/v1/projects/{project_id}/collections"),
        &json!({"source": "apify", "accounts": ["coach"]}),
    ))
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("no_provider")),
        "{problem}"
    );
    assert_eq!(
        app.get_json(&transcripts).await["items"],
        json!([]),
        "nothing was queued"
    );
    assert_eq!(
        app.get_json(&format!("/v1/projects/{project_id}/runs"))
            .await["items"],
        json!([])
    );
}

#[tokio::test]
async fn a_projects_videos_are_listed_in_one_request_newest_first_and_by_status() {
    let app = spawn_app().await;
    let project = app.create_project(json!({"name": "gallery"})).await;
    let project_id = project["id"].as_str().unwrap();
    let ids = app.run_pipeline(project_id).await;
    let (audio_id, first_video) = (&ids[3], &ids[4]);
    // A second render of the same voiceover that fails, and another project's video.
    let failed = app
        .finished_step(
            &format!("/v1/audio/{audio_id}/videos"),
            json!({"provider": "fake", "options": {"fail": "fatal"}}),
            "videos",
        )
        .await;
    assert_eq!(failed["status"], "failed");
    let other = app.create_project(json!({"name": "other"})).await;
    app.run_pipeline(other["id"].as_str().unwrap()).await;

    let app = &app;
    let list = |query: &str| {
        let path = format!("/v1/projects/{project_id}/videos{query}");
        async move { app.get_json(&path).await }
    };
    let ids_of = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|video| video["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = list("").await;
    let failed_id = failed["id"].as_str().unwrap().to_owned();
    assert_eq!(ids_of(&all), [failed_id.as_str(), first_video.as_str()]);
    // Each item is a `Video`, signed links and all.
    let finished = &all["items"][1];
    assert_eq!(finished["kind"], "video");
    assert_eq!(finished["parent_id"], audio_id.as_str());
    assert!(finished["content_url"]
        .as_str()
        .unwrap()
        .contains("/content?expires="));
    assert_eq!(
        ids_of(&list("?status=succeeded").await),
        [first_video.as_str()]
    );
    assert_eq!(ids_of(&list("?status=failed").await), [failed_id.as_str()]);
    assert!(ids_of(&list("?status=running").await).is_empty());
    // A page at a time.
    let first_page = list("?limit=1").await;
    assert_eq!(ids_of(&first_page), [failed_id.as_str()]);
    let cursor = first_page["next_cursor"].as_str().unwrap();
    assert_eq!(
        ids_of(&list(&format!("?limit=1&cursor={cursor}")).await),
        [first_video.as_str()]
    );
    let (status, problem) =
        send_problem(app.get(&format!("/v1/projects/{project_id}/videos?status=lost"))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("invalid_query"))
    );
    let (status, _) =
        send_problem(app.get(&format!("/v1/projects/{}/videos", uuid::Uuid::new_v4()))).await;
    assert_eq!(status, 404);
}
