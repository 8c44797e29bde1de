//! Step 3 against stand-ins that answer as AssemblyAI and OpenAI document: the clients directly
//! for every failure class, and the whole step through the API on a real uploaded clip.

use std::time::Duration;

use reelforge::providers::{
    openai_api::OpenAiApi,
    transcribe::{
        assemblyai::AssemblyAi, openai::OpenAiTranscriber, TranscribeRequest, Transcriber,
    },
    ProviderError,
};
use secrecy::SecretString;
use serde_json::{json, Value};
use wiremock::{
    matchers::{body_partial_json, header, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::helpers::{call_context, tone_wav as wav};

fn request(audio: &std::path::Path, language: Option<&str>) -> TranscribeRequest {
    TranscribeRequest {
        audio: Some(audio.to_owned()),
        language: language.map(str::to_owned),
        options: Default::default(),
    }
}

fn assemblyai(server: &MockServer) -> AssemblyAi {
    AssemblyAi::new(
        &server.uri(),
        SecretString::from("aai-key"),
        Duration::from_secs(5),
    )
    .with_polling(
        Duration::from_millis(10),
        Duration::from_millis(20),
        Duration::from_secs(5),
    )
}

/// AssemblyAI's create, as documented since spring 2026: a request without `speech_models`
/// is refused with 400 and its `{"error": ...}` body; one with it is queued.
struct CreateTranscript;

impl wiremock::Respond for CreateTranscript {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        match body["speech_models"].as_array() {
            Some(models) if !models.is_empty() => {
                ResponseTemplate::new(200).set_body_json(json!({"id": "t1", "status": "queued"}))
            }
            _ => ResponseTemplate::new(400).set_body_json(
                json!({"error": "speech_models is required: a list of one or more speech models"}),
            ),
        }
    }
}

async fn mount_upload_and_create(server: &MockServer, create: Value) {
    Mock::given(method("POST"))
        .and(path("/v2/upload"))
        .and(header("authorization", "aai-key"))
        .and(header("content-type", "application/octet-stream"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"upload_url": "https://cdn.assemblyai.com/upload/abc"})),
        )
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/transcript"))
        .and(body_partial_json(create))
        .respond_with(CreateTranscript)
        .expect(1)
        .mount(server)
        .await;
}

/// A completed transcript as AssemblyAI answers it: `audio_duration` in whole seconds.
fn completed(audio_duration: u64) -> Value {
    json!({
        "id": "t1", "status": "completed", "text": "Привет мир", "language_code": "ru",
        "language_confidence": 0.97, "audio_duration": audio_duration,
        "speech_models": ["universal-2"], "speech_model_used": "universal-2",
        "words": [
            {"text": "Привет", "start": 120, "end": 640, "confidence": 0.98, "speaker": null},
            {"text": "мир", "start": 700, "end": 1010, "confidence": 0.91, "speaker": null},
            {"text": "broken", "start": null, "end": 1200, "confidence": 0.5}
        ],
        "unknown_field": {"ignored": true}
    })
}

/// The transcript's answer to every poll.
async fn mount_transcript(server: &MockServer, transcript: Value) {
    Mock::given(method("GET"))
        .and(path("/v2/transcript/t1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(transcript))
        .mount(server)
        .await;
}

/// The body of the create request the stand-in received.
async fn created(server: &MockServer) -> Value {
    let requests = server.received_requests().await.unwrap();
    let create = requests
        .iter()
        .find(|r| r.method.as_str() == "POST" && r.url.path() == "/v2/transcript")
        .expect("a transcript was created");
    serde_json::from_slice(&create.body).unwrap()
}

#[tokio::test]
async fn assemblyai_uploads_creates_polls_and_keeps_milliseconds() {
    let server = MockServer::start().await;
    mount_upload_and_create(
        &server,
        json!({"audio_url": "https://cdn.assemblyai.com/upload/abc", "language_detection": true}),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/v2/transcript/t1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "t1", "status": "processing"})),
        )
        .up_to_n_times(2)
        .mount(&server)
        .await;
    mount_transcript(&server, completed(3)).await;
    let audio = crate::helpers::tone_wav_at(2.5, 16_000);
    let output = assemblyai(&server)
        .transcribe(&request(&audio, None), &call_context())
        .await
        .unwrap();
    assert_eq!(output.text, "Привет мир");
    assert_eq!(output.language, "ru");
    assert_eq!(
        output.duration_ms, 2500,
        "measured on the audio, not the whole seconds of audio_duration"
    );
    assert_eq!(output.audio_seconds, 2.5);
    assert_eq!(output.model, "universal-2", "speech_model_used");
    assert_eq!(
        output
            .words
            .iter()
            .map(|w| (w.text.as_str(), w.start_ms, w.end_ms))
            .collect::<Vec<_>>(),
        vec![("Привет", 120, 640), ("мир", 700, 1010)],
        "milliseconds kept as they are; a word without times is dropped"
    );
    let uploaded = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        uploaded.body,
        std::fs::read(&audio).unwrap(),
        "the WAV is uploaded whole"
    );
    let create = created(&server).await;
    assert_eq!(
        create["speech_models"],
        json!(["universal-2"]),
        "the default names the model that covers Russian"
    );
    assert!(
        create.get("speech_model").is_none() && create.get("language_code").is_none(),
        "{create}"
    );
}

#[tokio::test]
async fn assemblyai_sends_the_chosen_speech_models_and_the_language() {
    let server = MockServer::start().await;
    mount_upload_and_create(
        &server,
        json!({"language_code": "ru", "speech_models": ["universal-3-pro", "universal-2"]}),
    )
    .await;
    mount_transcript(&server, completed(1)).await;
    // Not audio ffprobe can measure: the duration comes from the last timed word.
    let audio = std::env::temp_dir().join(format!(
        "reelforge-not-audio-{}.bin",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&audio, b"not a wav").unwrap();
    let mut request = request(&audio, Some("ru"));
    request.options.speech_models = Some(vec!["universal-3-pro".into(), "universal-2".into()]);
    let output = assemblyai(&server)
        .transcribe(&request, &call_context())
        .await
        .unwrap();
    assert_eq!(output.duration_ms, 1010, "the last word's end");
    assert!(created(&server).await.get("language_detection").is_none());
}

#[tokio::test]
async fn assemblyai_refusals_of_the_create_quote_its_error() {
    let server = MockServer::start().await;
    mount_upload_and_create(&server, json!({})).await;
    let mut request = request(&wav(1), Some("ru"));
    // The options check refuses an empty list; AssemblyAI, sent one, answers as for none.
    request.options.speech_models = Some(Vec::new());
    match assemblyai(&server)
        .transcribe(&request, &call_context())
        .await
        .unwrap_err()
    {
        ProviderError::Fatal { code, message } => {
            assert_eq!(code.as_str(), "provider_rejected");
            assert!(message.contains("speech_models is required"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_assemblyai_transcript_through_the_api() {
    let server = MockServer::start().await;
    mount_upload_and_create(
        &server,
        json!({"language_code": "ru", "speech_models": ["universal-2"]}),
    )
    .await;
    mount_transcript(&server, completed(3)).await;
    let uri = server.uri();
    let app = crate::helpers::spawn_app_with(move |s| {
        s.providers.assemblyai.base_url = uri;
        s.providers.assemblyai.api_key = Some(SecretString::from("aai-key"));
    })
    .await;
    let project = app
        .create_project(json!({"name": "aai", "language": "ru"}))
        .await;
    let project_id = project["id"].as_str().unwrap();
    let reel_id = app.upload_clip(project_id, crate::media::test_clip()).await;
    let transcript = app
        .finished_step(
            &format!("/v1/reels/{reel_id}/transcripts"),
            json!({"provider": "assemblyai", "options": {"language": "ru"}}),
            "transcripts",
        )
        .await;
    assert_eq!(transcript["status"], "succeeded", "{transcript:#}");
    assert_eq!(transcript["output"]["model"], "universal-2");
    let duration = transcript["output"]["duration_ms"].as_u64().unwrap();
    assert!(
        (1900..=2100).contains(&duration),
        "the clip's own length, not audio_duration's 3 s: {transcript:#}"
    );
}

#[tokio::test]
async fn assemblyai_reported_errors_are_fatal_with_its_reason() {
    let server = MockServer::start().await;
    mount_upload_and_create(&server, json!({"language_code": "en"})).await;
    Mock::given(method("GET"))
        .and(path("/v2/transcript/t1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "t1", "status": "error", "error": "Transcoding failed. File does not appear to contain audio."
        })))
        .mount(&server)
        .await;
    let error = assemblyai(&server)
        .transcribe(&request(&wav(1), Some("en")), &call_context())
        .await
        .unwrap_err();
    match error {
        ProviderError::Fatal { code, message } => {
            assert_eq!(code.as_str(), "provider_job_failed");
            assert!(
                message.contains("does not appear to contain audio"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn assemblyai_failure_classes() {
    let audio = wav(1);
    for (answer, retryable, code) in [
        (
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "Authentication error, API token missing/invalid"})),
            false,
            "provider_auth",
        ),
        (
            ResponseTemplate::new(503).set_body_string("upstream down"),
            true,
            "",
        ),
        (
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3")
                .set_body_json(json!({"error": "slow down"})),
            true,
            "",
        ),
        (
            ResponseTemplate::new(200).set_body_string("<html>not json</html>"),
            false,
            "provider_bad_response",
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v2/upload"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let error = assemblyai(&server)
            .transcribe(&request(&audio, None), &call_context())
            .await
            .unwrap_err();
        match error {
            ProviderError::Retryable { retry_after, .. } => {
                assert!(retryable, "{code}");
                if let Some(wait) = retry_after {
                    assert_eq!(wait, Duration::from_secs(3));
                }
            }
            ProviderError::Fatal { code: got, .. } => {
                assert!(!retryable);
                assert_eq!(got.as_str(), code);
            }
        }
    }
}

fn openai(server: &MockServer, chunk_seconds: u32) -> OpenAiTranscriber {
    let root = std::env::temp_dir().join(format!(
        "reelforge-chunks-{}",
        uuid::Uuid::new_v4().simple()
    ));
    OpenAiTranscriber {
        api: OpenAiApi::new(
            &server.uri(),
            Some(SecretString::from("sk-test")),
            Duration::from_secs(5),
        ),
        model: "whisper-1".into(),
        max_upload_bytes: 25 * 1024 * 1024,
        chunk_seconds,
        scratch: std::sync::Arc::new(reelforge::media::MediaStore::new(root)),
    }
}

fn verbose(text: &str, words: &[(&str, f64, f64)]) -> ResponseTemplate {
    let words: Vec<Value> = words
        .iter()
        .map(|(w, s, e)| json!({"word": w, "start": s, "end": e}))
        .collect();
    ResponseTemplate::new(200).set_body_json(json!({
        "task": "transcribe", "language": "russian", "duration": 1.0, "text": text, "words": words
    }))
}

#[tokio::test]
async fn openai_long_audio_is_chunked_and_offsets_restored() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/audio/transcriptions"))
        .and(header("authorization", "Bearer sk-test"))
        .respond_with(verbose(
            "Раз два.",
            &[("Раз", 0.1, 0.4), ("два.", 0.5, 0.9)],
        ))
        .expect(3)
        .mount(&server)
        .await;
    let output = openai(&server, 1)
        .transcribe(&request(&wav(3), None), &call_context())
        .await
        .unwrap();
    assert_eq!(output.text, "Раз два. Раз два. Раз два.");
    assert_eq!(output.language, "ru", "the language name becomes a code");
    assert_eq!(output.duration_ms, 3000);
    let starts: Vec<u64> = output.words.iter().map(|w| w.start_ms).collect();
    assert_eq!(starts, vec![100, 500, 1100, 1500, 2100, 2500]);
    assert_eq!(output.words[5].end_ms, 2900);

    let sent =
        String::from_utf8_lossy(&server.received_requests().await.unwrap()[0].body).into_owned();
    for field in [
        "name=\"model\"",
        "whisper-1",
        "verbose_json",
        "name=\"timestamp_granularities[]\"",
        "name=\"file\"",
    ] {
        assert!(
            sent.contains(field),
            "{field} missing from the multipart body"
        );
    }
}

#[tokio::test]
async fn openai_failure_classes() {
    let audio = wav(1);
    for (answer, expected) in [
        (ResponseTemplate::new(429).insert_header("retry-after", "2").set_body_json(json!({"error": {"message": "Rate limit", "type": "requests", "code": "rate_limit_exceeded"}})), "retry"),
        (ResponseTemplate::new(429).set_body_json(json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}})), "provider_out_of_credit"),
        (ResponseTemplate::new(500).set_body_string("Internal Server Error"), "retry"),
        (ResponseTemplate::new(401).set_body_json(json!({"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}})), "provider_auth"),
        (ResponseTemplate::new(200).set_body_json(json!({"words": "not a list"})), "provider_bad_response"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST")).and(path("/audio/transcriptions")).respond_with(answer).mount(&server).await;
        let error = openai(&server, 600)
            .transcribe(&request(&audio, Some("ru")), &call_context())
            .await
            .unwrap_err();
        let got = match &error {
            ProviderError::Retryable { .. } => "retry",
            ProviderError::Fatal { code, .. } => code.as_str(),
        };
        assert_eq!(got, expected, "{error:?}");
    }
}

#[tokio::test]
async fn a_transcript_of_an_uploaded_reel_through_the_api() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/audio/transcriptions"))
        .respond_with(verbose(
            "Hello there",
            &[("Hello", 0.0, 0.5), ("there", 0.6, 1.2)],
        ))
        .mount(&server)
        .await;
    let (app, project_id, reel_id) = crate::helpers::openai_reel(&server.uri(), "sk-test").await;
    let project_id = project_id.as_str();
    let (transcript, job) = app
        .start_step(
            &format!("/v1/reels/{reel_id}/transcripts"),
            json!({"provider": "openai", "options": {"language": "en"}}),
        )
        .await;
    app.wait_for_status(job["id"].as_str().unwrap(), "succeeded")
        .await;
    let stored = app
        .get_json(&format!(
            "/v1/transcripts/{}",
            transcript["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(stored["provider"], "openai");
    assert_eq!(stored["output"]["text"], "Hello there");
    assert_eq!(stored["output"]["language"], "en");
    assert_eq!(
        stored["output"]["words"][1],
        json!({"text": "there", "start_ms": 600, "end_ms": 1200, "confidence": null})
    );
    assert!(
        (1900..=2100).contains(&stored["output"]["duration_ms"].as_u64().unwrap()),
        "{stored}"
    );
    let sent =
        String::from_utf8_lossy(&server.received_requests().await.unwrap()[0].body).into_owned();
    assert!(sent.contains("RIFF"), "the reel's WAV was sent");
    // Billed at the built-in whisper-1 price, $0.006 a minute.
    let usage = &app.get_json(&format!("/v1/projects/{project_id}")).await["usage"];
    let seconds = stored["output"]["audio_seconds"].as_f64().unwrap();
    assert_eq!(usage["lines"][0]["provider"], "openai");
    assert_eq!(usage["lines"][0]["metric"], "audio_seconds");
    assert_eq!(usage["lines"][0]["quantity"].as_f64().unwrap(), seconds);
    assert!((usage["total_cost"].as_f64().unwrap() - seconds * 0.0001).abs() < 1e-12);

    // A reel whose provider is not configured is refused up front.
    let response = app
        .post(
            &format!("/v1/reels/{reel_id}/transcripts"),
            &json!({"provider": "assemblyai"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
}

/// A stand-in for OpenAI's `/audio/transcriptions` as documented for each model: `whisper-1`
/// answers `verbose_json` with word times; the `gpt-4o-transcribe` family (and here
/// `house-transcribe`, a model no name rule knows) answers `json` only, `{text, usage}`, and
/// refuses `verbose_json` or `timestamp_granularities[]` with a 400.
struct TranscriptionsByModel {
    text: &'static str,
}

impl wiremock::Respond for TranscriptionsByModel {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let form = String::from_utf8_lossy(&request.body);
        let field = |name: &str| {
            form.split(&format!("name=\"{name}\"\r\n\r\n"))
                .nth(1)
                .and_then(|rest| rest.split("\r\n").next())
                .map(str::to_owned)
        };
        let model = field("model").unwrap_or_default();
        let format = field("response_format").unwrap_or_else(|| "json".into());
        if model == "whisper-1" {
            return verbose(self.text, &[("Hello", 0.0, 0.5), ("there", 0.6, 1.2)]);
        }
        if format != "json" && format != "text" {
            return ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": format!("response_format '{format}' is not compatible with model '{model}'. Use 'json' or 'text' instead."),
                "type": "invalid_request_error", "param": "response_format", "code": "unsupported_value"
            }}));
        }
        if field("timestamp_granularities[]").is_some() {
            return ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": "timestamp_granularities is only supported with response_format 'verbose_json'.",
                "type": "invalid_request_error", "param": "timestamp_granularities", "code": "unsupported_value"
            }}));
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "text": self.text,
            "usage": {"type": "tokens", "input_tokens": 14, "output_tokens": 45, "total_tokens": 59}
        }))
    }
}

/// OpenAI's transcriptions, answering "Hello there", at `/v1`.
async fn mount_transcriptions(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v1/audio/transcriptions"))
        .respond_with(TranscriptionsByModel {
            text: "Hello there",
        })
        .mount(server)
        .await;
}

/// The transcript of a fresh uploaded reel by `model` on the stand-in behind `app`.
async fn transcript_by(app: &crate::helpers::TestApp, reel_id: &str, model: &str) -> Value {
    app.finished_step(
        &format!("/v1/reels/{reel_id}/transcripts"),
        json!({"provider": "openai", "options": {"language": "en", "model": model}}),
        "transcripts",
    )
    .await
}

#[tokio::test]
async fn a_gpt_4o_transcribe_transcript_is_asked_for_text_and_its_words_timed_here() {
    let server = MockServer::start().await;
    mount_transcriptions(&server).await;
    let (app, _, reel_id) = crate::helpers::openai_reel(&server.uri(), "sk-test").await;
    let transcript = transcript_by(&app, &reel_id, "gpt-4o-transcribe").await;
    assert_eq!(transcript["status"], "succeeded", "{transcript:#}");
    let output = &transcript["output"];
    assert_eq!(output["text"], "Hello there");
    assert_eq!(output["model"], "gpt-4o-transcribe");
    // No local transcriber here: the words are spread over the audio by syllables.
    assert_eq!(output["timing_method"], "estimated", "{output:#}");
    let duration = output["duration_ms"].as_u64().unwrap();
    let words: Vec<(&str, u64, u64)> = output["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["text"].as_str().unwrap(),
                w["start_ms"].as_u64().unwrap(),
                w["end_ms"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        words,
        vec![
            ("Hello", 0, duration / 2),
            ("there", duration / 2, duration)
        ]
    );
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1, "asked for json the first time");
    let form = String::from_utf8_lossy(&sent[0].body).into_owned();
    assert!(
        form.contains("name=\"response_format\"\r\n\r\njson\r\n")
            && !form.contains("timestamp_granularities"),
        "{form}"
    );

    // whisper-1 still gives its own word times.
    let transcript = transcript_by(&app, &reel_id, "whisper-1").await;
    assert_eq!(transcript["output"]["timing_method"], "provider");
    assert_eq!(
        transcript["output"]["words"][1],
        json!({"text": "there", "start_ms": 600, "end_ms": 1200, "confidence": null})
    );

    // A model the name rule does not know, which refuses word times, is asked again for text.
    server.reset().await;
    mount_transcriptions(&server).await;
    let transcript = transcript_by(&app, &reel_id, "house-transcribe").await;
    assert_eq!(transcript["status"], "succeeded", "{transcript:#}");
    assert_eq!(transcript["output"]["timing_method"], "estimated");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_local_transcriber_times_the_words_of_a_text_only_model() {
    let openai = MockServer::start().await;
    mount_transcriptions(&openai).await;
    // The local engine's Whisper, which hears the same two words with their times.
    let engine = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/audio/transcriptions"))
        .respond_with(verbose(
            "hello there",
            &[("hello", 0.2, 0.5), ("there", 0.7, 1.1)],
        ))
        .expect(1)
        .mount(&engine)
        .await;
    let base_url = format!("{}/v1", openai.uri());
    let engine_url = engine.uri();
    let app = crate::helpers::spawn_app_with(move |s| {
        s.providers.openai.api.base_url = base_url;
        s.providers.openai.api.api_key = Some(SecretString::from("sk-test"));
        s.engines.enabled = Some(true);
        s.engines.manage = false;
        s.engines.base_url = Some(engine_url);
    })
    .await;
    let project = app
        .create_project(json!({"name": "aligned", "language": "en"}))
        .await;
    let reel_id = app
        .upload_clip(project["id"].as_str().unwrap(), crate::media::test_clip())
        .await;
    let transcript = transcript_by(&app, &reel_id, "gpt-4o-mini-transcribe").await;
    assert_eq!(transcript["status"], "succeeded", "{transcript:#}");
    let output = &transcript["output"];
    assert_eq!(output["timing_method"], "transcribed", "{output:#}");
    assert_eq!(
        output["words"],
        json!([
            {"text": "Hello", "start_ms": 200, "end_ms": 500, "confidence": null},
            {"text": "there", "start_ms": 700, "end_ms": 1100, "confidence": null}
        ]),
        "OpenAI's words at the times the local transcriber heard them"
    );
}
