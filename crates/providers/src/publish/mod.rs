//! Step 7: post a video to a platform. One file per platform; each keeps every platform id it is
//! given (container, upload session, publish id) in the job's checkpoint before its next call,
//! so a restarted job resumes where the last one stopped and never posts twice.

pub mod instagram;
pub mod oauth;
pub mod sealed;
pub mod tiktok;
pub mod youtube;

use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{de::DeserializeOwned, Serialize};

use super::{CallContext, ProviderError};
use crate::{
    config::{InstagramSource, PublishSettings},
    domain::publishing::{
        InstagramLogin, Platform, PublicationRequest, PublicationWait, PublishOutcome,
    },
    error_code::ErrorCode,
};
use instagram::Instagram;
use oauth::OAuth;
use sealed::Sealer;
use tiktok::TikTok;
use youtube::YouTube;

/// The stage a publisher reports once the platform has the whole video; the publication's
/// status follows it from `uploading` to `processing`.
pub const PROCESSING: &str = "processing on the platform";

/// One video to post to one account.
pub struct Upload<'a> {
    pub video: &'a Path,
    pub size_bytes: u64,
    pub duration_ms: u64,
    pub request: &'a PublicationRequest,
    pub access_token: &'a SecretString,
    /// The platform's id of the account (Instagram's user id).
    pub external_id: Option<&'a str>,
    /// A public, expiring link to the video, when the service has a public address (Instagram
    /// then fetches it instead of receiving the bytes).
    pub video_url: Option<&'a str>,
    /// Instagram accounts: the login their token came from (the host it calls).
    pub instagram_login: Option<InstagramLogin>,
    /// The job will not try again: a step after the post was made (Instagram's permalink) is
    /// given up rather than retried.
    pub last_attempt: bool,
    /// The service's clock: when a wait ends is counted from it.
    pub now: DateTime<Utc>,
}

/// What the platform made of it; kept in the checkpoint too, so an attempt after the post
/// answers it without calling the platform again.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Posted {
    pub post_id: Option<String>,
    pub url: Option<String>,
    pub outcome: PublishOutcome,
}

#[async_trait]
pub trait Publisher: Send + Sync {
    async fn publish(
        &self,
        upload: &Upload<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<Posted, ProviderError>;

    /// Platforms that take the post's cover only after the upload is processed (YouTube's
    /// custom thumbnail); none for those that take the cover frame with the upload.
    fn cover_setter(&self) -> Option<&dyn CoverSetter> {
        None
    }
}

/// The posted video a cover is set on.
pub struct CoverCall<'a> {
    pub post_id: &'a str,
    pub access_token: &'a SecretString,
    /// The service's clock: when a wait ends is counted from it.
    pub now: DateTime<Utc>,
}

/// Whether the cover can go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverReady {
    /// An earlier attempt set it: never again.
    Set,
    /// The platform has processed the video: set it now.
    Processed,
}

/// Sets a post's cover after the upload. Each step keeps its progress in the job's checkpoint
/// beside the upload's, and a wait in its `waiting`, like the upload's own.
#[async_trait]
pub trait CoverSetter: Send + Sync {
    /// Whether the platform has processed the video (a wait until it has), or the cover is set.
    async fn ready(
        &self,
        call: &CoverCall<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<CoverReady, ProviderError>;

    /// Sets the JPEG as the cover, and checkpoints that before answering.
    async fn set(
        &self,
        call: &CoverCall<'_>,
        jpeg: Vec<u8>,
        ctx: &CallContext<'_>,
    ) -> Result<(), ProviderError>;
}

/// The checkpoint as the publisher's own type (see [`CallContext::checkpoint`]).
async fn load<T: DeserializeOwned + Default>(ctx: &CallContext<'_>) -> Result<T, ProviderError> {
    ctx.checkpoint(
        "the upload's checkpoint",
        "check the platform before posting again",
    )
    .await
}

/// What an earlier attempt already posted, from the checkpoint any publisher keeps.
pub fn posted_in(checkpoint: &serde_json::Value) -> Option<Posted> {
    serde_json::from_value(checkpoint.get("posted")?.clone()).ok()
}

/// What an earlier attempt stopped to wait for (a quota reset, a moderation), from the
/// `waiting` any publisher keeps in its checkpoint.
pub fn waiting_in(checkpoint: &serde_json::Value) -> Option<PublicationWait> {
    serde_json::from_value(checkpoint.get("waiting")?.clone()).ok()
}

/// Stops for now: `wait`, already in the saved checkpoint, says why and until when; the job
/// shows it and comes back then without spending an attempt.
fn wait_until(wait: &PublicationWait, now: DateTime<Utc>) -> ProviderError {
    ProviderError::Retryable {
        message: wait.message.clone(),
        retry_after: Some((wait.until - now).to_std().unwrap_or_default()),
    }
}

async fn save<T: Serialize>(ctx: &CallContext<'_>, checkpoint: &T) -> Result<(), ProviderError> {
    ctx.save_checkpoint(checkpoint).await
}

/// `length` bytes of the video from `offset`.
async fn read_chunk(path: &Path, offset: u64, length: u64) -> Result<Vec<u8>, ProviderError> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let read = async {
        let mut file = tokio::fs::File::open(path).await?;
        file.seek(std::io::SeekFrom::Start(offset)).await?;
        let mut buffer = vec![0; usize::try_from(length).unwrap_or(usize::MAX)];
        file.read_exact(&mut buffer).await?;
        Ok::<_, std::io::Error>(buffer)
    };
    read.await.map_err(|error| {
        ProviderError::fatal(
            ErrorCode::MediaMissing,
            format!("reading the video: {error}"),
        )
    })
}

/// How a publisher waits between status polls, and for how long at most.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    pub interval: Duration,
    pub attempts: u32,
}

/// A status that was still not final after every poll: the job tries again later and, with
/// the id checkpointed, polls the same upload.
fn still_processing(platform: &str) -> ProviderError {
    ProviderError::Retryable {
        message: format!("{platform} is still processing the video"),
        retry_after: Some(Duration::from_secs(60)),
    }
}

/// The account's token was refused: the job refreshes it once, or asks for a new connection.
fn token_refused(platform: &str, detail: &str) -> ProviderError {
    ProviderError::fatal(
        ErrorCode::ProviderAuth,
        format!("{platform} refused the account's token: {detail}"),
    )
}

/// How a failure reads in the classification tables of each platform's tests: `retry`, or the
/// fatal error's code.
#[cfg(test)]
fn class(error: &ProviderError) -> String {
    match error {
        ProviderError::Retryable { .. } => "retry".into(),
        ProviderError::Fatal { code, .. } => code.as_str().into(),
    }
}

#[cfg(test)]
fn failure(status: u16, body: serde_json::Value) -> super::http::HttpFailure {
    super::http::HttpFailure {
        provider: "platform",
        status: reqwest::StatusCode::from_u16(status).unwrap(),
        retry_after: None,
        body: body.to_string(),
    }
}

/// Everything posting needs that comes from configuration.
pub struct Publishing {
    pub sealer: Option<Sealer>,
    pub oauth: OAuth,
    pub settings: PublishSettings,
    /// Also among the publishers; kept typed for refreshing Instagram Login tokens.
    pub instagram: Arc<Instagram>,
    publishers: BTreeMap<&'static str, Arc<dyn Publisher>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Key(#[from] sealed::SealError),
    #[error("publishing.instagram.source = url needs publishing.public_base_url and publishing.token_key")]
    NoPublicUrl,
}

impl Publishing {
    pub fn from_settings(settings: &PublishSettings) -> Result<Self, SetupError> {
        let sealer = settings.token_key.as_ref().map(Sealer::new).transpose()?;
        if settings.instagram.source == InstagramSource::Url
            && (settings.public_base_url.is_none() || sealer.is_none())
        {
            return Err(SetupError::NoPublicUrl);
        }
        let timeout = Duration::from_secs(settings.timeout_seconds.max(1));
        let polling = |interval_ms: u64, attempts: u32| Polling {
            interval: Duration::from_millis(interval_ms),
            attempts,
        };
        let instagram = Arc::new(Instagram::new(&settings.instagram, timeout));
        let publishers: BTreeMap<&'static str, Arc<dyn Publisher>> = BTreeMap::from([
            (
                Platform::Instagram.as_str(),
                instagram.clone() as Arc<dyn Publisher>,
            ),
            (
                Platform::Youtube.as_str(),
                Arc::new(YouTube::new(
                    &settings.youtube.base_url,
                    settings.youtube.chunk_bytes,
                    timeout,
                )),
            ),
            (
                Platform::Tiktok.as_str(),
                Arc::new(TikTok::new(
                    &settings.tiktok.base_url,
                    settings.tiktok.chunk_bytes,
                    polling(
                        settings.tiktok.poll_interval_ms,
                        settings.tiktok.poll_attempts,
                    ),
                    timeout,
                )),
            ),
        ]);
        Ok(Publishing {
            sealer,
            oauth: OAuth::new(settings),
            settings: settings.clone(),
            instagram,
            publishers,
        })
    }

    pub fn publisher(&self, platform: Platform) -> &Arc<dyn Publisher> {
        &self.publishers[platform.as_str()]
    }
}
