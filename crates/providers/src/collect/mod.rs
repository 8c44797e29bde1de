//! Step 1-2: bring reels in. A [`Collector`] scrapes candidate items (normalised by
//! [`normalize`]); a [`ReelSource`] prepares one reel.

pub mod apify;
pub mod cover;
pub mod download;
pub mod fake;
pub mod normalize;
pub mod upload;

use async_trait::async_trait;

use super::{CallContext, ProviderError};

#[derive(Debug, Clone)]
pub struct PrepareReel {
    pub source_url: Option<String>,
    /// Where this reel's files go in the media store.
    pub media_prefix: String,
    pub options: crate::domain::options::CollectOptions,
}

pub use reelforge_vocab::domain::output::PreparedReel;

#[async_trait]
pub trait ReelSource: Send + Sync {
    async fn prepare(
        &self,
        request: &PrepareReel,
        ctx: &CallContext<'_>,
    ) -> Result<PreparedReel, ProviderError>;
}

/// What to scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectTarget {
    /// Usernames, profile URLs or reel URLs.
    Accounts(Vec<String>),
    /// With or without `#`.
    Hashtags(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct CollectRequest {
    pub target: CollectTarget,
    /// Items per account or hashtag.
    pub per_source_limit: u32,
    /// `2025-01-01`, an ISO time, or a relative span such as `2 months` (accounts only).
    pub newer_than: Option<String>,
    /// A cap on the whole run (what a pay-per-result scraper may charge for).
    pub max_items_cap: Option<u32>,
    /// Provider-specific options.
    pub options: crate::domain::options::CollectOptions,
}

impl CollectRequest {
    /// The most items this request can return.
    pub fn max_items(&self) -> u32 {
        let sources = match &self.target {
            CollectTarget::Accounts(list) | CollectTarget::Hashtags(list) => list.len() as u32,
        };
        let expected = sources.max(1).saturating_mul(self.per_source_limit.max(1));
        self.max_items_cap.map_or(expected, |cap| cap.min(expected))
    }
}

/// Scrapes raw reel items (the Apify dataset shape).
#[async_trait]
pub trait Collector: Send + Sync {
    async fn collect(
        &self,
        request: &CollectRequest,
        ctx: &CallContext<'_>,
    ) -> Result<Vec<serde_json::Value>, ProviderError>;
}
