//! Every error code a client can meet: in problems (`Problem.code`), in failed jobs and resources
//! (`error.code`, `last_error.code`) and in runs. One enum, so the OpenAPI document lists them and
//! the README's table (checked against this one by a test) says what each means.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether trying again can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The queue retries by itself while attempts remain; once failed, `POST /v1/jobs/{id}/retry`.
    Automatic,
    /// The same request may succeed later, unchanged.
    Later,
    /// Only once the request (body, options, parameters, media) is changed.
    FixRequest,
    /// Only once the deployment is configured (a key, a setting, an installed tool).
    Configure,
    /// Not with this resource: the state it needs is gone.
    No,
}

impl Retry {
    pub fn as_str(self) -> &'static str {
        match self {
            Retry::Automatic => "automatic",
            Retry::Later => "later",
            Retry::FixRequest => "after fixing the request",
            Retry::Configure => "after configuring",
            Retry::No => "no",
        }
    }
}

macro_rules! error_codes {
    ($( $variant:ident = $text:literal, $retry:ident, $meaning:literal; )+) => {
        /// Stable, machine-readable reason; safe to branch on. The README's "Error codes" table
        /// says what each means and whether retrying can help.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $( #[doc = $meaning] $variant, )+
            /// A code this version does not know, stored by another version.
            #[serde(other)]
            Unknown,
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)+
                    ErrorCode::Unknown => "unknown",
                }
            }

            pub fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $meaning,)+
                    ErrorCode::Unknown => "A code this version does not know, stored by another version.",
                }
            }

            pub fn retry(self) -> Retry {
                match self {
                    $(ErrorCode::$variant => Retry::$retry,)+
                    ErrorCode::Unknown => Retry::No,
                }
            }
        }
    };
}

error_codes! {
    // Requests
    ValidationFailed = "validation_failed", FixRequest, "One or more fields are invalid; `errors` names each field and why.";
    InvalidBody = "invalid_body", FixRequest, "The JSON body does not match the operation's schema (a wrong type, an unknown field); `errors` names the field.";
    MalformedJson = "malformed_json", FixRequest, "The body is not JSON (or, for a dataset, not a JSON array or JSON lines).";
    MalformedBody = "malformed_body", Later, "The body could not be read (the transfer broke off).";
    MalformedMultipart = "malformed_multipart", FixRequest, "The multipart upload could not be parsed.";
    InvalidPathParameter = "invalid_path_parameter", FixRequest, "A path segment has the wrong type, such as an id that is not a UUID.";
    InvalidQuery = "invalid_query", FixRequest, "A query parameter is missing, of the wrong type or out of range.";
    InvalidCursor = "invalid_cursor", FixRequest, "`cursor` is not one this API issued.";
    InvalidLastEventId = "invalid_last_event_id", FixRequest, "`Last-Event-ID` is not an event id.";
    InvalidValue = "invalid_value", FixRequest, "The database cannot store a value as given (a NUL character, a number out of range, text too long).";
    PayloadTooLarge = "payload_too_large", FixRequest, "The body or an uploaded file is larger than allowed.";
    UnsupportedMediaType = "unsupported_media_type", FixRequest, "The body's Content-Type is not one this operation takes.";
    UriTooLong = "uri_too_long", FixRequest, "The request's path and query are longer than the 8 KiB the service reads.";
    MethodNotAllowed = "method_not_allowed", FixRequest, "The path exists but not with this method; `Allow` lists the methods.";
    NotFound = "not_found", No, "No such resource, or no such path.";
    Unauthorized = "unauthorized", Configure, "A valid bearer token is required: missing, unknown, expired or revoked.";
    NotReady = "not_ready", Later, "The service cannot reach its database or is not migrated yet.";
    Internal = "internal", Later, "An unexpected fault in the service (for a job: its step panicked); the log has the details.";
    RateLimited = "rate_limited", Later, "The token sent more requests than `rate_limit.per_minute` allows on this replica; wait as `Retry-After` says.";
    InvalidLink = "invalid_link", FixRequest, "A signed media link (`content_url`) was altered, is for another file or has expired; read the resource again for a fresh link.";
    // Idempotency
    InvalidIdempotencyKey = "invalid_idempotency_key", FixRequest, "`Idempotency-Key` must be 1 to 255 printable ASCII characters.";
    IdempotencyKeyReused = "idempotency_key_reused", FixRequest, "This `Idempotency-Key` was used in the last 24 hours with another request.";
    IdempotencyKeyInFlight = "idempotency_key_in_flight", Later, "A request with this `Idempotency-Key` is still being answered.";
    IdempotencyUnsupported = "idempotency_unsupported", FixRequest, "Uploads and token creation do not take an `Idempotency-Key`.";
    // Starting work
    UnknownProvider = "unknown_provider", FixRequest, "The named provider is not available for this step here; the detail lists those that are.";
    ProviderRetired = "provider_retired", FixRequest, "The named provider was retired because its vendor shut its API down; the detail says why and what to use instead.";
    NoProvider = "no_provider", Configure, "No provider for this step is usable in this deployment; the detail says what to configure.";
    NotConfigured = "not_configured", Configure, "The deployment lacks a setting this request needs (an import folder, an avatar id); the detail names it.";
    ParentNotReady = "parent_not_ready", Later, "The resource this step works from has not succeeded (yet), or has no output.";
    ParentGone = "parent_gone", No, "The resource this step works from was deleted.";
    ScriptNotReady = "script_not_ready", Later, "Only a finished script can be edited, and it must not change during the edit.";
    MediaNotReady = "media_not_ready", Later, "The resource has not succeeded, so its files do not exist yet.";
    NoReels = "no_reels", FixRequest, "The project has no reels yet; collect some first.";
    AlreadyProcessed = "already_processed", No, "The reel has been through the pipeline already; automatic runs never take it again.";
    InsufficientScope = "insufficient_scope", FixRequest, "The token's scope does not allow this: `read` tokens only read, and only `admin` tokens manage tokens. Use a token with the scope the detail names.";
    OriginRefused = "origin_refused", Configure, "A browser page on another origin called `/mcp`; allow its origin in `mcp.allowed_origins`.";
    AssetQuotaExceeded = "asset_quota_exceeded", Configure, "The upload would take the project's media library past `assets.quota_bytes`; the detail gives what is used. Delete assets or raise the quota.";
    VoiceSlotsFull = "voice_slots_full", Configure, "The ElevenLabs account has no free voice slot for a clone; delete a cloned voice or upgrade the plan.";
    UnsupportedAsset = "unsupported_asset", FixRequest, "The uploaded file is not a video, image, audio file or font that can be read.";
    BudgetExceeded = "budget_exceeded", Configure, "The run's estimated cost exceeds what is left of the project's monthly budget; the detail gives both. Raise `settings.monthly_budget` or wait for next month.";
    AlreadyPublished = "already_published", No, "The video is published, or being published, to this account already; the detail names that publication.";
    PublicationNotCancelable = "publication_not_cancelable", No, "Only a scheduled publication can be canceled; one that started uploading runs to its end.";
    InvalidOauthState = "invalid_oauth_state", FixRequest, "The OAuth callback's `state` is not one this service signed, is for another platform, or expired (links last 15 minutes); start connecting again.";
    AccountNotConnected = "account_not_connected", Configure, "The account needs authorizing again before it can post; connect it again.";
    JobNotActive = "job_not_active", No, "Only a queued or running job can be canceled.";
    JobNotRetryable = "job_not_retryable", No, "Only a failed or canceled job can be retried, and a reel's preparation only while no other job prepares it.";
    StorageFull = "storage_full", Configure, "The media storage is full; nothing was kept.";
    // Jobs: transient, retried by the queue
    ProviderRetryable = "provider_retryable", Automatic, "A transient failure: a provider's 5xx or rate limit, the network, a timeout, storage input/output.";
    Database = "database", Automatic, "The database failed while the job ran.";
    WebhookFailed = "webhook_failed", Automatic, "The webhook receiver could not be reached or did not answer 2xx.";
    LeaseExpired = "lease_expired", Automatic, "The worker running the job stopped (a crash or a hang); the job runs again while attempts remain.";
    Canceled = "canceled", Later, "The job was canceled on request; retrying it starts it again.";
    // Jobs: the request or its inputs
    InvalidOptions = "invalid_options", FixRequest, "A step option cannot be used (a media key that is missing or not the project's own).";
    ScriptQuality = "script_quality", FixRequest, "Every draft failed the script checks and the fallback writer is off; the detail lists the failures.";
    MediaMissing = "media_missing", FixRequest, "A stored file the step needs is gone; run the step that made it again.";
    NoAudio = "no_audio", No, "The reel has no audio track to transcribe.";
    NotAudio = "not_audio", No, "A produced audio file has no measurable duration.";
    NoOutput = "no_output", Later, "The provider reported success but produced no file; nothing is invented in its place.";
    NoVideoUrl = "no_video_url", No, "The reel has no video address or upload to prepare it from.";
    NoReelVideo = "no_reel_video", FixRequest, "`background: reel` was asked for, but the reel has no stored video.";
    NotAVideo = "not_a_video", No, "The file or address is not a playable video.";
    UrlRefused = "url_refused", FixRequest, "An address was refused: not http(s), unreadable, or internal (see `media.fetch_allow_hosts`).";
    MediaUnavailable = "media_unavailable", No, "The media host's redirects cannot be followed.";
    MediaUrlExpired = "media_url_expired", FixRequest, "The CDN address of the video has expired; collect the reel again.";
    MediaTooLarge = "media_too_large", Configure, "The download is larger than `media.max_download_bytes`.";
    UnsupportedVoice = "unsupported_voice", FixRequest, "The local voice cannot speak this voice or language.";
    UnsupportedLanguage = "unsupported_language", FixRequest, "The writer has no sentences in this language.";
    ContentFiltered = "content_filtered", FixRequest, "The model's content filter refused to write the script.";
    ModelRefused = "model_refused", FixRequest, "The model declined to write it (OpenAI's `message.refusal`); the message quotes the refusal.";
    RenderCheckFailed = "render_check_failed", No, "The rendered video failed its checks (tracks, duration).";
    FolderUnreadable = "folder_unreadable", Configure, "The server folder to import could not be read, or a file in it copied.";
    WebhookGone = "webhook_gone", Configure, "The webhook receiver answered 410 Gone; set a new one.";
    // Jobs: publishing
    AccountReauthorizationNeeded = "account_reauthorization_needed", Configure, "The platform refused the account's tokens (revoked, expired, or a refresh refused); connect the account again.";
    PublishQuotaExhausted = "publish_quota_exhausted", Later, "The platform's posting quota is used up (Instagram's daily posts, YouTube's daily uploads); the detail says when it resets.";
    PlatformLimit = "platform_limit", FixRequest, "The video or its words are outside a limit the platform documents (duration, size, frame rate, codecs, aspect, caption length); the detail names it.";
    PrivacyNotAllowed = "privacy_not_allowed", FixRequest, "The account cannot post with the privacy asked for; the detail lists what it allows.";
    // Jobs: providers
    ProviderUnavailable = "provider_unavailable", Configure, "The resource's provider is not configured on the worker that ran it.";
    ProviderAuth = "provider_auth", Configure, "The provider refused the API key.";
    ProviderOutOfCredit = "provider_out_of_credit", Configure, "The provider account has no credit or quota left.";
    ProviderForbidden = "provider_forbidden", Configure, "The provider forbids this request for this account.";
    ProviderNotFound = "provider_not_found", FixRequest, "The provider does not know what was named (a model, a voice, a remote job).";
    ProviderRejected = "provider_rejected", FixRequest, "The provider refused the request as invalid; the detail quotes it.";
    ProviderBadResponse = "provider_bad_response", Later, "The provider answered outside its documented contract.";
    ProviderJobFailed = "provider_job_failed", Later, "The provider's own job (a transcript, a scraper run, a video) ended in failure.";
    ToolMissing = "tool_missing", Configure, "A local program (ffmpeg, ffprobe, espeak-ng) is not installed; run scripts/setup.";
    ToolFailed = "tool_failed", No, "A local program failed; the detail quotes its error.";
    Storage = "storage", Later, "A scratch file could not be created in the media store.";
    // Jobs: the service's own data
    InvalidJob = "invalid_job", No, "The job lacks data its kind needs (a bug or a hand-edited row).";
    InvalidParameters = "invalid_parameters", No, "A collection's stored parameters cannot be read.";
    UnknownJobKind = "unknown_job_kind", Configure, "This worker has no handler for the job's kind (an older version during a rolling deploy).";
    ResourceMissing = "resource_missing", No, "Something the step works on was deleted.";
    ParentOutputInvalid = "parent_output_invalid", No, "The parent's stored output cannot be read as its type.";
    OutputInvalid = "output_invalid", No, "The step's result could not be stored.";
    HttpClient = "http_client", Configure, "The HTTP client could not be built (a local fault).";
    FakeFailure = "fake_failure", No, "The fake provider failed because a test told it to.";
    // Runs
    ReelMissing = "reel_missing", No, "The run's reel was deleted.";
    ReelNotPrepared = "reel_not_prepared", Later, "The reel's media could not be prepared, so the run cannot use it, and the preparation recorded no reason (a run's reel otherwise fails with the preparation's own code, such as `media_url_expired`).";
    RunNotAwaitingReview = "run_not_awaiting_review", No, "Only a run that stopped for review (`awaiting_review`) can be resumed; the detail gives the run's status.";
    RunNotActive = "run_not_active", No, "Only a run that has not ended (`queued`, `running` or `awaiting_review`) can be canceled; the detail gives the run's status.";
    StepFailed = "step_failed", Later, "A step of the run failed without a recorded error.";
    NeedsReview = "needs_review", FixRequest, "The run did not publish the reel: its script or post needs a person's review (`review_reasons`); publish it by hand, or set `publish.even_if_needs_review`.";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = std::convert::Infallible;

    /// Never fails: a code another version stored reads as `Unknown`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(
            serde_json::from_value(serde_json::Value::String(text.to_owned()))
                .unwrap_or(ErrorCode::Unknown),
        )
    }
}

/// The README's table of error codes.
pub fn markdown_table() -> String {
    let mut table = String::from("| code | what it means | retry helps |\n|---|---|---|\n");
    for code in ErrorCode::ALL {
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            code.meaning(),
            code.retry().as_str()
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_is_spelled_as_serde_spells_it() {
        for code in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
            assert_eq!(code.as_str().parse::<ErrorCode>().unwrap(), *code);
        }
        assert_eq!(
            "from_a_newer_version".parse::<ErrorCode>().unwrap(),
            ErrorCode::Unknown
        );
    }

    #[test]
    fn the_readme_lists_every_code() {
        let readme = include_str!("../../../README.md");
        let table = markdown_table();
        assert!(
            readme.contains(&table),
            "README.md's error-code table is out of date; it should read:\n{table}"
        );
    }
}
