//! TikTok Content Posting API: the creator's info first (its privacy options decide what is
//! allowed), `video/init` with `FILE_UPLOAD`, the chunks PUT in order, then the status polled to
//! `PUBLISH_COMPLETE` (or `SEND_TO_USER_INBOX` for drafts). The publish id is checkpointed
//! before any byte goes; a resumed job asks TikTok how far that upload got before it starts
//! another, so a fully sent video is never sent twice.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::header;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    load, read_chunk, save, still_processing, token_refused, wait_until, Polling, Posted,
    Publisher, Upload, PROCESSING,
};
use crate::{
    domain::publishing::{Privacy, PublicationWait, PublishOutcome, TiktokMode, WaitReason},
    error_code::ErrorCode,
    {http, CallContext, ProviderError},
};

pub const PROVIDER: &str = "tiktok";
/// Below this a video goes in one chunk.
const MIN_CHUNK: u64 = 5 * 1024 * 1024;
/// The largest chunk TikTok takes, and the largest last chunk.
const MAX_CHUNK: u64 = 64 * 1024 * 1024;
const MAX_LAST_CHUNK: u64 = 128 * 1024 * 1024;
/// How long a public post's id is looked for after `PUBLISH_COMPLETE`: moderation can take
/// hours; after a day the post stands without a link.
const MODERATION_HOURS: i64 = 24;

/// The pause before the `checks`-th look for a moderated post's id: soon at first (most posts
/// clear in minutes), then hourly.
fn moderation_delay(checks: u32) -> chrono::Duration {
    chrono::Duration::minutes(match checks {
        0 => 1,
        1 => 5,
        2 => 15,
        _ => 60,
    })
}

pub struct TikTok {
    http: reqwest::Client,
    base_url: String,
    chunk_bytes: u64,
    polling: Polling,
}

impl TikTok {
    pub fn new(base_url: &str, chunk_bytes: u64, polling: Polling, timeout: Duration) -> Self {
        TikTok {
            http: http::client(timeout),
            base_url: base_url.trim_end_matches('/').to_owned(),
            chunk_bytes: chunk_bytes.clamp(MIN_CHUNK, MAX_CHUNK),
            polling,
        }
    }
}

/// `(chunk_size, total_chunk_count)` as TikTok counts them: under 5 MB one chunk, else
/// `floor(size / chunk)` chunks whose last takes the rest.
pub fn chunking(size: u64, chunk: u64) -> (u64, u64) {
    if size < MIN_CHUNK {
        return (size, 1);
    }
    // A video smaller than a chunk is one chunk of its own size.
    let mut chunk = chunk.clamp(MIN_CHUNK, MAX_CHUNK).min(size);
    // The last chunk (a chunk plus the rest) may not pass 128 MB.
    while chunk + size % chunk > MAX_LAST_CHUNK && chunk > MIN_CHUNK {
        chunk -= 1024 * 1024;
    }
    (chunk, (size / chunk).max(1))
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Checkpoint {
    publish_id: Option<String>,
    upload_url: Option<String>,
    /// Chunks TikTok acknowledged.
    next_chunk: u64,
    uploaded: bool,
    username: Option<String>,
    posted: Option<Posted>,
    /// When TikTok first said `PUBLISH_COMPLETE` without the post's id, and how often it has
    /// been asked again since: moderation holds the id back.
    complete_at: Option<DateTime<Utc>>,
    moderation_checks: u32,
    waiting: Option<PublicationWait>,
}

/// Every TikTok answer, success or failure: failures keep the envelope with an empty `data`,
/// so `data` is read as the endpoint's type only once `error.code` says `ok`.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    data: serde_json::Value,
    error: ApiError,
}

#[derive(Deserialize)]
struct ApiError {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    log_id: String,
}

#[derive(Deserialize)]
struct CreatorInfo {
    creator_username: Option<String>,
    #[serde(default)]
    privacy_level_options: Vec<String>,
    max_video_post_duration_sec: Option<u64>,
}

#[derive(Deserialize)]
struct Init {
    publish_id: String,
    upload_url: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    status: String,
    fail_reason: Option<String>,
    #[serde(default, rename = "publicaly_available_post_id")]
    post_ids: Vec<serde_json::Value>,
    uploaded_bytes: Option<u64>,
}

fn privacy_level(privacy: Privacy) -> &'static str {
    match privacy {
        Privacy::Public | Privacy::Unlisted => "PUBLIC_TO_EVERYONE",
        Privacy::Friends => "MUTUAL_FOLLOW_FRIENDS",
        Privacy::Followers => "FOLLOWER_OF_CREATOR",
        Privacy::Private => "SELF_ONLY",
    }
}

/// TikTok's documented error codes: the token refreshed once, rate limits and outages retried
/// later, the rest fatal with TikTok's code and message.
fn classify(status: u16, error: &ApiError, retry_after: Option<Duration>) -> ProviderError {
    let code = error.code.as_str();
    let mut detail = format!(
        "TikTok answered {status} `{code}`: {} (log id {})",
        error.message, error.log_id
    );
    if code == "unaudited_client_can_only_post_to_private_accounts" {
        detail.push_str(
            "; TikTok has not audited this app: post as `private`, and set REELFORGE__PUBLISHING__TIKTOK__AUDITED=false until it has",
        );
    }
    match code {
        "access_token_invalid" => token_refused(PROVIDER, code),
        "rate_limit_exceeded" => ProviderError::Retryable {
            message: detail,
            retry_after: retry_after.or(Some(Duration::from_secs(60))),
        },
        "privacy_level_option_mismatch" => {
            ProviderError::fatal(ErrorCode::PrivacyNotAllowed, detail)
        }
        "spam_risk_too_many_posts"
        | "spam_risk_too_many_pending_share"
        | "reached_active_user_cap" => {
            ProviderError::fatal(ErrorCode::PublishQuotaExhausted, detail)
        }
        "scope_not_authorized"
        | "spam_risk_user_banned_from_posting"
        | "unaudited_client_can_only_post_to_private_accounts" => {
            ProviderError::fatal(ErrorCode::ProviderForbidden, detail)
        }
        "invalid_param" => ProviderError::fatal(ErrorCode::ProviderRejected, detail),
        _ if status >= 500 || status == 429 => ProviderError::Retryable {
            message: detail,
            retry_after,
        },
        _ => ProviderError::fatal(ErrorCode::ProviderRejected, detail),
    }
}

/// Reads any endpoint's answer: `error.code` first, then `data` as `T` when it is `ok`.
fn read<T: serde::de::DeserializeOwned>(
    status: u16,
    retry_after: Option<Duration>,
    bytes: &[u8],
) -> Result<T, ProviderError> {
    let envelope: Envelope = match serde_json::from_slice(bytes) {
        Ok(envelope) => envelope,
        Err(_) if status >= 500 || status == 429 => {
            return Err(ProviderError::Retryable {
                message: format!("TikTok answered {status}"),
                retry_after,
            })
        }
        Err(error) => return Err(http::bad_response(PROVIDER, error)),
    };
    if envelope.error.code != "ok" {
        return Err(classify(status, &envelope.error, retry_after));
    }
    serde_json::from_value(envelope.data).map_err(|error| http::bad_response(PROVIDER, error))
}

impl TikTok {
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: serde_json::Value,
        upload: &Upload<'_>,
    ) -> Result<T, ProviderError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(upload.access_token.expose_secret())
            .header(header::CONTENT_TYPE, "application/json; charset=UTF-8")
            .body(body.to_string())
            .send()
            .await
            .map_err(|error| http::transport_error(PROVIDER, error))?;
        let status = response.status().as_u16();
        let retry_after = http::retry_after(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|error| http::transport_error(PROVIDER, error))?;
        read(status, retry_after, &bytes)
    }

    /// Checks the creator may post this video with this privacy; answers their username.
    async fn creator(&self, upload: &Upload<'_>) -> Result<Option<String>, ProviderError> {
        let info: CreatorInfo = self
            .call("/v2/post/publish/creator_info/query/", json!({}), upload)
            .await?;
        let level = privacy_level(upload.request.privacy);
        if !info.privacy_level_options.iter().any(|o| o == level) {
            return Err(ProviderError::fatal(
                ErrorCode::PrivacyNotAllowed,
                format!(
                    "the TikTok account cannot post as {level}; it allows {}",
                    info.privacy_level_options.join(", ")
                ),
            ));
        }
        if let Some(limit) = info.max_video_post_duration_sec {
            if upload.duration_ms > limit * 1000 {
                return Err(ProviderError::fatal(
                    ErrorCode::PlatformLimit,
                    format!(
                        "the video lasts {:.1} s; this TikTok account posts at most {limit} s",
                        upload.duration_ms as f64 / 1000.0
                    ),
                ));
            }
        }
        Ok(info.creator_username)
    }

    async fn init(&self, upload: &Upload<'_>) -> Result<Init, ProviderError> {
        let (chunk, count) = chunking(upload.size_bytes, self.chunk_bytes);
        let source = json!({
            "source": "FILE_UPLOAD",
            "video_size": upload.size_bytes,
            "chunk_size": chunk,
            "total_chunk_count": count,
        });
        let request = upload.request;
        if request.tiktok_mode == TiktokMode::Inbox {
            return self
                .call(
                    "/v2/post/publish/inbox/video/init/",
                    json!({"source_info": source}),
                    upload,
                )
                .await;
        }
        let mut post_info = json!({
            "privacy_level": privacy_level(request.privacy),
            "title": request.copy.caption_with_hashtags(),
            "disable_comment": false,
            "disable_duet": false,
            "disable_stitch": false,
            "brand_content_toggle": false,
            "brand_organic_toggle": false,
            "is_aigc": request.ai_generated,
        });
        if let Some(offset) = request.cover_offset_ms {
            post_info["video_cover_timestamp_ms"] = json!(offset.min(i32::MAX as u64));
        }
        self.call(
            "/v2/post/publish/video/init/",
            json!({"post_info": post_info, "source_info": source}),
            upload,
        )
        .await
    }

    /// PUTs the chunks from the checkpoint's next one, in order, recording each TikTok
    /// acknowledges.
    async fn send(
        &self,
        upload: &Upload<'_>,
        checkpoint: &mut Checkpoint,
        ctx: &CallContext<'_>,
    ) -> Result<(), ProviderError> {
        let url = checkpoint
            .upload_url
            .clone()
            .ok_or_else(|| http::bad_response(PROVIDER, "no `upload_url` for FILE_UPLOAD"))?;
        let total = upload.size_bytes;
        let (chunk, count) = chunking(total, self.chunk_bytes);
        for index in checkpoint.next_chunk..count {
            let first = index * chunk;
            let length = if index + 1 == count {
                total - first
            } else {
                chunk
            };
            let bytes = read_chunk(upload.video, first, length).await?;
            let response = self
                .http
                .put(&url)
                .header(header::CONTENT_TYPE, "video/mp4")
                .header(header::CONTENT_LENGTH, length)
                .header(
                    header::CONTENT_RANGE,
                    format!("bytes {first}-{}/{total}", first + length - 1),
                )
                .body(bytes)
                .send()
                .await
                .map_err(|error| http::transport_error(PROVIDER, error))?;
            match response.status().as_u16() {
                201 | 206 => {}
                403 => {
                    // The address expired (it lives an hour): that upload can never
                    // complete, so the next attempt starts another.
                    *checkpoint = Checkpoint {
                        username: checkpoint.username.take(),
                        ..Checkpoint::default()
                    };
                    save(ctx, checkpoint).await?;
                    return Err(ProviderError::retryable(
                        "the TikTok upload address expired; starting a new upload",
                    ));
                }
                status => {
                    let failure = http::HttpFailure::read(PROVIDER, response).await;
                    // A 416 says TikTok's progress differs from ours: the next attempt asks
                    // TikTok where it is.
                    return Err(if status >= 500 || status == 416 {
                        ProviderError::retryable(format!(
                            "TikTok answered {status} to a chunk: {}",
                            failure.excerpt()
                        ))
                    } else {
                        ProviderError::fatal(
                            ErrorCode::ProviderRejected,
                            format!("TikTok refused a chunk ({status}): {}", failure.excerpt()),
                        )
                    });
                }
            }
            checkpoint.next_chunk = index + 1;
            save(ctx, checkpoint).await?;
            let percent = 20 + (50 * (index + 1) / count) as u8;
            ctx.progress.report(percent, "uploading to TikTok").await;
        }
        Ok(())
    }

    async fn status(&self, upload: &Upload<'_>, publish_id: &str) -> Result<Status, ProviderError> {
        self.call(
            "/v2/post/publish/status/fetch/",
            json!({"publish_id": publish_id}),
            upload,
        )
        .await
    }
}

/// What a final status means.
fn outcome(status: &Status, username: Option<&str>) -> Result<Option<Posted>, ProviderError> {
    match status.status.as_str() {
        "PUBLISH_COMPLETE" => {
            let post_id = status.post_ids.first().map(|id| match id {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            });
            let url = match (&post_id, username) {
                (Some(id), Some(user)) => {
                    Some(format!("https://www.tiktok.com/@{user}/video/{id}"))
                }
                _ => None,
            };
            Ok(Some(Posted {
                post_id,
                url,
                outcome: PublishOutcome::Posted,
            }))
        }
        "SEND_TO_USER_INBOX" => Ok(Some(Posted {
            post_id: None,
            url: None,
            outcome: PublishOutcome::Inbox,
        })),
        "FAILED" => {
            let reason = status.fail_reason.clone().unwrap_or_default();
            let detail = format!("TikTok could not post the video: {reason}");
            Err(match reason.as_str() {
                "internal" | "video_pull_failed" => ProviderError::retryable(detail),
                "auth_removed" => token_refused(PROVIDER, &reason),
                reason if reason.ends_with("_check_failed") => {
                    ProviderError::fatal(ErrorCode::PlatformLimit, detail)
                }
                reason if reason.starts_with("spam_risk") => {
                    ProviderError::fatal(ErrorCode::ProviderForbidden, detail)
                }
                _ => ProviderError::fatal(ErrorCode::ProviderJobFailed, detail),
            })
        }
        _ => Ok(None),
    }
}

/// A direct post TikTok completed without its id: a public one gets it after moderation;
/// `SELF_ONLY` posts never get one.
fn awaits_moderation(posted: &Posted, upload: &Upload<'_>) -> bool {
    posted.outcome == PublishOutcome::Posted
        && posted.post_id.is_none()
        && upload.request.privacy != Privacy::Private
}

#[async_trait]
impl Publisher for TikTok {
    async fn publish(
        &self,
        upload: &Upload<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<Posted, ProviderError> {
        let mut checkpoint: Checkpoint = load(ctx).await?;
        if let Some(posted) = checkpoint.posted.clone() {
            return Ok(posted);
        }
        let (chunk, _) = chunking(upload.size_bytes, self.chunk_bytes);
        // An upload an earlier attempt started stands if TikTok has its bytes, and goes on from
        // where TikTok says it is; only one TikTok can no longer complete is started anew.
        if let (Some(id), false) = (checkpoint.publish_id.clone(), checkpoint.uploaded) {
            let status = self.status(upload, &id).await?;
            match (status.status.as_str(), status.uploaded_bytes) {
                ("PROCESSING_UPLOAD", Some(held)) if held < upload.size_bytes => {
                    if held % chunk == 0 {
                        checkpoint.next_chunk = held / chunk;
                    } else {
                        checkpoint = Checkpoint {
                            username: checkpoint.username,
                            ..Checkpoint::default()
                        };
                    }
                }
                // Without a count, our own record of acknowledged chunks decides.
                ("PROCESSING_UPLOAD", None) => {}
                _ => checkpoint.uploaded = true,
            }
            save(ctx, &checkpoint).await?;
        }
        let publish_id = match checkpoint.publish_id.clone() {
            Some(id) => id,
            None => {
                if upload.request.tiktok_mode == TiktokMode::Direct {
                    checkpoint.username = self.creator(upload).await?;
                }
                let init = self.init(upload).await?;
                checkpoint.publish_id = Some(init.publish_id.clone());
                checkpoint.upload_url = init.upload_url;
                checkpoint.next_chunk = 0;
                save(ctx, &checkpoint).await?;
                init.publish_id
            }
        };
        if !checkpoint.uploaded {
            self.send(upload, &mut checkpoint, ctx).await?;
            checkpoint.uploaded = true;
            save(ctx, &checkpoint).await?;
        }
        ctx.progress.report(75, PROCESSING).await;
        for poll in 0..self.polling.attempts.max(1) {
            if poll > 0 {
                tokio::time::sleep(self.polling.interval).await;
            }
            let status = self.status(upload, &publish_id).await?;
            match outcome(&status, checkpoint.username.as_deref()) {
                Ok(Some(posted)) if awaits_moderation(&posted, upload) => {
                    let since = *checkpoint.complete_at.get_or_insert(upload.now);
                    if upload.now < since + chrono::Duration::hours(MODERATION_HOURS) {
                        let until = upload.now + moderation_delay(checkpoint.moderation_checks);
                        let wait = PublicationWait {
                            reason: WaitReason::PostId,
                            until,
                            message: format!(
                                "TikTok posted the video and is moderating it; its link comes after (looking again at {})",
                                until.format("%Y-%m-%d %H:%M UTC")
                            ),
                        };
                        checkpoint.moderation_checks += 1;
                        checkpoint.waiting = Some(wait.clone());
                        save(ctx, &checkpoint).await?;
                        return Err(wait_until(&wait, upload.now));
                    }
                    // A day without an id: the post stands, without a link.
                    checkpoint.posted = Some(posted.clone());
                    save(ctx, &checkpoint).await?;
                    return Ok(posted);
                }
                Ok(Some(posted)) => {
                    checkpoint.posted = Some(posted.clone());
                    save(ctx, &checkpoint).await?;
                    return Ok(posted);
                }
                Ok(None) => {}
                Err(error @ ProviderError::Retryable { .. }) => {
                    // TikTok asks for a new upload (`internal`, `video_pull_failed`): that
                    // one failed, so a new one cannot make a second post.
                    checkpoint = Checkpoint {
                        username: checkpoint.username,
                        ..Checkpoint::default()
                    };
                    save(ctx, &checkpoint).await?;
                    return Err(error);
                }
                Err(error) => return Err(error),
            }
        }
        Err(still_processing(PROVIDER))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::class;

    #[test]
    fn every_documented_error_and_fail_reason_has_its_class() {
        for (status, code, expected) in [
            (401, "access_token_invalid", "provider_auth"),
            (401, "scope_not_authorized", "provider_forbidden"),
            (403, "spam_risk_too_many_posts", "publish_quota_exhausted"),
            (
                403,
                "spam_risk_too_many_pending_share",
                "publish_quota_exhausted",
            ),
            (403, "reached_active_user_cap", "publish_quota_exhausted"),
            (
                403,
                "spam_risk_user_banned_from_posting",
                "provider_forbidden",
            ),
            (
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "provider_forbidden",
            ),
            (403, "privacy_level_option_mismatch", "privacy_not_allowed"),
            (400, "invalid_param", "provider_rejected"),
            (429, "rate_limit_exceeded", "retry"),
            (500, "internal_error", "retry"),
            (403, "url_ownership_unverified", "provider_rejected"),
        ] {
            // As TikTok sends every failure: the envelope kept, `data` empty.
            let body = serde_json::json!({"data": {}, "error": {"code": code, "message": "m", "log_id": "l"}});
            let read = read::<Init>(status, None, body.to_string().as_bytes());
            assert_eq!(class(&read.err().unwrap()), expected, "{code}");
        }
        let ok = r#"{"data": {"publish_id": "p1"}, "error": {"code": "ok", "message": "", "log_id": "l"}}"#;
        assert_eq!(
            read::<Init>(200, None, ok.as_bytes()).unwrap().publish_id,
            "p1"
        );
        let empty_ok = r#"{"data": {}, "error": {"code": "ok", "message": "", "log_id": "l"}}"#;
        assert_eq!(
            class(&read::<Init>(200, None, empty_ok.as_bytes()).err().unwrap()),
            "provider_bad_response"
        );
        assert_eq!(
            class(&read::<Init>(502, None, b"<html>").err().unwrap()),
            "retry"
        );
        let status = |status: &str, reason: Option<&str>| Status {
            status: status.into(),
            fail_reason: reason.map(Into::into),
            post_ids: vec![serde_json::json!(7300000000000000001u64)],
            uploaded_bytes: None,
        };
        for (reason, expected) in [
            ("internal", "retry"),
            ("video_pull_failed", "retry"),
            ("file_format_check_failed", "platform_limit"),
            ("duration_check_failed", "platform_limit"),
            ("frame_rate_check_failed", "platform_limit"),
            ("picture_size_check_failed", "platform_limit"),
            ("spam_risk_too_many_posts", "provider_forbidden"),
            ("auth_removed", "provider_auth"),
        ] {
            let error = outcome(&status("FAILED", Some(reason)), None).unwrap_err();
            assert_eq!(class(&error), expected, "{reason}");
        }
        let posted = outcome(&status("PUBLISH_COMPLETE", None), Some("anna"))
            .unwrap()
            .unwrap();
        assert_eq!(posted.post_id.as_deref(), Some("7300000000000000001"));
        assert!(outcome(&status("PROCESSING_DOWNLOAD", None), None)
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_moderated_post_is_looked_for_soon_then_hourly() {
        let minutes: Vec<i64> = (0..5).map(|n| moderation_delay(n).num_minutes()).collect();
        assert_eq!(minutes, [1, 5, 15, 60, 60]);
    }

    #[test]
    fn chunks_are_counted_as_tiktok_documents() {
        const MB: u64 = 1024 * 1024;
        assert_eq!(chunking(3 * MB, 10 * MB), (3 * MB, 1));
        assert_eq!(chunking(25 * MB, 10 * MB), (10 * MB, 2));
        assert_eq!(chunking(10 * MB, 10 * MB), (10 * MB, 1));
        assert_eq!(chunking(7 * MB, 10 * MB), (7 * MB, 1));
        let (chunk, count) = chunking(1000 * MB, 64 * MB);
        assert_eq!(count, 1000 * MB / chunk);
        assert!(chunk + (1000 * MB) % chunk <= 128 * MB);
    }
}
