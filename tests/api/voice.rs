//! Step 5: the local voice end to end, duration fitting against a stand-in OpenAI speech server
//! (re-voice, bounded stretch, reported miss), and the ElevenLabs client.

use std::time::Duration;

use base64::Engine;
use reelforge::providers::{
    voice::{elevenlabs::ElevenLabs, Voice, VoiceRequest},
    ProviderError,
};
use secrecy::SecretString;
use serde_json::{json, Value};
use wiremock::{
    matchers::{body_partial_json, header, method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use crate::helpers::{call_context, spawn_app_with, tone_wav_at, TestApp};

/// A project with a 5 s target and a short Russian script; answers the script id.
async fn short_script(app: &TestApp, text: &str) -> String {
    let project = app
        .create_project(
            json!({"name": "v", "language": "ru", "settings": {"target_duration_seconds": 5}}),
        )
        .await;
    app.script_with_text(project["id"].as_str().unwrap(), text)
        .await
}

#[tokio::test]
async fn the_local_voice_speaks_fits_and_serves_the_file() {
    let app = spawn_app_with(|_| {}).await;
    let script_id = short_script(
        &app,
        "Вставай рано и делай шаг к мечте каждый день. Подпишись!",
    )
    .await;
    let audio = app
        .finished_step(
            &format!("/v1/scripts/{script_id}/audio"),
            json!({"provider": "local", "options": {"tolerance_seconds": 0.5}}),
            "audio",
        )
        .await;
    assert_eq!(audio["status"], "succeeded", "{audio:#}");
    let output = &audio["output"];
    let duration = output["duration_ms"].as_u64().unwrap();
    assert!(
        duration.abs_diff(5000) <= 500,
        "fitted to 5 s ± 0.5: {output:#}"
    );
    assert_eq!(output["fit"]["within_target"], true);
    assert!(
        !output["fit"]["actions"].as_array().unwrap().is_empty(),
        "espeak's first take is not 5 s: {output:#}"
    );
    assert_eq!(output["timing_method"], "estimated");
    let words = output["words"].as_array().unwrap();
    assert_eq!(words.len(), 10);
    assert_eq!(words[9]["text"], "Подпишись!");
    assert_eq!(words[9]["end_ms"], duration);
    assert_eq!(output["format"], "wav");

    let id = audio["id"].as_str().unwrap();
    let ranged = app
        .get(&format!("/v1/audio/{id}/content"))
        .header("Range", "bytes=0-3")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().await.unwrap().as_ref(), b"RIFF");
}

fn speech_server_answer(seconds: f64) -> ResponseTemplate {
    let wav = tone_wav_at(seconds, 24_000);
    ResponseTemplate::new(200)
        .insert_header("content-type", "audio/wav")
        .set_body_bytes(std::fs::read(wav).unwrap())
}

/// Voices a 5 s target with a stand-in that always answers a take of `take_seconds`.
async fn fit_with_stand_in(take_seconds: f64) -> (Value, Vec<Value>) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/audio/speech"))
        .and(header("authorization", "Bearer sk-test"))
        .respond_with(speech_server_answer(take_seconds))
        .mount(&server)
        .await;
    let base_url = server.uri();
    let app = spawn_app_with(move |s| {
        s.providers.openai.api.base_url = base_url;
        s.providers.openai.api.api_key = Some(SecretString::from("sk-test"));
    })
    .await;
    let script_id = short_script(&app, "Один два три. Подпишись!").await;
    let audio = app
        .finished_step(
            &format!("/v1/scripts/{script_id}/audio"),
            json!({"provider": "openai", "options": {"tolerance_seconds": 0.3}}),
            "audio",
        )
        .await;
    let bodies = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    (audio, bodies)
}

#[tokio::test]
async fn a_take_is_revoiced_then_stretched_within_bounds() {
    let (audio, bodies) = fit_with_stand_in(5.5).await;
    assert_eq!(audio["status"], "succeeded", "{audio:#}");
    let fit = &audio["output"]["fit"];
    assert_eq!(bodies.len(), 2, "one re-voice at an adjusted speed");
    assert_eq!(bodies[0]["speed"], 1.0);
    assert_eq!(bodies[1]["speed"], 1.1);
    assert_eq!(bodies[0]["input"], "Один два три. Подпишись!");
    assert_eq!(fit["speed"], 1.1);
    assert_eq!(
        fit["tempo"], 1.1,
        "the stand-in ignores speed, so ffmpeg stretches"
    );
    assert_eq!(fit["within_target"], true);
    let duration = audio["output"]["duration_ms"].as_u64().unwrap();
    assert!(duration.abs_diff(5000) <= 50, "{duration}");
}

#[tokio::test]
async fn a_stretch_past_the_bounds_is_reported_not_done() {
    let (audio, _) = fit_with_stand_in(8.0).await;
    assert_eq!(audio["status"], "succeeded", "{audio:#}");
    let fit = &audio["output"]["fit"];
    assert_eq!(fit["tempo"], 1.25, "never past 1.25");
    assert_eq!(fit["within_target"], false);
    assert!(
        fit["actions"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .as_str()
            .unwrap()
            .contains("missed"),
        "{fit:#}"
    );
    let duration = audio["output"]["duration_ms"].as_u64().unwrap();
    assert!(duration.abs_diff(6400) <= 50, "8 s / 1.25: {duration}");
}

fn request(dir: &std::path::Path) -> VoiceRequest {
    VoiceRequest {
        text: "Да, ок".into(),
        language: "ru".into(),
        speed: 1.0,
        options: Default::default(),
        output_stem: dir.join(uuid::Uuid::new_v4().simple().to_string()),
    }
}

fn elevenlabs(server: &MockServer) -> ElevenLabs {
    ElevenLabs::new(
        &server.uri(),
        SecretString::from("xi-key"),
        Duration::from_secs(5),
        "voice1",
        "eleven_multilingual_v2",
    )
}

/// A `/with-timestamps` answer: the audio and its per-character alignment of "Да, ок".
fn timed_speech(audio: &[u8]) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "audio_base64": base64::engine::general_purpose::STANDARD.encode(audio),
        "alignment": {
            "characters": ["Д", "а", ",", " ", "о", "к"],
            "character_start_times_seconds": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5],
            "character_end_times_seconds": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
        },
        "normalized_alignment": null
    }))
}

/// `language_code` is enforced by Flash and Turbo v2.5 and, since mid-2026, accepted and
/// ignored by `eleven_multilingual_v2` (the stand-in takes it from every model): it is sent
/// only where it holds the voice to Russian.
#[tokio::test]
async fn elevenlabs_sends_the_language_only_to_models_that_enforce_it() {
    let server = MockServer::start().await;
    let audio = std::fs::read(tone_wav_at(0.6, 22_050)).unwrap();
    Mock::given(method("POST"))
        .and(path("/v1/text-to-speech/voice1/with-timestamps"))
        .respond_with(timed_speech(&audio))
        .mount(&server)
        .await;
    let dir = std::env::temp_dir();
    for (model, language_code) in [
        ("eleven_multilingual_v2", None),
        ("eleven_v3", None),
        ("eleven_flash_v2_5", Some("ru")),
        ("eleven_turbo_v2_5", Some("ru")),
    ] {
        let mut request = request(&dir);
        request.options.model = Some(model.into());
        let spoken = elevenlabs(&server)
            .synthesize(&request, &call_context())
            .await
            .unwrap();
        assert_eq!(spoken.model, model);
        let sent: Value = serde_json::from_slice(
            &server
                .received_requests()
                .await
                .unwrap()
                .last()
                .unwrap()
                .body,
        )
        .unwrap();
        assert_eq!(sent["model_id"], model);
        assert_eq!(
            sent.get("language_code").and_then(Value::as_str),
            language_code,
            "{model}: {sent}"
        );
    }
}

#[tokio::test]
async fn elevenlabs_alignment_becomes_word_timings() {
    let server = MockServer::start().await;
    let audio = std::fs::read(tone_wav_at(0.6, 22_050)).unwrap();
    Mock::given(method("POST"))
        .and(path("/v1/text-to-speech/voice1/with-timestamps"))
        .and(query_param("output_format", "mp3_44100_128"))
        .and(header("xi-api-key", "xi-key"))
        .and(body_partial_json(json!({"text": "Да, ок", "model_id": "eleven_multilingual_v2", "voice_settings": {"speed": 1.0}})))
        .respond_with(timed_speech(&audio))
        .mount(&server)
        .await;
    let dir = std::env::temp_dir();
    let spoken = elevenlabs(&server)
        .synthesize(&request(&dir), &call_context())
        .await
        .unwrap();
    let words: Vec<(String, u64, u64)> = spoken
        .words
        .unwrap()
        .into_iter()
        .map(|w| (w.text, w.start_ms, w.end_ms))
        .collect();
    assert_eq!(words, vec![("Да,".into(), 0, 300), ("ок".into(), 400, 600)]);
    assert_eq!(std::fs::read(&spoken.path).unwrap(), audio);
    assert_eq!(spoken.format, "mp3");
    let sent = &server.received_requests().await.unwrap()[0].body;
    assert!(
        !String::from_utf8_lossy(sent).contains("language_code"),
        "eleven_multilingual_v2 ignores language_code: not sent"
    );
}

#[tokio::test]
async fn elevenlabs_failure_classes() {
    let dir = std::env::temp_dir();
    for (answer, expected) in [
        (
            ResponseTemplate::new(401).set_body_json(
                json!({"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}),
            ),
            "provider_auth",
        ),
        (
            ResponseTemplate::new(422).set_body_json(
                json!({"detail": [{"loc": ["body", "text"], "msg": "field required"}]}),
            ),
            "provider_rejected",
        ),
        (
            ResponseTemplate::new(429)
                .insert_header("retry-after", "4")
                .set_body_json(json!({"detail": {"status": "too_many_concurrent_requests"}})),
            "retry after 4s",
        ),
        (ResponseTemplate::new(500).set_body_string("oops"), "retry"),
        (
            ResponseTemplate::new(200).set_body_json(json!({"audio_base64": "not base64!!"})),
            "provider_bad_response",
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let error = elevenlabs(&server)
            .synthesize(&request(&dir), &call_context())
            .await
            .unwrap_err();
        let got = match &error {
            ProviderError::Retryable {
                retry_after: Some(wait),
                ..
            } => format!("retry after {}s", wait.as_secs()),
            ProviderError::Retryable { .. } => "retry".to_owned(),
            ProviderError::Fatal { code, .. } => code.as_str().to_owned(),
        };
        assert_eq!(got, expected, "{error:?}");
    }
}

/// A take with a 1.5 s pause between two words, as ElevenLabs answers it with its alignment.
fn paused_take(server_audio: &[u8]) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "audio_base64": base64::engine::general_purpose::STANDARD.encode(server_audio),
        "alignment": {
            "characters": ["Д", "а", ",", " ", "о", "к"],
            "character_start_times_seconds": [0.0, 0.4, 0.8, 2.4, 2.5, 3.0],
            "character_end_times_seconds": [0.4, 0.8, 1.0, 2.5, 3.0, 3.5]
        }
    }))
}

#[tokio::test]
async fn long_pauses_are_shortened_before_fitting_and_the_words_move_with_them() {
    // Tone 1 s, silence 1.5 s, tone 1 s.
    let audio = std::env::temp_dir().join(format!("reelforge-paused-{}.wav", uuid::Uuid::new_v4()));
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300:sample_rate=22050:duration=1",
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=22050:cl=mono:d=1.5",
            "-filter_complex",
            "[0:a][1:a][0:a]concat=n=3:v=0:a=1[out]",
            "-map",
            "[out]",
            "-ac",
            "1",
        ])
        .arg(&audio)
        .status()
        .unwrap();
    assert!(status.success());
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/text-to-speech/voice1/with-timestamps"))
        .respond_with(paused_take(&std::fs::read(&audio).unwrap()))
        .mount(&server)
        .await;
    let app = crate::helpers::spawn_app_with_elevenlabs(&server).await;
    let script_id = short_script(&app, "Да, ок").await;
    let voice = |options: Value| {
        let app = &app;
        let script_id = &script_id;
        async move {
            let audio = app
                .finished_step(
                    &format!("/v1/scripts/{script_id}/audio"),
                    json!({"provider": "elevenlabs", "options": options}),
                    "audio",
                )
                .await;
            assert_eq!(audio["status"], "succeeded", "{audio:#}");
            audio["output"].clone()
        }
    };
    let output = voice(json!({"voice": "voice1", "tolerance_seconds": 30})).await;
    let fit = &output["fit"];
    // 1 s + 300 ms + 1 s: 1.2 s of the pause went.
    let duration = output["duration_ms"].as_u64().unwrap();
    assert!(duration.abs_diff(2300) <= 30, "{output:#}");
    assert!(
        fit["silence_trimmed_ms"].as_u64().unwrap().abs_diff(1200) <= 30,
        "{fit:#}"
    );
    assert!(
        fit["actions"][0]
            .as_str()
            .unwrap()
            .starts_with("shortened pauses over 300 ms"),
        "{fit:#}"
    );
    assert_eq!(fit["measured_ms"], duration);
    let words = output["words"].as_array().unwrap();
    assert_eq!(
        (words[0]["start_ms"].as_u64(), words[0]["end_ms"].as_u64()),
        (Some(0), Some(1000))
    );
    assert!(
        words[1]["start_ms"].as_u64().unwrap().abs_diff(1300) <= 30,
        "{words:?}"
    );
    assert!(
        words[1]["end_ms"].as_u64().unwrap().abs_diff(2300) <= 30,
        "{words:?}"
    );
    assert_eq!(output["format"], "wav");

    // Asked to keep them, the pauses stay.
    let kept =
        voice(json!({"voice": "voice1", "tolerance_seconds": 30, "trim_silences": false})).await;
    assert!(
        kept["duration_ms"].as_u64().unwrap().abs_diff(3500) <= 30,
        "{kept:#}"
    );
    assert_eq!(kept["fit"]["silence_trimmed_ms"], 0);
    assert_eq!(kept["words"][1]["start_ms"], 2500);
    std::fs::remove_file(audio).unwrap();
}
