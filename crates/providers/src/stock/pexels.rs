//! Pexels video search: `GET /videos/search` with the key as the bare `Authorization` header.
//! Its 429 carries no rate-limit headers, so the reset of the last answer stands.

use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{Orientation, ResetHeader, StockClient, StockClip, StockFile, StockLibrary};
use crate::{http, ProviderError};

pub use reelforge_vocab::domain::provider::pexels::NAME;
/// One page of this many answers is plenty to find a clip not used yet.
const PER_PAGE: u32 = 15;

pub struct Pexels(pub StockClient);

#[derive(Debug, Deserialize)]
struct Page {
    videos: Vec<Video>,
}

#[derive(Debug, Deserialize)]
struct Video {
    id: u64,
    url: String,
    #[serde(default)]
    duration: Option<f64>,
    user: User,
    #[serde(default)]
    video_files: Vec<VideoFile>,
}

#[derive(Debug, Deserialize)]
struct User {
    name: String,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct VideoFile {
    #[serde(default)]
    file_type: Option<String>,
    // Null for HLS playlists.
    #[serde(default)]
    width: Option<u32>,
    #[serde(default)]
    height: Option<u32>,
    link: String,
}

impl From<Video> for StockClip {
    fn from(video: Video) -> Self {
        StockClip {
            id: video.id.to_string(),
            page_url: video.url,
            author: video.user.name,
            author_url: video.user.url,
            duration_seconds: video.duration.unwrap_or_default(),
            files: video
                .video_files
                .into_iter()
                .filter(|file| file.file_type.as_deref() == Some("video/mp4"))
                .filter_map(|file| {
                    Some(StockFile {
                        url: file.link,
                        width: file.width.filter(|w| *w > 0)?,
                        height: file.height.filter(|h| *h > 0)?,
                    })
                })
                .collect(),
        }
    }
}

#[async_trait]
impl StockLibrary for Pexels {
    fn name(&self) -> &'static str {
        NAME
    }

    fn credit(&self, clip: &StockClip) -> String {
        format!("Video by {} on Pexels", clip.author)
    }

    async fn search(
        &self,
        query: &str,
        orientation: Orientation,
    ) -> Result<Vec<StockClip>, ProviderError> {
        let request = self
            .0
            .client
            .get(format!("{}/videos/search", self.0.base_url))
            .header(reqwest::header::AUTHORIZATION, self.0.key.expose_secret())
            .query(&[
                ("query", query),
                ("orientation", orientation.as_str()),
                ("size", "medium"),
                ("page", "1"),
                ("per_page", &PER_PAGE.to_string()),
            ]);
        let response = self
            .0
            .window
            .send(NAME, ResetHeader::UnixSeconds, request)
            .await?;
        let page: Page = http::json(NAME, response).await?;
        Ok(page.videos.into_iter().map(StockClip::from).collect())
    }
}
