//! Step 7 end to end: post words written and edited, accounts connected by pasted tokens and by
//! OAuth, and publications to Instagram, YouTube and TikTok stand-ins: resumed uploads, token
//! refresh, scheduling, cancel, limits, and a worker killed between every pair of calls posting
//! exactly once.

use std::time::Duration;

use base64::Engine;
use reelforge::{
    domain::publishing::{InstagramLogin, PostCopy, Privacy, PublicationRequest, TiktokMode},
    providers::{
        publish::{
            instagram::Instagram, sealed::Sealer, tiktok::TikTok, youtube::YouTube, Polling,
            Publisher, Upload,
        },
        ProviderError,
    },
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::{
    matchers::{body_string_contains, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::{
    assets::generated,
    graph::{Host, FB_TOKEN, IG_TOKEN, IG_USER},
    helpers::{
        assert_refused, send_problem, spawn_app, spawn_app_with, spawn_app_with_clock,
        MemoryCheckpoints, SseClient, TestApp, WorkerProcess,
    },
    platforms::{Platforms, TOKEN},
};

pub(crate) fn token_key() -> String {
    base64::engine::general_purpose::STANDARD.encode([42u8; 32])
}

/// An app whose platforms are `platforms`, with OAuth clients and a sealing key.
pub async fn publishing_app(platforms: &Platforms) -> TestApp {
    publishing_app_with(platforms, reelforge::clock::system(), |_| {}).await
}

/// An app whose platforms are `platforms`, reading `clock`, configured further by `configure`.
pub async fn publishing_app_with(
    platforms: &Platforms,
    clock: reelforge::clock::SharedClock,
    configure: impl FnOnce(&mut reelforge::config::Settings) + Send + 'static,
) -> TestApp {
    let uri = platforms.uri();
    let graph = platforms.graph.clone();
    spawn_app_with_clock(clock, move |s| {
        let p = &mut s.publishing;
        p.token_key = Some(SecretString::from(token_key()));
        p.public_base_url = Some("https://reels.example.com".into());
        graph.configure(&mut p.instagram);
        p.instagram.poll_interval_ms = 20;
        p.youtube.base_url = uri.clone();
        p.youtube.token_url = format!("{uri}/token");
        p.youtube.authorize_url = format!("{uri}/o/oauth2/v2/auth");
        p.youtube.client.id = Some("google-client".into());
        p.youtube.client.secret = Some(SecretString::from("google-secret-xyz"));
        p.youtube.chunk_bytes = 256 * 1024;
        p.tiktok.base_url = uri.clone();
        p.tiktok.client.id = Some("tt-client-key".into());
        p.tiktok.client.secret = Some(SecretString::from("tt-secret-xyz"));
        p.tiktok.poll_interval_ms = 20;
        configure(s);
    })
    .await
}

/// A 4 s, 30 fps vertical H.264/AAC MP4 of about half a megabyte: two YouTube chunks.
pub fn short_video() -> Vec<u8> {
    generated(
        "mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=360x640:r=30:d=4",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:d=4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "1200k",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "-movflags",
            "+faststart",
        ],
    )
}

/// A project with a finished (fake) video whose file is replaced by `video`; answers the
/// project id and the video id.
pub async fn video_with(app: &TestApp, video: &[u8]) -> (String, String) {
    let project = app
        .create_project(json!({"name": "publish", "language": "ru"}))
        .await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let ids = app.run_pipeline(&project_id).await;
    let video_id = ids[4].clone();
    let stored = app.get_json(&format!("/v1/videos/{video_id}")).await;
    let key = stored["output"]["key"].as_str().unwrap();
    std::fs::write(app.settings.media.root.join(key), video).unwrap();
    (project_id, video_id)
}

pub async fn connect(app: &TestApp, project_id: &str, platform: &str, extra: Value) -> String {
    let mut body =
        json!({"platform": platform, "name": format!("my {platform}"), "access_token": TOKEN});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let response = app
        .post(&format!("/v1/projects/{project_id}/accounts"), &body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let account: Value = response.json().await.unwrap();
    account["id"].as_str().unwrap().to_owned()
}

pub async fn write_post(app: &TestApp, video_id: &str, body: Value) -> Value {
    let post = app
        .finished_step(&format!("/v1/videos/{video_id}/posts"), body, "posts")
        .await;
    assert_eq!(post["status"], "succeeded", "{post:#}");
    post
}

pub async fn publish(app: &TestApp, video_id: &str, body: Value) -> Value {
    let response = app
        .post(&format!("/v1/videos/{video_id}/publications"), &body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

/// `video` with its words, published to a new Instagram account: the publication as answered,
/// then as it ended.
async fn posted_to_instagram(app: &TestApp, video: &[u8]) -> (Value, Value) {
    let (project_id, video_id) = video_with(app, video).await;
    write_post(app, &video_id, json!({"provider": "fake"})).await;
    let instagram = connect(
        app,
        &project_id,
        "instagram",
        json!({"external_id": IG_USER, "access_token": FB_TOKEN}),
    )
    .await;
    let publication = publish(app, &video_id, json!({"account_id": instagram})).await;
    let ended = finished(app, publication["id"].as_str().unwrap()).await;
    (publication, ended)
}

/// Google's answer to a code it takes.
fn google_grant() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": TOKEN, "refresh_token": "google-refresh-1", "expires_in": 3599,
        "scope": "https://www.googleapis.com/auth/youtube.upload", "token_type": "Bearer"
    }))
}

/// A connect link for `platform` in the project: answers its signed `state`.
async fn connect_link(app: &TestApp, project_id: &str, platform: &str) -> String {
    let link: Value = app
        .post(
            &format!("/v1/projects/{project_id}/accounts/authorize"),
            &json!({"platform": platform, "name": format!("{platform} channel")}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = reqwest::Url::parse(link["url"].as_str().unwrap()).unwrap();
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query["redirect_uri"],
        format!("https://reels.example.com/oauth/{platform}/callback")
    );
    query["state"].clone()
}

/// The platform sending the user back to the callback with `query`; the callback is outside
/// /v1, the redirect carries no bearer token.
fn callback(app: &TestApp, platform: &str, query: &[(&str, &str)]) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .get(app.url(&format!("/oauth/{platform}/callback")))
        .query(query)
}

/// Polls a publication until it has ended.
pub async fn finished(app: &TestApp, id: &str) -> Value {
    crate::helpers::eventually(
        "the publication to end",
        Duration::from_secs(60),
        || async { app.get_json(&format!("/v1/publications/{id}")).await },
        |publication| {
            matches!(
                publication["status"].as_str(),
                Some("published" | "failed" | "canceled")
            )
        },
    )
    .await
}

#[tokio::test]
async fn posts_are_written_checked_edited_and_carry_a_cover_frame() {
    let platforms = Platforms::start().await;
    let app = publishing_app(&platforms).await;
    let (_, video_id) = video_with(&app, &short_video()).await;
    let post = write_post(
        &app,
        &video_id,
        json!({"provider": "fake", "options": {"hashtags": ["#Мотивация"], "cover_offset_ms": 1500}}),
    )
    .await;
    assert_eq!(post["status"], "succeeded", "{post:#}");
    let output = &post["output"];
    assert_eq!(output["writer"], "model", "{output:#}");
    assert_eq!(output["language"], "ru");
    assert_eq!(
        output["hashtags"][0], "мотивация",
        "required tags come first, cleaned"
    );
    assert!(output["title"].as_str().unwrap().chars().count() <= 100);
    // The fake script is stock text, so the words carry its review; nothing else fails.
    assert_eq!(
        output["review_reasons"],
        json!(["the script the video speaks needs review first"]),
        "{output:#}"
    );
    assert_eq!(output["needs_review"], true);
    assert!(output["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["passed"] == true));
    assert_eq!(output["cover"]["offset_ms"], 1500);
    let post_id = post["id"].as_str().unwrap();
    let cover = app.download(&format!("/v1/posts/{post_id}/cover")).await;
    assert_eq!(&cover[..3], &[0xFF, 0xD8, 0xFF], "a JPEG");
    // The post's signed link opens the same frame where no token can be sent (`<img src>`).
    let post_now = app.get_json(&format!("/v1/posts/{post_id}")).await;
    let link = post_now["cover_content_url"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("/v1/posts/{post_id}/cover?expires=")),
        "{link}"
    );
    let opened = app.client.get(app.url(link)).send().await.unwrap();
    assert_eq!(opened.status(), 200);
    assert_eq!(opened.bytes().await.unwrap().to_vec(), cover);

    // A hand edit is checked again: `<>` breaks YouTube's title rule, so it needs review.
    let response = app
        .patch(
            &format!("/v1/posts/{post_id}"),
            &json!({"title": "Утро <новое>", "hashtags": ["утро", "#сила"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let edited: Value = response.json().await.unwrap();
    let output = &edited["output"];
    assert_eq!(output["writer"], "edited");
    assert_eq!(output["hashtags"], json!(["утро", "сила"]));
    assert_eq!(output["needs_review"], true);
    let failed: Vec<&str> = output["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["youtube_title_characters"]);
    assert_refused(
        app.patch(
            &format!("/v1/posts/{post_id}"),
            &json!({"hashtags": ["two words"]}),
        ),
        "hashtags[0]",
        "letters, digits",
    )
    .await;
    assert_refused(
        app.post(
            &format!("/v1/videos/{video_id}/posts"),
            &json!({"provider": "fake", "options": {"temperature": 3}}),
        ),
        "options.temperature",
        "",
    )
    .await;
}

#[tokio::test]
async fn a_model_is_asked_for_json_and_a_bad_answer_falls_back_for_review() {
    let openai = MockServer::start().await;
    let answer = |content: &str| {
        ResponseTemplate::new(200).set_body_json(json!({
            "id": "c1", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 200, "completion_tokens": 60, "total_tokens": 260}
        }))
    };
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("\"json_schema\""))
        .and(body_string_contains("\"strict\":true"))
        .respond_with(answer(
            &json!({"title": "Три привычки сильного утра", "caption": "Начните с одной. Сохраните, чтобы не забыть.", "hashtags": ["утро", "#привычки"]}).to_string(),
        ))
        .up_to_n_times(1)
        .mount(&openai)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(answer("Конечно! Вот пост: **Утро** 🔥"))
        .mount(&openai)
        .await;
    let base = format!("{}/v1", openai.uri());
    let app = spawn_app_with(move |s| {
        s.providers.openai.api.base_url = base;
        s.providers.openai.api.api_key = Some(SecretString::from("sk-test-openai"));
    })
    .await;
    let project = app
        .create_project(json!({"name": "words", "language": "ru"}))
        .await;
    let ids = app.run_pipeline(project["id"].as_str().unwrap()).await;
    let post = write_post(&app, &ids[4], json!({"provider": "openai"})).await;
    let output = &post["output"];
    assert_eq!(output["writer"], "model", "{output:#}");
    assert_eq!(output["title"], "Три привычки сильного утра");
    assert_eq!(output["hashtags"], json!(["утро", "привычки"]));
    assert_eq!(output["model"], "gpt-4o-mini");
    assert_eq!(output["usage"]["prompt_tokens"], 200);

    let post = write_post(&app, &ids[4], json!({"provider": "openai"})).await;
    let output = &post["output"];
    assert_eq!(output["writer"], "fallback", "{output:#}");
    assert_eq!(output["needs_review"], true);
    let reasons = output["review_reasons"].to_string();
    assert!(reasons.contains("not the JSON asked for"), "{reasons}");
    assert!(!output["title"].as_str().unwrap().is_empty());
    assert!(!output["caption"].as_str().unwrap().contains('🔥'));
}

#[tokio::test]
async fn pasted_tokens_are_sealed_never_shown_and_checked() {
    let platforms = Platforms::start().await;
    let app = publishing_app(&platforms).await;
    let project = app.create_project(json!({"name": "accounts"})).await;
    let project_id = project["id"].as_str().unwrap();
    let id = connect(
        &app,
        project_id,
        "instagram",
        json!({"external_id": IG_USER, "expires_in": 5_184_000}),
    )
    .await;
    let account = app.get_json(&format!("/v1/accounts/{id}")).await;
    assert_eq!(account["platform"], "instagram");
    assert_eq!(account["status"], "connected");
    assert_eq!(account["refreshable"], false);
    assert_eq!(account["instagram_login"], "facebook", "no `IG` prefix");
    assert!(!account.to_string().contains(TOKEN));
    let (sealed,): (Vec<u8>,) =
        sqlx::query_as("SELECT access_token FROM platform_accounts WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(!sealed.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()));
    let list = app
        .get_json(&format!("/v1/projects/{project_id}/accounts"))
        .await;
    assert_eq!(list["items"][0]["id"], id.as_str());

    assert_refused(
        app.post(
            &format!("/v1/projects/{project_id}/accounts"),
            &json!({"platform": "instagram", "name": "x", "access_token": "abc"}),
        ),
        "external_id",
        "user id",
    )
    .await;
    assert_refused(
        app.post(
            &format!("/v1/projects/{project_id}/accounts"),
            &json!({"platform": "youtube", "name": "x", "access_token": "a b"}),
        ),
        "access_token",
        "no spaces",
    )
    .await;
    assert_refused(
        app.post(
            &format!("/v1/projects/{project_id}/accounts"),
            &json!({"platform": "instagram", "name": "x", "external_id": IG_USER, "access_token": "abc", "refresh_token": "def"}),
        ),
        "refresh_token",
        "long-lived",
    )
    .await;
    let response = app
        .delete(&format!("/v1/accounts/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

/// Connects a pasted YouTube token to a new project of `app`; answers the account's id and the
/// token as the database holds it.
async fn connect_pasted(app: &TestApp, token: &str) -> (String, Vec<u8>) {
    let project = app.create_project(json!({"name": "out of the box"})).await;
    let response = app
        .post(
            &format!("/v1/projects/{}/accounts", project["id"].as_str().unwrap()),
            &json!({"platform": "youtube", "name": "channel", "access_token": token}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let account: Value = response.json().await.unwrap();
    let id = account["id"].as_str().unwrap().to_owned();
    let (sealed,): (Vec<u8>,) =
        sqlx::query_as("SELECT access_token FROM platform_accounts WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    (id, sealed)
}

#[tokio::test]
async fn without_a_configured_key_one_is_made_beside_the_media_and_kept_across_restarts() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    assert!(app.settings.publishing.token_key.is_none());
    let file = app.settings.media.root.join("publishing.token_key");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "readable by the service's user only");
    let key = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(key.trim())
            .unwrap()
            .len(),
        32
    );
    let sealer = Sealer::new(&SecretString::from(key.clone())).unwrap();

    // Connecting works out of the box, sealed under the kept key, which the database never holds.
    let (id, sealed) = connect_pasted(&app, "ya29-first-token").await;
    assert_eq!(
        sealer
            .open(&sealed, Uuid::parse_str(&id).unwrap().as_bytes())
            .unwrap()
            .expose_secret(),
        "ya29-first-token"
    );
    let dump: Vec<String> = sqlx::query_scalar(
        "SELECT to_jsonb(t)::text FROM (SELECT * FROM events) t
         UNION ALL SELECT to_jsonb(t)::text FROM (SELECT * FROM jobs) t
         UNION ALL SELECT to_jsonb(t)::text FROM (SELECT * FROM platform_accounts) t",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(dump.iter().all(|row| !row.contains(key.trim())));

    // The doctor says which key is used, and that several replicas need one configured.
    let doctor = |media: &reelforge::config::MediaSettings| {
        reelforge::publish::readiness(&app.settings.publishing, media)
            .into_iter()
            .find(|(what, _)| what == "token key")
            .unwrap()
            .1
    };
    let kept = doctor(&app.settings.media);
    assert!(kept.starts_with("kept in "), "{kept}");
    assert!(kept.contains(&file.display().to_string()), "{kept}");
    assert!(
        kept.contains("several replicas need one key configured on each"),
        "{kept}"
    );
    let mut elsewhere = app.settings.media.clone();
    elsewhere.root = std::env::temp_dir().join(format!("never-started-{}", Uuid::new_v4()));
    let none = doctor(&elsewhere);
    assert!(
        none.starts_with("not set: the first start makes one"),
        "{none}"
    );
    assert!(none.contains("REELFORGE__PUBLISHING__TOKEN_KEY"), "{none}");
    // A shared store's replicas have no one machine to keep a key on.
    elsewhere.store = reelforge::config::MediaStoreKind::S3;
    let shared = doctor(&elsewhere);
    assert!(
        shared.starts_with("not set: no account can be connected; with the s3 store"),
        "{shared}"
    );

    // Started again on the same media, it keeps the key: tokens sealed before still open, and new
    // ones are sealed with the same key.
    let again = app.second_instance(true).await;
    assert_eq!(std::fs::read_to_string(&file).unwrap(), key);
    let (id, sealed) = connect_pasted(&again, "ya29-second-token").await;
    assert_eq!(
        sealer
            .open(&sealed, Uuid::parse_str(&id).unwrap().as_bytes())
            .unwrap()
            .expose_secret(),
        "ya29-second-token"
    );
}

#[tokio::test]
async fn oauth_connects_accounts_and_refuses_forged_states() {
    let platforms = Platforms::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=google-code"))
        .and(body_string_contains("client_secret=google-secret-xyz"))
        .respond_with(google_grant())
        .expect(1)
        .mount(&platforms.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .and(body_string_contains("client_key=tt-client-key"))
        .and(body_string_contains("code=tt-code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": TOKEN, "refresh_token": "tt-refresh-1", "expires_in": 86400,
            "open_id": "open-123", "refresh_expires_in": 31536000, "scope": "video.publish", "token_type": "Bearer"
        })))
        .mount(&platforms.server)
        .await;
    let app = publishing_app(&platforms).await;
    let project = app.create_project(json!({"name": "oauth"})).await;
    let project_id = project["id"].as_str().unwrap();

    let mut connected = Vec::new();
    for (platform, code) in [("youtube", "google-code"), ("tiktok", "tt-code")] {
        let state = connect_link(&app, project_id, platform).await;
        let response = callback(&app, platform, &[("code", code), ("state", &state)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let account: Value = response.json().await.unwrap();
        assert_eq!(account["project_id"], project_id);
        assert_eq!(account["refreshable"], true);
        assert!(account["expires_at"].is_string());
        connected.push(account);
        assert_used_already(&app, platform, &[("code", code), ("state", &state)]).await;

        // A state for the other platform, or altered, is refused.
        let other = if platform == "youtube" {
            "tiktok"
        } else {
            "youtube"
        };
        let (status, problem) =
            send_problem(callback(&app, other, &[("code", code), ("state", &state)])).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (400, Some("invalid_oauth_state"))
        );
    }
    assert_eq!(connected[0]["name"], "youtube channel");
    assert_eq!(connected[1]["external_id"], "open-123");
    let forged = format!("{}x", "eyJ9.AAAA");
    let (status, _) = send_problem(callback(
        &app,
        "youtube",
        &[("code", "google-code"), ("state", forged.as_str())],
    ))
    .await;
    assert_eq!(status, 400);
    let (status, problem) = send_problem(app.post(
        &format!("/v1/projects/{project_id}/accounts/authorize"),
        &json!({"platform": "instagram", "name": "ig"}),
    ))
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("not_configured"))
    );
}

/// A callback with `query` is refused: its link was spent.
async fn assert_used_already(app: &TestApp, platform: &str, query: &[(&str, &str)]) {
    let (status, problem) = send_problem(callback(app, platform, query)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("invalid_oauth_state"))
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("used already"),
        "{problem}"
    );
}

/// Issue #27: a token exchange the platform could not answer leaves the connect link good, so
/// the user's retry connects the account; a refusal, or the user declining, spends it.
#[tokio::test]
async fn a_connect_link_is_spent_only_once_the_platform_has_answered_for_good() {
    let platforms = Platforms::start().await;
    // Google's token endpoint unavailable once, then granting the code.
    let google_code = || {
        Mock::given(method("POST"))
            .and(path("/token"))
            .and(body_string_contains("code=google-code"))
    };
    google_code()
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&platforms.server)
        .await;
    google_code()
        .respond_with(google_grant())
        .expect(1)
        .mount(&platforms.server)
        .await;
    // A code Google will not take: a definitive refusal.
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("code=stale-code"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(
                json!({"error": "invalid_grant", "error_description": "Bad Request"}),
            ),
        )
        .expect(1)
        .mount(&platforms.server)
        .await;
    let app = publishing_app(&platforms).await;
    let project = app.create_project(json!({"name": "oauth retry"})).await;
    let project_id = project["id"].as_str().unwrap();

    let state = connect_link(&app, project_id, "youtube").await;
    let query = [("code", "google-code"), ("state", state.as_str())];
    let (status, problem) = send_problem(callback(&app, "youtube", &query)).await;
    assert_eq!(status, 503, "{problem}");
    let retried = callback(&app, "youtube", &query).send().await.unwrap();
    assert_eq!(retried.status(), 201, "{}", retried.text().await.unwrap());
    let account: Value = retried.json().await.unwrap();
    let accounts = app
        .get_json(&format!("/v1/projects/{project_id}/accounts"))
        .await;
    assert_eq!(accounts["items"][0]["id"], account["id"], "{accounts:#}");
    assert_used_already(&app, "youtube", &query).await;

    let state = connect_link(&app, project_id, "youtube").await;
    let query = [("code", "stale-code"), ("state", state.as_str())];
    let (status, problem) = send_problem(callback(&app, "youtube", &query)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("account_reauthorization_needed")),
        "{problem}"
    );
    assert_used_already(&app, "youtube", &query).await;

    // The user declined; the platform's description, as it encodes it, quotes a token.
    let state = connect_link(&app, project_id, "youtube").await;
    let declined = format!(
        "/oauth/youtube/callback?error=access_denied&error_description=denied%20access_token%3Dtt9Zq8Wv7Xu6Rs5&state={state}"
    );
    let (status, problem) = send_problem(reqwest::Client::new().get(app.url(&declined))).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("provider_rejected"))
    );
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("access_denied") && !detail.contains("tt9Zq8Wv7Xu6Rs5"),
        "{detail}"
    );
    assert_used_already(&app, "youtube", &[("state", state.as_str())]).await;
    let accounts = app
        .get_json(&format!("/v1/projects/{project_id}/accounts"))
        .await;
    assert_eq!(accounts["items"].as_array().unwrap().len(), 1);
}

/// Issue #27: a pasted token that a platform quotes back in an error is masked by a worker
/// that never saw it pasted (after a restart, on another replica): it is registered with the
/// redactor the moment a job opens it, so it shows nowhere.
#[tokio::test]
async fn a_token_the_platform_quotes_is_masked_by_a_worker_that_only_opened_it() {
    const PASTED: &str = "act.Zr8Kq2Lw9Xv4Tn7Bp1Ym6Hd3Jc5Fg0Qs";
    let tiktok = MockServer::start().await;
    // TikTok's documented error envelope, `data` empty, its message quoting the token.
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "data": {},
            "error": {
                "code": "invalid_param",
                "message": format!("access token {PASTED} is not valid for this request"),
                "log_id": "20261206120000A1B2C3D4E5F6"
            }
        })))
        .mount(&tiktok)
        .await;
    let mut settings = crate::helpers::test_settings(&crate::helpers::fresh_database_url());
    settings.publishing.token_key = Some(SecretString::from(token_key()));
    let environment = [
        ("REELFORGE__PUBLISHING__TOKEN_KEY", token_key()),
        ("REELFORGE__PUBLISHING__TIKTOK__BASE_URL", tiktok.uri()),
        ("RUST_LOG", "info".to_owned()),
    ];
    // The token is pasted to this process; every job runs in another, which starts with
    // nothing in memory.
    let app = crate::helpers::start(settings, false).await;
    let log = app.settings.media.root.with_extension("worker.log");
    let _worker = WorkerProcess::spawn_logged(&["worker"], &app.settings, &environment, &log);
    let (project_id, video_id) = video_with(&app, &short_video()).await;
    write_post(&app, &video_id, json!({"provider": "fake"})).await;
    let account = connect(&app, &project_id, "tiktok", json!({"access_token": PASTED})).await;
    // Private: the app is unaudited by default, and TikTok takes only private posts from it.
    let publication = publish(
        &app,
        &video_id,
        json!({"account_id": account, "privacy": "private"}),
    )
    .await;
    let id = publication["id"].as_str().unwrap();
    let ended = finished(&app, id).await;
    assert_eq!(ended["status"], "failed", "{ended:#}");
    assert_eq!(ended["error"]["code"], "provider_rejected");
    let message = ended["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("invalid_param") && message.contains("[redacted]"),
        "the user sees why: {message}"
    );
    let job = app
        .wait_for_status(publication["job_id"].as_str().unwrap(), "failed")
        .await;
    let jobs = app.get_json("/v1/jobs").await;
    let mcp = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(&app.token)
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                "name": "get_publication", "arguments": {"publication_id": id}
            }}),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(mcp.contains("invalid_param"), "{mcp}");
    let mut sse = SseClient::connect(&app, &format!("?project_id={project_id}"), Some(0)).await;
    let stream = sse
        .until(Duration::from_secs(10), |f| f.event == "job.failed")
        .await
        .into_iter()
        .map(|f| format!("{} {}\n", f.event, f.data))
        .collect::<String>();
    assert!(stream.contains("publication.failed"), "{stream}");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut stored = String::new();
    for table in tables {
        let rows: Option<String> = sqlx::query_scalar(&format!(
            "SELECT string_agg(t::text, E'\\n') FROM \"{table}\" t"
        ))
        .fetch_one(&app.pool)
        .await
        .unwrap();
        stored.push_str(&rows.unwrap_or_default());
    }
    assert!(stored.contains("invalid_param"), "{stored}");
    let logged = crate::helpers::log_with(&log, "invalid_param", Duration::from_secs(10)).await;
    for (place, text) in [
        ("publication", ended.to_string()),
        ("job", job.to_string()),
        ("job list", jobs.to_string()),
        ("MCP get_publication", mcp),
        ("event stream", stream),
        ("database", stored),
        ("worker log", logged),
    ] {
        assert!(
            !text.contains(PASTED),
            "the {place} shows the token: {text}"
        );
    }
}

#[tokio::test]
async fn youtube_uploads_resume_after_an_interruption_and_declare_synthetic_media() {
    let platforms = Platforms::start().await;
    let app = publishing_app(&platforms).await;
    let video = short_video();
    assert!(
        video.len() > 256 * 1024,
        "two chunks at least: {}",
        video.len()
    );
    let (project_id, video_id) = video_with(&app, &video).await;
    write_post(&app, &video_id, json!({"provider": "fake"})).await;
    let account = connect(&app, &project_id, "youtube", json!({})).await;
    platforms.state().yt_fail_next_chunk = true;
    let at = (chrono::Utc::now() + chrono::Duration::days(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let publication = publish(
        &app,
        &video_id,
        json!({"account_id": account, "privacy": "public", "schedule_at": at}),
    )
    .await;
    assert_eq!(publication["status"], "scheduled");
    let done = finished(&app, publication["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "published", "{done:#}");
    assert_eq!(done["post_id"], "yt1");
    assert_eq!(done["post_url"], "https://www.youtube.com/shorts/yt1");
    assert_eq!(done["outcome"], "scheduled", "YouTube holds it until then");
    assert_eq!(done["published_at"].as_str().unwrap()[..16], at[..16]);
    {
        let state = platforms.state();
        assert_eq!(state.yt_sessions.len(), 1, "one session, resumed");
        assert_eq!(state.yt_sessions[0].0, video, "every byte once, in order");
        let start = &state.yt_start_bodies[0];
        assert_eq!(start["status"]["containsSyntheticMedia"], true);
        assert_eq!(
            start["status"]["privacyStatus"], "private",
            "publishAt needs private"
        );
        assert_eq!(start["status"]["publishAt"], at.as_str());
        assert_eq!(start["status"]["selfDeclaredMadeForKids"], false);
        assert!(start["snippet"]["description"]
            .as_str()
            .unwrap()
            .contains('#'));
    }

    // Interrupted, then the session expired: a new session uploads the whole video, once.
    platforms.state().yt_fail_next_chunk = true;
    platforms.state().yt_expire_next_query = true;
    let second = connect(
        &app,
        &project_id,
        "youtube",
        json!({"name": "second channel"}),
    )
    .await;
    let again = publish(&app, &video_id, json!({"account_id": second})).await;
    let again = finished(&app, again["id"].as_str().unwrap()).await;
    assert_eq!(again["status"], "published", "{again:#}");
    assert_eq!(again["outcome"], "posted");
    {
        let state = platforms.state();
        let made: Vec<bool> = state.yt_sessions.iter().map(|(_, done)| *done).collect();
        assert_eq!(made, [true, false, true]);
        assert_eq!(state.yt_sessions[2].0, video);
    }
    // YouTube's schedule makes a video public, so only public ones are scheduled.
    let third = connect(
        &app,
        &project_id,
        "youtube",
        json!({"name": "third channel"}),
    )
    .await;
    assert_refused(
        app.post(
            &format!("/v1/videos/{video_id}/publications"),
            &json!({"account_id": third, "privacy": "private", "schedule_at": at}),
        ),
        "privacy",
        "becomes public",
    )
    .await;
}

#[tokio::test]
async fn instagram_and_tiktok_post_once_with_their_flags_and_limits() {
    let platforms = Platforms::start().await;
    let app = publishing_app(&platforms).await;
    let video = short_video();
    let (project_id, video_id) = video_with(&app, &video).await;
    write_post(&app, &video_id, json!({"provider": "fake"})).await;
    let instagram = connect(
        &app,
        &project_id,
        "instagram",
        json!({"external_id": IG_USER, "access_token": FB_TOKEN}),
    )
    .await;
    let tiktok = connect(&app, &project_id, "tiktok", json!({})).await;

    let ig = publish(
        &app,
        &video_id,
        json!({"account_id": instagram, "share_to_feed": false}),
    )
    .await;
    let ig = finished(&app, ig["id"].as_str().unwrap()).await;
    assert_eq!(ig["status"], "published", "{ig:#}");
    assert_eq!(ig["post_id"], "m1");
    assert_eq!(ig["outcome"], "posted");
    assert_eq!(ig["post_url"], "https://www.instagram.com/reel/SC1/");
    {
        let state = platforms.graph.state();
        assert_eq!((state.containers.len(), state.media_publishes()), (1, 1));
        assert_eq!(state.uploads(), [video.len()]);
        assert_eq!(
            state.versions,
            ["v25.0".to_owned()].into(),
            "the default version"
        );
        let create = &state.create_bodies[0];
        for field in [
            "media_type=REELS",
            "upload_type=resumable",
            "is_ai_generated=true",
            "share_to_feed=false",
        ] {
            assert!(create.contains(field), "{field} in {create}");
        }
    }

    let tt = publish(
        &app,
        &video_id,
        json!({"account_id": tiktok, "privacy": "private"}),
    )
    .await;
    let tt = finished(&app, tt["id"].as_str().unwrap()).await;
    assert_eq!(tt["status"], "published", "{tt:#}");
    // TikTok never gives a private (`SELF_ONLY`) post a public id, so it has no link.
    assert_eq!(
        (&tt["post_id"], &tt["post_url"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(tt["outcome"], "posted");
    // One live post per video and account: a second is refused, naming the first.
    let (status, problem) = send_problem(app.post(
        &format!("/v1/videos/{video_id}/publications"),
        &json!({"account_id": tiktok, "privacy": "private"}),
    ))
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("already_published"))
    );
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains(tt["id"].as_str().unwrap()));
    let drafts = connect(&app, &project_id, "tiktok", json!({"name": "drafts"})).await;
    let inbox = publish(
        &app,
        &video_id,
        json!({"account_id": drafts, "tiktok_mode": "inbox"}),
    )
    .await;
    let inbox = finished(&app, inbox["id"].as_str().unwrap()).await;
    assert_eq!(
        (inbox["status"].as_str(), inbox["outcome"].as_str()),
        (Some("published"), Some("inbox"))
    );
    {
        let state = platforms.state();
        assert_eq!(state.tt_inits.len(), 2);
        assert_eq!(state.tt_inits[0].0, video);
        let init = &state.tt_init_bodies[0];
        assert_eq!(init["post_info"]["privacy_level"], "SELF_ONLY");
        assert_eq!(init["post_info"]["is_aigc"], true);
        assert_eq!(init["source_info"]["source"], "FILE_UPLOAD");
        assert_eq!(init["source_info"]["total_chunk_count"], 1);
        assert!(init["post_info"]["title"].as_str().unwrap().contains('#'));
        assert!(
            state.tt_init_bodies[1]["post_info"].is_null(),
            "the inbox takes only the file"
        );
    }
    // The reply to the last chunk is lost: the retry asks TikTok, finds every byte there, and
    // waits for that post instead of uploading it again.
    platforms.state().tt_fail_next_chunk = true;
    let third = connect(&app, &project_id, "tiktok", json!({"name": "third"})).await;
    let lost = publish(
        &app,
        &video_id,
        json!({"account_id": third, "privacy": "private"}),
    )
    .await;
    let lost = finished(&app, lost["id"].as_str().unwrap()).await;
    assert_eq!(lost["status"], "published", "{lost:#}");
    assert_eq!(
        platforms.state().tt_inits.len(),
        3,
        "one upload for it, resumed"
    );
    let events: Vec<(String,)> = sqlx::query_as(
        "SELECT kind FROM events WHERE resource_type = 'publication' AND resource_id = $1::uuid ORDER BY id",
    )
    .bind(tt["id"].as_str().unwrap())
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let kinds: Vec<&str> = events.iter().map(|(k,)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "publication.scheduled",
            "publication.uploading",
            "publication.processing",
            "publication.published"
        ]
    );

    // What each platform refuses is refused by name before anything is sent.
    assert_refused(
        app.post(
            &format!("/v1/videos/{video_id}/publications"),
            &json!({"account_id": instagram, "privacy": "private"}),
        ),
        "privacy",
        "instagram takes public",
    )
    .await;
    assert_refused(
        app.post(
            &format!("/v1/videos/{video_id}/publications"),
            &json!({"account_id": tiktok, "privacy": "private", "share_to_feed": true}),
        ),
        "share_to_feed",
        "Instagram",
    )
    .await;
    assert_refused(
        app.post(
            &format!("/v1/videos/{video_id}/publications"),
            &json!({"account_id": tiktok, "privacy": "private", "copy": {"title": "Т", "caption": "я".repeat(2201), "hashtags": []}}),
        ),
        "copy.caption",
        "tiktok_title_length",
    )
    .await;
    // TikTok has not audited the app (the default): only private direct posts are asked for.
    for privacy in [json!("friends"), json!("public"), Value::Null] {
        assert_refused(
            app.post(
                &format!("/v1/videos/{video_id}/publications"),
                &json!({"account_id": drafts, "privacy": privacy}),
            ),
            "privacy",
            "has not audited",
        )
        .await;
    }
}

#[tokio::test]
async fn a_video_outside_the_limits_fails_naming_the_limit() {
    let platforms = Platforms::start().await;
    let app = publishing_app(&platforms).await;
    // Four frames a second: fine for YouTube, under Instagram's 23.
    let slow = generated(
        "mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=360x640:r=4:d=4",
            "-f",
            "lavfi",
            "-i",
            "sine=d=4",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ],
    );
    let (_, failed) = posted_to_instagram(&app, &slow).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], "platform_limit");
    assert!(failed["error"]["message"]
        .as_str()
        .unwrap()
        .contains("23 to 60 frames a second; the video has 4.00"));
    assert!(
        platforms.graph.state().containers.is_empty(),
        "nothing was sent"
    );
}

#[tokio::test]
async fn refused_tokens_are_refreshed_once_and_a_revoked_grant_asks_for_reauthorization() {
    let platforms = Platforms::start().await;
    // TikTok rotates refresh tokens: the first refresh gives the good token and a new refresh
    // token; refreshing with the old one again would be refused.
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .and(body_string_contains("refresh_token=tt-refresh-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": TOKEN, "refresh_token": "tt-refresh-2", "expires_in": 86400, "open_id": "o"
        })))
        .expect(1)
        .mount(&platforms.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant", "error_description": "Token has been expired or revoked."
        })))
        .mount(&platforms.server)
        .await;
    let app = publishing_app(&platforms).await;
    let (project_id, video_id) = video_with(&app, &short_video()).await;
    write_post(&app, &video_id, json!({"provider": "fake"})).await;
    let tiktok = connect(
        &app,
        &project_id,
        "tiktok",
        json!({"access_token": "stale-token-1", "refresh_token": "tt-refresh-1"}),
    )
    .await;
    let tt = publish(
        &app,
        &video_id,
        json!({"account_id": tiktok, "privacy": "private"}),
    )
    .await;
    let tt = finished(&app, tt["id"].as_str().unwrap()).await;
    assert_eq!(tt["status"], "published", "{tt:#}");
    let account = app.get_json(&format!("/v1/accounts/{tiktok}")).await;
    assert_eq!(account["status"], "connected");
    assert!(account["expires_at"].is_string());

    // A token about to expire is renewed before it is used.
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("refresh_token=google-fresh-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": TOKEN, "expires_in": 3599, "scope": "youtube.upload", "token_type": "Bearer"
        })))
        .with_priority(1)
        .expect(1)
        .mount(&platforms.server)
        .await;
    let expiring = connect(
        &app,
        &project_id,
        "youtube",
        json!({"access_token": "expiring-token-1", "refresh_token": "google-fresh-1", "expires_in": 60}),
    )
    .await;
    let fresh = publish(&app, &video_id, json!({"account_id": expiring})).await;
    let fresh = finished(&app, fresh["id"].as_str().unwrap()).await;
    assert_eq!(fresh["status"], "published", "{fresh:#}");
    let sent_expiring = platforms
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .any(|r| {
            r.headers
                .get("authorization")
                .is_some_and(|v| v.as_bytes().ends_with(b"expiring-token-1"))
        });
    assert!(!sent_expiring, "the expiring token was never sent");
    let account = app.get_json(&format!("/v1/accounts/{expiring}")).await;
    let expires: chrono::DateTime<chrono::Utc> =
        account["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        expires > chrono::Utc::now() + chrono::Duration::minutes(50),
        "{account}"
    );

    let youtube = connect(
        &app,
        &project_id,
        "youtube",
        json!({"access_token": "revoked-token-1", "refresh_token": "google-refresh-1"}),
    )
    .await;
    let yt = publish(&app, &video_id, json!({"account_id": youtube})).await;
    let yt = finished(&app, yt["id"].as_str().unwrap()).await;
    assert_eq!(yt["status"], "failed");
    assert_eq!(
        yt["error"]["code"], "account_reauthorization_needed",
        "{yt:#}"
    );
    assert!(!yt.to_string().contains("google-refresh-1"));
    let account = app.get_json(&format!("/v1/accounts/{youtube}")).await;
    assert_eq!(account["status"], "reauthorization_needed");
    assert!(account["status_reason"]
        .as_str()
        .unwrap()
        .contains("invalid_grant"));
    let (status, problem) = send_problem(app.post(
        &format!("/v1/videos/{video_id}/publications"),
        &json!({"account_id": youtube}),
    ))
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("account_not_connected"))
    );
    assert_eq!(
        platforms.state().yt_sessions.len(),
        1,
        "only the renewed account's"
    );
}

#[tokio::test]
async fn scheduled_publications_wait_their_time_and_can_be_canceled_until_then() {
    let platforms = Platforms::start().await;
    let app = publishing_app(&platforms).await;
    let (project_id, video_id) = video_with(&app, &short_video()).await;
    write_post(&app, &video_id, json!({"provider": "fake"})).await;
    let tiktok = connect(&app, &project_id, "tiktok", json!({})).await;
    let at = chrono::Utc::now() + chrono::Duration::hours(2);
    let later = publish(
        &app,
        &video_id,
        json!({"account_id": tiktok, "schedule_at": at, "privacy": "private"}),
    )
    .await;
    let other = connect(&app, &project_id, "tiktok", json!({"name": "other"})).await;
    let keep = publish(
        &app,
        &video_id,
        json!({"account_id": other, "schedule_at": at, "privacy": "private"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let waiting = app
        .get_json(&format!(
            "/v1/publications/{}",
            later["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(waiting["status"], "scheduled");
    assert!(
        platforms.state().tt_inits.is_empty(),
        "nothing is sent before its time"
    );

    let response = app
        .post(
            &format!("/v1/publications/{}/cancel", later["id"].as_str().unwrap()),
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let canceled: Value = response.json().await.unwrap();
    assert_eq!(canceled["status"], "canceled");
    let job = app
        .get_json(&format!("/v1/jobs/{}", later["job_id"].as_str().unwrap()))
        .await;
    assert_eq!(job["status"], "canceled");

    // Its time comes (the queue's clock is the database's: move the job's time instead).
    sqlx::query("UPDATE jobs SET run_at = now() WHERE id = $1::uuid")
        .bind(keep["job_id"].as_str().unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    let posted = finished(&app, keep["id"].as_str().unwrap()).await;
    assert_eq!(posted["status"], "published");
    assert_eq!(platforms.state().tt_inits.len(), 1);
    let (status, problem) = send_problem(app.post(
        &format!("/v1/publications/{}/cancel", keep["id"].as_str().unwrap()),
        &json!({}),
    ))
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("publication_not_cancelable"))
    );
    assert_refused(
        app.post(
            &format!("/v1/videos/{video_id}/publications"),
            &json!({"account_id": tiktok, "privacy": "private", "schedule_at": chrono::Utc::now() - chrono::Duration::hours(1)}),
        ),
        "schedule_at",
        "at least a minute",
    )
    .await;
}

pub fn request(mode: TiktokMode) -> PublicationRequest {
    PublicationRequest {
        copy: PostCopy {
            title: "Утро".into(),
            caption: "Начните сегодня.".into(),
            hashtags: vec!["утро".into()],
        },
        post_id: None,
        privacy: Privacy::Public,
        schedule_at: None,
        tiktok_mode: mode,
        share_to_feed: true,
        cover_offset_ms: None,
        ai_generated: true,
    }
}

/// One video to post with `token` (an Instagram account's login read from it, as when it is
/// connected), as the job hands it to a publisher.
fn upload<'a>(
    file: &'a std::path::Path,
    request: &'a PublicationRequest,
    token: &'a SecretString,
    video_url: Option<&'a str>,
) -> Upload<'a> {
    Upload {
        video: file,
        size_bytes: std::fs::metadata(file).unwrap().len(),
        duration_ms: 4_000,
        request,
        access_token: token,
        external_id: Some(IG_USER),
        video_url,
        instagram_login: Some(InstagramLogin::of_token(token.expose_secret())),
        last_attempt: false,
        now: chrono::Utc::now(),
    }
}

/// Runs `publisher` killed as soon as the stand-ins have received `kill_after` requests (their
/// answers are delayed, so the kill lands between the platform acting and the checkpoint),
/// then again to the end; answers what the second run posted.
async fn killed_then_resumed(
    publisher: &dyn Publisher,
    platforms: &Platforms,
    upload: &Upload<'_>,
    kill_after: usize,
) -> reelforge::providers::publish::Posted {
    let checkpoints = MemoryCheckpoints::default();
    let call = checkpoints.call();
    let watch = async {
        while platforms.received().await < kill_after {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        _ = publisher.publish(upload, &call) => {}
        _ = watch => {}
    }
    // A wait (TikTok's moderation) is the job coming back later: run again until posted.
    for _ in 0..5 {
        match publisher.publish(upload, &call).await {
            Ok(posted) => return posted,
            Err(ProviderError::Retryable { .. }) => continue,
            Err(error) => panic!("{error}"),
        }
    }
    panic!("not posted after five resumptions")
}

fn instagram_settings(graph: &crate::graph::Graph) -> reelforge::config::InstagramSettings {
    let mut settings = reelforge::config::InstagramSettings {
        poll_interval_ms: 10,
        poll_attempts: 50,
        ..Default::default()
    };
    graph.configure(&mut settings);
    settings
}

#[tokio::test]
async fn a_worker_killed_between_any_two_calls_posts_exactly_once() {
    let video = short_video();
    let file = std::env::temp_dir().join(format!(
        "reelforge-kill-{}.mp4",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&file, &video).unwrap();
    let polling = Polling {
        interval: Duration::from_millis(10),
        attempts: 50,
    };
    let delay = Duration::from_millis(60);
    let timeout = Duration::from_secs(30);
    let request = request(TiktokMode::Direct);
    let (token, fb, ig) = (
        SecretString::from(TOKEN),
        SecretString::from(FB_TOKEN),
        SecretString::from(IG_TOKEN),
    );
    // Instagram, Facebook Login: quota, container, upload, two polls, publish, permalink.
    // Instagram Login: the same on its own host, a link instead of the upload.
    for (token, link, calls) in [
        (&fb, None, 7),
        (&ig, Some("https://reels.example.com/v.mp4"), 6),
    ] {
        for kill_after in 1..=calls {
            let platforms = Platforms::start_with_delay(delay).await;
            let instagram = Instagram::new(&instagram_settings(&platforms.graph), timeout);
            let upload = upload(&file, &request, token, link);
            let posted = killed_then_resumed(&instagram, &platforms, &upload, kill_after).await;
            let state = platforms.graph.state();
            assert_eq!(
                state.media_publishes(),
                1,
                "instagram, killed after call {kill_after}"
            );
            assert_eq!(state.publish_calls.len(), 1, "{:?}", state.publish_calls);
            let hosts: Vec<_> = state.containers.values().map(|c| c.host).collect();
            let expected = Some(if link.is_some() {
                Host::Instagram
            } else {
                Host::Facebook
            });
            assert!(hosts.iter().all(|h| *h == expected), "{hosts:?}");
            // Killed after `media_publish` reached Meta but before its answer was read: the
            // container says PUBLISHED, and the media id (so the link) is unknown.
            if kill_after != calls - 1 {
                assert_eq!(
                    posted.post_id.as_deref(),
                    Some("m1"),
                    "killed after {kill_after}"
                );
                assert_eq!(
                    posted.url.as_deref(),
                    Some("https://www.instagram.com/reel/SC1/")
                );
            }
        }
    }
    // Instagram, the first container expiring: its replacement is checkpointed before it is
    // polled, and the expired one is never published.
    for kill_after in 1..=12 {
        let platforms = Platforms::start_with_delay(delay).await;
        platforms.graph.state().fates = vec![crate::graph::Fate::Expired].into();
        let instagram = Instagram::new(&instagram_settings(&platforms.graph), timeout);
        let upload = upload(&file, &request, &fb, None);
        killed_then_resumed(&instagram, &platforms, &upload, kill_after).await;
        let state = platforms.graph.state();
        assert_eq!(state.publish_calls.len(), 1, "killed after {kill_after}");
        assert_ne!(state.publish_calls, ["c1"], "killed after {kill_after}");
    }
    // YouTube: the session, then two chunks.
    for kill_after in 1..=3 {
        let platforms = Platforms::start_with_delay(delay).await;
        let youtube = YouTube::new(&platforms.uri(), 256 * 1024, timeout);
        let upload = upload(&file, &request, &token, None);
        let posted = killed_then_resumed(&youtube, &platforms, &upload, kill_after).await;
        let state = platforms.state();
        let videos: Vec<_> = state.yt_sessions.iter().filter(|(_, done)| *done).collect();
        assert_eq!(videos.len(), 1, "youtube, killed after call {kill_after}");
        assert_eq!(videos[0].0, video);
        assert!(posted.post_id.is_some());
    }
    // TikTok: creator info, init, the chunk, then status polls; with moderation, a status
    // without the post id (a wait), then another with it.
    for (moderation, kill_after) in (1..=4).map(|k| (0, k)).chain((1..=5).map(|k| (1, k))) {
        let platforms = Platforms::start_with_delay(delay).await;
        platforms.state().tt_moderation_polls = moderation;
        let tiktok = TikTok::new(&platforms.uri(), 10 << 20, polling, timeout);
        let upload = upload(&file, &request, &token, None);
        let posted = killed_then_resumed(&tiktok, &platforms, &upload, kill_after).await;
        let state = platforms.state();
        let complete = state
            .tt_inits
            .iter()
            .filter(|(bytes, size)| bytes.len() as u64 == *size)
            .count();
        assert_eq!(
            complete,
            1,
            "tiktok, moderated {moderation}, killed after call {kill_after}: {:?}",
            state
                .tt_inits
                .iter()
                .map(|(b, s)| (b.len(), *s))
                .collect::<Vec<_>>()
        );
        assert!(posted.post_id.is_some());
    }
    std::fs::remove_file(file).unwrap();
}

#[tokio::test]
async fn a_run_can_end_by_writing_the_post_and_publishing_each_reel() {
    let platforms = Platforms::start().await;
    let app = publishing_app(&platforms).await;
    let project = app
        .create_project(json!({"name": "run and post", "language": "ru"}))
        .await;
    let project_id = project["id"].as_str().unwrap();
    let reels = app.collect_fake_reels(project_id, 1).await;
    let reel_id = reels[0]["id"].as_str().unwrap();
    // The fake render is four frames a second: YouTube takes it.
    let youtube = connect(&app, project_id, "youtube", json!({})).await;
    let other = app.create_project(json!({"name": "other"})).await;
    let foreign = connect(&app, other["id"].as_str().unwrap(), "tiktok", json!({})).await;
    assert_refused(
        app.post(
            &format!("/v1/projects/{project_id}/runs"),
            &json!({"reel_id": reel_id, "publish": {"account_ids": [foreign]}}),
        ),
        "publish.account_ids[0]",
        "no such account",
    )
    .await;

    // A dry run prices the post words too: the script (120 Russian words of 2 tokens) and the
    // post's instructions in, the post out.
    let tokens = |estimate: &Value, metric: &str| {
        estimate["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|line| line["metric"] == metric)
            .unwrap()["quantity"]
            .as_f64()
            .unwrap()
    };
    let mut estimates = Vec::new();
    for publish in [Value::Null, json!({"account_ids": [youtube]})] {
        let estimate: Value = app
            .post(
                &format!("/v1/projects/{project_id}/runs/estimate"),
                &json!({"reel_id": reel_id, "publish": publish}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        estimates.push(estimate);
    }
    assert_eq!(
        tokens(&estimates[1], "input_tokens") - tokens(&estimates[0], "input_tokens"),
        250.0 + 240.0
    );
    assert_eq!(
        tokens(&estimates[1], "output_tokens") - tokens(&estimates[0], "output_tokens"),
        160.0
    );
    let response = app
        .post(
            &format!("/v1/projects/{project_id}/runs"),
            &json!({"reel_id": reel_id, "publish": {"account_ids": [youtube], "privacy": "unlisted", "even_if_needs_review": true}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    let run: Value = response.json().await.unwrap();
    assert_eq!(
        run["input"]["publish"]["post_provider"], "fake",
        "settled at the start"
    );
    let run = crate::helpers::wait_for_run(&app, run["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let reel = &run["reels"][0];
    let steps: Vec<&str> = reel["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["transcribe", "rewrite", "voice", "render", "write_post"]
    );
    assert_eq!(run["progress"], 100);
    let publications = reel["publications"].as_array().unwrap();
    assert_eq!(publications.len(), 1, "{reel:#}");
    let publication = finished(&app, publications[0].as_str().unwrap()).await;
    assert_eq!(publication["status"], "published", "{publication:#}");
    assert_eq!(
        publication["request"]["post_id"],
        reel["steps"][4]["resource_id"]
    );
    assert_eq!(
        platforms.state().yt_start_bodies[0]["status"]["privacyStatus"],
        "unlisted"
    );
}

#[tokio::test]
async fn instagram_can_fetch_the_video_from_a_signed_expiring_link() {
    let platforms = Platforms::start().await;
    let app = publishing_app_with(&platforms, reelforge::clock::system(), |s| {
        s.publishing.instagram.source = reelforge::config::InstagramSource::Url;
    })
    .await;
    let video = short_video();
    let (publication, done) = posted_to_instagram(&app, &video).await;
    assert_eq!(done["status"], "published", "{done:#}");
    let body = platforms.graph.state().create_bodies[0].clone();
    assert!(
        platforms.graph.state().uploads().is_empty(),
        "no bytes were pushed"
    );
    assert!(!body.contains("upload_type"), "{body}");
    let link: String = reqwest::Url::parse(&format!("http://x/?{body}"))
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "video_url")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    let public = "https://reels.example.com";
    assert!(
        link.starts_with(&format!("{public}/media/publications/")),
        "{link}"
    );
    // The platform fetches it without a token.
    let local = link.replace(public, &app.address);
    let fetched = reqwest::get(&local).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), video);
    let altered = local.replace("expires=", "expires=9");
    assert_eq!(reqwest::get(&altered).await.unwrap().status(), 404);
    let other = local.replace(
        publication["id"].as_str().unwrap(),
        &uuid::Uuid::new_v4().to_string(),
    );
    assert_eq!(reqwest::get(&other).await.unwrap().status(), 404);
}

#[tokio::test]
async fn a_worker_process_killed_after_media_publish_leaves_exactly_one_post() {
    // Every platform answer takes a while, so the kill lands after Instagram has published and
    // before the worker has read the answer.
    let platforms = Platforms::start_with_delay(Duration::from_millis(1500)).await;
    let mut settings = crate::helpers::test_settings(&crate::helpers::fresh_database_url());
    settings.jobs.lease_seconds = 2;
    settings.publishing.token_key = Some(SecretString::from(token_key()));
    platforms
        .graph
        .configure(&mut settings.publishing.instagram);
    settings.publishing.instagram.poll_interval_ms = 20;
    let environment = [
        ("REELFORGE__PUBLISHING__TOKEN_KEY", token_key()),
        (
            "REELFORGE__PUBLISHING__INSTAGRAM__BASE_URL",
            settings.publishing.instagram.base_url.clone(),
        ),
        (
            "REELFORGE__PUBLISHING__INSTAGRAM__INSTAGRAM_BASE_URL",
            settings.publishing.instagram.instagram_base_url.clone(),
        ),
        (
            "REELFORGE__PUBLISHING__INSTAGRAM__POLL_INTERVAL_MS",
            "20".to_owned(),
        ),
    ];
    // The API without workers; every job runs in the worker process until it is killed.
    let app = crate::helpers::start(settings, false).await;
    let mut worker = crate::helpers::WorkerProcess::spawn(&app.settings, &environment);
    let (project_id, video_id) = video_with(&app, &short_video()).await;
    write_post(&app, &video_id, json!({"provider": "fake"})).await;
    let instagram = connect(
        &app,
        &project_id,
        "instagram",
        json!({"external_id": IG_USER, "access_token": FB_TOKEN}),
    )
    .await;
    let publication = publish(&app, &video_id, json!({"account_id": instagram})).await;
    crate::helpers::eventually(
        "media_publish to be called",
        Duration::from_secs(60),
        || async { platforms.graph.state().media_publishes() },
        |calls| *calls > 0,
    )
    .await;
    worker.kill();

    // A replica takes the job over once its lease runs out, reads the container's status
    // and records the post instead of publishing again.
    let replica = app.second_instance(true).await;
    let done = finished(&replica, publication["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "published", "{done:#}");
    let counts = {
        let state = platforms.graph.state();
        (state.containers.len(), state.publish_calls.len())
    };
    assert_eq!(counts, (1, 1));
    let job = replica
        .get_json(&format!(
            "/v1/jobs/{}",
            publication["job_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        job["attempts"], 2,
        "the second attempt finished it: {job:#}"
    );
}
