//! The service's vocabulary, shared by the database layer, the routes and the job handlers.

pub mod asset;
pub mod cloned_voice;
pub mod collection;
pub mod event;
pub mod job;
pub mod options;
pub mod output;
pub mod platform_limits;
pub mod post_copy;
pub mod project;
pub mod provider;
pub mod publishing;
pub mod read_model;
pub mod reel;
pub mod resource;
pub mod run;
pub mod step;
pub mod stock;
pub mod storable;
pub mod usage;
pub mod video_format;
pub mod watchlist;
pub mod webhook;
pub mod workspace;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a string-backed enum whose text form is used in JSON, in the database and in URLs.
/// Each text must be its variant's name in snake_case: serde and the OpenAPI schema both derive
/// it through `rename_all` (utoipa does not see per-variant renames made inside a macro), and a
/// unit test holds `as_str` to the same spelling.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::UnknownVariant;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::domain::UnknownVariant(other.to_owned())),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::UnknownVariant;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                text.parse()
            }
        }
    };
}
pub(crate) use text_enum;

#[derive(Debug, thiserror::Error)]
#[error("unknown value `{0}`")]
pub struct UnknownVariant(pub String);

text_enum! {
    /// Lifecycle of a job and of the resource it fills. `pending` is for resources only: a
    /// collected reel whose media nobody has asked for yet. `awaiting_review` is for runs only
    /// (and their reels): stopped after the script, as the run's `review` asked, until
    /// `POST /v1/runs/{id}/resume`.
    Status {
        Pending => "pending",
        Queued => "queued",
        Running => "running",
        AwaitingReview => "awaiting_review",
        Succeeded => "succeeded",
        Failed => "failed",
        Canceled => "canceled",
    }
}

impl Status {
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Succeeded | Status::Failed | Status::Canceled)
    }
}

text_enum! {
    /// The per-step resources, in pipeline order; a post holds the words a video is published with.
    ResourceKind {
        Collection => "collection",
        Reel => "reel",
        Transcript => "transcript",
        Script => "script",
        Audio => "audio",
        Video => "video",
        Post => "post",
    }
}

/// Where one kind of resource is stored and what it is made from, said once; what makes it is
/// the step table's (`step::Step`).
struct ResourceFacts {
    table: &'static str,
    /// The column that points at the resource this one was made from.
    parent_column: &'static str,
    /// The resource this one is made from; collections and reels hang off their project.
    parent: Option<ResourceKind>,
}

impl ResourceKind {
    const fn facts(self) -> ResourceFacts {
        use ResourceKind::*;
        let (table, parent_column, parent) = match self {
            Collection => ("collections", "project_id", None),
            Reel => ("reels", "project_id", None),
            Transcript => ("transcripts", "reel_id", Some(Reel)),
            Script => ("scripts", "transcript_id", Some(Transcript)),
            Audio => ("audio", "script_id", Some(Script)),
            Video => ("videos", "audio_id", Some(Audio)),
            Post => ("posts", "video_id", Some(Video)),
        };
        ResourceFacts {
            table,
            parent_column,
            parent,
        }
    }

    pub fn table(self) -> &'static str {
        self.facts().table
    }

    /// The column that points at the resource this one was made from.
    pub fn parent_column(self) -> &'static str {
        self.facts().parent_column
    }

    /// The resource this one is made from; collections and reels hang off their project.
    pub fn parent(self) -> Option<ResourceKind> {
        self.facts().parent
    }

    /// The job that fills a resource of this kind: its step's, but for a reel, whose media is
    /// prepared by a job of its own when it is selected.
    pub fn job_kind(self) -> JobKind {
        match self {
            ResourceKind::Reel => JobKind::PrepareReel,
            other => step::Step::of(other).job(),
        }
    }
}

text_enum! {
    /// What a job does. A step's job has the step's name and fills its resource (`prepare_reel`
    /// fills a selected reel's media); `noop` exists for queue benchmarks.
    JobKind {
        Collect => "collect",
        PrepareReel => "prepare_reel",
        Transcribe => "transcribe",
        Rewrite => "rewrite",
        Voice => "voice",
        Render => "render",
        WritePost => "write_post",
        Publish => "publish",
        Webhook => "webhook",
        ApplyAlertRules => "apply_alert_rules",
        Noop => "noop",
    }
}

/// A failure as shown to API clients: a stable code and a human message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorInfo {
    pub code: crate::error_code::ErrorCode,
    #[schema(example = "the provider answered 503 three times")]
    pub message: String,
    /// The values the message names, for a client that says it in its own words from `code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<ErrorParams>,
}

impl ErrorInfo {
    pub fn new(code: crate::error_code::ErrorCode, message: impl Into<String>) -> Self {
        ErrorInfo {
            code,
            message: message.into(),
            params: None,
        }
    }

    pub fn from_parts(code: Option<String>, message: Option<String>) -> Option<Self> {
        code.map(|code| {
            ErrorInfo::new(
                code.parse()
                    .unwrap_or(crate::error_code::ErrorCode::Unknown),
                message.unwrap_or_default(),
            )
        })
    }
}

/// The values a failure's English `detail` or `message` names, typed, so a client can say it in
/// its own language from the `code` alone. Each code fills only the fields it names; the rest are
/// absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorParams {
    /// The step concerned: the one a provider was asked for (`unknown_provider`, `no_provider`,
    /// `provider_retired`), or a run's step that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<step::Step>,
    /// The provider concerned (`unknown_provider`, `provider_retired`, a run's step that failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "elevenlabs")]
    pub provider: Option<String>,
    /// The limit that was passed, in bytes (`payload_too_large`, `asset_quota_exceeded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 104857600)]
    pub limit_bytes: Option<u64>,
    /// What is used already, in bytes (`asset_quota_exceeded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_bytes: Option<u64>,
    /// Seconds to wait before trying again (`rate_limited`, and a provider's own wait), as
    /// `Retry-After` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 30)]
    pub retry_after_seconds: Option<u64>,
    /// The status the resource is in, which is why the request was refused
    /// (`run_not_awaiting_review`, `run_not_active`, `job_not_active`, `job_not_retryable`,
    /// `media_not_ready`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// The run's estimated cost, in US dollars (`budget_exceeded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate_usd: Option<f64>,
    /// What is left of the month's budget, in US dollars (`budget_exceeded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_usd: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_matches_text<T: Serialize + Copy + std::fmt::Display>(all: &[T]) {
        for &value in all {
            assert_eq!(
                serde_json::to_value(value).unwrap(),
                serde_json::Value::String(value.to_string())
            );
        }
    }

    #[test]
    fn every_text_enum_serializes_as_its_text() {
        json_matches_text(Status::ALL);
        json_matches_text(ResourceKind::ALL);
        json_matches_text(JobKind::ALL);
        json_matches_text(project::StylePreset::ALL);
        json_matches_text(reel::ReelSort::ALL);
        json_matches_text(run::Review::ALL);
        json_matches_text(usage::Metric::ALL);
        json_matches_text(workspace::Scope::ALL);
    }
}
