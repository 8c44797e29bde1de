//! Types that describe, in the OpenAPI document, read-model fields stored as JSON or text: the
//! stored values are written through these types (or from these names), so the document's
//! closed sets and shapes are the ones clients meet.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

super::text_enum! {
    /// The quality checks a script goes through.
    CheckName {
        CleanText => "clean_text",
        WordCount => "word_count",
        CallToAction => "call_to_action",
        NotACopy => "not_a_copy",
        Language => "language",
        Repetition => "repetition",
        Loops => "loops",
        Spelling => "spelling",
        Grounded => "grounded",
    }
}

super::text_enum! {
    /// What an event is about: a step resource (for `job.*`, the one the job fills), a run, a
    /// publication or a watchlist's alert.
    EventResourceType {
        Collection => "collection",
        Reel => "reel",
        Transcript => "transcript",
        Script => "script",
        Audio => "audio",
        Video => "video",
        Post => "post",
        Run => "run",
        Publication => "publication",
        Alert => "alert",
    }
}

/// A collection's request as it is stored and shown (`Collection.parameters`,
/// `Watchlist.collection`): checked, with defaults filled in; imported items are counted, not
/// repeated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum CollectionParameters {
    /// Scraped by accounts and hashtags.
    Apify {
        accounts: Vec<String>,
        hashtags: Vec<String>,
        /// Reels per account or hashtag.
        per_source_limit: u32,
        newer_than: Option<String>,
        max_items: Option<u32>,
        options: super::options::CollectOptions,
        prepare_all: bool,
        /// The watchlist whose tick started this collection, if one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        watchlist_id: Option<uuid::Uuid>,
    },
    /// An Apify dataset export.
    Import {
        item_count: usize,
        prepare_all: bool,
        /// How an uploaded dataset file was laid out; none for items sent in the request.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<super::job::Format>,
    },
    /// Videos of a server folder (`folder`) or uploaded (`files`, their names).
    Files {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        folder: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        files: Option<Vec<String>>,
    },
}

impl CollectionParameters {
    /// As stored in a collection's `input`.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("collection parameters serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_kind_is_an_event_resource_type() {
        for kind in super::super::ResourceKind::ALL {
            assert!(kind.as_str().parse::<EventResourceType>().is_ok(), "{kind}");
        }
    }
}
