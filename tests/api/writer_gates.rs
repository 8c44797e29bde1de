//! The writer's language gates through the API (issue #33): a word no dictionary knows fails
//! the `spelling` check of a hand edit, and is refused and asked for again while a stand-in
//! model writes sentence by sentence, directly or through English.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    },
};

use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::{
    helpers::{gates_passed, spawn_app_with},
    rewrite::{app_with_openai_and, chat_answer, chat_bodies, project_with_transcript, rewrite},
};

/// The checks of a script's output that failed, by name.
fn failed_checks(output: &Value) -> Vec<&str> {
    output["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

fn check<'a>(output: &'a Value, name: &str) -> &'a Value {
    output["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` check in {output:#}"))
}

#[tokio::test]
async fn a_hand_edit_with_an_invented_word_fails_the_spelling_check() {
    let app = spawn_app_with(|_| {}).await;
    let (_, transcript_id) = project_with_transcript(&app, json!({})).await;
    let script = rewrite(&app, &transcript_id, json!({"provider": "fake"})).await;
    assert_eq!(script["status"], "succeeded", "{script:#}");
    let path = format!("/v1/scripts/{}", script["id"].as_str().unwrap());
    let edited: Value = app
        .patch(
            &path,
            &json!({"text": "Я пересталась спать до обеда. Подпишись на канал."}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let output = &edited["output"];
    assert!(failed_checks(output).contains(&"spelling"), "{output:#}");
    let spelling = check(output, "spelling");
    assert!(
        spelling["detail"]
            .as_str()
            .unwrap()
            .ends_with("ru_RU dictionary nor the transcript: пересталась"),
        "{spelling}"
    );
    assert_eq!(output["needs_review"], true);
    assert!(
        output["review_reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().starts_with("fails `spelling`")),
        "{output:#}"
    );
    // Words of the transcript (the fake transcriber's) are known, whatever the dictionary says.
    let fixed: Value = app
        .patch(
            &path,
            &json!({"text": "Делай шаг к своей цели. Подпишись на канал."}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        check(&fixed["output"], "spelling")["passed"],
        true,
        "{fixed:#}"
    );
}

/// A stand-in OpenAI-compatible model that answers every question first with a sentence
/// holding an invented word and, asked the same again, with a good one; the call to action is
/// good at once. Through English, the transcript's translation and the English sentences are
/// good at once: only the way back into Russian invents words.
struct InventingModel {
    asked: Mutex<HashMap<String, usize>>,
    english: AtomicUsize,
    good: Mutex<std::vec::IntoIter<&'static str>>,
}

impl InventingModel {
    fn new() -> Self {
        InventingModel {
            asked: Mutex::default(),
            english: AtomicUsize::new(0),
            good: Mutex::new(
                vec![
                    "Ранний подъём дарит тебе тихое утро.",
                    "Стакан воды помогает телу проснуться.",
                    "Короткая зарядка разгоняет кровь и настроение.",
                    "Маленькие привычки складываются в большие перемены.",
                    "План на вечер снимает лишнюю тревогу.",
                    "Начни завтра и почувствуй разницу сам.",
                ]
                .into_iter(),
            ),
        }
    }
}

const INVENTED: &str = "Ты пересталась откладывать свою мечту на потом.";

impl wiremock::Respond for InventingModel {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let messages = body["messages"].as_array().unwrap();
        let system = messages[0]["content"].as_str().unwrap();
        let ask = messages.last().unwrap()["content"]
            .as_str()
            .unwrap()
            .to_owned();
        if system.contains("into plain English") {
            return chat_answer(
                "Every day take one small step toward your goal. Every day take one small step toward your goal.",
                "stop",
            );
        }
        if ask.starts_with("Say the same idea") || ask.contains("Write the next sentence") {
            let n = self.english.fetch_add(1, Ordering::SeqCst);
            let english = [
                "Wake up early and enjoy a quiet morning.",
                "A glass of water helps your body wake up.",
                "Short exercise lifts your blood and your mood.",
                "Small habits grow into big changes.",
                "A plan for the evening removes extra worry.",
            ];
            return chat_answer(english[n % english.len()], "stop");
        }
        if ask.contains("сохрани это видео") {
            return chat_answer("Подпишись и сохрани это видео прямо сейчас.", "stop");
        }
        let times = {
            let mut asked = self.asked.lock().unwrap();
            let times = asked.entry(ask).or_default();
            *times += 1;
            *times
        };
        let answer = if times % 2 == 1 {
            INVENTED
        } else {
            self.good
                .lock()
                .unwrap()
                .next()
                .expect("enough good sentences")
        };
        chat_answer(answer, "stop")
    }
}

/// Writes a script with `strategy` on the inventing stand-in; answers the output and the
/// questions asked, in order.
async fn written_with(strategy: &str) -> (Value, Vec<String>) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(InventingModel::new())
        .mount(&server)
        .await;
    let app = app_with_openai_and(&server, |s| s.providers.openai.grammar = true).await;
    let (_, transcript_id) = project_with_transcript(
        &app,
        json!({"words": {"min": 20, "max": 40}, "rewrite": {"strategy": strategy}}),
    )
    .await;
    let script = rewrite(&app, &transcript_id, json!({"provider": "openai"})).await;
    assert_eq!(script["status"], "succeeded", "{script:#}");
    let asks = chat_bodies(&server)
        .await
        .iter()
        .map(|body| {
            body["messages"].as_array().unwrap().last().unwrap()["content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    (script["output"].clone(), asks)
}

#[tokio::test]
async fn the_sentence_writer_asks_again_for_a_sentence_with_an_invented_word() {
    let (output, asks) = written_with("sentences").await;
    assert_eq!(output["strategy"], "sentences");
    assert_eq!(output["writer"], "model", "{output:#}");
    let text = output["text"].as_str().unwrap();
    assert!(!text.contains("пересталась"), "{text}");
    assert!(
        text.starts_with("Ранний подъём дарит тебе тихое утро."),
        "{text}"
    );
    assert!(gates_passed(&output), "{output:#}");
    assert_eq!(check(&output, "spelling")["passed"], true, "{output:#}");
    // The first sentence was asked for twice: the invented word was refused, not kept.
    assert_eq!(asks[0], asks[1]);
    assert!(
        asks[0].starts_with("Скажи ту же мысль другими словами"),
        "{asks:?}"
    );
}

#[tokio::test]
async fn through_english_the_way_back_is_spell_checked() {
    let (output, asks) = written_with("through_english").await;
    assert_eq!(output["strategy"], "through_english");
    assert_eq!(output["writer"], "model", "{output:#}");
    let text = output["text"].as_str().unwrap();
    assert!(!text.contains("пересталась"), "{text}");
    assert!(gates_passed(&output), "{output:#}");
    // The transcript, then an English sentence, then its translation, asked for twice.
    assert!(
        asks[1].starts_with("Say the same idea in other words"),
        "{asks:?}"
    );
    assert_eq!(
        asks[2],
        "Переведи на русский язык: Wake up early and enjoy a quiet morning."
    );
    assert_eq!(asks[2], asks[3]);
    assert!(
        text.ends_with("Подпишись и сохрани это видео прямо сейчас."),
        "{text}"
    );
}
