//! The project voice library against an ElevenLabs stand-in: instant voice cloning from library
//! recordings, each documented failure, the default voice speaking voice steps, and deletion
//! freeing the slot.

use serde_json::{json, Value};
use wiremock::{
    matchers::{header, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::{
    assets::generated,
    helpers::{
        assert_refused, send_problem, spawn_app_with, spawn_app_with_elevenlabs, tone_wav_at,
    },
};

fn answered(voice_id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"voice_id": voice_id, "requires_verification": false}))
}

/// The next `/v1/voices/add` gets `answer`, ahead of the standing one.
async fn next_clone_answers(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v1/voices/add"))
        .respond_with(answer)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn voices_are_cloned_from_library_recordings_and_speak_by_default() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/voices/add"))
        .and(header("xi-api-key", "xi-key"))
        .respond_with(answered("cloned1"))
        .mount(&server)
        .await;
    let tone = std::fs::read(tone_wav_at(1.0, 22_050)).unwrap();
    Mock::given(method("POST"))
        .and(path("/v1/text-to-speech/cloned2/with-timestamps"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "audio_base64": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &tone),
            "alignment": null
        })))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1/voices/cloned1"))
        .and(header("xi-api-key", "xi-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "ok"})))
        .expect(1)
        .mount(&server)
        .await;
    let app = spawn_app_with_elevenlabs(&server).await;
    let project = app
        .create_project(
            json!({"name": "voices", "language": "ru", "settings": {"target_duration_seconds": 5}}),
        )
        .await;
    let project_id = project["id"].as_str().unwrap();
    let voices_path = format!("/v1/projects/{project_id}/voices");
    let recording = generated(
        "m4a",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=220:duration=2",
            "-c:a",
            "aac",
        ],
    );
    let sample = app
        .upload_asset(project_id, "me.m4a", recording.clone())
        .await;
    let image = generated(
        "png",
        &["-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1"],
    );
    let image = app.upload_asset(project_id, "me.png", image).await;

    // Refused before ElevenLabs is called.
    for (body, field, says) in [
        (
            json!({"name": "A", "sample_keys": []}),
            "sample_keys",
            "1 to 25",
        ),
        (
            json!({"name": " ", "sample_keys": [sample["key"]]}),
            "name",
            "1 to 100",
        ),
        (
            json!({"name": "A", "sample_keys": [image["key"]]}),
            "sample_keys[0]",
            "is a library image file",
        ),
        (
            json!({"name": "A", "sample_keys": [sample["key"], sample["key"]]}),
            "sample_keys[1]",
            "already given",
        ),
        (
            json!({"name": "A", "sample_keys": [sample["key"]], "labels": {"mood": "calm"}}),
            "labels.mood",
            "language, accent, gender, age",
        ),
    ] {
        assert_refused(app.post(&voices_path, &body), field, says).await;
    }
    assert!(server.received_requests().await.unwrap().is_empty());

    let response = app
        .post(
            &voices_path,
            &json!({"name": "Anna", "sample_keys": [sample["key"]], "labels": {"language": "ru"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let first: Value = response.json().await.unwrap();
    assert_eq!(
        (
            first["provider_voice_id"].as_str(),
            first["default"].as_bool()
        ),
        (Some("cloned1"), Some(false))
    );
    // The recording went to ElevenLabs as a `files` part, with the name and labels.
    let sent = &server.received_requests().await.unwrap()[0];
    let body = String::from_utf8_lossy(&sent.body);
    for part in [
        "name=\"name\"",
        "Anna",
        "name=\"files\"",
        "name=\"labels\"",
        "{\"language\":\"ru\"}",
    ] {
        assert!(body.contains(part), "{part} missing from the upload");
    }
    assert!(
        sent.body
            .windows(recording.len())
            .any(|w| w == recording.as_slice()),
        "the sample's bytes"
    );

    // Each documented failure: a clear code, nothing kept.
    for (answer, status, code) in [
        (
            ResponseTemplate::new(400).set_body_json(json!({"detail": {"status": "voice_limit_reached", "message": "You have reached your maximum amount of custom voices"}})),
            409,
            "voice_slots_full",
        ),
        (
            ResponseTemplate::new(422).set_body_json(json!({"detail": [{"loc": ["body", "files"], "msg": "field required", "type": "missing"}]})),
            422,
            "provider_rejected",
        ),
        (
            ResponseTemplate::new(401).set_body_json(json!({"detail": {"status": "invalid_api_key", "message": "Invalid API key"}})),
            502,
            "provider_auth",
        ),
        (
            ResponseTemplate::new(401).set_body_json(json!({"detail": {"status": "missing_permissions", "message": "voices_write"}})),
            502,
            "provider_auth",
        ),
        (
            ResponseTemplate::new(400).set_body_json(json!({"detail": {"status": "quota_exceeded", "message": "quota"}})),
            502,
            "provider_out_of_credit",
        ),
        (
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_json(json!({"detail": {"status": "too_many_concurrent_requests"}})),
            503,
            "provider_retryable",
        ),
    ] {
        next_clone_answers(&server, answer).await;
        let (got, problem) = send_problem(app.post(&voices_path, &json!({"name": "B", "sample_keys": [sample["key"]]}))).await;
        assert_eq!((got, problem["code"].as_str()), (status, Some(code)), "{problem}");
        assert!(!problem["detail"].as_str().unwrap().contains("xi-key"), "{problem}");
    }
    // A busy ElevenLabs says when to come back; so does the answer.
    next_clone_answers(
        &server,
        ResponseTemplate::new(429).insert_header("retry-after", "7"),
    )
    .await;
    let busy = app
        .post(
            &voices_path,
            &json!({"name": "B", "sample_keys": [sample["key"]]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.headers()["retry-after"], "7");
    assert_eq!(
        app.get_json(&voices_path).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A second voice made the default speaks voice steps that name no voice.
    next_clone_answers(&server, answered("cloned2")).await;
    let response = app
        .post(
            &voices_path,
            &json!({"name": "Anna 2", "sample_keys": [sample["key"]], "default": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let second: Value = response.json().await.unwrap();
    assert_eq!(second["default"], true);
    let script_id = app.script_with_text(project_id, "Да, ок").await;
    let audio = app
        .finished_step(
            &format!("/v1/scripts/{script_id}/audio"),
            json!({"provider": "elevenlabs", "options": {"tolerance_seconds": 30}}),
            "audio",
        )
        .await;
    assert_eq!(audio["status"], "succeeded", "{audio:#}");
    assert_eq!(audio["output"]["voice"], "cloned2");

    // Making the first the default unsets the second.
    let patched = app
        .patch(
            &format!("/v1/voices/{}", first["id"].as_str().unwrap()),
            &json!({"default": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let listed = app.get_json(&voices_path).await;
    let defaults: Vec<(&str, bool)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap(), v["default"].as_bool().unwrap()))
        .collect();
    assert_eq!(defaults, [("Anna 2", false), ("Anna", true)]);

    // Deleting frees the ElevenLabs slot (the DELETE is expected once).
    let deleted = app
        .delete(&format!("/v1/voices/{}", first["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        app.get_json(&voices_path).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn cloning_without_elevenlabs_says_what_to_configure() {
    let app = spawn_app_with(|_| {}).await;
    let project = app.create_project(json!({"name": "v"})).await;
    let project_id = project["id"].as_str().unwrap();
    let recording = generated(
        "m4a",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=220:duration=1",
            "-c:a",
            "aac",
        ],
    );
    let sample = app.upload_asset(project_id, "me.m4a", recording).await;
    let (status, problem) = send_problem(app.post(
        &format!("/v1/projects/{project_id}/voices"),
        &json!({"name": "A", "sample_keys": [sample["key"]]}),
    ))
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("not_configured")),
        "{problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("ELEVENLABS__API_KEY"),
        "{problem}"
    );
}
