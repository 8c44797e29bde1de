//! What reelforge does with each answer TikTok and YouTube document: the stand-ins answer every
//! documented failure in its documented shape (TikTok's envelope with an empty `data` on every
//! endpoint, YouTube's `errors[0].reason`, rejected and failed uploads), and each test asserts
//! the publication's final state and error code, as the README's tables describe them.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use reelforge::{
    clock::ManualClock,
    domain::publishing::TiktokMode,
    providers::{
        publish::{youtube::YouTube, CoverCall, CoverReady, Publisher, Upload},
        CallContext, CheckpointStore,
    },
};
use secrecy::SecretString;
use serde_json::{json, Value};
use wiremock::{
    matchers::{body_string_contains, method, path},
    Mock, ResponseTemplate,
};

use crate::{
    helpers::{assert_refused, eventually, send_problem, MemoryCheckpoints, NoProgress, TestApp},
    platforms::{Platforms, TOKEN},
    publishing::{
        connect, finished, publish, publishing_app_with, request, short_video, video_with,
        write_post,
    },
};

/// 04:00 on a winter morning in California (UTC-8): YouTube's quota resets at 08:00 UTC the
/// next day. In the past, so the queue (on the database's clock) runs jobs planned "now".
const NOW: &str = "2026-12-06T12:00:00Z";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// An app on a clock standing at [`NOW`], its TikTok app audited; a finished video with its
/// words. Answers the app, the clock, the project and the video.
async fn setup(platforms: &Platforms) -> (TestApp, ManualClock, String, String) {
    let clock = ManualClock::new(at(NOW));
    let app = publishing_app_with(platforms, Arc::new(clock.clone()), |s| {
        s.publishing.tiktok.audited = true;
    })
    .await;
    let (project_id, video_id) = video_with(&app, &short_video()).await;
    write_post(&app, &video_id, json!({"provider": "fake"})).await;
    (app, clock, project_id, video_id)
}

/// Connects a new `platform` account named `name` and publishes the video to it with `body`.
async fn publish_to_new(
    app: &TestApp,
    (project_id, video_id): (&str, &str),
    platform: &str,
    name: &str,
    mut body: Value,
) -> Value {
    let account = connect(app, project_id, platform, json!({"name": name})).await;
    body["account_id"] = json!(account);
    publish(app, video_id, body).await
}

/// Makes a publication's queued job due now (the queue's clock is the database's), once its
/// worker has put it back.
async fn due_now(app: &TestApp, publication: &Value) {
    job_later_than(app, publication, 0).await;
    sqlx::query("UPDATE jobs SET run_at = now() WHERE id = $1::uuid AND status = 'queued'")
        .bind(publication["job_id"].as_str().unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
}

/// Polls a publication until it has ended, making each retry of its job due at once.
async fn ended_retrying(app: &TestApp, publication: &Value) -> Value {
    let id = publication["id"].as_str().unwrap();
    eventually(
        "the publication to end",
        Duration::from_secs(60),
        || async {
            due_now(app, publication).await;
            app.get_json(&format!("/v1/publications/{id}")).await
        },
        |now| {
            matches!(
                now["status"].as_str(),
                Some("published" | "failed" | "canceled")
            )
        },
    )
    .await
}

/// Polls a publication until it waits for `reason` until `until`.
async fn waiting(app: &TestApp, id: &str, reason: &str, until: &str) -> Value {
    publication_when(app, id, |now| {
        now["waiting"]["reason"] == reason && waits_until(&now["waiting"], until)
    })
    .await
}

/// Whether a `waiting` ends at `until`.
fn waits_until(waiting: &Value, until: &str) -> bool {
    waiting["until"]
        .as_str()
        .is_some_and(|u| at(u) == at(until))
}

/// Polls a publication until `done` says so of it.
async fn publication_when(app: &TestApp, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    eventually(
        "the publication to reach the state",
        Duration::from_secs(60),
        || async { app.get_json(&format!("/v1/publications/{id}")).await },
        done,
    )
    .await
}

/// Polls a publication until its cover is `status` (and, with `until`, waits until then).
async fn cover_is(app: &TestApp, id: &str, status: &str, until: Option<&str>) -> Value {
    publication_when(app, id, |now| {
        now["cover"]["status"] == status
            && until.is_none_or(|until| waits_until(&now["cover"]["waiting"], until))
    })
    .await
}

/// The job's attempts so far, those it has left, and whether it is queued for later than
/// `hours` from now, once its worker has put it back.
async fn job_later_than(app: &TestApp, publication: &Value, hours: i32) -> (i32, i32, bool) {
    loop {
        let (status, attempts, left, later): (String, i32, i32, bool) = sqlx::query_as(
            "SELECT status, attempts, max_attempts - attempts,
                    status = 'queued' AND run_at > now() + make_interval(hours => $2)
             FROM jobs WHERE id = $1::uuid",
        )
        .bind(publication["job_id"].as_str().unwrap())
        .bind(hours)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if status != "running" {
            return (attempts, left, later);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn every_documented_tiktok_answer_ends_as_documented() {
    let platforms = Platforms::start().await;
    let (app, _, project_id, video_id) = setup(&platforms).await;
    let ids = (project_id.as_str(), video_id.as_str());
    // Fatal: TikTok's code and message, once, no retry.
    for (n, (endpoint, code, expected)) in [
        (
            "init",
            "spam_risk_too_many_posts",
            "publish_quota_exhausted",
        ),
        (
            "init",
            "spam_risk_too_many_pending_share",
            "publish_quota_exhausted",
        ),
        ("init", "reached_active_user_cap", "publish_quota_exhausted"),
        (
            "init",
            "spam_risk_user_banned_from_posting",
            "provider_forbidden",
        ),
        (
            "init",
            "privacy_level_option_mismatch",
            "privacy_not_allowed",
        ),
        ("init", "invalid_param", "provider_rejected"),
        ("creator_info", "scope_not_authorized", "provider_forbidden"),
    ]
    .into_iter()
    .enumerate()
    {
        platforms.state().tt_failures.push((endpoint, code));
        let inits = platforms.state().tt_inits.len();
        let publication = publish_to_new(&app, ids, "tiktok", &format!("f{n}"), json!({})).await;
        let ended = finished(&app, publication["id"].as_str().unwrap()).await;
        assert_eq!(
            (ended["status"].as_str(), ended["error"]["code"].as_str()),
            (Some("failed"), Some(expected)),
            "{code}: {ended:#}"
        );
        let message = ended["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(code) && message.contains(&format!("TikTok says {code}")),
            "{message}"
        );
        assert_eq!(
            job_later_than(&app, &publication, 0).await.0,
            1,
            "{code}: tried once"
        );
        assert_eq!(
            platforms.state().tt_inits.len(),
            inits,
            "{code}: nothing uploaded"
        );
    }

    // The app was taken for audited and TikTok says it is not: failed once, saying what to set.
    platforms.state().tt_unaudited = true;
    let publication = publish_to_new(&app, ids, "tiktok", "unaudited", json!({})).await;
    let ended = finished(&app, publication["id"].as_str().unwrap()).await;
    assert_eq!(ended["error"]["code"], "provider_forbidden", "{ended:#}");
    let message = ended["error"]["message"].as_str().unwrap();
    assert!(message.contains("unaudited_client_can_only_post_to_private_accounts"));
    assert!(message.contains("REELFORGE__PUBLISHING__TIKTOK__AUDITED=false"));
    assert_eq!(job_later_than(&app, &publication, 0).await.0, 1);
    // ...while a private post goes through.
    let private = publish_to_new(
        &app,
        ids,
        "tiktok",
        "private",
        json!({"privacy": "private"}),
    )
    .await;
    let private = finished(&app, private["id"].as_str().unwrap()).await;
    assert_eq!(private["status"], "published", "{private:#}");
    platforms.state().tt_unaudited = false;

    // The creator's privacy options decide before anything is sent.
    let friends = publish_to_new(
        &app,
        ids,
        "tiktok",
        "friends",
        json!({"privacy": "friends"}),
    )
    .await;
    let friends = finished(&app, friends["id"].as_str().unwrap()).await;
    assert_eq!(
        friends["error"]["code"], "privacy_not_allowed",
        "{friends:#}"
    );
    assert!(friends["error"]["message"]
        .as_str()
        .unwrap()
        .contains("SELF_ONLY"));

    // Failed uploads: a check TikTok's processing failed is fatal, `internal` starts anew.
    platforms.state().tt_fail_reason = Some("duration_check_failed");
    let publication = publish_to_new(&app, ids, "tiktok", "long", json!({})).await;
    let ended = finished(&app, publication["id"].as_str().unwrap()).await;
    assert_eq!(ended["error"]["code"], "platform_limit", "{ended:#}");
    assert!(ended["error"]["message"]
        .as_str()
        .unwrap()
        .contains("duration_check_failed"));

    // Retried: rate limits and outages on any endpoint, and `internal` with a new upload.
    for (n, failure) in [
        Some(("creator_info", "rate_limit_exceeded")),
        Some(("init", "rate_limit_exceeded")),
        Some(("status", "internal_error")),
        None,
    ]
    .into_iter()
    .enumerate()
    {
        let inits = platforms.state().tt_inits.len();
        match failure {
            Some(failure) => platforms.state().tt_failures.push(failure),
            None => platforms.state().tt_fail_reason = Some("internal"),
        }
        let publication = publish_to_new(&app, ids, "tiktok", &format!("r{n}"), json!({})).await;
        let ended = ended_retrying(&app, &publication).await;
        assert_eq!(ended["status"], "published", "{failure:?}: {ended:#}");
        assert!(ended["post_url"]
            .as_str()
            .unwrap()
            .starts_with("https://www.tiktok.com/@anna/video/"));
        let uploads = platforms.state().tt_inits.len() - inits;
        assert_eq!(
            uploads,
            if failure.is_none() { 2 } else { 1 },
            "{failure:?}"
        );
    }
}

#[tokio::test]
async fn an_expired_tiktok_token_is_refreshed_at_video_init_in_the_inbox_flow() {
    let platforms = Platforms::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/token/"))
        .and(body_string_contains("refresh_token=tt-refresh-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": TOKEN, "refresh_token": "tt-refresh-2", "expires_in": 7200,
            "refresh_expires_in": 15552000, "open_id": "o"
        })))
        .expect(1)
        .mount(&platforms.server)
        .await;
    let (app, _, project_id, video_id) = setup(&platforms).await;
    let account = connect(
        &app,
        &project_id,
        "tiktok",
        json!({"access_token": "expired-token-1", "refresh_token": "tt-refresh-1"}),
    )
    .await;
    // The inbox skips `creator_info`: `video/init` is the first to refuse the token.
    let publication = publish(
        &app,
        &video_id,
        json!({"account_id": account, "tiktok_mode": "inbox"}),
    )
    .await;
    let ended = finished(&app, publication["id"].as_str().unwrap()).await;
    assert_eq!(
        (ended["status"].as_str(), ended["outcome"].as_str()),
        (Some("published"), Some("inbox")),
        "{ended:#}"
    );
    let refused = platforms
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/v2/post/publish/inbox/video/init/")
        .count();
    assert_eq!(refused, 2, "refused once, then sent with the new token");
}

#[tokio::test]
async fn a_public_tiktok_post_waits_for_moderation_for_its_link_at_most_a_day() {
    let platforms = Platforms::start().await;
    let (app, clock, project_id, video_id) = setup(&platforms).await;
    let ids = (project_id.as_str(), video_id.as_str());
    // Two answers without the id, then the id.
    platforms.state().tt_moderation_polls = 2;
    let publication = publish_to_new(&app, ids, "tiktok", "first", json!({})).await;
    let id = publication["id"].as_str().unwrap();
    let first = waiting(&app, id, "post_id", "2026-12-06T12:01:00Z").await;
    assert_eq!(first["status"], "processing");
    assert!(first["waiting"]["message"]
        .as_str()
        .unwrap()
        .contains("moderating"));
    assert_eq!(
        job_later_than(&app, &publication, 0).await,
        (1, 8, true),
        "queued for later, every attempt left"
    );
    // The post exists: its job is not canceled while it looks for the link.
    let (status, problem) = send_problem(app.post(
        &format!(
            "/v1/jobs/{}/cancel",
            publication["job_id"].as_str().unwrap()
        ),
        &json!({}),
    ))
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("job_not_active"))
    );
    due_now(&app, &publication).await;
    waiting(&app, id, "post_id", "2026-12-06T12:05:00Z").await;
    due_now(&app, &publication).await;
    let ended = finished(&app, id).await;
    assert_eq!(ended["status"], "published", "{ended:#}");
    assert_eq!(ended["post_id"], "7300000000000000001");
    assert_eq!(
        ended["post_url"],
        "https://www.tiktok.com/@anna/video/7300000000000000001"
    );
    assert!(ended["waiting"].is_null());
    assert_eq!(platforms.state().tt_inits.len(), 1, "posted once");

    // A day without an id: the post stands without a link.
    platforms.state().tt_moderation_polls = u32::MAX;
    let publication = publish_to_new(&app, ids, "tiktok", "other", json!({})).await;
    let id = publication["id"].as_str().unwrap();
    waiting(&app, id, "post_id", "2026-12-06T12:01:00Z").await;
    clock.advance(chrono::Duration::hours(25));
    due_now(&app, &publication).await;
    let ended = finished(&app, id).await;
    assert_eq!(
        (ended["status"].as_str(), ended["outcome"].as_str()),
        (Some("published"), Some("posted")),
        "{ended:#}"
    );
    assert!(ended["post_url"].is_null() && ended["waiting"].is_null());
    assert_eq!(platforms.state().tt_inits.len(), 2);
}

#[tokio::test]
async fn every_documented_youtube_answer_ends_as_documented() {
    let platforms = Platforms::start().await;
    let (app, _, project_id, video_id) = setup(&platforms).await;
    let ids = (project_id.as_str(), video_id.as_str());
    // The day's quota is used up: the publication waits for midnight Pacific time.
    platforms.state().yt_start_failures.push("quotaExceeded");
    let publication = publish_to_new(&app, ids, "youtube", "quota", json!({})).await;
    let id = publication["id"].as_str().unwrap();
    let waits = waiting(&app, id, "quota_reset", "2026-12-07T08:05:00Z").await;
    assert_eq!(waits["status"], "uploading");
    assert!(waits["waiting"]["message"]
        .as_str()
        .unwrap()
        .contains("midnight Pacific time"));
    assert_eq!(job_later_than(&app, &publication, 11).await, (1, 8, true));
    due_now(&app, &publication).await;
    let ended = finished(&app, id).await;
    assert_eq!(ended["status"], "published", "{ended:#}");
    assert!(ended["waiting"].is_null());

    // A final answer that is no post.
    for (status, reason, expected) in [
        ("rejected", "duplicate", "provider_rejected"),
        ("failed", "codec", "provider_job_failed"),
    ] {
        platforms.state().yt_upload_status = Some((status, reason));
        let publication = publish_to_new(&app, ids, "youtube", reason, json!({})).await;
        let ended = finished(&app, publication["id"].as_str().unwrap()).await;
        assert_eq!(
            (ended["status"].as_str(), ended["error"]["code"].as_str()),
            (Some("failed"), Some(expected)),
            "{ended:#}"
        );
        assert!(ended["error"]["message"].as_str().unwrap().contains(reason));
        assert!(ended["post_url"].is_null());
    }
    platforms.state().yt_upload_status = None;

    // Refusals at the start: fatal ones once, with YouTube's reason.
    for (reason, expected) in [
        ("uploadLimitExceeded", "publish_quota_exhausted"),
        ("forbidden", "provider_forbidden"),
        ("youtubeSignupRequired", "provider_forbidden"),
        ("invalidCategoryId", "provider_rejected"),
    ] {
        platforms.state().yt_start_failures.push(reason);
        let publication = publish_to_new(&app, ids, "youtube", reason, json!({})).await;
        let ended = finished(&app, publication["id"].as_str().unwrap()).await;
        assert_eq!(
            (ended["status"].as_str(), ended["error"]["code"].as_str()),
            (Some("failed"), Some(expected)),
            "{reason}: {ended:#}"
        );
        assert_eq!(job_later_than(&app, &publication, 0).await.0, 1, "{reason}");
    }
    // ...and retried ones until they pass.
    for reason in ["rateLimitExceeded", "userRateLimitExceeded", "backendError"] {
        platforms.state().yt_start_failures.push(reason);
        let publication = publish_to_new(&app, ids, "youtube", reason, json!({})).await;
        let ended = ended_retrying(&app, &publication).await;
        assert_eq!(ended["status"], "published", "{reason}: {ended:#}");
    }

    // `<` or `>` in the description: refused at the request, naming the field.
    let channel = connect(&app, &project_id, "youtube", json!({"name": "brackets"})).await;
    assert_refused(
        app.post(
            &format!("/v1/videos/{video_id}/publications"),
            &json!({"account_id": channel, "copy": {"title": "Утро", "caption": "люблю <3", "hashtags": []}}),
        ),
        "copy.caption",
        "youtube_description_characters",
    )
    .await;
}

#[tokio::test]
async fn youtube_refuses_a_description_with_angle_brackets_as_documented() {
    let platforms = Platforms::start().await;
    let file = std::env::temp_dir().join(format!(
        "reelforge-desc-{}.mp4",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&file, short_video()).unwrap();
    let mut request = request(TiktokMode::Direct);
    request.copy.caption = "люблю <3".into();
    let token = SecretString::from(TOKEN);
    let upload = Upload {
        video: &file,
        size_bytes: std::fs::metadata(&file).unwrap().len(),
        duration_ms: 4_000,
        request: &request,
        access_token: &token,
        external_id: None,
        video_url: None,
        instagram_login: None,
        last_attempt: false,
        now: at(NOW),
    };
    let checkpoints = MemoryCheckpoints::default();
    let call = checkpoints.call();
    let youtube = YouTube::new(&platforms.uri(), 256 * 1024, Duration::from_secs(30));
    let error = youtube.publish(&upload, &call).await.unwrap_err();
    assert_eq!(
        error.code().map(|c| c.as_str()),
        Some("provider_rejected"),
        "{error}"
    );
    assert!(error.to_string().contains("invalidDescription"), "{error}");
    assert!(platforms.state().yt_sessions.is_empty());
    std::fs::remove_file(file).unwrap();
}

#[tokio::test]
async fn a_youtube_cover_is_set_once_after_processing_and_never_holds_the_post_back() {
    let platforms = Platforms::start().await;
    let (app, clock, project_id, video_id) = setup(&platforms).await;
    let ids = (project_id.as_str(), video_id.as_str());
    // Processing takes two checks: the post is out at once, its cover waits.
    platforms.state().yt_processing_polls = 2;
    let publication = publish_to_new(&app, ids, "youtube", "cover", json!({})).await;
    let id = publication["id"].as_str().unwrap();
    let first = cover_is(&app, id, "pending", Some("2026-12-06T12:00:30Z")).await;
    assert_eq!(
        (first["status"].as_str(), first["post_url"].as_str()),
        (
            Some("published"),
            Some("https://www.youtube.com/shorts/yt1")
        ),
        "{first:#}"
    );
    assert_eq!(first["cover"]["waiting"]["reason"], "processing");
    assert!(
        first["waiting"].is_null(),
        "the post itself waits for nothing"
    );
    assert_eq!(job_later_than(&app, &publication, 0).await, (1, 8, true));
    due_now(&app, &publication).await;
    cover_is(&app, id, "pending", Some("2026-12-06T12:01:00Z")).await;
    due_now(&app, &publication).await;
    let applied = cover_is(&app, id, "applied", None).await;
    assert!(applied["cover"]["message"].is_null(), "{applied:#}");
    // The post's own cover frame, once, after processing.
    let post_id = applied["request"]["post_id"].as_str().unwrap();
    let cover = app.download(&format!("/v1/posts/{post_id}/cover")).await;
    {
        let state = platforms.state();
        assert_eq!(state.yt_thumbnails.len(), 1);
        let (video, bytes, content_type, processed) = &state.yt_thumbnails[0];
        assert_eq!(
            (video.as_str(), content_type.as_str()),
            ("yt1", "image/jpeg")
        );
        assert_eq!(bytes, &cover, "the stored cover's bytes");
        assert!(processed, "set after processing succeeded");
        assert_eq!(state.yt_list_calls["yt1"], 3);
    }

    // A cover offset of its own: a frame of the video there, still a JPEG.
    platforms.state().yt_processing_polls = 0;
    let publication = publish_to_new(
        &app,
        ids,
        "youtube",
        "offset",
        json!({"cover_offset_ms": 500}),
    )
    .await;
    cover_is(&app, publication["id"].as_str().unwrap(), "applied", None).await;
    let own = platforms.state().yt_thumbnails[1].1.clone();
    assert_eq!(&own[..3], &[0xFF, 0xD8, 0xFF]);
    assert_ne!(own, cover);

    // Processing that never ends: the cover gives up after four hours, the post stands.
    platforms.state().yt_processing_polls = u32::MAX;
    let publication = publish_to_new(&app, ids, "youtube", "slow", json!({})).await;
    let id = publication["id"].as_str().unwrap();
    cover_is(&app, id, "pending", Some("2026-12-06T12:00:30Z")).await;
    clock.advance(chrono::Duration::hours(5));
    due_now(&app, &publication).await;
    let failed = cover_is(&app, id, "failed", None).await;
    assert_eq!(failed["status"], "published");
    assert!(failed["cover"]["message"]
        .as_str()
        .unwrap()
        .contains("after 4 hours"));
    assert_eq!(platforms.state().yt_thumbnails.len(), 2);
}

#[tokio::test]
async fn every_documented_youtube_thumbnail_answer_ends_as_documented() {
    let platforms = Platforms::start().await;
    let (app, _, project_id, video_id) = setup(&platforms).await;
    let ids = (project_id.as_str(), video_id.as_str());
    // Processing failed or was terminated: no thumbnail, the post stands.
    for (end, reason) in [("failed", "transcodeFailed"), ("terminated", "other")] {
        platforms.state().yt_processing_end = Some((end, reason));
        let publication = publish_to_new(&app, ids, "youtube", end, json!({})).await;
        let ended = cover_is(&app, publication["id"].as_str().unwrap(), "failed", None).await;
        assert_eq!(ended["status"], "published", "{ended:#}");
        assert!(ended["post_url"].is_string());
        let message = ended["cover"]["message"].as_str().unwrap();
        assert!(
            message.contains(end) && message.contains(reason),
            "{message}"
        );
    }
    platforms.state().yt_processing_end = None;
    assert!(platforms.state().yt_thumbnails.is_empty());

    // Refusals of the thumbnail: once, with YouTube's reason and what to do.
    for (reason, says) in [
        ("invalidImage", "JPEG or PNG"),
        ("forbidden", "verified"),
        ("videoNotFound", "gone"),
    ] {
        platforms.state().yt_thumbnail_failures.push(reason);
        let publication = publish_to_new(&app, ids, "youtube", reason, json!({})).await;
        let ended = cover_is(&app, publication["id"].as_str().unwrap(), "failed", None).await;
        assert_eq!(ended["status"], "published", "{ended:#}");
        let message = ended["cover"]["message"].as_str().unwrap();
        assert!(
            message.contains(reason) && message.contains(says),
            "{message}"
        );
        assert_eq!(job_later_than(&app, &publication, 0).await.0, 1, "{reason}");
    }
    assert!(platforms.state().yt_thumbnails.is_empty());

    // Rate limits and server errors: retried until the thumbnail is set, once.
    for reason in ["rateLimitExceeded", "backendError"] {
        platforms.state().yt_thumbnail_failures.push(reason);
        let publication = publish_to_new(&app, ids, "youtube", reason, json!({})).await;
        let id = publication["id"].as_str().unwrap();
        let ended = eventually(
            "the cover to end",
            Duration::from_secs(60),
            || async {
                due_now(&app, &publication).await;
                app.get_json(&format!("/v1/publications/{id}")).await
            },
            |now| matches!(now["cover"]["status"].as_str(), Some("applied" | "failed")),
        )
        .await;
        assert_eq!(ended["cover"]["status"], "applied", "{reason}: {ended:#}");
    }
    assert_eq!(platforms.state().yt_thumbnails.len(), 2);

    // The day's quota is used up: the cover waits for midnight Pacific time.
    platforms
        .state()
        .yt_thumbnail_failures
        .push("quotaExceeded");
    let publication = publish_to_new(&app, ids, "youtube", "quota", json!({})).await;
    let id = publication["id"].as_str().unwrap();
    let waits = cover_is(&app, id, "pending", Some("2026-12-07T08:05:00Z")).await;
    assert_eq!(waits["cover"]["waiting"]["reason"], "quota_reset");
    due_now(&app, &publication).await;
    cover_is(&app, id, "applied", None).await;
    assert_eq!(platforms.state().yt_thumbnails.len(), 3);
}

#[tokio::test]
async fn a_youtube_thumbnail_is_sent_again_only_when_its_checkpoint_was_lost() {
    let platforms = Platforms::start().await;
    // A posted video, as a finished upload leaves it.
    platforms.state().yt_sessions.push((Vec::new(), true));
    let checkpoints = MemoryCheckpoints::default();
    let call = CallContext {
        attempt: 1,
        progress: &NoProgress,
        checkpoints: &checkpoints,
    };
    let token = SecretString::from(TOKEN);
    let cover = CoverCall {
        post_id: "yt1",
        access_token: &token,
        now: at(NOW),
    };
    let youtube = YouTube::new(&platforms.uri(), 256 * 1024, Duration::from_secs(30));
    let setter = youtube.cover_setter().unwrap();
    assert_eq!(
        setter.ready(&cover, &call).await.unwrap(),
        CoverReady::Processed
    );
    let before = checkpoints.load().await.unwrap();
    setter
        .set(&cover, vec![0xFF, 0xD8, 0xFF], &call)
        .await
        .unwrap();
    // Killed after the checkpoint: a restart finds the thumbnail set and never sends it again.
    assert_eq!(setter.ready(&cover, &call).await.unwrap(), CoverReady::Set);
    setter
        .set(&cover, vec![0xFF, 0xD8, 0xFF], &call)
        .await
        .unwrap();
    assert_eq!(platforms.state().yt_thumbnails.len(), 1);
    // Killed after YouTube answered but before the checkpoint was written: the restart cannot
    // know, and sets the same image once more (harmless: the same thumbnail, 50 quota units).
    checkpoints.save(&before.unwrap()).await.unwrap();
    assert_eq!(
        setter.ready(&cover, &call).await.unwrap(),
        CoverReady::Processed
    );
    setter
        .set(&cover, vec![0xFF, 0xD8, 0xFF], &call)
        .await
        .unwrap();
    assert_eq!(platforms.state().yt_thumbnails.len(), 2);
    assert_eq!(setter.ready(&cover, &call).await.unwrap(), CoverReady::Set);
}
