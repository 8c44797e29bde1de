//! A stand-in for Meta's Instagram Graph API, answering as `../shared/provider-contracts.md`
//! ("Instagram Graph API (publish a Reel)") documents: two hosts (Facebook Login's
//! `graph.facebook.com`, where resumable upload works, and Instagram Login's
//! `graph.instagram.com`, links only), each taking only its own login's tokens; containers whose
//! `status_code` goes `IN_PROGRESS` then `FINISHED`, `ERROR` (with `status` naming a subcode)
//! or `EXPIRED`, and `PUBLISHED` once published; rupload; `media_publish`; the permalink; the
//! quota; `ig_refresh_token`. Every failure is a Graph error body
//! `{"error": {message, type, code, error_subcode, is_transient, error_user_title,
//! error_user_msg, fbtrace_id}}`. Tests script container fates and error answers and read the
//! state to count posts.

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    sync::{Arc, Mutex},
};

use serde_json::{json, Value};
use wiremock::{matchers::any, Mock, MockServer, Request, Respond, ResponseTemplate};

pub const IG_USER: &str = "17841400000000000";
/// A Facebook Login for Business token (they start with `EAA`).
pub const FB_TOKEN: &str = "EAAGm0PX4ZCpsBAtest";
/// An Instagram Login token (they start with `IG`).
pub const IG_TOKEN: &str = "IGQWRtestlonglived";

/// What becomes of a container once Meta has looked at it (after one `IN_PROGRESS`).
#[derive(Debug, Clone)]
pub enum Fate {
    Finished,
    /// `status_code: ERROR` with this `status`.
    Error(String),
    Expired,
}

/// A Graph error answer: code, subcode, `is_transient`.
#[derive(Debug, Clone, Copy)]
pub struct GraphFailure(pub i64, pub Option<i64>, pub bool);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    Facebook,
    Instagram,
}

#[derive(Debug, Default)]
pub struct Container {
    pub host: Option<Host>,
    pub fate: Option<Fate>,
    pub resumable: bool,
    pub uploaded: Option<usize>,
    pub video_url: Option<String>,
    pub polls: u32,
    pub published: bool,
}

#[derive(Debug)]
pub struct State {
    /// Tokens each host takes.
    pub tokens: BTreeMap<&'static str, BTreeSet<String>>,
    pub containers: BTreeMap<String, Container>,
    pub create_bodies: Vec<String>,
    /// The token each container was created with.
    pub create_tokens: Vec<String>,
    /// Fates of the next containers, in order; then `Finished`.
    pub fates: VecDeque<Fate>,
    /// Answers of the next `media_publish` calls, in order; then success.
    pub publish_failures: VecDeque<GraphFailure>,
    /// Answers of the next permalink reads.
    pub permalink_failures: VecDeque<GraphFailure>,
    /// Containers `media_publish` was called with, successful or not.
    pub publish_calls: Vec<String>,
    /// Containers published, in order; the media id is `m{index + 1}`.
    pub published: Vec<String>,
    pub permalink_reads: u32,
    pub refreshes: u32,
    pub quota_usage: u64,
    /// Graph API versions called.
    pub versions: BTreeSet<String>,
}

impl Default for State {
    fn default() -> Self {
        State {
            tokens: BTreeMap::from([
                ("facebook", BTreeSet::from([FB_TOKEN.to_owned()])),
                ("instagram", BTreeSet::from([IG_TOKEN.to_owned()])),
            ]),
            containers: BTreeMap::new(),
            create_bodies: Vec::new(),
            create_tokens: Vec::new(),
            fates: VecDeque::new(),
            publish_failures: VecDeque::new(),
            permalink_failures: VecDeque::new(),
            publish_calls: Vec::new(),
            published: Vec::new(),
            permalink_reads: 0,
            refreshes: 0,
            quota_usage: 0,
            versions: BTreeSet::new(),
        }
    }
}

impl State {
    pub fn media_publishes(&self) -> usize {
        self.published.len()
    }

    /// Bytes received by resumable upload, per container that got any.
    pub fn uploads(&self) -> Vec<usize> {
        self.containers
            .values()
            .filter_map(|c| c.uploaded)
            .collect()
    }
}

#[derive(Clone)]
pub struct Graph {
    pub facebook: Arc<MockServer>,
    pub instagram: Arc<MockServer>,
    pub state: Arc<Mutex<State>>,
}

impl Graph {
    /// Both hosts; every answer waits `delay` (a kill test drops the call meanwhile).
    pub async fn start(delay: std::time::Duration) -> Self {
        let graph = Graph {
            facebook: Arc::new(MockServer::start().await),
            instagram: Arc::new(MockServer::start().await),
            state: Arc::new(Mutex::new(State::default())),
        };
        for (server, host) in [
            (&graph.facebook, Host::Facebook),
            (&graph.instagram, Host::Instagram),
        ] {
            Mock::given(any())
                .respond_with(Responder {
                    graph: graph.clone(),
                    host,
                    delay,
                })
                .mount(server)
                .await;
        }
        graph
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Points the settings at both hosts.
    pub fn configure(&self, settings: &mut reelforge::config::InstagramSettings) {
        settings.base_url = self.facebook.uri();
        settings.instagram_base_url = self.instagram.uri();
    }

    /// Requests received by both hosts.
    pub async fn received(&self) -> usize {
        let mut count = 0;
        for server in [&self.facebook, &self.instagram] {
            count += server.received_requests().await.unwrap_or_default().len();
        }
        count
    }
}

/// A Graph error body as documented, HTTP 400.
pub fn graph_error(failure: GraphFailure) -> ResponseTemplate {
    let GraphFailure(code, subcode, transient) = failure;
    let kind = if code == 190 {
        "OAuthException"
    } else {
        "IGApiException"
    };
    ResponseTemplate::new(400).set_body_json(json!({"error": {
        "message": format!("Error {code}"),
        "type": kind,
        "code": code,
        "error_subcode": subcode,
        "is_transient": transient,
        "error_user_title": "Publishing failed",
        "error_user_msg": format!("Meta says {code}/{}", subcode.unwrap_or(0)),
        "fbtrace_id": "AbCdEf123"
    }}))
}

fn invalid_token() -> ResponseTemplate {
    graph_error(GraphFailure(190, None, false))
}

fn invalid_parameter(message: &str) -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({"error": {
        "message": message, "type": "OAuthException", "code": 100, "error_subcode": null,
        "is_transient": false, "error_user_title": "", "error_user_msg": "", "fbtrace_id": "x"
    }}))
}

struct Responder {
    graph: Graph,
    host: Host,
    delay: std::time::Duration,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.answer(request).set_delay(self.delay)
    }
}

/// The request's parameters: query and form body alike (Meta takes either).
fn params(request: &Request) -> BTreeMap<String, String> {
    let body = String::from_utf8_lossy(&request.body);
    let form = reqwest::Url::parse(&format!("http://x/?{body}")).unwrap();
    request
        .url
        .query_pairs()
        .chain(form.query_pairs())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

impl Responder {
    fn answer(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.graph.state.lock().unwrap();
        let params = params(request);
        let host_key = match self.host {
            Host::Facebook => "facebook",
            Host::Instagram => "instagram",
        };
        let token = header(request, "authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned)
            .or_else(|| params.get("access_token").cloned());
        let authorized = token
            .as_ref()
            .is_some_and(|token| state.tokens[host_key].contains(token));
        let segments: Vec<String> = request
            .url
            .path()
            .trim_start_matches('/')
            .split('/')
            .map(str::to_owned)
            .collect();
        let verb = request.method.as_str();
        // Unversioned: Instagram Login's token refresh.
        if segments == ["refresh_access_token"] && self.host == Host::Instagram {
            if !authorized
                || params.get("grant_type").map(String::as_str) != Some("ig_refresh_token")
            {
                return invalid_token();
            }
            state.refreshes += 1;
            let fresh = format!("IGQWRrefreshed{}", state.refreshes);
            state
                .tokens
                .get_mut("instagram")
                .unwrap()
                .insert(fresh.clone());
            return ResponseTemplate::new(200).set_body_json(json!({
                "access_token": fresh, "token_type": "bearer", "expires_in": 5_184_000
            }));
        }
        // rupload: `POST /ig-api-upload/{version}/{container}`, Facebook Login only.
        if segments.first().map(String::as_str) == Some("ig-api-upload") && verb == "POST" {
            let authorized = header(request, "authorization")
                .and_then(|v| v.strip_prefix("OAuth "))
                .is_some_and(|token| state.tokens["facebook"].contains(token));
            let offset = header(request, "offset");
            let size: Option<usize> = header(request, "file_size").and_then(|v| v.parse().ok());
            let id = segments.last().cloned().unwrap_or_default();
            let Some(container) = state.containers.get_mut(&id).filter(|c| c.resumable) else {
                return ResponseTemplate::new(400).set_body_json(json!({"debug_info": {"retriable": false, "type": "NotFoundError", "message": "no such upload session"}}));
            };
            if !authorized || offset != Some("0") || size != Some(request.body.len()) {
                return ResponseTemplate::new(400).set_body_json(json!({"debug_info": {"retriable": false, "type": "ProcessingFailedError", "message": "bad headers"}}));
            }
            container.uploaded = Some(request.body.len());
            return ResponseTemplate::new(200)
                .set_body_json(json!({"success": true, "message": "Upload successful."}));
        }
        let [version, rest @ ..] = segments.as_slice() else {
            return ResponseTemplate::new(404);
        };
        if !version.starts_with('v') {
            return invalid_parameter("Unknown path components");
        }
        state.versions.insert(version.clone());
        if !authorized {
            return invalid_token();
        }
        let path: Vec<&str> = rest.iter().map(String::as_str).collect();
        match (verb, path.as_slice()) {
            ("GET", [user, "content_publishing_limit"]) if *user == IG_USER => {
                ResponseTemplate::new(200).set_body_json(json!({
                    "data": [{"quota_usage": state.quota_usage, "config": {"quota_total": 50, "quota_duration": 86400}}]
                }))
            }
            ("POST", [user, "media"]) if *user == IG_USER => {
                if params.get("media_type").map(String::as_str) != Some("REELS") {
                    return invalid_parameter("media_type must be REELS");
                }
                let resumable = params.get("upload_type").map(String::as_str) == Some("resumable");
                let video_url = params.get("video_url").cloned();
                if resumable && self.host == Host::Instagram {
                    return invalid_parameter(
                        "Resumable upload is not supported with Instagram Login",
                    );
                }
                if resumable == video_url.is_some() {
                    return invalid_parameter("give either video_url or upload_type=resumable");
                }
                state
                    .create_bodies
                    .push(String::from_utf8_lossy(&request.body).into_owned());
                state.create_tokens.extend(token.clone());
                let id = format!("c{}", state.containers.len() + 1);
                let fate = state.fates.pop_front().unwrap_or(Fate::Finished);
                state.containers.insert(
                    id.clone(),
                    Container {
                        host: Some(self.host),
                        fate: Some(fate),
                        resumable,
                        video_url,
                        ..Container::default()
                    },
                );
                let base = self.graph.facebook.uri();
                if resumable {
                    ResponseTemplate::new(200).set_body_json(
                        json!({"id": id, "uri": format!("{base}/ig-api-upload/{version}/{id}")}),
                    )
                } else {
                    ResponseTemplate::new(200).set_body_json(json!({"id": id}))
                }
            }
            ("POST", [user, "media_publish"]) if *user == IG_USER => {
                let id = params.get("creation_id").cloned().unwrap_or_default();
                state.publish_calls.push(id.clone());
                let status = match state.containers.get(&id) {
                    None => return invalid_parameter("Invalid creation_id"),
                    Some(container) => status_code(container),
                };
                if status != "FINISHED" {
                    return graph_error(GraphFailure(9007, Some(2207027), false));
                }
                if let Some(failure) = state.publish_failures.pop_front() {
                    return graph_error(failure);
                }
                state.containers.get_mut(&id).unwrap().published = true;
                state.published.push(id);
                ResponseTemplate::new(200)
                    .set_body_json(json!({"id": format!("m{}", state.published.len())}))
            }
            ("GET", [media]) if media.starts_with('m') => {
                state.permalink_reads += 1;
                let known = media[1..]
                    .parse::<usize>()
                    .is_ok_and(|n| n >= 1 && n <= state.published.len());
                if !known {
                    return invalid_parameter("Unsupported get request");
                }
                if let Some(failure) = state.permalink_failures.pop_front() {
                    return graph_error(failure);
                }
                ResponseTemplate::new(200).set_body_json(json!({
                    "id": media,
                    "permalink": format!("https://www.instagram.com/reel/SC{}/", &media[1..]),
                    "shortcode": format!("SC{}", &media[1..]),
                }))
            }
            ("GET", [container]) => {
                let Some(container) = state.containers.get_mut(*container) else {
                    return invalid_parameter("Unsupported get request");
                };
                let waiting_for_bytes = container.resumable && container.uploaded.is_none();
                if !waiting_for_bytes {
                    container.polls += 1;
                }
                let code = status_code(container);
                let status = match (&container.fate, code) {
                    (Some(Fate::Error(status)), "ERROR") => status.clone(),
                    _ => code.to_owned(),
                };
                ResponseTemplate::new(200)
                    .set_body_json(json!({"status_code": code, "status": status, "id": container_id(&path)}))
            }
            _ => invalid_parameter("Unsupported request"),
        }
    }
}

fn container_id(path: &[&str]) -> Value {
    json!(path.first().copied().unwrap_or_default())
}

/// A container's status: `IN_PROGRESS` until its bytes are in and it was polled once, then its
/// fate; `PUBLISHED` once published.
fn status_code(container: &Container) -> &'static str {
    if container.published {
        return "PUBLISHED";
    }
    if container.polls < 2 {
        return "IN_PROGRESS";
    }
    match container.fate {
        Some(Fate::Error(_)) => "ERROR",
        Some(Fate::Expired) => "EXPIRED",
        _ => "FINISHED",
    }
}
