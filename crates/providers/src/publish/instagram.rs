//! Instagram Graph API: a Reels container, the video's bytes through a resumable upload (or a
//! public link Meta fetches), the container's status polled, then `media_publish` and the post's
//! permalink. Each account calls the host of the login its token came from: Facebook Login on
//! `graph.facebook.com`, Instagram Login on `graph.instagram.com` (public links only).
//!
//! Every id is checkpointed before the next call: the container before its upload and polls, the
//! media id before the permalink. A resumed job reads the container's status before it publishes,
//! so a container already `PUBLISHED` is never published again, and a container that was
//! replaced is forgotten, so it is never published after its successor was made.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{
    load, oauth::Grant, save, still_processing, token_refused, Polling, Posted, Publisher, Upload,
    PROCESSING,
};
use crate::{
    config::InstagramSettings,
    domain::publishing::{InstagramLogin, Platform, PublishOutcome},
    error_code::ErrorCode,
    {http, CallContext, ProviderError},
};

pub const PROVIDER: &str = "instagram";
/// Containers made for one publication (the first, then after `EXPIRED` or an error Meta says
/// to replace) before giving up.
const MAX_CONTAINERS: u32 = 3;
/// Meta asks for 2207008 to be retried once or twice within two minutes (one poll interval
/// apart); the same bound holds for a container `ERROR` whose subcode says to try again. Then a
/// new container.
const RETRIES_PER_CONTAINER: u32 = 2;
/// Failed reads of the permalink after the post was made before it is recorded without one.
const PERMALINK_TRIES: u32 = 3;

pub struct Instagram {
    http: reqwest::Client,
    /// Each login's Graph API, with the version.
    facebook: String,
    instagram: String,
    /// Instagram Login's host without a version, where tokens are refreshed.
    instagram_host: String,
    polling: Polling,
}

impl Instagram {
    pub fn new(settings: &InstagramSettings, timeout: Duration) -> Self {
        let host = |url: &str| url.trim_end_matches('/').to_owned();
        let version = settings.graph_version.trim_matches('/');
        Instagram {
            http: http::client(timeout),
            facebook: format!("{}/{version}", host(&settings.base_url)),
            instagram: format!("{}/{version}", host(&settings.instagram_base_url)),
            instagram_host: host(&settings.instagram_base_url),
            polling: Polling {
                interval: Duration::from_millis(settings.poll_interval_ms),
                attempts: settings.poll_attempts,
            },
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Checkpoint {
    container_id: Option<String>,
    upload_uri: Option<String>,
    uploaded: bool,
    /// Containers made for this publication, the current one included.
    containers: u32,
    /// Retries spent on the current container (2207008 at `media_publish`, a retryable
    /// container `ERROR`).
    retries: u32,
    /// Why the last container was replaced, for the error when none is left.
    replaced_because: Option<String>,
    /// `media_publish` was accepted, or the container reached `PUBLISHED` (a crash after
    /// `media_publish`): posted, with its media id when it was read.
    published: bool,
    media_id: Option<String>,
    permalink_tries: u32,
    posted: Option<Posted>,
}

#[derive(Deserialize)]
struct GraphError {
    error: GraphErrorBody,
}

#[derive(Deserialize)]
struct GraphErrorBody {
    #[serde(default)]
    message: String,
    code: Option<i64>,
    error_subcode: Option<i64>,
    #[serde(default)]
    is_transient: bool,
    error_user_msg: Option<String>,
}

/// What Meta's error-codes page asks for, by code and subcode (subcodes are unique, so a
/// container `ERROR` that names only a subcode reads the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// The media is not ready yet: keep polling.
    NotReady,
    /// Try the same call again later.
    Retry,
    /// 2207008: try again at most twice on this container, then make a new one.
    RetryTwice,
    NewContainer,
    /// The token is invalid or expired: refresh, or connect the account again.
    Token,
    Fatal(ErrorCode),
    /// Not among the documented codes.
    Unknown,
}

fn action(code: Option<i64>, subcode: Option<i64>) -> Action {
    use Action::*;
    match (code.unwrap_or(0), subcode.unwrap_or(0)) {
        (9007, _) | (_, 2207027) => NotReady,
        (_, 2207008) => RetryTwice,
        (_, 2207001 | 2207003 | 2207032) => Retry,
        (_, 2207020 | 2207053 | 2207006) => NewContainer,
        (_, 2207042) => Fatal(ErrorCode::PublishQuotaExhausted),
        (_, 2207050 | 2207051) | (25, _) => Fatal(ErrorCode::ProviderForbidden),
        (_, 2207026) | (352, _) => Fatal(ErrorCode::PlatformLimit),
        (_, 2207052 | 2207057) | (9004, _) => Fatal(ErrorCode::ProviderRejected),
        (190, _) => Token,
        (10 | 200..=299, _) => Fatal(ErrorCode::ProviderForbidden),
        (1 | 2 | 4 | 17 | 32 | 341 | 613, _) => Retry,
        _ => Unknown,
    }
}

/// The subcode a container's `ERROR` status names (its wording is not documented, so any
/// number of seven digits or more in it).
fn subcode_in(status: &str) -> Option<i64> {
    status
        .split(|c: char| !c.is_ascii_digit())
        .find(|digits| digits.len() >= 7)
        .and_then(|digits| digits.parse().ok())
}

/// What to do about a Graph API error.
enum Failure {
    Error(ProviderError),
    /// Meta says this container will not do: make a new one.
    NewContainer(String),
    /// Retry this container a bounded number of times, then make a new one.
    RetryTwice(String),
    /// The media is not ready yet: keep polling.
    NotReady,
}

/// A documented action as a failure; `unknown` decides what undocumented codes become.
fn failure_of(
    action: Action,
    detail: String,
    message: &str,
    unknown: impl FnOnce(String) -> ProviderError,
) -> Failure {
    match action {
        Action::NotReady => Failure::NotReady,
        // The job's backoff spaces the retries out.
        Action::Retry => Failure::Error(ProviderError::retryable(detail)),
        Action::RetryTwice => Failure::RetryTwice(detail),
        Action::NewContainer => Failure::NewContainer(detail),
        Action::Token => Failure::Error(token_refused(PROVIDER, message)),
        Action::Fatal(code) => Failure::Error(ProviderError::fatal(code, detail)),
        Action::Unknown => Failure::Error(unknown(detail)),
    }
}

/// A Graph error body (`{"error": {code, error_subcode, is_transient, …}}`) read by Meta's
/// documented codes; an undocumented one is retried when Meta marks it transient.
fn classify(failure: http::HttpFailure) -> Failure {
    let Ok(GraphError { error }) = serde_json::from_str::<GraphError>(&failure.body) else {
        return Failure::Error(failure.into_error());
    };
    let message = error
        .error_user_msg
        .clone()
        .unwrap_or(error.message.clone());
    let detail = format!(
        "Instagram error {}/{}: {message}",
        error.code.unwrap_or(0),
        error.error_subcode.unwrap_or(0)
    );
    let retry_after = failure.retry_after;
    match failure_of(
        action(error.code, error.error_subcode),
        detail,
        &message,
        |detail| {
            if error.is_transient {
                ProviderError::retryable(detail)
            } else {
                failure.into_error()
            }
        },
    ) {
        // Meta's own wait, when it names one, wins over ours.
        Failure::Error(ProviderError::Retryable {
            message,
            retry_after: ours,
        }) => Failure::Error(ProviderError::Retryable {
            message,
            retry_after: retry_after.or(ours),
        }),
        other => other,
    }
}

/// A container's `ERROR` read by the subcode its `status` names; an undocumented one means
/// Meta could not process the video.
fn container_failure(status: Option<&str>) -> Failure {
    let status = status.unwrap_or("no detail");
    let subcode = subcode_in(status);
    let detail = format!(
        "Instagram could not process the video (container ERROR {}): {status}",
        subcode.unwrap_or(0)
    );
    match action(None, subcode) {
        // An errored container does not become ready: try it again, boundedly.
        Action::NotReady | Action::Retry => Failure::RetryTwice(detail),
        action => failure_of(action, detail, status, |detail| {
            ProviderError::fatal(ErrorCode::ProviderJobFailed, detail)
        }),
    }
}

fn graph_error(failure: http::HttpFailureOr) -> Failure {
    match failure {
        http::HttpFailureOr::Status(failure) => classify(failure),
        http::HttpFailureOr::Transport(error) => Failure::Error(error),
    }
}

impl From<Failure> for ProviderError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Error(error) => error,
            Failure::NewContainer(detail) | Failure::RetryTwice(detail) => {
                ProviderError::retryable(detail)
            }
            Failure::NotReady => still_processing(PROVIDER),
        }
    }
}

#[derive(Deserialize)]
struct Created {
    id: String,
    uri: Option<String>,
}

#[derive(Deserialize)]
struct ContainerStatus {
    status_code: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
struct Permalink {
    permalink: Option<String>,
}

#[derive(Deserialize)]
struct Refreshed {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct Limit {
    #[serde(default)]
    data: Vec<LimitEntry>,
}

#[derive(Deserialize)]
struct LimitEntry {
    #[serde(default)]
    quota_usage: u64,
    config: Option<LimitConfig>,
}

#[derive(Deserialize)]
struct LimitConfig {
    quota_total: u64,
    quota_duration: Option<u64>,
}

/// How a container's status read.
enum Container {
    Finished,
    Published,
    /// A failure on this container: replace it, or retry it (boundedly).
    Failed(Failure),
}

/// One publication's calls: the account's host and token.
struct Graph<'a> {
    instagram: &'a Instagram,
    base: &'a str,
    token: &'a SecretString,
}

impl Graph<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    fn get(&self, path: &str, fields: &str) -> reqwest::RequestBuilder {
        self.instagram
            .http
            .get(self.url(path))
            .query(&[("fields", fields)])
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.instagram.http.post(self.url(path))
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, Failure> {
        let response = http::send(PROVIDER, request.bearer_auth(self.token.expose_secret()))
            .await
            .map_err(graph_error)?;
        http::json(PROVIDER, response).await.map_err(Failure::Error)
    }

    /// Refuses to start when the account has used its publishing quota.
    async fn check_quota(&self, user: &str) -> Result<(), ProviderError> {
        let limit: Limit = self
            .call(self.get(
                &format!("{user}/content_publishing_limit"),
                "quota_usage,config",
            ))
            .await?;
        if let Some(entry) = limit.data.first() {
            if let Some(config) = &entry.config {
                if entry.quota_usage >= config.quota_total {
                    let hours = config.quota_duration.unwrap_or(86_400) / 3600;
                    return Err(ProviderError::fatal(
                        ErrorCode::PublishQuotaExhausted,
                        format!(
                            "the account has published {} of its {} posts in the last {hours} hours; the oldest drops out of the window first",
                            entry.quota_usage, config.quota_total
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    async fn create_container(
        &self,
        upload: &Upload<'_>,
        user: &str,
    ) -> Result<Created, ProviderError> {
        let request = upload.request;
        let mut form = vec![
            ("media_type", "REELS".to_owned()),
            ("caption", request.copy.caption_with_hashtags()),
            ("share_to_feed", request.share_to_feed.to_string()),
            ("is_ai_generated", request.ai_generated.to_string()),
        ];
        if let Some(offset) = request.cover_offset_ms {
            form.push(("thumb_offset", offset.to_string()));
        }
        match upload.video_url {
            Some(url) => form.push(("video_url", url.to_owned())),
            None => form.push(("upload_type", "resumable".to_owned())),
        }
        Ok(self
            .call(self.post(&format!("{user}/media")).form(&form))
            .await?)
    }

    /// Sends the whole file to rupload in one request, from offset 0 (resuming mid-file is not
    /// documented, so a retry sends it all again).
    async fn send_bytes(&self, upload: &Upload<'_>, uri: &str) -> Result<(), ProviderError> {
        let bytes = tokio::fs::read(upload.video).await.map_err(|error| {
            ProviderError::fatal(
                ErrorCode::MediaMissing,
                format!("reading the video: {error}"),
            )
        })?;
        let response = self
            .instagram
            .http
            .post(uri)
            .header(
                "Authorization",
                format!("OAuth {}", self.token.expose_secret()),
            )
            .header("offset", "0")
            .header("file_size", upload.size_bytes)
            .body(bytes)
            .send()
            .await
            .map_err(|error| http::transport_error(PROVIDER, error))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if status.is_success() && body["success"] == true {
            return Ok(());
        }
        let info = &body["debug_info"];
        let detail = format!(
            "the upload failed ({status}): {}",
            info["message"].as_str().unwrap_or("no detail")
        );
        if info["retriable"] == true || status.is_server_error() {
            Err(ProviderError::retryable(detail))
        } else if status == reqwest::StatusCode::UNAUTHORIZED {
            Err(token_refused(PROVIDER, &detail))
        } else {
            Err(ProviderError::fatal(ErrorCode::ProviderRejected, detail))
        }
    }

    /// Polls the container until it is ready, published or failed.
    async fn wait(
        &self,
        container: &str,
        ctx: &CallContext<'_>,
    ) -> Result<Container, ProviderError> {
        let polling = self.instagram.polling;
        for poll in 0..polling.attempts.max(1) {
            if poll > 0 {
                tokio::time::sleep(polling.interval).await;
            }
            let status = match self
                .call::<ContainerStatus>(self.get(container, "status_code,status"))
                .await
            {
                Ok(status) => status,
                Err(Failure::NotReady) => continue,
                Err(Failure::Error(error)) => return Err(error),
                Err(failure) => return Ok(Container::Failed(failure)),
            };
            match status.status_code.as_deref() {
                Some("FINISHED") => return Ok(Container::Finished),
                Some("PUBLISHED") => return Ok(Container::Published),
                Some("EXPIRED") => {
                    return Ok(Container::Failed(Failure::NewContainer(
                        "the container expired (containers last 24 hours)".into(),
                    )))
                }
                Some("ERROR") => {
                    return match container_failure(status.status.as_deref()) {
                        Failure::Error(error) => Err(error),
                        failure => Ok(Container::Failed(failure)),
                    }
                }
                _ => ctx.progress.report(70, PROCESSING).await,
            }
        }
        Err(still_processing(PROVIDER))
    }

    async fn media_publish(&self, user: &str, container: &str) -> Result<Option<String>, Failure> {
        let request = self
            .post(&format!("{user}/media_publish"))
            .form(&[("creation_id", container)])
            .bearer_auth(self.token.expose_secret());
        let response = http::send(PROVIDER, request).await.map_err(graph_error)?;
        // Accepted: the post exists even if the answer cannot be read.
        Ok(http::json::<Created>(PROVIDER, response)
            .await
            .ok()
            .map(|created| created.id))
    }

    /// Makes the post: containers, upload, polls and `media_publish`, until the checkpoint
    /// says `published`.
    async fn make_post(
        &self,
        upload: &Upload<'_>,
        user: &str,
        checkpoint: &mut Checkpoint,
        ctx: &CallContext<'_>,
    ) -> Result<(), ProviderError> {
        while !checkpoint.published {
            let container = match checkpoint.container_id.clone() {
                Some(container) => container,
                None => self.new_container(upload, user, checkpoint, ctx).await?,
            };
            if !checkpoint.uploaded {
                let uri = checkpoint.upload_uri.clone().ok_or_else(|| {
                    http::bad_response(PROVIDER, "a resumable container without an upload `uri`")
                })?;
                ctx.progress.report(20, "uploading to Instagram").await;
                self.send_bytes(upload, &uri).await?;
                checkpoint.uploaded = true;
                save(ctx, checkpoint).await?;
            }
            ctx.progress.report(50, PROCESSING).await;
            let failure = match self.wait(&container, ctx).await? {
                Container::Published => {
                    checkpoint.published = true;
                    save(ctx, checkpoint).await?;
                    break;
                }
                Container::Failed(failure) => failure,
                Container::Finished => match self.media_publish(user, &container).await {
                    Ok(media_id) => {
                        checkpoint.published = true;
                        checkpoint.media_id = media_id;
                        save(ctx, checkpoint).await?;
                        break;
                    }
                    Err(failure) => failure,
                },
            };
            match failure {
                Failure::RetryTwice(why) if checkpoint.retries < RETRIES_PER_CONTAINER => {
                    // The next attempt reads the container's status before publishing again.
                    checkpoint.retries += 1;
                    save(ctx, checkpoint).await?;
                    return Err(ProviderError::Retryable {
                        message: why,
                        retry_after: Some(self.instagram.polling.interval),
                    });
                }
                Failure::RetryTwice(why) | Failure::NewContainer(why) => {
                    tracing::info!(%why, "making a new Instagram container");
                    // The old container is forgotten before anything else: it is never
                    // published once another was made.
                    *checkpoint = Checkpoint {
                        containers: checkpoint.containers,
                        replaced_because: Some(why),
                        ..Checkpoint::default()
                    };
                    save(ctx, checkpoint).await?;
                }
                failure => return Err(failure.into()),
            }
        }
        Ok(())
    }

    /// Creates a container and checkpoints it before anything else is sent.
    async fn new_container(
        &self,
        upload: &Upload<'_>,
        user: &str,
        checkpoint: &mut Checkpoint,
        ctx: &CallContext<'_>,
    ) -> Result<String, ProviderError> {
        if checkpoint.containers >= MAX_CONTAINERS {
            return Err(ProviderError::fatal(
                ErrorCode::ProviderJobFailed,
                format!(
                    "Instagram refused {MAX_CONTAINERS} containers for this video; the last: {}",
                    checkpoint
                        .replaced_because
                        .as_deref()
                        .unwrap_or("no detail")
                ),
            ));
        }
        if upload.instagram_login == Some(InstagramLogin::Instagram) && upload.video_url.is_none() {
            return Err(ProviderError::fatal(ErrorCode::NotConfigured, NO_LINK));
        }
        self.check_quota(user).await?;
        let created = self.create_container(upload, user).await?;
        *checkpoint = Checkpoint {
            container_id: Some(created.id.clone()),
            upload_uri: created.uri,
            uploaded: upload.video_url.is_some(),
            containers: checkpoint.containers + 1,
            ..Checkpoint::default()
        };
        save(ctx, checkpoint).await?;
        Ok(created.id)
    }

    /// The post's link. The post is made whatever happens here: a transient failure is tried
    /// again on a later attempt (never on the last one), anything else records it without.
    async fn permalink(
        &self,
        upload: &Upload<'_>,
        checkpoint: &mut Checkpoint,
        ctx: &CallContext<'_>,
    ) -> Result<Option<String>, ProviderError> {
        let Some(media) = checkpoint.media_id.clone() else {
            return Ok(None);
        };
        match self
            .call::<Permalink>(self.get(&media, "permalink,shortcode"))
            .await
            .map_err(ProviderError::from)
        {
            Ok(answer) => Ok(answer.permalink),
            Err(error @ ProviderError::Retryable { .. })
                if !upload.last_attempt && checkpoint.permalink_tries + 1 < PERMALINK_TRIES =>
            {
                checkpoint.permalink_tries += 1;
                save(ctx, checkpoint).await?;
                Err(error)
            }
            Err(error) => {
                tracing::warn!(%error, "the Instagram post is made; its link could not be read");
                Ok(None)
            }
        }
    }
}

impl Instagram {
    fn graph<'a>(&'a self, login: InstagramLogin, token: &'a SecretString) -> Graph<'a> {
        let base = match login {
            InstagramLogin::Facebook => &self.facebook,
            InstagramLogin::Instagram => &self.instagram,
        };
        Graph {
            instagram: self,
            base,
            token,
        }
    }

    /// A fresh long-lived Instagram Login token for one that is at least a day old and not
    /// expired (`ig_refresh_token`); the old one stays good until it expires.
    pub async fn refresh_token(&self, token: &SecretString) -> Result<Grant, ProviderError> {
        let request = self
            .http
            .get(format!("{}/refresh_access_token", self.instagram_host))
            .query(&[
                ("grant_type", "ig_refresh_token"),
                ("access_token", token.expose_secret()),
            ]);
        let refreshed = async {
            let response = http::send(PROVIDER, request).await.map_err(graph_error)?;
            http::json::<Refreshed>(PROVIDER, response)
                .await
                .map_err(Failure::Error)
        };
        match refreshed.await {
            Ok(answer) => {
                crate::redact::register(&answer.access_token);
                Ok(Grant {
                    access_token: answer.access_token.into(),
                    refresh_token: None,
                    expires_in: answer.expires_in,
                    account_id: None,
                })
            }
            Err(failure) => Err(match ProviderError::from(failure) {
                error if error.code() == Some(ErrorCode::ProviderAuth) => {
                    super::oauth::reauthorize(Platform::Instagram, &error.to_string())
                }
                error => error,
            }),
        }
    }
}

#[async_trait]
impl Publisher for Instagram {
    async fn publish(
        &self,
        upload: &Upload<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<Posted, ProviderError> {
        let user = upload.external_id.ok_or_else(|| {
            ProviderError::fatal(
                ErrorCode::InvalidJob,
                "the Instagram account has no user id",
            )
        })?;
        let login = upload.instagram_login.unwrap_or(InstagramLogin::Facebook);
        let graph = self.graph(login, upload.access_token);
        let mut checkpoint: Checkpoint = load(ctx).await?;
        if let Some(posted) = checkpoint.posted.clone() {
            return Ok(posted);
        }
        graph.make_post(upload, user, &mut checkpoint, ctx).await?;
        let url = graph.permalink(upload, &mut checkpoint, ctx).await?;
        let posted = Posted {
            post_id: checkpoint.media_id.clone(),
            url,
            outcome: PublishOutcome::Posted,
        };
        checkpoint.posted = Some(posted.clone());
        save(ctx, &checkpoint).await?;
        Ok(posted)
    }
}

/// Why an Instagram Login account cannot post here.
pub const NO_LINK: &str = "an account connected with Instagram Login cannot upload a video, only give Meta a link to it: set REELFORGE__PUBLISHING__PUBLIC_BASE_URL to the service's public address";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::{class, failure};

    fn read(failure: Failure) -> String {
        match failure {
            Failure::Error(error) => class(&error),
            Failure::NewContainer(_) => "new container".into(),
            Failure::RetryTwice(_) => "retry twice".into(),
            Failure::NotReady => "not ready".into(),
        }
    }

    fn classified(code: i64, subcode: Option<i64>, transient: bool) -> String {
        let body = serde_json::json!({"error": {
            "message": "m", "type": "OAuthException", "code": code, "error_subcode": subcode,
            "is_transient": transient, "error_user_title": "t", "error_user_msg": "u",
            "fbtrace_id": "t"
        }});
        read(classify(failure(400, body)))
    }

    #[test]
    fn every_documented_code_has_its_class() {
        for (code, subcode, expected) in [
            (1, None, "retry"),
            (2, None, "retry"),
            (4, None, "retry"),
            (17, None, "retry"),
            (32, None, "retry"),
            (341, None, "retry"),
            (613, None, "retry"),
            (100, Some(2207001), "retry"),
            (100, Some(2207003), "retry"),
            (100, Some(2207032), "retry"),
            (100, Some(2207008), "retry twice"),
            (9007, Some(2207027), "not ready"),
            (100, Some(2207020), "new container"),
            (100, Some(2207053), "new container"),
            (24, Some(2207006), "new container"),
            (190, None, "provider_auth"),
            (190, Some(463), "provider_auth"),
            (10, None, "provider_forbidden"),
            (200, None, "provider_forbidden"),
            (299, None, "provider_forbidden"),
            (9004, Some(2207052), "provider_rejected"),
            (352, Some(2207026), "platform_limit"),
            (100, Some(2207057), "provider_rejected"),
            (4, Some(2207051), "provider_forbidden"),
            (25, Some(2207050), "provider_forbidden"),
            (9, Some(2207042), "publish_quota_exhausted"),
        ] {
            assert_eq!(
                classified(code, subcode, false),
                expected,
                "{code}/{subcode:?}"
            );
        }
        assert_eq!(classified(123, None, true), "retry", "is_transient");
        assert_eq!(classified(123, None, false), "provider_rejected");
    }

    #[test]
    fn a_container_error_is_read_by_the_subcode_its_status_names() {
        for (status, expected) in [
            (
                "Error: 2207020: media expired, upload it again",
                "new container",
            ),
            ("2207053", "new container"),
            ("Error code 2207006", "new container"),
            ("2207001: server error", "retry twice"),
            ("2207032 create media failed", "retry twice"),
            ("2207003", "retry twice"),
            ("2207008", "retry twice"),
            ("2207026: unsupported format", "platform_limit"),
            ("2207052 media could not be fetched", "provider_rejected"),
            ("2207057", "provider_rejected"),
            ("2207051", "provider_forbidden"),
            ("2207050", "provider_forbidden"),
            ("2207042", "publish_quota_exhausted"),
            ("something else", "provider_job_failed"),
        ] {
            assert_eq!(read(container_failure(Some(status))), expected, "{status}");
        }
        assert_eq!(read(container_failure(None)), "provider_job_failed");
    }
}
