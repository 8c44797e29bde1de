//! Prepares a reel whose video was uploaded: the file already sits in the project's uploads in
//! the media store, so preparing it is checking, storing and extracting its audio.

use crate::error_code::ErrorCode;
use std::sync::Arc;

use async_trait::async_trait;

use super::{download::store_checked_video, PrepareReel, PreparedReel, ReelSource};
use crate::{
    media::{MediaError, MediaStore},
    {CallContext, ProviderError},
};

pub use reelforge_vocab::domain::provider::upload::NAME;
/// An uploaded reel's `video_url` is `media:` followed by its key: the upload's until it is
/// prepared, then the video's.
pub const MEDIA_SCHEME: &str = "media:";

pub struct UploadedFile {
    pub store: Arc<MediaStore>,
}

#[async_trait]
impl ReelSource for UploadedFile {
    async fn prepare(
        &self,
        request: &PrepareReel,
        ctx: &CallContext<'_>,
    ) -> Result<PreparedReel, ProviderError> {
        let key = request
            .source_url
            .as_deref()
            .and_then(|url| url.strip_prefix(MEDIA_SCHEME))
            .ok_or_else(|| {
                ProviderError::fatal(ErrorCode::NoVideoUrl, "the reel has no uploaded file")
            })?;
        let scratch = self.store.fetch(key).await.map_err(|error| match error {
            MediaError::Missing(_) => ProviderError::fatal(
                ErrorCode::MediaMissing,
                "the uploaded file is gone; upload it again",
            ),
            MediaError::InvalidKey(_) => {
                ProviderError::fatal(ErrorCode::NoVideoUrl, error.to_string())
            }
            other => ProviderError::from(other),
        })?;
        ctx.progress.report(30, "checking").await;
        let prepared =
            store_checked_video(&self.store, &scratch, &request.media_prefix, ctx).await?;
        // The upload became the reel's video; the shared copy is not needed any more. (A retry
        // after the address moved to the video itself reads the video, which stays.)
        if prepared.video_key.as_deref() != Some(key) {
            let _ = self.store.remove(key).await;
        }
        Ok(prepared)
    }
}
