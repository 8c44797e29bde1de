//! Keeps a collected reel's cover: Instagram's `displayUrl` expires within hours, so the image is
//! fetched while the link still works (through the same guarded fetcher as videos) and stored
//! beside the reel's other files.

use std::{sync::Arc, time::Duration};

use crate::{
    error_code::ErrorCode,
    fetch::{self, Limits, UrlGuard},
    media::MediaStore,
    ProviderError,
};

/// A cover is a small picture; anything larger is not one.
const MAX_COVER_BYTES: u64 = 5 * 1024 * 1024;
/// Per image, so one slow host cannot hold a collection up for long.
const COVER_TIMEOUT: Duration = Duration::from_secs(20);

pub struct CoverFetcher {
    pub guard: UrlGuard,
    pub store: Arc<MediaStore>,
}

/// The image formats a cover is kept in, told by their first bytes (a CDN's Content-Type is not
/// trusted): the stored file's ending, which gives the type it is served with.
fn image_extension(head: &[u8]) -> Option<&'static str> {
    match head {
        [0xFF, 0xD8, 0xFF, ..] => Some("jpg"),
        [0x89, b'P', b'N', b'G', ..] => Some("png"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("webp"),
        _ => None,
    }
}

fn accept_image(content_type: Option<&str>) -> Result<(), ProviderError> {
    match content_type {
        None => Ok(()),
        Some(t) if t.starts_with("image/") || t.ends_with("/octet-stream") => Ok(()),
        Some(other) => Err(ProviderError::fatal(
            ErrorCode::UnsupportedAsset,
            format!("the cover address answered `{other}`, not an image"),
        )),
    }
}

impl CoverFetcher {
    /// Fetches `url` and keeps it as `{prefix}/cover.{jpg,png,webp}`; answers the key.
    pub async fn keep(&self, url: &str, prefix: &str) -> Result<String, ProviderError> {
        let scratch = self
            .store
            .scratch("img")
            .await
            .map_err(ProviderError::from)?;
        let limits = Limits {
            max_bytes: MAX_COVER_BYTES,
            timeout: COVER_TIMEOUT,
        };
        let result = async {
            fetch::download(&self.guard, url, &scratch, &limits, accept_image).await?;
            let mut head = [0u8; 12];
            let read = {
                use tokio::io::AsyncReadExt;
                let mut file = tokio::fs::File::open(&scratch)
                    .await
                    .map_err(|error| ProviderError::retryable(error.to_string()))?;
                file.read(&mut head)
                    .await
                    .map_err(|error| ProviderError::retryable(error.to_string()))?
            };
            let extension = image_extension(&head[..read]).ok_or_else(|| {
                ProviderError::fatal(
                    ErrorCode::UnsupportedAsset,
                    "the cover is not a JPEG, PNG or WebP image",
                )
            })?;
            let key = format!("{prefix}/cover.{extension}");
            self.store
                .put(&key, &scratch)
                .await
                .map_err(ProviderError::from)?;
            Ok(key)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&scratch).await;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::image_extension;

    #[test]
    fn images_are_told_by_their_first_bytes() {
        assert_eq!(image_extension(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("jpg"));
        assert_eq!(image_extension(b"\x89PNG\r\n\x1a\n"), Some("png"));
        assert_eq!(image_extension(b"RIFF\0\0\0\0WEBPVP8 "), Some("webp"));
        assert_eq!(image_extension(b"<!DOCTYPE html>"), None);
        assert_eq!(image_extension(&[]), None);
    }
}
