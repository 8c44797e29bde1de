//! Instagram Graph API: a Reels container, the video's bytes through a resumable upload (or a
//! public link Meta fetches), the container's status polled, then `media_publish`. The container
//! id is checkpointed before the upload, and a resumed job reads the container's status before
//! it publishes: a container already `PUBLISHED` is never published again.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::{
    load, save, still_processing, token_refused, Polling, Posted, Publisher, Upload, PROCESSING,
};
use crate::{
    domain::publishing::PublishOutcome,
    error_code::ErrorCode,
    providers::{http, CallContext, ProviderError},
};

pub const PROVIDER: &str = "instagram";
/// New containers made for one publication (after `EXPIRED` or a container error Meta says
/// to replace) before giving up.
const CONTAINERS_PER_ATTEMPT: u32 = 2;

pub struct Instagram {
    http: reqwest::Client,
    base_url: String,
    polling: Polling,
}

impl Instagram {
    pub fn new(base_url: &str, polling: Polling, timeout: Duration) -> Self {
        Instagram {
            http: http::client(timeout),
            base_url: base_url.trim_end_matches('/').to_owned(),
            polling,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Checkpoint {
    container_id: Option<String>,
    upload_uri: Option<String>,
    uploaded: bool,
    /// `media_publish` was accepted, or the container reached `PUBLISHED` (a crash after
    /// `media_publish`): posted, with its media id when it was read.
    published: bool,
    media_id: Option<String>,
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

/// What to do about a Graph API error.
enum Failure {
    Error(ProviderError),
    /// Meta says this container will not do: make a new one.
    NewContainer(String),
    /// The media is not ready yet: keep polling.
    NotReady,
}

/// Meta's documented error codes and subcodes.
fn classify(failure: http::HttpFailure) -> Failure {
    let Ok(GraphError { error }) = serde_json::from_str::<GraphError>(&failure.body) else {
        return Failure::Error(failure.into_error());
    };
    let (code, subcode) = (error.code.unwrap_or(0), error.error_subcode.unwrap_or(0));
    let message = error
        .error_user_msg
        .clone()
        .unwrap_or(error.message.clone());
    let detail = format!("Instagram error {code}/{subcode}: {message}");
    let fatal = |code| Failure::Error(ProviderError::fatal(code, detail.clone()));
    match (code, subcode) {
        (9007, _) | (_, 2207027) => Failure::NotReady,
        (_, 2207020 | 2207053) | (24, 2207006) => Failure::NewContainer(detail),
        (190, _) => Failure::Error(token_refused(PROVIDER, &message)),
        (9, 2207042) => fatal(ErrorCode::PublishQuotaExhausted),
        (4, 2207051) => fatal(ErrorCode::ProviderForbidden),
        (25, _) | (_, 2207050) => fatal(ErrorCode::ProviderForbidden),
        (352, _) | (_, 2207026) => fatal(ErrorCode::PlatformLimit),
        (9004, _) | (_, 2207052) | (_, 2207057) => fatal(ErrorCode::ProviderRejected),
        (10, _) | (200..=299, _) => fatal(ErrorCode::ProviderForbidden),
        (1 | 2 | 4 | 17 | 32 | 341 | 613, _) | (_, 2207001 | 2207003 | 2207032 | 2207008) => {
            Failure::Error(ProviderError::Retryable {
                message: detail,
                retry_after: failure.retry_after.or(Some(Duration::from_secs(30))),
            })
        }
        _ if error.is_transient => Failure::Error(ProviderError::retryable(detail)),
        _ => Failure::Error(failure.into_error()),
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
            Failure::NewContainer(detail) => ProviderError::retryable(detail),
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
    Replace(String),
}

impl Instagram {
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base_url)
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        token: &secrecy::SecretString,
    ) -> Result<T, Failure> {
        let response = http::send(PROVIDER, request.bearer_auth(token.expose_secret()))
            .await
            .map_err(graph_error)?;
        http::json(PROVIDER, response).await.map_err(Failure::Error)
    }

    /// Refuses to start when the account has used its publishing quota.
    async fn check_quota(&self, upload: &Upload<'_>, user: &str) -> Result<(), ProviderError> {
        let limit: Limit = self
            .call(
                self.http
                    .get(self.url(&format!("{user}/content_publishing_limit")))
                    .query(&[("fields", "quota_usage,config")]),
                upload.access_token,
            )
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
            .call(
                self.http
                    .post(self.url(&format!("{user}/media")))
                    .form(&form),
                upload.access_token,
            )
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
            .http
            .post(uri)
            .header(
                "Authorization",
                format!("OAuth {}", upload.access_token.expose_secret()),
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

    /// Polls the container until it is ready, published or to be replaced.
    async fn wait(
        &self,
        upload: &Upload<'_>,
        container: &str,
        ctx: &CallContext<'_>,
    ) -> Result<Container, ProviderError> {
        for poll in 0..self.polling.attempts.max(1) {
            if poll > 0 {
                tokio::time::sleep(self.polling.interval).await;
            }
            let status: Result<ContainerStatus, Failure> = self
                .call(
                    self.http
                        .get(self.url(container))
                        .query(&[("fields", "status_code,status")]),
                    upload.access_token,
                )
                .await;
            let status = match status {
                Ok(status) => status,
                Err(Failure::NotReady) => continue,
                Err(Failure::NewContainer(detail)) => return Ok(Container::Replace(detail)),
                Err(Failure::Error(error)) => return Err(error),
            };
            match status.status_code.as_deref() {
                Some("FINISHED") => return Ok(Container::Finished),
                Some("PUBLISHED") => return Ok(Container::Published),
                Some("EXPIRED") => return Ok(Container::Replace("the container expired".into())),
                Some("ERROR") => {
                    return Err(ProviderError::fatal(
                        ErrorCode::ProviderJobFailed,
                        format!(
                            "Instagram could not process the video: {}",
                            status.status.unwrap_or_else(|| "no detail".into())
                        ),
                    ))
                }
                _ => ctx.progress.report(70, PROCESSING).await,
            }
        }
        Err(still_processing(PROVIDER))
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
        let mut checkpoint: Checkpoint = load(ctx).await?;
        if let Some(posted) = checkpoint.posted.clone() {
            return Ok(posted);
        }
        for _ in 0..CONTAINERS_PER_ATTEMPT {
            if checkpoint.published {
                break;
            }
            let container = match checkpoint.container_id.clone() {
                Some(container) => container,
                None => {
                    self.check_quota(upload, user).await?;
                    let created = self.create_container(upload, user).await?;
                    checkpoint = Checkpoint {
                        container_id: Some(created.id.clone()),
                        upload_uri: created.uri,
                        uploaded: upload.video_url.is_some(),
                        ..Checkpoint::default()
                    };
                    save(ctx, &checkpoint).await?;
                    created.id
                }
            };
            if !checkpoint.uploaded {
                let uri = checkpoint.upload_uri.clone().ok_or_else(|| {
                    http::bad_response(PROVIDER, "a resumable container without an upload `uri`")
                })?;
                ctx.progress.report(20, "uploading to Instagram").await;
                self.send_bytes(upload, &uri).await?;
                checkpoint.uploaded = true;
                save(ctx, &checkpoint).await?;
            }
            ctx.progress.report(50, PROCESSING).await;
            match self.wait(upload, &container, ctx).await? {
                Container::Published => {
                    checkpoint.published = true;
                    save(ctx, &checkpoint).await?;
                }
                Container::Replace(why) => {
                    tracing::info!(%why, "making a new Instagram container");
                    checkpoint = Checkpoint::default();
                    save(ctx, &checkpoint).await?;
                }
                Container::Finished => {
                    let request = self
                        .http
                        .post(self.url(&format!("{user}/media_publish")))
                        .form(&[("creation_id", container.as_str())])
                        .bearer_auth(upload.access_token.expose_secret());
                    let response = http::send(PROVIDER, request).await.map_err(graph_error)?;
                    // Accepted: the post exists even if the answer cannot be read.
                    checkpoint.published = true;
                    checkpoint.media_id = http::json::<Created>(PROVIDER, response)
                        .await
                        .ok()
                        .map(|created| created.id);
                    save(ctx, &checkpoint).await?;
                }
            }
        }
        if !checkpoint.published {
            return Err(ProviderError::retryable(
                "Instagram asked for a new container twice; trying again later",
            ));
        }
        let posted = Posted {
            post_id: checkpoint.media_id.clone(),
            url: None,
            outcome: PublishOutcome::Posted,
        };
        checkpoint.posted = Some(posted.clone());
        save(ctx, &checkpoint).await?;
        Ok(posted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::publish::{class, failure};

    fn classified(code: i64, subcode: Option<i64>, transient: bool) -> String {
        let body = serde_json::json!({"error": {
            "message": "m", "type": "OAuthException", "code": code, "error_subcode": subcode,
            "is_transient": transient, "fbtrace_id": "t"
        }});
        match classify(failure(400, body)) {
            Failure::Error(error) => class(&error),
            Failure::NewContainer(_) => "new container".into(),
            Failure::NotReady => "not ready".into(),
        }
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
            (100, Some(2207008), "retry"),
            (9007, Some(2207027), "not ready"),
            (100, Some(2207020), "new container"),
            (100, Some(2207053), "new container"),
            (24, Some(2207006), "new container"),
            (190, None, "provider_auth"),
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
}
