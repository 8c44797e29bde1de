//! Stand-ins for YouTube and TikTok that keep state the way the documented APIs do
//! (`../shared/provider-contracts.md`): resumable sessions and the bytes each holds, publish ids
//! and their chunks; Instagram's Graph API is `crate::graph`'s. Tests read the state to count
//! posts.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::{
    matchers::{header, method, path, path_regex},
    Mock, MockServer, Request, Respond, ResponseTemplate,
};

use crate::graph::Graph;

pub const TOKEN: &str = "tok-live-123456";

#[derive(Default, Debug)]
pub struct State {
    // YouTube: per session, the bytes it holds and whether it made a video
    pub yt_sessions: Vec<(Vec<u8>, bool)>,
    pub yt_start_bodies: Vec<Value>,
    /// Answer the next chunk PUT 503 after storing it (an interruption).
    pub yt_fail_next_chunk: bool,
    /// Answer the next progress query 404: the session expired.
    pub yt_expire_next_query: bool,
    /// Reasons `videos.insert` refuses the next sessions with, one each, in YouTube's shape.
    pub yt_start_failures: Vec<&'static str>,
    /// The final answer's `status.uploadStatus` and its reason (`rejected`, `duplicate`);
    /// `uploaded` otherwise.
    pub yt_upload_status: Option<(&'static str, &'static str)>,
    /// `videos.list` says `processing` this many times per video, then how processing ended.
    pub yt_processing_polls: u32,
    /// How processing ends (`failed`/`terminated` and the `processingFailureReason`);
    /// `succeeded` otherwise.
    pub yt_processing_end: Option<(&'static str, &'static str)>,
    /// `videos.list` calls per video id.
    pub yt_list_calls: std::collections::HashMap<String, u32>,
    /// Reasons `thumbnails.set` refuses the next calls with, one each, in YouTube's shape.
    pub yt_thumbnail_failures: Vec<&'static str>,
    /// Every accepted `thumbnails.set`: the video, the image bytes, its `Content-Type`, and
    /// whether processing had finished (YouTube documents that a thumbnail set before then
    /// might not be applied).
    pub yt_thumbnails: Vec<(String, Vec<u8>, String, bool)>,
    // TikTok: per publish id, the bytes it holds
    pub tt_inits: Vec<(Vec<u8>, u64)>,
    pub tt_init_bodies: Vec<Value>,
    pub tt_status_polls: u32,
    /// Answer the next chunk PUT 500 after storing it: the reply to the last chunk is lost.
    pub tt_fail_next_chunk: bool,
    /// Codes the endpoints (`creator_info`, `init`, `status`) answer next, one each, in TikTok's
    /// documented shape: the envelope kept with an empty `data`.
    pub tt_failures: Vec<(&'static str, &'static str)>,
    /// The app is not audited: direct posts other than `SELF_ONLY` are refused.
    pub tt_unaudited: bool,
    /// `PUBLISH_COMPLETE` answers without the post id before it comes (moderation).
    pub tt_moderation_polls: u32,
    /// The next status answers `FAILED` with this `fail_reason`.
    pub tt_fail_reason: Option<&'static str>,
}

impl State {
    /// Whether a finished upload made the video `id`.
    fn yt_made(&self, id: &str) -> bool {
        self.yt_sessions
            .iter()
            .enumerate()
            .any(|(i, (_, done))| *done && id == format!("yt{}", i + 1))
    }

    /// The next scripted TikTok failure for `endpoint`, taken.
    fn tiktok_failure(&mut self, endpoint: &str) -> Option<&'static str> {
        let index = self.tt_failures.iter().position(|(e, _)| *e == endpoint)?;
        Some(self.tt_failures.remove(index).1)
    }
}

#[derive(Clone)]
pub struct Platforms {
    pub server: Arc<MockServer>,
    pub state: Arc<Mutex<State>>,
    /// Instagram's two hosts.
    pub graph: Graph,
    /// Every answer waits this long (a kill test drops the call meanwhile).
    pub delay: std::time::Duration,
}

impl Platforms {
    pub async fn start() -> Self {
        Self::start_with_delay(std::time::Duration::ZERO).await
    }

    pub async fn start_with_delay(delay: std::time::Duration) -> Self {
        let platforms = Platforms {
            server: Arc::new(MockServer::start().await),
            state: Arc::new(Mutex::new(State::default())),
            graph: Graph::start(delay).await,
            delay,
        };
        platforms.mount().await;
        platforms
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Requests every stand-in received.
    pub async fn received(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .len()
            + self.graph.received().await
    }

    async fn route(&self, verb: &str, route: &str, regex: bool, kind: Route) {
        let responder = Responder {
            platforms: self.clone(),
            kind,
        };
        let builder = if regex {
            Mock::given(method(verb)).and(path_regex(route))
        } else {
            Mock::given(method(verb)).and(path(route))
        };
        builder.respond_with(responder).mount(&self.server).await;
    }

    async fn mount(&self) {
        use Route::*;
        // YouTube
        Mock::given(method("POST"))
            .and(path("/upload/youtube/v3/videos"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(Responder {
                platforms: self.clone(),
                kind: YtStart,
            })
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(path("/upload/youtube/v3/videos"))
            .respond_with(
                ResponseTemplate::new(401).set_body_json(json!({"error": {"code": 401, "message": "Invalid Credentials", "errors": [{"domain": "global", "reason": "authError", "message": "Invalid Credentials"}], "status": "UNAUTHENTICATED"}})),
            )
            .with_priority(10)
            .mount(&self.server)
            .await;
        self.route("PUT", r"^/upload/session/\d+$", true, YtPut)
            .await;
        self.route("GET", "/youtube/v3/videos", false, YtList).await;
        self.route(
            "POST",
            "/upload/youtube/v3/thumbnails/set",
            false,
            YtThumbnail,
        )
        .await;
        // TikTok
        self.route(
            "POST",
            "/v2/post/publish/creator_info/query/",
            false,
            TtCreator,
        )
        .await;
        self.route("POST", "/v2/post/publish/video/init/", false, TtInit)
            .await;
        self.route("POST", "/v2/post/publish/inbox/video/init/", false, TtInit)
            .await;
        self.route("PUT", r"^/upload/tt/\d+$", true, TtPut).await;
        self.route("POST", "/v2/post/publish/status/fetch/", false, TtStatus)
            .await;
    }
}

#[derive(Clone, Copy)]
enum Route {
    YtStart,
    YtPut,
    YtList,
    YtThumbnail,
    TtCreator,
    TtInit,
    TtPut,
    TtStatus,
}

struct Responder {
    platforms: Platforms,
    kind: Route,
}

fn bearer_ok(request: &Request) -> bool {
    request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"))
}

/// A TikTok failure as documented: HTTP status by code, the envelope kept, `data` empty.
pub fn tiktok_error(code: &str) -> ResponseTemplate {
    let status = match code {
        "invalid_param" => 400,
        "access_token_invalid" | "scope_not_authorized" => 401,
        "rate_limit_exceeded" => 429,
        "internal_error" => 500,
        _ => 403,
    };
    ResponseTemplate::new(status).set_body_json(json!({
        "data": {},
        "error": {"code": code, "message": format!("TikTok says {code}"), "log_id": "20261206120000ABCDEF"}
    }))
}

/// A YouTube failure as documented: HTTP status by reason, `errors[0].reason` to key on.
pub fn youtube_error(reason: &str) -> ResponseTemplate {
    let status = match reason {
        "quotaExceeded" | "rateLimitExceeded" | "userRateLimitExceeded" | "forbidden" => 403,
        "authError" | "youtubeSignupRequired" => 401,
        "videoNotFound" => 404,
        "backendError" => 503,
        _ => 400,
    };
    let domain = if reason == "quotaExceeded" {
        "youtube.quota"
    } else {
        "youtube.video"
    };
    ResponseTemplate::new(status).set_body_json(json!({"error": {
        "code": status, "message": format!("YouTube says {reason}"),
        "errors": [{"domain": domain, "reason": reason, "message": format!("YouTube says {reason}")}],
        "status": "FAILED_PRECONDITION"
    }}))
}

fn tiktok(data: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "data": data, "error": {"code": "ok", "message": "", "log_id": "log1"}
    }))
}

/// A query parameter's value, empty when absent.
fn query(request: &Request, name: &str) -> String {
    request
        .url
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

fn number_in(path: &str) -> usize {
    path.rsplit(|c: char| !c.is_ascii_digit())
        .find(|part| !part.is_empty())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.answer(request).set_delay(self.platforms.delay)
    }
}

impl Responder {
    fn answer(&self, request: &Request) -> ResponseTemplate {
        let uri = self.platforms.uri();
        let mut state = self.platforms.state.lock().unwrap();
        let path = request.url.path().to_owned();
        let body = String::from_utf8_lossy(&request.body).into_owned();
        match self.kind {
            Route::YtStart => {
                if !state.yt_start_failures.is_empty() {
                    return youtube_error(state.yt_start_failures.remove(0));
                }
                let start: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                for (field, reason) in [
                    ("title", "invalidTitle"),
                    ("description", "invalidDescription"),
                ] {
                    if start["snippet"][field]
                        .as_str()
                        .unwrap_or_default()
                        .contains(['<', '>'])
                    {
                        return youtube_error(reason);
                    }
                }
                state.yt_sessions.push((Vec::new(), false));
                state
                    .yt_start_bodies
                    .push(serde_json::from_str(&body).unwrap_or(Value::Null));
                ResponseTemplate::new(200).insert_header(
                    "Location",
                    format!("{uri}/upload/session/{}", state.yt_sessions.len()).as_str(),
                )
            }
            Route::YtPut => {
                let index = number_in(&path).saturating_sub(1);
                let fail = std::mem::take(&mut state.yt_fail_next_chunk);
                let range_header = request
                    .headers
                    .get("content-range")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let expire = range_header.starts_with("bytes */")
                    && std::mem::take(&mut state.yt_expire_next_query);
                if expire {
                    return ResponseTemplate::new(404);
                }
                let upload_status = state.yt_upload_status;
                let Some((bytes, done)) = state.yt_sessions.get_mut(index) else {
                    return ResponseTemplate::new(404);
                };
                let range = request
                    .headers
                    .get("content-range")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let held = |bytes: &Vec<u8>| {
                    let template = ResponseTemplate::new(308);
                    if bytes.is_empty() {
                        template
                    } else {
                        template
                            .insert_header("Range", format!("bytes=0-{}", bytes.len() - 1).as_str())
                    }
                };
                let video = json!({
                    "id": format!("yt{}", index + 1), "snippet": {},
                    "status": match upload_status {
                        Some((status @ "failed", reason)) => json!({"uploadStatus": status, "failureReason": reason}),
                        Some((status, reason)) => json!({"uploadStatus": status, "rejectionReason": reason}),
                        None => json!({"uploadStatus": "uploaded"}),
                    }
                });
                if *done {
                    return ResponseTemplate::new(201).set_body_json(video);
                }
                if range.starts_with("bytes */") {
                    return held(bytes);
                }
                let spec = range.trim_start_matches("bytes ");
                let (span, total) = spec.split_once('/').unwrap_or_default();
                let first: usize = span
                    .split('-')
                    .next()
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(usize::MAX);
                let total: usize = total.parse().unwrap_or(0);
                if first != bytes.len() {
                    return ResponseTemplate::new(400)
                        .set_body_string(format!("chunk at {first}, held {}", bytes.len()));
                }
                bytes.extend_from_slice(&request.body);
                if fail {
                    return ResponseTemplate::new(503);
                }
                if bytes.len() == total {
                    *done = true;
                    ResponseTemplate::new(201).set_body_json(video)
                } else {
                    held(bytes)
                }
            }
            Route::YtList | Route::YtThumbnail if !bearer_ok(request) => youtube_error("authError"),
            // videos.list?part=processingDetails,status&id=…: empty `items` for an unknown id.
            Route::YtList => {
                let id = query(request, "id");
                if !state.yt_made(&id) {
                    return ResponseTemplate::new(200)
                        .set_body_json(json!({"kind": "youtube#videoListResponse", "items": []}));
                }
                let calls = *state
                    .yt_list_calls
                    .entry(id.clone())
                    .and_modify(|n| *n += 1)
                    .or_insert(1);
                let processing = if calls <= state.yt_processing_polls {
                    json!({"processingStatus": "processing", "processingProgress": {"partsTotal": 10, "partsProcessed": calls.min(9), "timeLeftMs": 60000}})
                } else {
                    match state.yt_processing_end {
                        Some((status, reason)) => {
                            json!({"processingStatus": status, "processingFailureReason": reason})
                        }
                        None => json!({"processingStatus": "succeeded"}),
                    }
                };
                let upload_status = if processing["processingStatus"] == "succeeded" {
                    "processed"
                } else {
                    "uploaded"
                };
                ResponseTemplate::new(200).set_body_json(json!({
                    "kind": "youtube#videoListResponse",
                    "items": [{"kind": "youtube#video", "id": id, "processingDetails": processing, "status": {"uploadStatus": upload_status}}]
                }))
            }
            // thumbnails.set?videoId=…, the image as the body.
            Route::YtThumbnail => {
                if !state.yt_thumbnail_failures.is_empty() {
                    return youtube_error(state.yt_thumbnail_failures.remove(0));
                }
                let id = query(request, "videoId");
                if !state.yt_made(&id) {
                    return youtube_error("videoNotFound");
                }
                if request.body.is_empty() {
                    return youtube_error("mediaBodyRequired");
                }
                let content_type = request
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                if !matches!(content_type.as_str(), "image/jpeg" | "image/png") {
                    return youtube_error("invalidImage");
                }
                let processed = state
                    .yt_list_calls
                    .get(&id)
                    .is_some_and(|calls| *calls > state.yt_processing_polls);
                state
                    .yt_thumbnails
                    .push((id, request.body.clone(), content_type, processed));
                let size = |w: u32, h: u32, name: &str| json!({"url": format!("https://i.ytimg.com/vi/x/{name}.jpg"), "width": w, "height": h});
                ResponseTemplate::new(200).set_body_json(json!({
                    "kind": "youtube#thumbnailSetResponse", "etag": "etag1",
                    "items": [{"default": size(120, 90, "default"), "medium": size(320, 180, "mqdefault"), "high": size(480, 360, "hqdefault")}]
                }))
            }
            Route::TtCreator | Route::TtInit | Route::TtStatus if !bearer_ok(request) => {
                tiktok_error("access_token_invalid")
            }
            Route::TtCreator => match state.tiktok_failure("creator_info") {
                Some(code) => tiktok_error(code),
                None => tiktok(json!({
                    "creator_username": "anna", "creator_nickname": "Anna",
                    "privacy_level_options": ["PUBLIC_TO_EVERYONE", "SELF_ONLY"],
                    "comment_disabled": false, "duet_disabled": false, "stitch_disabled": false,
                    "max_video_post_duration_sec": 600
                })),
            },
            Route::TtInit => {
                if let Some(code) = state.tiktok_failure("init") {
                    return tiktok_error(code);
                }
                let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let privacy = body["post_info"]["privacy_level"].as_str();
                if state.tt_unaudited && privacy.is_some_and(|p| p != "SELF_ONLY") {
                    return tiktok_error("unaudited_client_can_only_post_to_private_accounts");
                }
                let source = &body["source_info"];
                let size = source["video_size"].as_u64().unwrap_or(0);
                let chunk = source["chunk_size"].as_u64().unwrap_or(0);
                let count = source["total_chunk_count"].as_u64().unwrap_or(0);
                // As documented: whole chunks, the last taking the rest.
                if chunk == 0 || chunk > size || count != size / chunk {
                    return tiktok_error("invalid_param");
                }
                state.tt_inits.push((Vec::new(), size));
                state.tt_init_bodies.push(body);
                let id = state.tt_inits.len();
                tiktok(
                    json!({"publish_id": format!("p{id}"), "upload_url": format!("{uri}/upload/tt/{id}")}),
                )
            }
            Route::TtPut => {
                let index = number_in(&path).saturating_sub(1);
                let fail = std::mem::take(&mut state.tt_fail_next_chunk);
                let Some((bytes, size)) = state.tt_inits.get_mut(index) else {
                    return ResponseTemplate::new(404);
                };
                let first: usize = request
                    .headers
                    .get("content-range")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|range| range.strip_prefix("bytes "))
                    .and_then(|range| range.split('-').next())
                    .and_then(|first| first.parse().ok())
                    .unwrap_or(usize::MAX);
                if first != bytes.len() {
                    return ResponseTemplate::new(416);
                }
                bytes.extend_from_slice(&request.body);
                if fail {
                    return ResponseTemplate::new(500);
                }
                if bytes.len() as u64 == *size {
                    ResponseTemplate::new(201)
                } else {
                    ResponseTemplate::new(206)
                }
            }
            Route::TtStatus => {
                if let Some(code) = state.tiktok_failure("status") {
                    return tiktok_error(code);
                }
                let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let index =
                    number_in(body["publish_id"].as_str().unwrap_or_default()).saturating_sub(1);
                state.tt_status_polls += 1;
                let Some((bytes, size)) = state.tt_inits.get(index) else {
                    return tiktok(json!({"status": "FAILED", "fail_reason": "internal"}));
                };
                let (held, size) = (bytes.len() as u64, *size);
                let post_info = &state.tt_init_bodies[index]["post_info"];
                let inbox = post_info.is_null();
                let private = post_info["privacy_level"] == "SELF_ONLY";
                if held < size {
                    tiktok(json!({"status": "PROCESSING_UPLOAD", "uploaded_bytes": held}))
                } else if let Some(reason) = state.tt_fail_reason.take() {
                    tiktok(
                        json!({"status": "FAILED", "fail_reason": reason, "uploaded_bytes": size}),
                    )
                } else if inbox {
                    tiktok(json!({"status": "SEND_TO_USER_INBOX"}))
                } else if private {
                    // SELF_ONLY posts never get a public id.
                    tiktok(
                        json!({"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [], "uploaded_bytes": size}),
                    )
                } else if state.tt_moderation_polls > 0 {
                    state.tt_moderation_polls -= 1;
                    tiktok(
                        json!({"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [], "uploaded_bytes": size}),
                    )
                } else {
                    tiktok(
                        json!({"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7300000000000000000u64 + index as u64 + 1], "uploaded_bytes": size}),
                    )
                }
            }
        }
    }
}
