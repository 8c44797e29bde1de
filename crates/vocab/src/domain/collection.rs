use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::output::Rejection;
use super::{ErrorInfo, Status};

/// A batch of reels gathered from one source.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Collection {
    pub id: Uuid,
    pub project_id: Uuid,
    /// `apify` (scraped), `import` (a dataset export) or `files`.
    #[schema(example = "apify")]
    pub source: String,
    #[schema(example = "apify")]
    pub provider: String,
    /// The request, checked and with defaults filled in (imported items are counted, not
    /// repeated).
    pub parameters: super::read_model::CollectionParameters,
    pub status: Status,
    pub job_id: Option<Uuid>,
    pub counts: CollectionCounts,
    /// Items that could not be used, with the reason.
    pub problems: Vec<CollectionProblem>,
    pub error: Option<ErrorInfo>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CollectionCounts {
    /// Items the source returned.
    pub received: u32,
    /// New reels.
    pub added: u32,
    /// Items that matched a reel already in the project (its metrics were updated).
    pub merged: u32,
    /// Items that could not be used (see `problems`).
    pub rejected: u32,
    /// Reels whose preparation was started (with `prepare_all`).
    #[serde(default)]
    pub preparing: u32,
    /// Covers fetched and kept (each reel's `cover_content_url`), the best reels first, up to
    /// `collect.max_covers` (200) a collection.
    #[serde(default)]
    pub covers: u32,
    /// Covers that could not be fetched (an expired or refused link, not an image, out of time);
    /// the reels are kept without, and the next collection of each tries again.
    #[serde(default)]
    pub covers_failed: u32,
}

/// One unusable item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CollectionProblem {
    /// The item's shortCode, id or URL, else its position (`#3`).
    pub item: String,
    pub reason: String,
    /// The line of a dataset file the item starts on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl From<Rejection> for CollectionProblem {
    fn from(rejection: Rejection) -> Self {
        CollectionProblem {
            item: rejection.item,
            reason: rejection.reason,
            line: None,
        }
    }
}

/// What the collect job stores as the collection's output.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CollectionOutcome {
    pub counts: CollectionCounts,
    pub problems: Vec<CollectionProblem>,
}

/// Starts a collection.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum NewCollection {
    /// Scrape Instagram by accounts and/or hashtags.
    Apify {
        /// Usernames, profile URLs or reel URLs.
        #[serde(default)]
        accounts: Vec<String>,
        /// With or without `#`; reels only.
        #[serde(default)]
        hashtags: Vec<String>,
        /// Reels per account or hashtag (1 to 1000, default 30).
        #[schema(minimum = 1, maximum = 1000)]
        per_source_limit: Option<u32>,
        /// `2025-01-01`, an ISO time, or `2 months` (accounts only).
        newer_than: Option<String>,
        /// A cap on the whole run (1 to 10000).
        #[schema(minimum = 1, maximum = 10000)]
        max_items: Option<u32>,
        /// The collector (default: the project's `collect` provider).
        provider: Option<String>,
        /// Provider-specific options. (Read as JSON first: inside this tagged union serde
        /// cannot say which field failed, so they are checked on their own.)
        #[schema(value_type = Option<super::options::CollectOptions>)]
        options: Option<serde_json::Map<String, serde_json::Value>>,
        /// Prepare (download) every collected reel now, not only the ones selected later.
        #[serde(default)]
        prepare_all: bool,
    },
    /// An Apify dataset export (or anything in its shape).
    Import {
        /// Dataset items, each normally an object in Apify's shape; anything else is listed in
        /// the collection's `problems`, and never fails the batch.
        #[schema(value_type = Vec<serde_json::Value>)]
        items: Vec<serde_json::Value>,
        /// Prepare (download) every imported reel now, not only the ones selected later.
        #[serde(default)]
        prepare_all: bool,
    },
    /// The videos of a server folder inside one of `media.import_folders` (absolute, or
    /// relative to the first that contains it). Uploads go to `.../collections/files`.
    Files {
        #[schema(example = "2026-11/shoot-1")]
        folder: String,
    },
}

/// The answer to starting a collection.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CollectionStarted {
    pub collection: Collection,
    pub job: super::job::Job,
}
