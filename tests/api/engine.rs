//! The local engine for real: `reelforge serve` starts engines/server.py, and the `local`
//! providers transcribe Festival's Russian speech with Whisper, rewrite with the GGUF model and
//! voice with Festival, aligned by transcription. Needs scripts/setup (scripts/test runs it).

use std::time::Duration;

use serde_json::json;

use crate::helpers::{spawn_app_with, TestApp, MODEL_STEP_CAP};

/// A 180x320 "reel" whose sound track is Festival reading `text` in Russian.
fn spoken_clip(text: &str) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!(
        "reelforge-spoken-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("text.txt"), text).unwrap();
    let status = std::process::Command::new("text2wave")
        .args(["-eval", "(voice_msu_ru_nsh_clunits)"])
        .arg(dir.join("text.txt"))
        .arg("-o")
        .arg(dir.join("speech.wav"))
        .status()
        .expect("festival is installed (scripts/setup)");
    assert!(status.success());
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=0x203040:s=180x320:r=15",
            "-i",
        ])
        .arg(dir.join("speech.wav"))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .arg(dir.join("reel.mp4"))
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(dir.join("reel.mp4")).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
    bytes
}

async fn engine_app() -> TestApp {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(move |s| {
        s.engines.enabled = Some(true);
        s.engines.port = port;
    })
    .await;
    let health = crate::helpers::eventually(
        "the engine to start",
        Duration::from_secs(60),
        || reelforge::engines::health(&app.settings.engines),
        Option::is_some,
    )
    .await
    .unwrap();
    assert_eq!(
        health["engines"],
        json!({"stt": "ok", "llm": "ok", "tts": "ok"}),
        "run scripts/setup: {health}"
    );
    app
}

#[tokio::test]
async fn the_local_engine_transcribes_rewrites_and_voices_offline() {
    let app = engine_app().await;
    // The voices a client may pick, each with its licence; only freely licensed RHVoice voices.
    let steps = app.get_json("/v1/providers").await;
    let voice = steps
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "voice")
        .unwrap();
    let rhvoice: Vec<(&str, &str)> = voice["voices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["name"].as_str().unwrap().starts_with("rhvoice-"))
        .map(|v| (v["name"].as_str().unwrap(), v["licence"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rhvoice,
        [
            ("rhvoice-anna", "LGPL-2.1+"),
            ("rhvoice-aleksandr-hq", "CC-BY-SA-4.0")
        ],
        "{voice:#}"
    );
    // `doctor` lists the same voices, licences included, from the running engine.
    let (doctor, offline_ready) = reelforge::doctor::report(&app.settings).await;
    assert!(offline_ready, "{doctor}");
    let voice_line = doctor
        .lines()
        .find(|line| line.trim_start().starts_with("local") && line.contains("voices:"))
        .unwrap_or_else(|| panic!("no local voice line: {doctor}"));
    assert!(
        voice_line.contains("rhvoice-anna (ru, LGPL-2.1+)")
            && voice_line.contains("rhvoice-aleksandr-hq (ru, CC-BY-SA-4.0)"),
        "{voice_line}"
    );
    let project = app
        .create_project(json!({"name": "offline", "language": "ru", "settings": {
            "words": {"min": 20, "max": 40}, "target_duration_seconds": 10, "rewrite": {"revisions": 0}
        }}))
        .await;
    let project_id = project["id"].as_str().unwrap();
    let reel_id = app
        .upload_clip(
            project_id,
            spoken_clip("Каждое утро начинай с маленькой победы. Подпишись на канал."),
        )
        .await;

    let transcript = app
        .finished_step_within(
            &format!("/v1/reels/{reel_id}/transcripts"),
            json!({"provider": "local"}),
            "transcripts",
            MODEL_STEP_CAP,
        )
        .await;
    assert_eq!(transcript["status"], "succeeded", "{transcript:#}");
    let output = &transcript["output"];
    let text = output["text"].as_str().unwrap().to_lowercase();
    assert!(
        text.contains("утро") && text.contains("канал"),
        "Whisper heard: {text}"
    );
    assert_eq!(output["language"], "ru");
    assert!(output["words"].as_array().unwrap().len() >= 8, "{output:#}");

    let script = app
        .finished_step_within(
            &format!(
                "/v1/transcripts/{}/scripts",
                transcript["id"].as_str().unwrap()
            ),
            json!({"provider": "local"}),
            "scripts",
            MODEL_STEP_CAP,
        )
        .await;
    assert_eq!(script["status"], "succeeded", "{script:#}");
    let output = &script["output"];
    assert_eq!(output["attempts"][0]["provider"], "local", "{output:#}");
    assert_eq!(
        output["attempts"][0]["model"],
        "qwen2.5-coder-1.5b-instruct-q4_k_m"
    );
    assert!(crate::helpers::gates_passed(output), "{output:#}");
    // Whatever wrote it, a script that is not the model's own rewrite of the reel is flagged.
    if output["writer"] != "model" {
        assert_eq!(output["needs_review"], true, "{output:#}");
    }

    let audio = app
        .finished_step_within(
            &format!("/v1/scripts/{}/audio", script["id"].as_str().unwrap()),
            json!({"provider": "local"}),
            "audio",
            MODEL_STEP_CAP,
        )
        .await;
    assert_eq!(audio["status"], "succeeded", "{audio:#}");
    let output = &audio["output"];
    // RHVoice's anna is the default Russian voice; the engine says it spoke.
    assert_eq!(output["voice"], "rhvoice-anna", "{output:#}");
    assert!(
        output["timing_method"]
            .as_str()
            .unwrap()
            .starts_with("transcribed"),
        "{output:#}"
    );
    assert!(output["duration_ms"].as_u64().unwrap() > 3000, "{output:#}");

    // The creator's own recording of the script (here: that take, uploaded to the library) is
    // the voiceover, its words timed by Whisper hearing it.
    let take = app
        .download(&format!(
            "/v1/audio/{}/content",
            audio["id"].as_str().unwrap()
        ))
        .await;
    let recording = app.upload_asset(project_id, "me.wav", take).await;
    let own = app
        .finished_step_within(
            &format!("/v1/scripts/{}/audio", script["id"].as_str().unwrap()),
            json!({"provider": "recording", "options": {"recording_key": recording["key"]}}),
            "audio",
            MODEL_STEP_CAP,
        )
        .await;
    assert_eq!(own["status"], "succeeded", "{own:#}");
    let heard = &own["output"];
    assert_eq!(heard["voice"], "recording");
    assert!(
        heard["timing_method"]
            .as_str()
            .unwrap()
            .starts_with("transcribed"),
        "{heard:#}"
    );
    assert_eq!(
        heard["words"].as_array().unwrap().len(),
        output["words"].as_array().unwrap().len()
    );

    // The post's words from the local model, asked for JSON by schema (llama.cpp turns it
    // into a grammar): the model's own words when they pass every check, else the plain
    // fallback, flagged.
    let video = app
        .fake_step(&format!(
            "/v1/audio/{}/videos",
            audio["id"].as_str().unwrap()
        ))
        .await;
    let post = app
        .finished_step_within(
            &format!("/v1/videos/{video}/posts"),
            json!({"provider": "local"}),
            "posts",
            MODEL_STEP_CAP,
        )
        .await;
    assert_eq!(post["status"], "succeeded", "{post:#}");
    let words = &post["output"];
    assert_eq!(
        words["model"], "qwen2.5-coder-1.5b-instruct-q4_k_m",
        "{words:#}"
    );
    assert!(!words["title"].as_str().unwrap().is_empty(), "{words:#}");
    match words["writer"].as_str().unwrap() {
        // Words from a script that needs review need it too.
        "model" => assert_eq!(
            words["needs_review"], script["output"]["needs_review"],
            "{words:#}"
        ),
        _ => {
            assert_eq!(words["needs_review"], true, "{words:#}");
            assert!(
                !words["review_reasons"]
                    .to_string()
                    .contains("the model failed"),
                "{words:#}"
            );
        }
    }
}
