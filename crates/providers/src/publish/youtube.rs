//! YouTube Data API v3: a resumable upload in chunks (`videos.insert`). The session URI is
//! checkpointed before the first byte goes, so a restarted job asks how much YouTube already
//! has (`Content-Range: bytes */TOTAL`) and sends only the rest.
//!
//! The post's cover follows once the upload is posted: YouTube takes a Short's custom
//! thumbnail (`thumbnails.set`) only after processing, so `videos.list` is asked at spaced,
//! durable checks first, and the set is checkpointed so a restart never sends it again.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{header, StatusCode};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::json;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};

use super::{
    load, read_chunk, save, token_refused, wait_until, CoverCall, CoverReady, CoverSetter, Posted,
    Publisher, Upload, PROCESSING,
};
use crate::{
    domain::publishing::{Privacy, PublicationWait, PublishOutcome, WaitReason},
    error_code::ErrorCode,
    {http, CallContext, ProviderError},
};

pub const PROVIDER: &str = "youtube";
/// YouTube takes chunks in multiples of this, except the last.
pub const CHUNK_QUANTUM: u64 = 256 * 1024;
/// How long after Pacific midnight the upload starts again: the reset is not to the second.
const QUOTA_MARGIN_MINUTES: i64 = 5;
/// Failed chunk sends resumed within one attempt before the job retries later.
const RESUMES_PER_ATTEMPT: u32 = 3;
/// When processing is checked again after each check that found it unfinished; the last gap
/// repeats. Shorts are mostly processed within minutes, long ones take longer.
const PROCESSING_CHECKS_SECS: [i64; 5] = [30, 60, 120, 300, 600];
/// How long the cover waits for processing before it gives up (the post stands regardless).
const PROCESSING_CAP_HOURS: i64 = 4;

pub struct YouTube {
    http: reqwest::Client,
    base_url: String,
    chunk_bytes: u64,
}

impl YouTube {
    pub fn new(base_url: &str, chunk_bytes: u64, timeout: Duration) -> Self {
        YouTube {
            http: http::client(timeout),
            base_url: base_url.trim_end_matches('/').to_owned(),
            // Rounded down to YouTube's quantum, at least one quantum.
            chunk_bytes: (chunk_bytes / CHUNK_QUANTUM).max(1) * CHUNK_QUANTUM,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Checkpoint {
    session_uri: Option<String>,
    posted: Option<Posted>,
    waiting: Option<PublicationWait>,
    /// The cover's first processing check, from which its cap is counted.
    processing_since: Option<DateTime<Utc>>,
    processing_checks: u32,
    /// `thumbnails.set` answered: it is never sent again.
    thumbnail_set: bool,
}

impl Checkpoint {
    /// Records a wait until YouTube's quota resets, `doing` what then.
    fn quota_wait(&mut self, now: DateTime<Utc>, doing: &str) -> PublicationWait {
        let until = next_pacific_midnight(now) + chrono::Duration::minutes(QUOTA_MARGIN_MINUTES);
        self.wait(PublicationWait {
            reason: WaitReason::QuotaReset,
            until,
            message: format!(
                "YouTube's daily quota is used up; {doing} after it resets at midnight Pacific time ({})",
                until.format("%Y-%m-%d %H:%M UTC")
            ),
        })
    }

    fn wait(&mut self, wait: PublicationWait) -> PublicationWait {
        self.waiting = Some(wait.clone());
        wait
    }
}

/// `videos.list` with `processingDetails,status`.
#[derive(Deserialize)]
struct VideoList {
    #[serde(default)]
    items: Vec<ProcessedVideo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProcessedVideo {
    processing_details: Option<ProcessingDetails>,
    status: Option<VideoStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProcessingDetails {
    processing_status: Option<String>,
    processing_failure_reason: Option<String>,
}

/// Where processing stands for the cover.
#[derive(Debug, PartialEq)]
enum Processing {
    Succeeded,
    Running,
    /// It will never succeed: YouTube's reason.
    Ended(String),
}

fn processing(list: VideoList, id: &str) -> Processing {
    let Some(video) = list.items.into_iter().next() else {
        return Processing::Ended(format!("YouTube has no video {id} any more (deleted?)"));
    };
    if let Some(status) = &video.status {
        if let Some(state @ ("rejected" | "failed" | "deleted")) = status.upload_status.as_deref() {
            let reason = status
                .rejection_reason
                .as_deref()
                .or(status.failure_reason.as_deref())
                .unwrap_or("no reason given");
            return Processing::Ended(format!("YouTube {state} the video ({reason})"));
        }
    }
    let details = video.processing_details.unwrap_or(ProcessingDetails {
        processing_status: None,
        processing_failure_reason: None,
    });
    match details.processing_status.as_deref() {
        Some("succeeded") => Processing::Succeeded,
        Some(state @ ("failed" | "terminated")) => Processing::Ended(format!(
            "YouTube's processing {state} ({})",
            details
                .processing_failure_reason
                .as_deref()
                .unwrap_or("no reason given")
        )),
        _ => Processing::Running,
    }
}

/// `thumbnails.set`'s own refusals, said so a person can act on them; the rest as any call.
fn classify_thumbnail(failure: http::HttpFailure) -> ProviderError {
    let reason = reason(&failure.body);
    let refused = |code, why: &str| {
        ProviderError::fatal(
            code,
            format!("YouTube refused the custom thumbnail ({reason}): {why}"),
        )
    };
    match (failure.status.as_u16(), reason.as_str()) {
        (403, "forbidden") => refused(
            ErrorCode::ProviderForbidden,
            "the channel must be verified (YouTube Studio, phone verification) to use custom thumbnails, or the account may not edit this video",
        ),
        (400, "invalidImage") => refused(
            ErrorCode::ProviderRejected,
            "the cover image is not one YouTube takes (JPEG or PNG, at most 2 MB)",
        ),
        (404, _) => refused(ErrorCode::ProviderNotFound, "the video is gone"),
        _ => classify(failure),
    }
}

/// The video resource the last upload request answers with.
#[derive(Deserialize)]
struct Video {
    id: String,
    status: Option<VideoStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoStatus {
    upload_status: Option<String>,
    failure_reason: Option<String>,
    rejection_reason: Option<String>,
}

/// Whether YouTube kept the upload: a `rejected` (duplicate, copyright, length...) or `failed`
/// one is no post, whatever the status code said.
fn accepted(video: &Video) -> Result<(), ProviderError> {
    let Some(status) = &video.status else {
        return Ok(());
    };
    let (code, what, reason) = match status.upload_status.as_deref() {
        Some("rejected") => (
            ErrorCode::ProviderRejected,
            "rejected the upload",
            &status.rejection_reason,
        ),
        Some("failed") => (
            ErrorCode::ProviderJobFailed,
            "could not process the upload",
            &status.failure_reason,
        ),
        _ => return Ok(()),
    };
    Err(ProviderError::fatal(
        code,
        format!(
            "YouTube {what} ({}); the video {} is not posted",
            reason.as_deref().unwrap_or("no reason given"),
            video.id
        ),
    ))
}

/// The next midnight in Pacific time after `now`, when YouTube's daily quota resets. US rule:
/// daylight time (UTC-7) from the second Sunday of March to the first Sunday of November,
/// standard time (UTC-8) otherwise; the switch is at 2:00, so every midnight is on one side.
fn next_pacific_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let offset_hours = |date: NaiveDate| -> i64 {
        let sunday = |month, n| {
            NaiveDate::from_weekday_of_month_opt(date.year(), month, Weekday::Sun, n)
                .unwrap_or(date)
        };
        // Midnight of the switching days is still on the old side.
        if date > sunday(3, 2) && date <= sunday(11, 1) {
            7
        } else {
            8
        }
    };
    let midnight_utc = |date: NaiveDate| {
        Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN))
            + chrono::Duration::hours(offset_hours(date))
    };
    // Pacific midnight of a UTC date falls at 07:00 or 08:00 UTC that day: before then, the
    // next one is today's; after, tomorrow's.
    let today = now.date_naive();
    let first = midnight_utc(today);
    if first > now {
        first
    } else {
        midnight_utc(today.succ_opt().unwrap_or(today))
    }
}

/// Where an upload stands.
enum Progress {
    /// YouTube has bytes `0..next`.
    Next(u64),
    /// YouTube made the video; the video, when the answer could be read.
    Done(Option<Video>),
    /// The session expired: start a new one.
    Expired,
}

fn privacy_status(privacy: Privacy) -> &'static str {
    match privacy {
        Privacy::Unlisted => "unlisted",
        Privacy::Private | Privacy::Friends | Privacy::Followers => "private",
        Privacy::Public => "public",
    }
}

/// The error body's first `reason`, on which YouTube's rules key.
fn reason(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v["error"]["errors"][0]["reason"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// YouTube's documented error rules.
fn classify(failure: http::HttpFailure) -> ProviderError {
    let reason = reason(&failure.body);
    let detail = format!("YouTube answered {}: {}", failure.status, failure.excerpt());
    match (failure.status.as_u16(), reason.as_str()) {
        (401, "youtubeSignupRequired") => ProviderError::fatal(
            ErrorCode::ProviderForbidden,
            "the Google account has no YouTube channel yet; create one, then try again",
        ),
        (401, _) => token_refused(PROVIDER, &reason),
        (403, "quotaExceeded") => ProviderError::fatal(
            ErrorCode::PublishQuotaExhausted,
            "the project's daily YouTube upload quota is used up; it resets at midnight Pacific time",
        ),
        (400, "uploadLimitExceeded") => ProviderError::fatal(
            ErrorCode::PublishQuotaExhausted,
            "the channel has reached its upload limit; try again in 24 hours",
        ),
        (403, "rateLimitExceeded" | "userRateLimitExceeded") => ProviderError::Retryable {
            message: detail,
            retry_after: failure.retry_after.or(Some(Duration::from_secs(30))),
        },
        (403, _) => ProviderError::fatal(ErrorCode::ProviderForbidden, detail),
        (400, reason) if reason.starts_with("invalid") => {
            ProviderError::fatal(ErrorCode::ProviderRejected, detail)
        }
        _ => failure.into_error(),
    }
}

/// The first byte YouTube does not have, from a 308's `Range: bytes=0-N` (none: nothing yet).
fn next_byte(headers: &header::HeaderMap) -> Result<u64, ProviderError> {
    match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => Ok(0),
        Some(range) => range
            .trim()
            .strip_prefix("bytes=0-")
            .and_then(|last| last.parse::<u64>().ok())
            .map(|last| last + 1)
            .ok_or_else(|| http::bad_response(PROVIDER, format!("a 308 with `Range: {range}`"))),
    }
}

impl YouTube {
    /// Opens an upload session; none when the project's daily upload quota is used up.
    async fn start_session(&self, upload: &Upload<'_>) -> Result<Option<String>, ProviderError> {
        let request = upload.request;
        let copy = &request.copy;
        let mut status = json!({
            "privacyStatus": privacy_status(request.privacy),
            "selfDeclaredMadeForKids": false,
            "containsSyntheticMedia": request.ai_generated,
        });
        if let Some(at) = request.schedule_at {
            // YouTube publishes a private video at `publishAt`.
            status["privacyStatus"] = json!("private");
            status["publishAt"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        let body = json!({
            "snippet": {
                "title": copy.title,
                "description": copy.caption_with_hashtags(),
                "tags": copy.hashtags,
                "categoryId": "22",
            },
            "status": status,
        });
        let sent = http::send(
            PROVIDER,
            self.http
                .post(format!(
                    "{}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status",
                    self.base_url
                ))
                .bearer_auth(upload.access_token.expose_secret())
                .header(header::CONTENT_TYPE, "application/json; charset=UTF-8")
                .header("X-Upload-Content-Length", upload.size_bytes)
                .header("X-Upload-Content-Type", "video/mp4")
                .body(body.to_string()),
        )
        .await;
        let response = match sent {
            Ok(response) => response,
            Err(http::HttpFailureOr::Status(failure))
                if failure.status == StatusCode::FORBIDDEN
                    && reason(&failure.body) == "quotaExceeded" =>
            {
                return Ok(None)
            }
            Err(http::HttpFailureOr::Status(failure)) => return Err(classify(failure)),
            Err(http::HttpFailureOr::Transport(error)) => return Err(error),
        };
        response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|uri| Some(uri.to_owned()))
            .ok_or_else(|| http::bad_response(PROVIDER, "no `Location` for the upload session"))
    }

    /// Sends a PUT to the session and reads where the upload stands.
    async fn put(
        &self,
        upload: &Upload<'_>,
        session: &str,
        range: String,
        body: Vec<u8>,
    ) -> Result<Progress, ProviderError> {
        let result = self
            .http
            .put(session)
            .bearer_auth(upload.access_token.expose_secret())
            .header(header::CONTENT_TYPE, "video/mp4")
            .header(header::CONTENT_LENGTH, body.len())
            .header(header::CONTENT_RANGE, range)
            .body(body)
            .send()
            .await;
        let response = result.map_err(|error| http::transport_error(PROVIDER, error))?;
        match response.status() {
            // The video exists whatever the body says: an unreadable one must not lead to a
            // second upload.
            StatusCode::OK | StatusCode::CREATED => Ok(Progress::Done(
                http::json::<Video>(PROVIDER, response).await.ok(),
            )),
            StatusCode::PERMANENT_REDIRECT => Ok(Progress::Next(next_byte(response.headers())?)),
            StatusCode::NOT_FOUND => Ok(Progress::Expired),
            _ => Err(classify(http::HttpFailure::read(PROVIDER, response).await)),
        }
    }

    /// Asks how many bytes YouTube has.
    async fn query(&self, upload: &Upload<'_>, session: &str) -> Result<Progress, ProviderError> {
        self.put(
            upload,
            session,
            format!("bytes */{}", upload.size_bytes),
            Vec::new(),
        )
        .await
    }

    /// Sends the video from `next` to the end, resuming after a failed chunk.
    async fn send_from(
        &self,
        upload: &Upload<'_>,
        session: &str,
        mut next: u64,
        ctx: &CallContext<'_>,
    ) -> Result<Progress, ProviderError> {
        let total = upload.size_bytes;
        let mut resumes = 0;
        loop {
            let length = self.chunk_bytes.min(total - next);
            let bytes = read_chunk(upload.video, next, length).await?;
            let range = format!("bytes {next}-{}/{total}", next + length - 1);
            let sent = self.put(upload, session, range, bytes).await;
            let progress = match sent {
                Ok(progress) => progress,
                Err(ProviderError::Retryable { .. }) if resumes < RESUMES_PER_ATTEMPT => {
                    resumes += 1;
                    self.query(upload, session).await?
                }
                Err(error) => return Err(error),
            };
            match progress {
                Progress::Next(byte) if byte < total => {
                    next = byte;
                    let percent = 10 + (80 * byte / total.max(1)) as u8;
                    ctx.progress.report(percent, "uploading to YouTube").await;
                }
                Progress::Next(_) => {
                    return Err(http::bad_response(
                        PROVIDER,
                        "every byte was acknowledged but no video was returned",
                    ))
                }
                other => return Ok(other),
            }
        }
    }
}

#[async_trait]
impl Publisher for YouTube {
    async fn publish(
        &self,
        upload: &Upload<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<Posted, ProviderError> {
        let mut checkpoint: Checkpoint = load(ctx).await?;
        for _ in 0..2 {
            if let Some(posted) = &checkpoint.posted {
                return Ok(posted.clone());
            }
            let progress = match checkpoint.session_uri.clone() {
                Some(session) => match self.query(upload, &session).await? {
                    Progress::Next(next) => self.send_from(upload, &session, next, ctx).await?,
                    other => other,
                },
                None => {
                    let Some(session) = self.start_session(upload).await? else {
                        let wait = checkpoint.quota_wait(upload.now, "uploading");
                        save(ctx, &checkpoint).await?;
                        return Err(wait_until(&wait, upload.now));
                    };
                    checkpoint.session_uri = Some(session.clone());
                    save(ctx, &checkpoint).await?;
                    ctx.progress.report(10, "uploading to YouTube").await;
                    self.send_from(upload, &session, 0, ctx).await?
                }
            };
            match progress {
                Progress::Done(video) => {
                    if let Some(video) = &video {
                        accepted(video)?;
                    }
                    let id = video.map(|video| video.id);
                    checkpoint.posted = Some(posted(id, upload.request.schedule_at.is_some()));
                    save(ctx, &checkpoint).await?;
                    ctx.progress.report(95, PROCESSING).await;
                }
                Progress::Expired | Progress::Next(_) => {
                    checkpoint.session_uri = None;
                    save(ctx, &checkpoint).await?;
                }
            }
        }
        checkpoint
            .posted
            .ok_or_else(|| ProviderError::retryable("the YouTube upload session expired twice"))
    }

    fn cover_setter(&self) -> Option<&dyn CoverSetter> {
        Some(self)
    }
}

/// A quota refusal of a cover call: none when the call was refused otherwise.
fn quota_refused(failure: &http::HttpFailureOr) -> bool {
    matches!(failure, http::HttpFailureOr::Status(f)
        if f.status == StatusCode::FORBIDDEN && reason(&f.body) == "quotaExceeded")
}

impl YouTube {
    /// Records a quota wait for the cover, or classifies the refusal.
    async fn cover_refused(
        &self,
        failure: http::HttpFailureOr,
        classify: fn(http::HttpFailure) -> ProviderError,
        checkpoint: &mut Checkpoint,
        now: DateTime<Utc>,
        ctx: &CallContext<'_>,
    ) -> ProviderError {
        if quota_refused(&failure) {
            let wait = checkpoint.quota_wait(now, "setting the custom thumbnail");
            return match save(ctx, checkpoint).await {
                Ok(()) => wait_until(&wait, now),
                Err(error) => error,
            };
        }
        match failure {
            http::HttpFailureOr::Status(failure) => classify(failure),
            http::HttpFailureOr::Transport(error) => error,
        }
    }
}

#[async_trait]
impl CoverSetter for YouTube {
    async fn ready(
        &self,
        call: &CoverCall<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<CoverReady, ProviderError> {
        let mut checkpoint: Checkpoint = load(ctx).await?;
        if checkpoint.thumbnail_set {
            return Ok(CoverReady::Set);
        }
        // The wait an earlier check stopped for is over.
        checkpoint.waiting = None;
        let since = *checkpoint.processing_since.get_or_insert(call.now);
        let sent = http::send(
            PROVIDER,
            self.http
                .get(format!("{}/youtube/v3/videos", self.base_url))
                .query(&[("part", "processingDetails,status"), ("id", call.post_id)])
                .bearer_auth(call.access_token.expose_secret()),
        )
        .await;
        let list: VideoList = match sent {
            Ok(response) => http::json(PROVIDER, response).await?,
            Err(failure) => {
                return Err(self
                    .cover_refused(failure, classify, &mut checkpoint, call.now, ctx)
                    .await)
            }
        };
        match processing(list, call.post_id) {
            Processing::Succeeded => {
                save(ctx, &checkpoint).await?;
                Ok(CoverReady::Processed)
            }
            Processing::Ended(why) => Err(ProviderError::fatal(
                ErrorCode::ProviderJobFailed,
                format!("{why}; the custom thumbnail is not set"),
            )),
            Processing::Running if call.now - since >= chrono::Duration::hours(PROCESSING_CAP_HOURS) => {
                Err(ProviderError::fatal(
                    ErrorCode::ProviderJobFailed,
                    format!("YouTube had not processed the video after {PROCESSING_CAP_HOURS} hours; the custom thumbnail is not set"),
                ))
            }
            Processing::Running => {
                let checks = checkpoint.processing_checks as usize;
                let gap = PROCESSING_CHECKS_SECS[checks.min(PROCESSING_CHECKS_SECS.len() - 1)];
                checkpoint.processing_checks += 1;
                let wait = checkpoint.wait(PublicationWait {
                    reason: WaitReason::Processing,
                    until: call.now + chrono::Duration::seconds(gap),
                    message: "YouTube is processing the video; its custom thumbnail is set after".into(),
                });
                save(ctx, &checkpoint).await?;
                Err(wait_until(&wait, call.now))
            }
        }
    }

    async fn set(
        &self,
        call: &CoverCall<'_>,
        jpeg: Vec<u8>,
        ctx: &CallContext<'_>,
    ) -> Result<(), ProviderError> {
        let mut checkpoint: Checkpoint = load(ctx).await?;
        if checkpoint.thumbnail_set {
            return Ok(());
        }
        let sent = http::send(
            PROVIDER,
            self.http
                .post(format!(
                    "{}/upload/youtube/v3/thumbnails/set",
                    self.base_url
                ))
                .query(&[("videoId", call.post_id)])
                .bearer_auth(call.access_token.expose_secret())
                .header(header::CONTENT_TYPE, "image/jpeg")
                .body(jpeg),
        )
        .await;
        if let Err(failure) = sent {
            return Err(self
                .cover_refused(failure, classify_thumbnail, &mut checkpoint, call.now, ctx)
                .await);
        }
        // Whatever the body says, the thumbnail is set: never again.
        checkpoint.thumbnail_set = true;
        checkpoint.waiting = None;
        save(ctx, &checkpoint).await
    }
}

fn posted(id: Option<String>, scheduled: bool) -> Posted {
    Posted {
        url: id
            .as_ref()
            .map(|id| format!("https://www.youtube.com/shorts/{id}")),
        post_id: id,
        outcome: if scheduled {
            PublishOutcome::Scheduled
        } else {
            PublishOutcome::Posted
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::{class, failure};

    #[test]
    fn every_documented_reason_has_its_class() {
        for (status, reason, expected) in [
            (401, "authError", "provider_auth"),
            (401, "youtubeSignupRequired", "provider_forbidden"),
            (403, "quotaExceeded", "publish_quota_exhausted"),
            (400, "uploadLimitExceeded", "publish_quota_exhausted"),
            (403, "rateLimitExceeded", "retry"),
            (403, "userRateLimitExceeded", "retry"),
            (403, "forbidden", "provider_forbidden"),
            (400, "invalidTitle", "provider_rejected"),
            (400, "invalidPublishAt", "provider_rejected"),
            (429, "rateLimitExceeded", "retry"),
            (500, "backendError", "retry"),
            (503, "backendError", "retry"),
        ] {
            let body = serde_json::json!({"error": {"code": status, "message": "m",
                "errors": [{"domain": "youtube.video", "reason": reason, "message": "m"}]}});
            assert_eq!(
                class(&classify(failure(status, body))),
                expected,
                "{status} {reason}"
            );
        }
    }

    #[test]
    fn the_quota_resets_at_pacific_midnight_across_daylight_saving() {
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        for (now, reset) in [
            // Winter, UTC-8: noon in California, and just before and at midnight.
            ("2026-12-06T20:00:00Z", "2026-12-07T08:00:00Z"),
            ("2026-12-07T07:59:59Z", "2026-12-07T08:00:00Z"),
            ("2026-12-07T08:00:00Z", "2026-12-08T08:00:00Z"),
            // Summer, UTC-7.
            ("2026-07-01T06:30:00Z", "2026-07-01T07:00:00Z"),
            ("2026-07-01T07:00:00Z", "2026-07-02T07:00:00Z"),
            // 2026: daylight time from Sunday 8 March, standard from Sunday 1 November. The
            // midnight that starts each switching day is still on the old side.
            ("2026-03-07T12:00:00Z", "2026-03-08T08:00:00Z"),
            ("2026-03-08T12:00:00Z", "2026-03-09T07:00:00Z"),
            ("2026-10-31T12:00:00Z", "2026-11-01T07:00:00Z"),
            ("2026-11-01T12:00:00Z", "2026-11-02T08:00:00Z"),
            // New Year's Eve in California is already 1 January in UTC.
            ("2027-01-01T03:00:00Z", "2027-01-01T08:00:00Z"),
        ] {
            assert_eq!(next_pacific_midnight(at(now)), at(reset), "{now}");
        }
    }

    #[test]
    fn a_rejected_or_failed_upload_is_no_post() {
        let video = |status: serde_json::Value| -> Video {
            serde_json::from_value(serde_json::json!({"id": "v1", "status": status})).unwrap()
        };
        let rejected = accepted(&video(
            serde_json::json!({"uploadStatus": "rejected", "rejectionReason": "duplicate"}),
        ))
        .unwrap_err();
        assert_eq!(class(&rejected), "provider_rejected");
        assert!(rejected.to_string().contains("duplicate"));
        let failed = accepted(&video(
            serde_json::json!({"uploadStatus": "failed", "failureReason": "codec"}),
        ))
        .unwrap_err();
        assert_eq!(class(&failed), "provider_job_failed");
        assert!(accepted(&video(serde_json::json!({"uploadStatus": "uploaded"}))).is_ok());
        assert!(accepted(&video(serde_json::json!({"uploadStatus": "processed"}))).is_ok());
    }

    #[test]
    fn a_308_says_where_to_go_on() {
        let mut headers = header::HeaderMap::new();
        assert_eq!(next_byte(&headers).unwrap(), 0, "nothing held yet");
        headers.insert(header::RANGE, "bytes=0-262143".parse().unwrap());
        assert_eq!(next_byte(&headers).unwrap(), 262_144);
        headers.insert(header::RANGE, "bytes=5-9".parse().unwrap());
        assert!(next_byte(&headers).is_err());
    }
}
