//! A project's media library: files the user uploads to use in renders (B-roll, backgrounds,
//! music, logos and subtitle fonts).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

super::text_enum! {
    /// What an asset is, as its content shows (its name and declared type are not trusted).
    AssetKind {
        Video => "video",
        Image => "image",
        Audio => "audio",
        Font => "font",
    }
}

/// An uploaded file. Its `key` goes wherever a render option takes a media key (`music_key`,
/// `logo_key`, `image_key`, `clip_keys`, `subtitles.font_key`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Asset {
    pub id: Uuid,
    pub project_id: Uuid,
    pub kind: AssetKind,
    /// The uploaded file's name.
    #[schema(example = "sunrise.mp4")]
    pub name: String,
    /// Media store key.
    pub key: String,
    pub size_bytes: u64,
    /// Videos and audio.
    pub duration_ms: Option<u64>,
    /// Videos and images.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Fonts: the family name subtitles ask for.
    #[schema(example = "Montserrat")]
    pub font_family: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The uploaded file.
    pub content_url: crate::signed::ContentUrl,
}

impl Asset {
    /// Where the asset's file is served.
    pub fn content_url(id: Uuid) -> crate::signed::ContentUrl {
        crate::signed::ContentUrl::new(format!("/v1/assets/{id}/content"))
    }
}

/// How much of its library quota a project uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssetUsage {
    pub count: u64,
    pub used_bytes: u64,
    /// `assets.quota_bytes`.
    pub quota_bytes: u64,
}

/// A page of a project's assets, newest first, with the library's use of its quota.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssetList {
    pub items: Vec<Asset>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
    pub usage: AssetUsage,
}

#[derive(Debug, Clone, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct AssetQuery {
    pub kind: Option<AssetKind>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}
