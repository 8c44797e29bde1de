//! Step and run options are a contract: each step's options are checked against its provider
//! when the step or run starts, a bad one is a 422 naming the field, and nothing is queued.

use secrecy::SecretString;
use serde_json::{json, Value};

use crate::helpers::{send_problem, spawn_app_with, TestApp};

/// Every cloud provider configured (none is called: every request here is refused first).
async fn every_provider_app() -> TestApp {
    spawn_app_with(|s| {
        let key = || Some(SecretString::from("test-key"));
        let nowhere = "http://127.0.0.1:9".to_owned();
        s.providers.openai.api.api_key = key();
        s.providers.openai.api.base_url = nowhere.clone();
        s.providers.assemblyai.api_key = key();
        s.providers.assemblyai.base_url = nowhere.clone();
        s.providers.elevenlabs.api.api_key = key();
        s.providers.elevenlabs.api.base_url = nowhere.clone();
        s.providers.heygen.api.api_key = key();
        s.providers.heygen.api.base_url = nowhere;
    })
    .await
}

/// The succeeded parents of each step: (reel, transcript, script, audio) ids.
async fn parents(app: &TestApp, project_id: &str) -> [String; 4] {
    let transcript = app.fake_transcript(project_id).await;
    let reel = app.get_json(&format!("/v1/transcripts/{transcript}")).await["parent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let script = app
        .fake_step(&format!("/v1/transcripts/{transcript}/scripts"))
        .await;
    let audio = app.fake_step(&format!("/v1/scripts/{script}/audio")).await;
    [reel, transcript, script, audio]
}

async fn count_items(app: &TestApp, path: &str) -> usize {
    app.get_json(path).await["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn bad_options_of_every_step_and_provider_are_refused_at_the_start_naming_the_field() {
    let app = every_provider_app().await;
    let project = app.create_project(json!({"name": "options"})).await;
    let project_id = project["id"].as_str().unwrap();
    let [reel, transcript, script, audio] = parents(&app, project_id).await;
    let transcripts = format!("/v1/reels/{reel}/transcripts");
    let scripts = format!("/v1/transcripts/{transcript}/scripts");
    let voices = format!("/v1/scripts/{script}/audio");
    let videos = format!("/v1/audio/{audio}/videos");
    let collections = format!("/v1/projects/{project_id}/collections");
    let runs = format!("/v1/projects/{project_id}/runs");
    let listings = [
        transcripts.clone(),
        scripts.clone(),
        voices.clone(),
        videos.clone(),
        collections.clone(),
        runs.clone(),
    ];
    let mut before = Vec::new();
    for listing in &listings {
        before.push(count_items(&app, listing).await);
    }

    let step = |provider: &str, options: Value| json!({"provider": provider, "options": options});
    // (path, body, code, field, what the message says)
    let cases: Vec<(&str, Value, &str, &str, &str)> = vec![
        // transcribe
        (
            &transcripts,
            step("assemblyai", json!({"model": "whisper-1"})),
            "validation_failed",
            "options.model",
            "openai, local",
        ),
        (
            &transcripts,
            step("openai", json!({"speech_models": ["universal-2"]})),
            "validation_failed",
            "options.speech_models",
            "assemblyai",
        ),
        (
            &transcripts,
            step("assemblyai", json!({"speech_models": []})),
            "validation_failed",
            "options.speech_models",
            "at least one",
        ),
        (
            &transcripts,
            step(
                "assemblyai",
                json!({"language": "ru", "speech_models": ["universal-3-pro"]}),
            ),
            "validation_failed",
            "options.speech_models",
            "add universal-2",
        ),
        (
            &transcripts,
            step("openai", json!({"language": "Russian"})),
            "validation_failed",
            "options.language",
            "language code",
        ),
        (
            &transcripts,
            step("openai", json!({"language": 7})),
            "invalid_body",
            "options.language",
            "invalid type",
        ),
        (
            &transcripts,
            step("openai", json!({"lang": "ru"})),
            "invalid_body",
            "options.lang",
            "unknown field",
        ),
        (
            &transcripts,
            step("openai", json!({"fail": "fatal"})),
            "validation_failed",
            "options.fail",
            "fake",
        ),
        // rewrite
        (
            &scripts,
            step("openai", json!({"temperature": 3})),
            "validation_failed",
            "options.temperature",
            "between 0 and 2",
        ),
        (
            &scripts,
            step("openai", json!({"max_tokens": 4})),
            "validation_failed",
            "options.max_tokens",
            "between 16 and 8192",
        ),
        // gone with the Assistants API: refused with the reason and what to use
        (
            &scripts,
            step("openai", json!({"assistant_id": "asst_1"})),
            "validation_failed",
            "options.assistant_id",
            "settings.rewrite.instructions",
        ),
        // a reasoning model takes only its default temperature
        (
            &scripts,
            step("openai", json!({"model": "gpt-5-mini", "temperature": 0.5})),
            "validation_failed",
            "options.temperature",
            "reasoning model",
        ),
        (
            &scripts,
            step("openai", json!({"model": ["gpt"]})),
            "invalid_body",
            "options.model",
            "invalid type",
        ),
        // voice
        (
            &voices,
            step("elevenlabs", json!({"speed": 9})),
            "validation_failed",
            "options.speed",
            "between 0.25 and 4",
        ),
        (
            &voices,
            step("elevenlabs", json!({"tolerance_seconds": -1})),
            "validation_failed",
            "options.tolerance_seconds",
            "between 0 and 30",
        ),
        (
            &voices,
            step("elevenlabs", json!({"format": "mp3"})),
            "validation_failed",
            "options.format",
            "openai",
        ),
        (
            &voices,
            step("elevenlabs", json!({"output_format": "wav"})),
            "validation_failed",
            "options.output_format",
            "codec_samplerate",
        ),
        (
            &voices,
            step("elevenlabs", json!({"voice_settings": {"stability": 2}})),
            "validation_failed",
            "options.voice_settings.stability",
            "between 0 and 1",
        ),
        (
            &voices,
            step("elevenlabs", json!({"voice_settings": {"speed": 1}})),
            "invalid_body",
            "options.voice_settings.speed",
            "unknown field",
        ),
        (
            &voices,
            step("openai", json!({"output_format": "mp3_44100_128"})),
            "validation_failed",
            "options.output_format",
            "elevenlabs",
        ),
        (
            &voices,
            step("openai", json!({"format": "ogg"})),
            "invalid_body",
            "options.format",
            "unknown variant",
        ),
        (
            &voices,
            step("local", json!({"timestamps": false})),
            "validation_failed",
            "options.timestamps",
            "elevenlabs",
        ),
        // render
        (
            &videos,
            step(
                "heygen",
                json!({"subtitles": {"font_size": 80}, "avatar_id": "Daisy"}),
            ),
            "validation_failed",
            "options.subtitles",
            "local",
        ),
        (
            &videos,
            step("heygen", json!({"colour": "red", "avatar_id": "Daisy"})),
            "validation_failed",
            "options.colour",
            "#FFD400",
        ),
        // no avatar configured: each request must name one
        (
            &videos,
            step("heygen", json!({})),
            "validation_failed",
            "options.avatar_id",
            "REELFORGE__PROVIDERS__HEYGEN__AVATAR_ID",
        ),
        (
            &runs,
            json!({"reel_id": reel, "providers": {"render": "heygen"}}),
            "validation_failed",
            "options.render.avatar_id",
            "needs it here",
        ),
        (
            &runs,
            json!({"reel_id": reel, "providers": {"collect": "fake"}}),
            "validation_failed",
            "providers.collect",
            "does not collect",
        ),
        (
            &videos,
            step("local", json!({"background": "video"})),
            "invalid_body",
            "options.background",
            "unknown variant",
        ),
        (
            &videos,
            step("local", json!({"subtitles": {"position": "left"}})),
            "invalid_body",
            "options.subtitles.position",
            "unknown variant",
        ),
        (
            &videos,
            step(
                "local",
                json!({"subtitles": {"highlight_colour": "#12345"}}),
            ),
            "validation_failed",
            "options.subtitles.highlight_colour",
            "colour",
        ),
        (
            &videos,
            step("local", json!({"music_key": "projects/other/music.mp3"})),
            "validation_failed",
            "options.music_key",
            "this project",
        ),
        // collect
        (
            &collections,
            json!({"source": "apify", "provider": "fake", "accounts": ["a"], "options": {"actor": "x"}}),
            "invalid_body",
            "options.actor",
            "unknown field",
        ),
        // runs: each step's options against that step's provider
        (
            &runs,
            json!({"reel_id": reel, "options": {"voice": {"speed": 9}}}),
            "validation_failed",
            "options.voice.speed",
            "between 0.25 and 4",
        ),
        (
            &runs,
            json!({"reel_id": reel, "providers": {"render": "heygen"}, "options": {"render": {"logo_key": format!("projects/{project_id}/logo.png"), "avatar_id": "Daisy"}}}),
            "validation_failed",
            "options.render.logo_key",
            "local",
        ),
        (
            &runs,
            json!({"reel_id": reel, "options": {"rewrite": {"temprature": 1}}}),
            "invalid_body",
            "options.rewrite.temprature",
            "unknown field",
        ),
    ];
    for (path, body, code, field, says) in cases {
        let (status, problem) = send_problem(app.post(path, &body)).await;
        assert_eq!(
            (
                status,
                problem["code"].as_str(),
                problem["errors"][0]["field"].as_str()
            ),
            (422, Some(code), Some(field)),
            "{path} {body}: {problem:#}"
        );
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    for (listing, count) in listings.iter().zip(before) {
        assert_eq!(
            count_items(&app, listing).await,
            count,
            "{listing}: nothing was queued"
        );
    }
}

#[tokio::test]
async fn options_a_provider_takes_are_stored_as_checked_and_used() {
    let app = every_provider_app().await;
    let project = app.create_project(json!({"name": "options"})).await;
    let project_id = project["id"].as_str().unwrap();
    let [_, transcript, _, _] = parents(&app, project_id).await;
    let script = app
        .finished_step(
            &format!("/v1/transcripts/{transcript}/scripts"),
            json!({"provider": "fake", "options": {"language": "en", "temperature": 0.3}}),
            "scripts",
        )
        .await;
    assert_eq!(
        script["input"],
        json!({"options": {"language": "en", "temperature": 0.3}}),
        "{script:#}"
    );
    assert_eq!(
        script["output"]["language"], "en",
        "the option reached the job"
    );
}

#[tokio::test]
async fn a_provider_that_reports_success_without_its_file_fails_the_job() {
    let app = spawn_app_with(|_| {}).await;
    let project = app.create_project(json!({"name": "no file"})).await;
    let [_, _, script, audio] = parents(&app, project["id"].as_str().unwrap()).await;
    let withheld = json!({"provider": "fake", "options": {"fail": "no_output"}});
    for (path, resource) in [
        (format!("/v1/scripts/{script}/audio"), "audio"),
        (format!("/v1/audio/{audio}/videos"), "videos"),
    ] {
        let failed = app.finished_step(&path, withheld.clone(), resource).await;
        assert_eq!(
            (failed["status"].as_str(), failed["error"]["code"].as_str()),
            (Some("failed"), Some("no_output")),
            "{failed:#}"
        );
        assert_eq!(failed["output"], Value::Null, "nothing was invented");
    }
}
