//! Step 4 against a stand-in OpenAI-compatible server: the revision loop, cut-off answers,
//! quality failures, the quota fallback, requests shaped by the model, refusals, the client's
//! failure classes, and hand edits.

use std::time::Duration;

use reelforge::{
    domain::project::WordRange,
    providers::{
        openai_api::OpenAiApi,
        rewrite::{openai::ChatRewriter, ChatMessage, RewriteCall, Rewriter},
        ProviderError,
    },
    script::Contract,
};
use secrecy::SecretString;
use serde_json::{json, Value};
use wiremock::{
    matchers::{header, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::helpers::{call_context, gates_passed, send_problem, spawn_app_with, TestApp};

const WORDS: &[&str] = &[
    "сегодня",
    "ты",
    "делаешь",
    "шаг",
    "к",
    "мечте",
    "и",
    "каждый",
    "день",
    "становишься",
    "сильнее",
    "чем",
    "вчера",
    "потому",
    "что",
    "упорство",
    "решает",
    "всё",
    "утром",
    "привычка",
    "меняет",
    "жизнь",
    "спокойно",
    "работай",
    "над",
    "целью",
    "без",
    "страха",
    "вперёд",
    "смело",
    // Enough words that a long script does not say one thing twice (the `loops` check reads
    // neighbouring sentences that share most of their words as one thought said again).
    "вечер",
    "солнце",
    "дорога",
    "город",
    "море",
    "небо",
    "ветер",
    "дом",
    "окно",
    "книга",
    "время",
    "отдых",
    "семья",
    "друзья",
    "радость",
    "сила",
    "воля",
    "успех",
    "план",
    "задача",
    "путь",
    "победа",
    "опыт",
    "знание",
    "навык",
    "талант",
    "энергия",
    "здоровье",
    "спорт",
    "бег",
    "вода",
    "сон",
    "завтрак",
    "обед",
    "ужин",
    "прогулка",
    "музыка",
    "улыбка",
    "доверие",
    "свобода",
    "выбор",
    "решение",
    "вопрос",
    "ответ",
    "идея",
    "проект",
    "команда",
    "лидер",
    "история",
    "пример",
    "совет",
    "правило",
    "порядок",
    "ритм",
    "баланс",
    "фокус",
    "внимание",
    "терпение",
    "честность",
    "забота",
    "благодарность",
    "надежда",
    "вера",
    "любовь",
    "тишина",
    "природа",
    "лес",
    "река",
    "горы",
    "поле",
    "сад",
    "цветы",
    "деревья",
    "весна",
    "лето",
    "осень",
    "зима",
    "неделя",
    "месяц",
    "год",
    "минута",
    "секунда",
    "час",
    "начало",
    "финал",
    "результат",
    "движение",
    "рост",
    "развитие",
    "учёба",
    "практика",
    "ошибка",
    "урок",
    "шанс",
    "момент",
    "будущее",
    "прошлое",
    "настоящее",
    "мысль",
    "чувство",
    "сердце",
    "разум",
    "тело",
    "душа",
    "голос",
    "взгляд",
];

const EN_WORDS: &[&str] = &[
    "today", "you", "take", "one", "step", "toward", "the", "life", "want", "and", "every",
    "small", "habit", "builds", "strength", "that", "lasts", "beyond", "doubt", "morning", "focus",
    "grows", "quietly", "with", "patience", "courage", "clear", "goals", "bring", "change",
];

/// `n` words of `vocabulary` in an order that does not repeat itself: each pass over the
/// vocabulary walks it with another stride, so no run of four words comes back.
fn varied<'a>(vocabulary: &[&'a str], n: usize) -> Vec<&'a str> {
    let len = vocabulary.len();
    let strides: Vec<usize> = (1..len).filter(|s| gcd(*s, len) == 1).collect();
    (0..n)
        .map(|i| {
            let (pass, position) = (i / len, i % len);
            vocabulary[(position * strides[pass % strides.len()] + pass) % len]
        })
        .collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// A script of exactly `n` words from `vocabulary`, in sentences of nine, ending with `closing`.
fn script_of(vocabulary: &[&str], n: usize, closing: &[&str]) -> String {
    let body = varied(vocabulary, n - closing.len());
    let mut sentences: Vec<String> = body
        .chunks(9)
        .map(|chunk| {
            let sentence = chunk.join(" ");
            let mut chars = sentence.chars();
            let first = chars.next().unwrap().to_uppercase().collect::<String>();
            format!("{first}{}.", chars.as_str())
        })
        .collect();
    sentences.push(closing.join(" "));
    sentences.join(" ")
}

/// A Russian script of exactly `n` words that ends with a call to action.
fn ru_script(n: usize) -> String {
    script_of(WORDS, n, &["Подпишись", "прямо", "сейчас."])
}

/// An English script of exactly `n` words that ends with a call to action.
fn en_script(n: usize) -> String {
    script_of(
        EN_WORDS,
        n,
        &["Follow", "and", "save", "this", "video", "now."],
    )
}

pub(crate) fn chat_answer(text: &str, finish_reason: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 300, "completion_tokens": 200, "total_tokens": 500}
    }))
}

async fn app_with_openai(server: &MockServer) -> TestApp {
    app_with_openai_and(server, |_| {}).await
}

/// As [`app_with_openai`], with further settings.
pub(crate) async fn app_with_openai_and(
    server: &MockServer,
    configure: impl FnOnce(&mut reelforge::config::Settings),
) -> TestApp {
    let base_url = server.uri();
    spawn_app_with(move |s| {
        s.providers.openai.api.base_url = base_url;
        s.providers.openai.api.api_key = Some(SecretString::from("sk-test"));
        s.jobs.max_attempts = 2;
        configure(s);
    })
    .await
}

/// Answers the writer's second question (the one whose request holds `asked`, a field of its
/// schema) with `content`, once.
async fn answer_visuals(server: &MockServer, asked: &str, content: &str, usage: (u32, u32)) {
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .and(wiremock::matchers::body_string_contains(format!("\"{asked}\"")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-v", "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": usage.0, "completion_tokens": usage.1, "total_tokens": usage.0 + usage.1}
        })))
        .with_priority(1)
        .expect(1)
        .mount(server)
        .await;
}

/// A project whose transcript is ready; answers `(project id, transcript id)`.
pub(crate) async fn project_with_transcript(app: &TestApp, settings: Value) -> (String, String) {
    let project = app
        .create_project(json!({"name": "r", "language": "ru", "settings": settings}))
        .await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let transcript_id = app.fake_transcript(&project_id).await;
    (project_id, transcript_id)
}

/// An app on the stand-in `server`, a project with a transcript, and a rewrite started with
/// `body`; answers the app and the finished script.
async fn rewritten(server: &MockServer, body: Value) -> (TestApp, Value) {
    let app = app_with_openai(server).await;
    let (_, transcript_id) = project_with_transcript(&app, json!({})).await;
    let script = rewrite(&app, &transcript_id, body).await;
    (app, script)
}

/// Runs a rewrite and answers the finished script resource.
pub(crate) async fn rewrite(app: &TestApp, transcript_id: &str, body: Value) -> Value {
    app.finished_step(
        &format!("/v1/transcripts/{transcript_id}/scripts"),
        body,
        "scripts",
    )
    .await
}

/// Every chat request's body, in order.
async fn all_chat_bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/chat/completions")
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
        .collect()
}

/// The drafts asked for (not the key-word question that follows an accepted script).
pub(crate) async fn chat_bodies(server: &MockServer) -> Vec<Value> {
    let mut bodies = all_chat_bodies(server).await;
    bodies.retain(|body| !body.to_string().contains("key_words"));
    bodies
}

#[tokio::test]
async fn the_model_is_asked_to_revise_until_the_length_fits() {
    let server = MockServer::start().await;
    // Once a draft is accepted, the writer is asked which of its words to stress.
    answer_visuals(
        &server,
        "key_words",
        "{\"key_words\": [\"Подпишись\", \"незнакомое\"]}",
        (50, 10),
    )
    .await;
    for n in [80, 150, 110] {
        Mock::given(method("POST"))
            .and(path("/chat/completions"))
            .and(header("authorization", "Bearer sk-test"))
            .respond_with(chat_answer(&ru_script(n), "stop"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    let (_app, script) = rewritten(&server, json!({"provider": "openai"})).await;
    assert_eq!(script["status"], "succeeded", "{script:#}");
    let output = &script["output"];
    assert_eq!(output["text"], ru_script(110));
    assert_eq!(output["word_count"], 110);
    assert_eq!(output["estimated_seconds"], 40.0);
    assert_eq!(output["writer"], "model");
    assert_eq!(output["model"], "gpt-4o-mini-2024-07-18");
    let counts: Vec<u64> = output["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["word_count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, vec![80, 150, 110]);
    let gates_failed = |attempt: &Value| -> Vec<String> {
        attempt["failed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap().to_owned())
            .filter(|name| name != "grounded")
            .collect()
    };
    assert_eq!(gates_failed(&output["attempts"][0]), ["word_count"]);
    assert!(gates_passed(output), "{output:#}");
    assert_eq!(
        output["usage"],
        json!({"prompt_tokens": 950, "completion_tokens": 610})
    );
    // Only words the script holds are kept.
    assert_eq!(output["key_words"], json!(["Подпишись"]));
    // Without a stock library, no search words are asked for.
    assert!(server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .all(|r| !String::from_utf8_lossy(&r.body).contains("broll_keywords")));
    assert_eq!(output["broll_keywords"], json!([]));

    let bodies = chat_bodies(&server).await;
    assert_eq!(bodies.len(), 3);
    let system = bodies[0]["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("Write in Russian") && system.contains("Between 100 and 120 words"),
        "{system}"
    );
    assert_eq!(output["prompt"]["system"], system);
    let revision = |i: usize| {
        bodies[i]["messages"].as_array().unwrap().last().unwrap()["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(
        revision(1).contains("has 80 words; it must have between 100 and 120"),
        "{}",
        revision(1)
    );
    assert!(revision(2).contains("has 150 words"), "{}", revision(2));
    assert_eq!(
        bodies[2]["messages"].as_array().unwrap().len(),
        6,
        "system, user and two rounds of revision"
    );
    assert_ne!(
        bodies[0]["seed"], bodies[1]["seed"],
        "each attempt has its own seed"
    );
}

#[tokio::test]
async fn drafts_are_cleaned_fitted_or_failed_with_the_reason() {
    let server = MockServer::start().await;
    // Emoji, markdown and a preamble around a script that is 135 words long: cleaned, then
    // fitted at sentence boundaries once the single revision also misses.
    let noisy = format!("Вот ваш сценарий:\n**{}** 🚀🔥 #мотивация", ru_script(135));
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(chat_answer(&noisy, "stop"))
        .mount(&server)
        .await;
    let app = app_with_openai(&server).await;
    let (_, transcript_id) = project_with_transcript(
        &app,
        json!({"rewrite": {"revisions": 1, "allow_fallback": false}}),
    )
    .await;
    let script = rewrite(&app, &transcript_id, json!({"provider": "openai"})).await;
    let output = &script["output"];
    assert_eq!(script["status"], "succeeded", "{script:#}");
    assert_eq!(output["writer"], "fitted");
    let text = output["text"].as_str().unwrap();
    assert!(
        !text.contains('🚀')
            && !text.contains("**")
            && !text.contains('#')
            && !text.starts_with("Вот"),
        "{text}"
    );
    assert!(text.ends_with("Подпишись прямо сейчас."), "{text}");
    let words = output["word_count"].as_u64().unwrap();
    assert!((100..=120).contains(&words), "{words}");
    assert!(
        output["fitted"][0]
            .as_str()
            .unwrap()
            .starts_with("dropped the sentence"),
        "{output:#}"
    );
    assert_eq!(output["attempts"].as_array().unwrap().len(), 2);

    // An English answer to a Russian project cannot be fitted: the job fails with the reason.
    server.reset().await;
    let english = "You can do this. ".repeat(27) + "Follow for more.";
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(chat_answer(&english, "stop"))
        .mount(&server)
        .await;
    let failed = rewrite(&app, &transcript_id, json!({"provider": "openai"})).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], "script_quality");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("language"),
        "{failed:#}"
    );

    // Cut-off answers are never accepted, and the revision says so.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(chat_answer(&ru_script(110), "length"))
        .mount(&server)
        .await;
    let cut = rewrite(&app, &transcript_id, json!({"provider": "openai"})).await;
    assert_eq!(cut["status"], "failed", "{cut:#}");
    assert_eq!(cut["error"]["code"], "script_quality");
    let bodies = chat_bodies(&server).await;
    let last = bodies.last().unwrap()["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(last.contains("cut off"), "{last}");
}

#[tokio::test]
async fn an_english_script_from_a_russian_reel_by_option() {
    let server = MockServer::start().await;
    let english = en_script(110);
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(chat_answer(&english, "stop"))
        .mount(&server)
        .await;
    let (_app, script) = rewritten(
        &server,
        json!({"provider": "openai", "options": {"language": "en"}}),
    )
    .await;
    assert_eq!(script["status"], "succeeded", "{script:#}");
    assert_eq!(script["output"]["language"], "en");
    let system = chat_bodies(&server).await[0]["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(system.contains("Write in English"), "{system}");
}

#[tokio::test]
async fn when_every_model_path_fails_the_fallback_writes_offline() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}
        })))
        .mount(&server)
        .await;
    let app = app_with_openai(&server).await;
    let (project_id, transcript_id) = project_with_transcript(&app, json!({})).await;
    let script = rewrite(&app, &transcript_id, json!({"provider": "openai"})).await;
    assert_eq!(script["status"], "succeeded", "{script:#}");
    let output = &script["output"];
    assert_eq!(output["writer"], "fallback");
    // No model wrote it, so no model's way of writing is reported.
    assert!(output["strategy"].is_null(), "{output:#}");
    assert_eq!(output["fallbacks"][0]["to"], "fallback");
    assert!(
        output["fallbacks"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("quota"),
        "{output:#}"
    );
    assert!(gates_passed(output), "{output:#}");
    assert_eq!(output["needs_review"], true, "{output:#}");
    assert!(
        output["review_reasons"][0]
            .as_str()
            .unwrap()
            .contains("fallback writer"),
        "{output:#}"
    );
    assert_eq!(
        chat_bodies(&server).await.len(),
        1,
        "insufficient_quota is not retried"
    );

    // Without fallback the job fails with the provider's reason.
    let response = app
        .patch(
            &format!("/v1/projects/{project_id}"),
            &json!({"settings": {"rewrite": {"allow_fallback": false}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let failed = rewrite(&app, &transcript_id, json!({"provider": "openai"})).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], "provider_out_of_credit");
}

/// A stand-in for OpenAI's Chat Completions as its documentation describes reasoning models
/// (o-series, gpt-5, and here also `house-reasoner`, a compatible server's model no name rule
/// knows): `max_tokens` is refused with 400 `unsupported_parameter` and a temperature other than
/// 1 with 400 `unsupported_value`; any other request gets `answer`.
struct ReasoningChat {
    answer: ResponseTemplate,
}

impl wiremock::Respond for ReasoningChat {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let model = body["model"].as_str().unwrap_or_default();
        let reasoning = [
            "o1",
            "o3",
            "o4-mini",
            "gpt-5",
            "gpt-5-mini",
            "house-reasoner",
        ]
        .contains(&model);
        let refuse = |param: &str, code: &str, message: String| {
            ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": message, "type": "invalid_request_error", "param": param, "code": code
            }}))
        };
        if reasoning && body.get("max_tokens").is_some() {
            return refuse(
                "max_tokens",
                "unsupported_parameter",
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.".into(),
            );
        }
        match body.get("temperature").and_then(Value::as_f64) {
            Some(t) if reasoning && t != 1.0 => refuse(
                "temperature",
                "unsupported_value",
                format!("Unsupported value: 'temperature' does not support {t} with this model. Only the default (1) value is supported."),
            ),
            _ => self.answer.clone(),
        }
    }
}

async fn mount_reasoning_chat(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(ReasoningChat { answer })
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_reasoning_model_is_asked_with_max_completion_tokens_and_no_temperature() {
    let server = MockServer::start().await;
    mount_reasoning_chat(&server, chat_answer(&ru_script(110), "stop")).await;
    let (_app, script) = rewritten(
        &server,
        json!({"provider": "openai", "options": {"model": "gpt-5-mini", "max_tokens": 600}}),
    )
    .await;
    assert_eq!(script["status"], "succeeded", "{script:#}");
    assert_eq!(script["output"]["text"], ru_script(110));
    assert_eq!(script["output"]["writer"], "model");
    let bodies = chat_bodies(&server).await;
    assert_eq!(bodies.len(), 1, "asked right the first time: {bodies:#?}");
    let sent = &bodies[0];
    assert!(
        sent.get("max_tokens").is_none() && sent.get("temperature").is_none(),
        "{sent:#}"
    );
    // The visible cap, plus room for the reasoning it also counts.
    assert_eq!(sent["max_completion_tokens"], 600 + 4096);

    // Other models keep `max_tokens` and the temperature, which compatible servers read.
    server.reset().await;
    mount_reasoning_chat(&server, chat_answer(&ru_script(110), "stop")).await;
    let (_app, script) = rewritten(
        &server,
        json!({"provider": "openai", "options": {"temperature": 0.3}}),
    )
    .await;
    assert_eq!(script["status"], "succeeded", "{script:#}");
    let sent = &chat_bodies(&server).await[0];
    assert_eq!(
        (
            sent["model"].as_str(),
            sent["max_tokens"].as_u64(),
            sent["temperature"].as_f64()
        ),
        (Some("gpt-4o-mini"), Some(1024), Some(0.3)),
        "{sent:#}"
    );
    assert!(sent.get("max_completion_tokens").is_none(), "{sent:#}");
}

#[tokio::test]
async fn a_model_the_name_rule_does_not_know_is_asked_again_without_what_it_refused() {
    let server = MockServer::start().await;
    mount_reasoning_chat(&server, chat_answer(&ru_script(110), "stop")).await;
    let (_app, script) = rewritten(
        &server,
        json!({"provider": "openai", "options": {"model": "house-reasoner"}}),
    )
    .await;
    assert_eq!(script["status"], "succeeded", "{script:#}");
    assert_eq!(script["output"]["text"], ru_script(110));
    let requests = all_chat_bodies(&server).await;
    let shape = |body: &Value| {
        (
            body.get("max_tokens").is_some(),
            body.get("max_completion_tokens").is_some(),
            body.get("temperature").is_some(),
        )
    };
    // Refused `max_tokens`, then the temperature; then answered. The key-word question that
    // follows is asked in the shape the server taught.
    assert_eq!(
        requests.iter().map(shape).collect::<Vec<_>>(),
        vec![
            (true, false, true),
            (false, true, true),
            (false, true, false),
            (false, true, false)
        ],
        "{requests:#?}"
    );
}

#[tokio::test]
async fn a_refusal_is_reported_as_one_with_its_words() {
    let server = MockServer::start().await;
    let refusal = "I'm sorry, but I can't help with that request.";
    // The documented shape of a refusal: no content, the reason in `message.refusal`.
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-2", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": refusal}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 300, "completion_tokens": 12, "total_tokens": 312}
        })))
        .mount(&server)
        .await;
    let app = app_with_openai(&server).await;
    let (_, transcript_id) =
        project_with_transcript(&app, json!({"rewrite": {"allow_fallback": false}})).await;
    let failed = rewrite(&app, &transcript_id, json!({"provider": "openai"})).await;
    assert_eq!(failed["status"], "failed", "{failed:#}");
    assert_eq!(failed["error"]["code"], "model_refused");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains(refusal),
        "{failed:#}"
    );
    assert_eq!(
        chat_bodies(&server).await.len(),
        1,
        "a refusal is not asked again"
    );

    // With the fallback writer allowed, it writes, and the refusal is the recorded reason.
    let (_, transcript_id) = project_with_transcript(&app, json!({})).await;
    let script = rewrite(&app, &transcript_id, json!({"provider": "openai"})).await;
    assert_eq!(script["status"], "succeeded", "{script:#}");
    assert_eq!(script["output"]["writer"], "fallback");
    assert!(
        script["output"]["fallbacks"][0]["reason"]
            .as_str()
            .unwrap()
            .contains(refusal),
        "{script:#}"
    );
}

#[tokio::test]
async fn chat_failure_classes() {
    let contract = Contract {
        language: "ru".into(),
        words: WordRange { min: 100, max: 120 },
        max_reuse: 0.2,
    };
    let messages = [ChatMessage::user("transcript")];
    for (answer, expected) in [
        (ResponseTemplate::new(429).insert_header("retry-after", "7").set_body_json(json!({"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}})), "retry after 7s"),
        (ResponseTemplate::new(429).insert_header("x-ratelimit-reset-requests", "6m0s").set_body_string("Too Many Requests"), "retry after 360s"),
        (ResponseTemplate::new(503).set_body_string("<html>Service Unavailable</html>"), "retry"),
        (ResponseTemplate::new(401).set_body_json(json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}})), "provider_auth"),
        (ResponseTemplate::new(404).set_body_json(json!({"error": "model 'llama9' not found, try pulling it first"})), "provider_not_found"),
        (ResponseTemplate::new(200).set_body_string("{\"choices\": ["), "provider_bad_response"),
        (ResponseTemplate::new(200).set_body_json(json!({"choices": []})), "provider_bad_response"),
        (ResponseTemplate::new(200).set_body_json(json!({"choices": [{"message": {"content": null}, "finish_reason": "content_filter"}]})), "content_filtered"),
        (ResponseTemplate::new(200).set_body_json(json!({"choices": [{"message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}, "finish_reason": "stop"}]})), "model_refused"),
        (ResponseTemplate::new(400).set_body_json(json!({"error": {"message": "Invalid 'messages[0].content': string too long.", "type": "invalid_request_error", "param": "messages[0].content", "code": "string_above_max_length"}})), "provider_rejected"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST")).and(path("/chat/completions")).respond_with(answer).mount(&server).await;
        let rewriter = ChatRewriter::new(
            OpenAiApi::new(&server.uri(), Some(SecretString::from("sk-test")), Duration::from_secs(5)),
            "gpt-4o-mini",
            false,
        );
        let call = RewriteCall { system: "rules", messages: &messages, contract: &contract, seed: 1, options: &Default::default(), grammar: None, max_tokens: None, response_format: None };
        let error = rewriter.complete(&call, &call_context()).await.unwrap_err();
        let got = match &error {
            ProviderError::Retryable { retry_after: Some(wait), .. } => format!("retry after {}s", wait.as_secs()),
            ProviderError::Retryable { .. } => "retry".to_owned(),
            ProviderError::Fatal { code, .. } => code.as_str().to_owned(),
        };
        assert_eq!(got, expected, "{error:?}");
    }
}

#[tokio::test]
async fn a_script_edited_by_hand_is_cleaned_and_checked_again() {
    let app = spawn_app_with(|_| {}).await;
    let (_, transcript_id) = project_with_transcript(&app, json!({})).await;
    let script = rewrite(&app, &transcript_id, json!({"provider": "fake"})).await;
    assert_eq!(script["status"], "succeeded", "{script:#}");
    let id = script["id"].as_str().unwrap();
    let path = format!("/v1/scripts/{id}");

    let edited: Value = app
        .patch(&path, &json!({"text": "Короткий текст 🚀 без призыва."}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let output = &edited["output"];
    assert_eq!(output["text"], "Короткий текст без призыва.");
    assert_eq!(output["writer"], "edited");
    assert!(output["strategy"].is_null(), "{output:#}");
    assert_eq!(output["word_count"], 4);
    let failed: Vec<&str> = output["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, vec!["word_count", "call_to_action", "grounded"]);
    assert_eq!(output["needs_review"], true);
    assert_eq!(
        output["prompt"], script["output"]["prompt"],
        "the record of how it was written stays"
    );
    assert_eq!(
        app.get_json(&path).await["output"]["text"],
        "Короткий текст без призыва."
    );

    let (status, problem) = send_problem(app.patch(&path, &json!({"text": "🚀 🔥"}))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let (status, _) = send_problem(app.patch(&path, &json!({"text": "x".repeat(10_001)}))).await;
    assert_eq!(status, 422);
    let (status, problem) = send_problem(app.patch(&path, &json!({"words": 3}))).await;
    assert_eq!(status, 422, "{problem}");
    let (status, _) = send_problem(app.patch(
        &format!("/v1/scripts/{}", uuid::Uuid::new_v4()),
        &json!({"text": "Текст."}),
    ))
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.get_json(&path).await["output"]["text"],
        "Короткий текст без призыва.",
        "a refused edit loses nothing"
    );
}

/// A stand-in for a small local model asked for one sentence at a time: it first repeats the
/// sentence it was given (a copy), then says new things, and closes with a call to action.
struct SentenceModel {
    calls: std::sync::atomic::AtomicUsize,
}

impl wiremock::Respond for SentenceModel {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let call = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let ask = body["messages"].as_array().unwrap().last().unwrap()["content"]
            .as_str()
            .unwrap()
            .to_owned();
        let answer = if ask.contains("сохрани это видео") {
            "Подпишись и сохрани это видео прямо сейчас.".to_owned()
        } else if call == 0 {
            ask.split_once(": ").unwrap().1.to_owned()
        } else {
            let words = varied(WORDS, 7 * (call + 1));
            let sentence = words[7 * call..].join(" ");
            let mut chars = sentence.chars();
            let first = chars.next().unwrap().to_uppercase().collect::<String>();
            format!("{first}{}.", chars.as_str())
        };
        chat_answer(&answer, "stop")
    }
}

#[tokio::test]
async fn a_small_model_writes_one_sentence_at_a_time_under_a_grammar() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(SentenceModel {
            calls: Default::default(),
        })
        .mount(&server)
        .await;
    let base_url = server.uri();
    let app = spawn_app_with(move |s| {
        s.providers.openai.api.base_url = base_url;
        s.providers.openai.api.api_key = Some(SecretString::from("sk-test"));
        s.providers.openai.grammar = true;
    })
    .await;
    let (_, transcript_id) = project_with_transcript(
        &app,
        json!({"words": {"min": 30, "max": 45}, "rewrite": {"strategy": "sentences"}}),
    )
    .await;
    let transcript = app
        .get_json(&format!("/v1/transcripts/{transcript_id}"))
        .await;
    let script = rewrite(&app, &transcript_id, json!({"provider": "openai"})).await;
    assert_eq!(script["status"], "succeeded", "{script:#}");
    let output = &script["output"];
    assert_eq!(output["strategy"], "sentences");
    assert_eq!(output["writer"], "model", "{output:#}");
    let text = output["text"].as_str().unwrap();
    assert!(
        text.ends_with("Подпишись и сохрани это видео прямо сейчас."),
        "{text}"
    );
    assert!(
        (30..=45).contains(&output["word_count"].as_u64().unwrap()),
        "{output:#}"
    );
    // The first answer repeated a transcript sentence: it was refused, not kept.
    let first_source = transcript["output"]["text"]
        .as_str()
        .unwrap()
        .split_inclusive('.')
        .next()
        .unwrap()
        .trim()
        .to_owned();
    assert!(!text.contains(&first_source), "{first_source} | {text}");
    assert!(gates_passed(output), "{output:#}");
    // Every request was one sentence, decoded under the Russian grammar.
    let bodies = chat_bodies(&server).await;
    assert!(bodies.len() >= 4, "{}", bodies.len());
    for body in &bodies {
        assert!(
            body["grammar"]
                .as_str()
                .unwrap()
                .contains("[\u{0400}-\u{052F}0-9]"),
            "{body}"
        );
        assert_eq!(body["max_tokens"], 96);
    }
    // The transcript is shorter than the script: the further sentences are each asked on one
    // of its own sentences, so the script stays on the reel.
    let sources: Vec<String> = transcript["output"]["text"]
        .as_str()
        .unwrap()
        .split_inclusive('.')
        .map(|sentence| sentence.trim().to_owned())
        .collect();
    let further: Vec<String> = bodies
        .iter()
        .map(|body| body["messages"].as_array().unwrap().last().unwrap()["content"].to_string())
        .filter(|ask| ask.contains("Напиши следующее предложение"))
        .collect();
    assert!(!further.is_empty(), "{bodies:#?}");
    for ask in &further {
        assert!(
            sources.iter().any(|source| ask.contains(source.as_str())),
            "{ask} | {sources:?}"
        );
    }
}

#[tokio::test]
async fn with_a_stock_library_the_writer_gives_english_search_words_per_sentence() {
    let server = MockServer::start().await;
    answer_visuals(
        &server,
        "broll_keywords",
        "{\"key_words\": [\"Подпишись\"], \"broll_keywords\": [[\"Sunrise\", \"рассвет\", \"city run\"], [\"phone screen\"], [\"x\"], [\"too\", \"many\"]]}",
        (60, 30),
    )
    .await;
    let text = "Вставай рано и беги навстречу солнцу. Каждый шаг делает тебя сильнее. Подпишись прямо сейчас.";
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(chat_answer(text, "stop"))
        .mount(&server)
        .await;
    let app = app_with_openai_and(&server, |s| {
        s.providers.pexels.api_key = Some(SecretString::from("pexels-key"));
    })
    .await;
    let (_, transcript_id) =
        project_with_transcript(&app, json!({"words": {"min": 10, "max": 30}})).await;
    let script = rewrite(&app, &transcript_id, json!({"provider": "openai"})).await;
    assert_eq!(script["status"], "succeeded", "{script:#}");
    // Only English terms are kept, one list per sentence of the script.
    assert_eq!(
        script["output"]["broll_keywords"],
        json!([["sunrise", "city run"], ["phone screen"], ["x"]])
    );
    let asked: Value = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
        .find(|body| body.to_string().contains("broll_keywords"))
        .unwrap();
    let schema = &asked["response_format"]["json_schema"];
    assert_eq!(schema["strict"], true);
    assert_eq!(
        schema["schema"]["required"],
        json!(["key_words", "broll_keywords"])
    );
    assert_eq!(
        schema["schema"]["properties"]["broll_keywords"]["items"]["items"]["type"],
        "string"
    );
}
