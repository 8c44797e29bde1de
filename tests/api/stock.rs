//! Stock B-roll from Pexels and Pixabay, against stand-ins that answer as their documentation
//! says: clips found per sentence and credited, answers cached for a day, rate limits honoured
//! from their headers, and fallbacks when a library has nothing or is spent.

use std::time::Duration;

use reelforge::providers::{
    stock::{pexels::Pexels, pixabay::Pixabay, Orientation, StockClient, StockLibrary},
    ProviderError,
};
use secrecy::SecretString;
use serde_json::{json, Value};
use wiremock::{
    matchers::{header, method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use crate::{
    assets::{average_colour, clip, rendered, voiced},
    helpers::{assert_refused, spawn_app_with, TestApp},
};

const PEXELS_KEY: &str = "pexels-test-key-123";
const PIXABAY_KEY: &str = "pixabay-test-key-456";

/// A Pexels search answer with one clip whose MP4 the stand-in serves at `/files/{colour}.mp4`.
fn pexels_page(server: &MockServer, id: u64, colour: &str) -> Value {
    json!({
        "page": 1, "per_page": 15, "total_results": 1,
        "url": "https://www.pexels.com/search/videos/x/",
        "videos": [{
            "id": id, "width": 240, "height": 320, "duration": 2,
            "url": format!("https://www.pexels.com/video/{colour}-{id}/"),
            "image": "https://images.pexels.com/x.jpeg",
            "user": {"id": id + 100, "name": format!("{colour} author"), "url": format!("https://www.pexels.com/@{colour}")},
            "video_files": [
                {"id": 1, "quality": null, "file_type": "video/mp4", "width": null, "height": null, "link": "https://player.vimeo.com/x.m3u8"},
                {"id": 2, "quality": "sd", "file_type": "video/mp4", "width": 240, "height": 320, "fps": 30, "link": format!("{}/files/{colour}.mp4", server.uri())}
            ],
            "video_pictures": []
        }]
    })
}

/// Headers of a Pexels answer: the window resets an hour from now.
fn pexels_ok(body: Value, remaining: u32) -> ResponseTemplate {
    let reset = chrono::Utc::now().timestamp() + 3600;
    ResponseTemplate::new(200)
        .insert_header("X-Ratelimit-Limit", "200")
        .insert_header("X-Ratelimit-Remaining", remaining.to_string().as_str())
        .insert_header("X-Ratelimit-Reset", reset.to_string().as_str())
        .set_body_json(body)
}

async fn serve_clip(server: &MockServer, colour: &str, expected: u64) {
    Mock::given(method("GET"))
        .and(path(format!("/files/{colour}.mp4")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "video/mp4")
                .set_body_bytes(clip(colour)),
        )
        .expect(expected)
        .mount(server)
        .await;
}

async fn app_with_stock(server: &MockServer, pexels: bool, pixabay: bool) -> TestApp {
    let uri = server.uri();
    spawn_app_with(move |s| {
        s.media.fetch_allow_hosts = vec!["127.0.0.1".into()];
        if pexels {
            s.providers.pexels.base_url = uri.clone();
            s.providers.pexels.api_key = Some(SecretString::from(PEXELS_KEY));
        }
        if pixabay {
            s.providers.pixabay.base_url = uri;
            s.providers.pixabay.api_key = Some(SecretString::from(PIXABAY_KEY));
        }
    })
    .await
}

/// Gives the voiced script of `audio` these stock search words.
async fn search_words(app: &TestApp, audio: &Value, lists: Value) {
    let script_id = audio["parent_id"].as_str().unwrap();
    let script = app.get_json(&format!("/v1/scripts/{script_id}")).await;
    let response = app
        .patch(
            &format!("/v1/scripts/{script_id}"),
            &json!({"text": script["output"]["text"], "broll_keywords": lists}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let edited: Value = response.json().await.unwrap();
    assert_eq!(edited["output"]["broll_keywords"], lists);
}

fn colour_name([r, g, b]: [f64; 3]) -> &'static str {
    if r > g + 80.0 && r > b + 80.0 {
        "red"
    } else if g > r + 80.0 && g > b + 80.0 {
        "green"
    } else if b > r + 80.0 && b > g + 80.0 {
        "blue"
    } else {
        "neither"
    }
}

#[tokio::test]
async fn each_sentence_gets_a_stock_clip_credited_to_its_author_and_searches_are_kept_a_day() {
    let server = MockServer::start().await;
    let app = app_with_stock(&server, true, false).await;
    let (_, audio) = voiced(&app).await;
    let audio_id = audio["id"].as_str().unwrap();
    // The writer's words are replaced by hand; the third sentence's words find nothing alone.
    search_words(
        &app,
        &audio,
        json!([["sunrise"], ["mountain"], ["empty words", "ocean"]]),
    )
    .await;
    // The shots the render will cut, and the sentence each opens with.
    let words: Vec<reelforge::providers::transcribe::WordTiming> =
        serde_json::from_value(audio["output"]["words"].clone()).unwrap();
    let duration = audio["output"]["duration_ms"].as_u64().unwrap();
    let shots = reelforge::providers::render::broll::shots(&words, duration, 1);
    let sentences: Vec<usize> = shots
        .iter()
        .map(|shot| reelforge::providers::render::broll::sentence_at(&words, shot.start_ms))
        .collect();
    assert!(shots.len() >= 2 && sentences[0] == 0, "{shots:?}");
    let shown = |sentence: usize| u64::from(sentences.contains(&sentence));
    for (sentence, query, id, colour) in [
        (0, "sunrise", 1, "red"),
        (1, "mountain", 2, "0x00FF00"),
        (2, "ocean", 3, "blue"),
    ] {
        Mock::given(method("GET"))
            .and(path("/videos/search"))
            .and(header("authorization", PEXELS_KEY))
            .and(query_param("query", query))
            .and(query_param("orientation", "portrait"))
            .respond_with(pexels_ok(pexels_page(&server, id, colour), 150))
            .expect(2 * shown(sentence))
            .mount(&server)
            .await;
        // Downloaded once, and again after the file went unused for a month and was deleted.
        serve_clip(&server, colour, 2 * shown(sentence)).await;
    }
    for query in ["empty words ocean", "empty words"] {
        Mock::given(method("GET"))
            .and(path("/videos/search"))
            .and(query_param("query", query))
            .respond_with(pexels_ok(
                json!({"page": 1, "per_page": 15, "total_results": 0, "videos": []}),
                150,
            ))
            .expect(2 * shown(2))
            .mount(&server)
            .await;
    }

    let (video, mp4) = rendered(&app, audio_id, json!({})).await;
    let output = &video["output"];
    assert_eq!(output["background"], "stock", "{output:#}");
    assert_eq!(output["background_note"], Value::Null);
    let credits: Vec<&str> = output["credits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|credit| credit["text"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = ["red", "0x00FF00", "blue"]
        .iter()
        .enumerate()
        .filter(|(sentence, _)| sentences.contains(sentence))
        .map(|(_, colour)| format!("Video by {colour} author on Pexels"))
        .collect();
    assert_eq!(credits, expected);
    assert_eq!(
        output["credits"][0]["page_url"],
        "https://www.pexels.com/video/red-1/"
    );
    assert_eq!(
        output["credits"][0]["author_url"],
        "https://www.pexels.com/@red"
    );

    // Each shot shows its sentence's clip.
    for (shot, &sentence) in shots.iter().zip(&sentences) {
        let at = (shot.start_ms + 400 + shot.end_ms) / 2;
        assert_eq!(
            colour_name(average_colour(&mp4, at)),
            ["red", "green", "blue"][sentence],
            "shot {shot:?} (sentence {sentence}) at {at} ms"
        );
    }

    // The post offers the credits.
    let video_id = video["id"].as_str().unwrap();
    let post = app
        .finished_step(
            &format!("/v1/videos/{video_id}/posts"),
            json!({"provider": "fake"}),
            "posts",
        )
        .await;
    assert_eq!(post["status"], "succeeded", "{post:#}");
    let offered = post["output"]["credits"].as_array().unwrap();
    assert_eq!(offered[0], "Video by red author on Pexels");
    assert_eq!(
        offered.last().unwrap(),
        "Videos provided by Pexels (https://www.pexels.com)"
    );
    assert!(!post["output"]["caption"]
        .as_str()
        .unwrap()
        .contains("Pexels"));

    // Within the day the answers and files are reused: no search and no download. A day later
    // the library is asked again (the `expect` counts above are checked when the server drops).
    let (again, _) = rendered(&app, audio_id, json!({"preview": true})).await;
    assert_eq!(again["output"]["credits"], output["credits"]);
    sqlx::query("UPDATE stock_searches SET fetched_at = fetched_at - interval '25 hours'")
        .execute(&app.pool)
        .await
        .unwrap();
    let (later, _) = rendered(&app, audio_id, json!({"preview": true})).await;
    assert_eq!(later["output"]["background"], "stock");

    // A file no render used for a month is deleted by the next stock render, which fetches it
    // again; used files stay listed.
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM stock_files")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(kept, sentences.len() as i64);
    sqlx::query("UPDATE stock_files SET last_used_at = last_used_at - interval '31 days'")
        .execute(&app.pool)
        .await
        .unwrap();
    let (swept, _) = rendered(&app, audio_id, json!({"preview": true})).await;
    assert_eq!(swept["output"]["credits"], output["credits"]);
    let recent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM stock_files WHERE last_used_at > now() - interval '1 hour'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(recent, kept);
}

#[tokio::test]
async fn no_stock_results_fall_back_to_the_library_then_the_generated_background() {
    let server = MockServer::start().await;
    let app = app_with_stock(&server, false, true).await;
    let (project_id, audio) = voiced(&app).await;
    let audio_id = audio["id"].as_str().unwrap();
    search_words(&app, &audio, json!([["nothing"], [], ["nothing"]])).await;
    Mock::given(method("GET"))
        .and(path("/videos/"))
        .and(query_param("key", PIXABAY_KEY))
        .and(query_param("q", "nothing"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-RateLimit-Limit", "100")
                .insert_header("X-RateLimit-Remaining", "99")
                .insert_header("X-RateLimit-Reset", "60")
                .set_body_json(json!({"total": 0, "totalHits": 0, "hits": []})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let (video, mp4) = rendered(&app, audio_id, json!({"preview": true})).await;
    assert_eq!(video["output"]["background"], "generated", "{video:#}");
    assert_eq!(
        video["output"]["background_note"],
        "pixabay had no clip for the script's search words"
    );
    assert_eq!(video["output"]["credits"], json!([]));
    assert!(!mp4.is_empty());

    // With a library video, that stands in (the answer is cached: Pixabay is not asked again).
    app.upload_asset(&project_id, "green.mp4", clip("0x00FF00"))
        .await;
    let (video, _) = rendered(
        &app,
        audio_id,
        json!({"background": "stock", "preview": true}),
    )
    .await;
    assert_eq!(video["output"]["background"], "clips", "{video:#}");
}

#[tokio::test]
async fn a_spent_rate_limit_is_not_called_again_until_its_reset() {
    let server = MockServer::start().await;
    let app = app_with_stock(&server, false, true).await;
    let (_, audio) = voiced(&app).await;
    let audio_id = audio["id"].as_str().unwrap();
    search_words(&app, &audio, json!([["sunrise"], ["mountain"]])).await;
    // Pixabay tells the seconds left in the window.
    Mock::given(method("GET"))
        .and(path("/videos/"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-RateLimit-Limit", "100")
                .insert_header("X-RateLimit-Remaining", "0")
                .insert_header("X-RateLimit-Reset", "3600")
                .set_body_string("You have exceeded the rate limit."),
        )
        .expect(1)
        .mount(&server)
        .await;
    for _ in 0..2 {
        let (video, _) = rendered(&app, audio_id, json!({"preview": true})).await;
        assert_eq!(video["output"]["background"], "generated", "{video:#}");
        let note = video["output"]["background_note"].as_str().unwrap();
        let until = note
            .strip_prefix("pixabay: pixabay's rate limit is spent until ")
            .unwrap_or_else(|| panic!("{note}"));
        // The hour the header gave, not a guess.
        let left = chrono::DateTime::parse_from_rfc3339(until)
            .unwrap()
            .timestamp()
            - chrono::Utc::now().timestamp();
        assert!((3500..=3600).contains(&left), "{note}");
    }
}

#[tokio::test]
async fn the_clients_honour_each_librarys_rate_limit_headers() {
    let server = MockServer::start().await;
    // Pexels: the reset is a UNIX time, and its 429 has no headers: the last reset stands.
    let reset = chrono::Utc::now().timestamp() + 120;
    Mock::given(method("GET"))
        .and(path("/videos/search"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Ratelimit-Remaining", "1")
                .insert_header("X-Ratelimit-Reset", reset.to_string().as_str())
                .set_body_json(pexels_page(&server, 9, "red")),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/videos/search"))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(json!({"error": "Rate limit exceeded"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let pexels = Pexels(StockClient::new(
        &server.uri(),
        SecretString::from(PEXELS_KEY),
        Duration::from_secs(5),
    ));
    let found = pexels
        .search("sunrise", Orientation::Portrait)
        .await
        .unwrap();
    assert_eq!(found[0].author, "red author");
    assert_eq!(
        found[0].files.len(),
        1,
        "the HLS entry has no size: {found:?}"
    );
    let wait = |error: ProviderError| error.retry_after().expect("a wait").as_secs();
    let limited = wait(
        pexels
            .search("sunrise", Orientation::Portrait)
            .await
            .unwrap_err(),
    );
    assert!((100..=120).contains(&limited), "{limited}");
    // Spent: refused here, without a request (the 429 mock expects one call).
    let refused = wait(
        pexels
            .search("ocean", Orientation::Portrait)
            .await
            .unwrap_err(),
    );
    assert!((100..=120).contains(&refused), "{refused}");

    // Pixabay: the reset is seconds left; a bad key's answer never shows the key.
    let pixabay_server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/videos/"))
        .and(query_param("q", "bad"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_string(format!("[ERROR 400] Invalid API key {PIXABAY_KEY}")),
        )
        .mount(&pixabay_server)
        .await;
    Mock::given(method("GET"))
        .and(path("/videos/"))
        .and(query_param("q", "busy"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-RateLimit-Remaining", "0")
                .insert_header("X-RateLimit-Reset", "42"),
        )
        .expect(1)
        .mount(&pixabay_server)
        .await;
    let mut settings = crate::helpers::test_settings("postgres://unused");
    settings.providers.pixabay.api_key = Some(SecretString::from(PIXABAY_KEY));
    settings.register_secrets();
    let pixabay = Pixabay(StockClient::new(
        &pixabay_server.uri(),
        SecretString::from(PIXABAY_KEY),
        Duration::from_secs(5),
    ));
    let error = pixabay
        .search("bad", Orientation::Portrait)
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Fatal { .. }), "{error:?}");
    assert!(!error.to_string().contains(PIXABAY_KEY), "{error}");
    // Nothing listens on port 9: reqwest quotes the URL, key and all, in its error.
    let unreachable = Pixabay(StockClient::new(
        "http://127.0.0.1:9",
        SecretString::from(PIXABAY_KEY),
        Duration::from_secs(5),
    ));
    let error = unreachable
        .search("x", Orientation::Portrait)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("could not be reached") && !error.contains(PIXABAY_KEY),
        "{error}"
    );
    let limited = wait(
        pixabay
            .search("busy", Orientation::Portrait)
            .await
            .unwrap_err(),
    );
    assert!((40..=42).contains(&limited), "{limited}");
    assert!(pixabay.search("busy", Orientation::Portrait).await.is_err());
}

#[tokio::test]
async fn stock_options_and_search_words_are_checked_when_given() {
    let server = MockServer::start().await;
    let app = app_with_stock(&server, true, false).await;
    let (_, audio) = voiced(&app).await;
    let audio_id = audio["id"].as_str().unwrap();
    let videos = format!("/v1/audio/{audio_id}/videos");
    for (options, field, says) in [
        (
            json!({"stock_library": "pixabay"}),
            "options.stock_library",
            "configured here: pexels",
        ),
        (
            json!({"stock_library": "pexels", "background": "colour"}),
            "options.stock_library",
            "background: stock",
        ),
    ] {
        assert_refused(
            app.post(&videos, &json!({"provider": "local", "options": options})),
            field,
            says,
        )
        .await;
    }
    let script_id = audio["parent_id"].as_str().unwrap();
    let text = app.get_json(&format!("/v1/scripts/{script_id}")).await["output"]["text"].clone();
    for (lists, field, says) in [
        (
            json!([["рассвет"]]),
            "broll_keywords[0][0]",
            "must be English words",
        ),
        (
            json!([["a", "b", "c", "d"]]),
            "broll_keywords[0]",
            "at most 3 search terms",
        ),
        (
            json!([[], [], [], []]),
            "broll_keywords",
            "the text has 3, not 4",
        ),
    ] {
        assert_refused(
            app.patch(
                &format!("/v1/scripts/{script_id}"),
                &json!({"text": text, "broll_keywords": lists}),
            ),
            field,
            says,
        )
        .await;
    }

    // The writer gives search words when a library is configured, one list a sentence; an
    // edit keeps those of the sentences it left alone.
    let edited = app.get_json(&format!("/v1/scripts/{script_id}")).await;
    let transcript_id = edited["parent_id"].as_str().unwrap();
    let written = app
        .fake_step(&format!("/v1/transcripts/{transcript_id}/scripts"))
        .await;
    let script = app.get_json(&format!("/v1/scripts/{written}")).await;
    let text = script["output"]["text"].as_str().unwrap().to_owned();
    let sentences = reelforge::script::words::sentences(&text);
    assert_eq!(
        script["output"]["broll_keywords"].as_array().unwrap().len(),
        sentences.len(),
        "{script:#}"
    );
    assert_eq!(
        script["output"]["broll_keywords"][1],
        json!(["city street"])
    );
    let without_first = sentences[1..].join(" ");
    let response = app
        .patch(
            &format!("/v1/scripts/{written}"),
            &json!({ "text": without_first }),
        )
        .send()
        .await
        .unwrap();
    let shortened: Value = response.json().await.unwrap();
    assert_eq!(
        shortened["output"]["broll_keywords"][0],
        json!(["city street"])
    );

    // Without a library, `background: stock` is refused.
    let plain = spawn_app_with(|_| {}).await;
    let (_, audio) = voiced(&plain).await;
    assert_refused(
        plain.post(
            &format!("/v1/audio/{}/videos", audio["id"].as_str().unwrap()),
            &json!({"provider": "local", "options": {"background": "stock"}}),
        ),
        "options.background",
        "needs a stock library",
    )
    .await;
}
