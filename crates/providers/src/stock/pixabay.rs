//! Pixabay video search: `GET /videos/?key=…&q=…`. It has no orientation filter, so answers of
//! the wanted shape are put first; sizes without a file are skipped.

use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{Orientation, ResetHeader, StockClient, StockClip, StockFile, StockLibrary};
use crate::{http, ProviderError};

pub use reelforge_vocab::domain::provider::pixabay::NAME;
const PER_PAGE: u32 = 20;
/// Pixabay refuses longer queries.
const MAX_QUERY_CHARS: usize = 100;

pub struct Pixabay(pub StockClient);

#[derive(Debug, Deserialize)]
struct Page {
    hits: Vec<Hit>,
}

#[derive(Debug, Deserialize)]
struct Hit {
    id: u64,
    #[serde(rename = "pageURL")]
    page_url: String,
    #[serde(default)]
    duration: Option<f64>,
    videos: Sizes,
    #[serde(default)]
    user_id: Option<u64>,
    #[serde(default)]
    user: String,
}

#[derive(Debug, Deserialize)]
struct Sizes {
    large: Option<Size>,
    medium: Option<Size>,
    small: Option<Size>,
    tiny: Option<Size>,
}

#[derive(Debug, Deserialize)]
struct Size {
    #[serde(default)]
    url: String,
    #[serde(default)]
    width: u32,
    #[serde(default)]
    height: u32,
}

/// The author's page, `https://pixabay.com/users/{name}-{id}/`, with the name escaped.
fn profile_url(user: &str, id: u64) -> String {
    let mut url = reqwest::Url::parse("https://pixabay.com/users/").expect("a valid URL");
    url.path_segments_mut()
        .expect("an http URL has a path")
        .pop_if_empty()
        .push(&format!("{user}-{id}"))
        .push("");
    url.to_string()
}

impl From<Hit> for StockClip {
    fn from(hit: Hit) -> Self {
        let sizes = [
            hit.videos.large,
            hit.videos.medium,
            hit.videos.small,
            hit.videos.tiny,
        ];
        StockClip {
            id: hit.id.to_string(),
            page_url: hit.page_url,
            author_url: hit.user_id.map(|id| profile_url(&hit.user, id)),
            author: hit.user,
            duration_seconds: hit.duration.unwrap_or_default(),
            files: sizes
                .into_iter()
                .flatten()
                .filter(|size| !size.url.is_empty() && size.width > 0 && size.height > 0)
                .map(|size| StockFile {
                    url: size.url,
                    width: size.width,
                    height: size.height,
                })
                .collect(),
        }
    }
}

#[async_trait]
impl StockLibrary for Pixabay {
    fn name(&self) -> &'static str {
        NAME
    }

    fn credit(&self, clip: &StockClip) -> String {
        format!("Video by {} from Pixabay", clip.author)
    }

    async fn search(
        &self,
        query: &str,
        orientation: Orientation,
    ) -> Result<Vec<StockClip>, ProviderError> {
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let request = self
            .0
            .client
            .get(format!("{}/videos/", self.0.base_url))
            .query(&[
                ("key", self.0.key.expose_secret()),
                ("q", query.as_str()),
                ("video_type", "film"),
                ("safesearch", "true"),
                ("page", "1"),
                ("per_page", &PER_PAGE.to_string()),
            ]);
        let response = self
            .0
            .window
            .send(NAME, ResetHeader::SecondsLeft, request)
            .await?;
        let page: Page = http::json(NAME, response).await?;
        let mut clips: Vec<StockClip> = page.hits.into_iter().map(StockClip::from).collect();
        // Stable: the library's own order within each shape.
        clips.sort_by_key(|clip| {
            !clip
                .files
                .first()
                .is_some_and(|file| orientation.fits(file.width, file.height))
        });
        Ok(clips)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_authors_page_escapes_the_name() {
        assert_eq!(
            super::profile_url("Coverr-Free-Footage", 1281706),
            "https://pixabay.com/users/Coverr-Free-Footage-1281706/"
        );
        assert_eq!(
            super::profile_url("a b/c?", 7),
            "https://pixabay.com/users/a%20b%2Fc%3F-7/"
        );
    }
}
