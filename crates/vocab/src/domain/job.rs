use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ErrorInfo, JobKind, ResourceKind, Status};

/// A durable background job.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: Uuid,
    pub project_id: Option<Uuid>,
    pub kind: JobKind,
    pub status: Status,
    pub resource_type: Option<ResourceKind>,
    pub resource_id: Option<Uuid>,
    /// Attempts started so far, including the running one.
    pub attempts: i32,
    pub max_attempts: i32,
    /// 0 to 100.
    #[schema(minimum = 0, maximum = 100)]
    pub progress: i16,
    /// A short label for what the job is doing now.
    #[schema(example = "uploading audio")]
    pub stage: Option<String>,
    pub last_error: Option<ErrorInfo>,
    /// A cancel was asked for while the job ran; it stops at its next checkpoint.
    pub cancel_requested: bool,
    /// When a queued job becomes eligible to run (later than now while it backs off).
    pub run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub payload: JobPayload,
}

/// What becomes of a job after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Nothing failed: run again after the wait, without spending an attempt.
    Defer(std::time::Duration),
    /// Try again while attempts remain, waiting at least what the provider asked.
    Retry {
        retry_after: Option<std::time::Duration>,
    },
    /// Final: another attempt would fail the same way.
    Fail,
}

/// How the items of a dataset file are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DatasetFormat)]
pub enum Format {
    /// `[item, item, ...]`, as Apify's "JSON" export.
    Array,
    /// One item per line, blank lines skipped, as Apify's "JSONL" export.
    Lines,
}

/// What a webhook job delivers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WebhookDelivery {
    /// A run that ended or stopped for review; `event` is `run.succeeded`, `run.failed` or
    /// `run.awaiting_review`.
    Run { run_id: Uuid, event: String },
    /// A raised alert (`alert`).
    Alert { alert_id: Uuid },
}

/// An uploaded file a collection is made of, where the upload left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedFile {
    /// Its media store key.
    pub key: String,
    /// The name it was uploaded with.
    pub name: String,
}

/// Where an import's request left the dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetFile {
    /// Its media store key.
    pub key: String,
    pub format: Format,
    /// Items the request counted, for the progress.
    pub items: u64,
}

/// What a job carries besides the resource it fills: job-only data, never shown through the
/// API. Stored as JSON in `jobs.payload`, tagged by `type`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobPayload {
    /// All the job needs is its resource: a step started by hand, a reel's preparation, a
    /// scrape, or nothing at all (`noop`).
    #[default]
    Resource,
    /// A step a run started: what it spends is booked to the run.
    RunStep { run_id: Uuid },
    /// Posting one publication.
    Publish { publication_id: Uuid },
    /// Delivering one event to the project's webhook.
    Webhook { delivery: WebhookDelivery },
    /// A collection of the creator's uploaded files.
    UploadedFiles { files: Vec<UploadedFile> },
    /// A collection of the videos in a folder the server reads.
    Folder { folder: std::path::PathBuf },
    /// An import whose items came in the request.
    Items { items: Vec<serde_json::Value> },
    /// An import whose dataset was streamed to the media store.
    Dataset { dataset: DatasetFile },
    /// Reels a collection merged, for its watchlist's alert rules to look at.
    Collected(CollectedReels),
}

impl JobPayload {
    /// The run a step's spending is booked to.
    pub fn run_id(&self) -> Option<Uuid> {
        match self {
            JobPayload::RunStep { run_id } => Some(*run_id),
            _ => None,
        }
    }
}

/// What a payload a job kind cannot take is answered with: the payload back.
pub type WrongPayload = JobPayload;

/// The input of a step job: the resource says the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepJob {
    /// The run that started the step, if a run did.
    pub run_id: Option<Uuid>,
}

impl TryFrom<JobPayload> for StepJob {
    type Error = WrongPayload;

    fn try_from(payload: JobPayload) -> Result<Self, WrongPayload> {
        match payload {
            JobPayload::Resource => Ok(StepJob { run_id: None }),
            JobPayload::RunStep { run_id } => Ok(StepJob {
                run_id: Some(run_id),
            }),
            other => Err(other),
        }
    }
}

/// The input of a publish job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishJob {
    pub publication_id: Uuid,
}

impl TryFrom<JobPayload> for PublishJob {
    type Error = WrongPayload;

    fn try_from(payload: JobPayload) -> Result<Self, WrongPayload> {
        match payload {
            JobPayload::Publish { publication_id } => Ok(PublishJob { publication_id }),
            other => Err(other),
        }
    }
}

impl TryFrom<JobPayload> for WebhookDelivery {
    type Error = WrongPayload;

    fn try_from(payload: JobPayload) -> Result<Self, WrongPayload> {
        match payload {
            JobPayload::Webhook { delivery } => Ok(delivery),
            other => Err(other),
        }
    }
}

/// Where a collect job's reels come from, besides what its collection's input says.
#[derive(Debug, Clone, PartialEq)]
pub enum CollectSource {
    /// A scrape: the collection's input is all it needs.
    Scrape,
    UploadedFiles(Vec<UploadedFile>),
    Folder(std::path::PathBuf),
    Items(Vec<serde_json::Value>),
    Dataset(DatasetFile),
}

impl TryFrom<JobPayload> for CollectSource {
    type Error = WrongPayload;

    fn try_from(payload: JobPayload) -> Result<Self, WrongPayload> {
        match payload {
            JobPayload::Resource => Ok(CollectSource::Scrape),
            JobPayload::UploadedFiles { files } => Ok(CollectSource::UploadedFiles(files)),
            JobPayload::Folder { folder } => Ok(CollectSource::Folder(folder)),
            JobPayload::Items { items } => Ok(CollectSource::Items(items)),
            JobPayload::Dataset { dataset } => Ok(CollectSource::Dataset(dataset)),
            other => Err(other),
        }
    }
}

/// The reels one batch of a collection merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectedReels {
    pub collection_id: Uuid,
    pub reel_ids: Vec<Uuid>,
}

impl TryFrom<JobPayload> for CollectedReels {
    type Error = WrongPayload;

    fn try_from(payload: JobPayload) -> Result<Self, WrongPayload> {
        match payload {
            JobPayload::Collected(collected) => Ok(collected),
            other => Err(other),
        }
    }
}

/// What a webhook job reports when it ends without an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookOutcome {
    pub delivered: bool,
    /// Why nothing was delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The receiver's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl WebhookOutcome {
    pub fn not_delivered(reason: &str) -> Self {
        WebhookOutcome {
            delivered: false,
            reason: Some(reason.to_owned()),
            status: None,
            url: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Each shape migration 0032 writes reads back as the payload it stands for.
    #[test]
    fn the_migrated_payloads_read_as_their_types() {
        let id = Uuid::nil();
        let cases = [
            (json!({"type": "resource"}), JobPayload::Resource),
            (
                json!({"type": "run_step", "run_id": id}),
                JobPayload::RunStep { run_id: id },
            ),
            (
                json!({"type": "publish", "publication_id": id}),
                JobPayload::Publish { publication_id: id },
            ),
            (
                json!({"type": "webhook", "delivery": {"alert_id": id}}),
                JobPayload::Webhook {
                    delivery: WebhookDelivery::Alert { alert_id: id },
                },
            ),
            (
                json!({"type": "webhook", "delivery": {"run_id": id, "event": "run.failed"}}),
                JobPayload::Webhook {
                    delivery: WebhookDelivery::Run {
                        run_id: id,
                        event: "run.failed".into(),
                    },
                },
            ),
            (
                json!({"type": "uploaded_files", "files": [{"key": "k", "name": "a.mp4"}]}),
                JobPayload::UploadedFiles {
                    files: vec![UploadedFile {
                        key: "k".into(),
                        name: "a.mp4".into(),
                    }],
                },
            ),
            (
                json!({"type": "dataset", "dataset": {"key": "k", "format": "lines", "items": 3}}),
                JobPayload::Dataset {
                    dataset: DatasetFile {
                        key: "k".into(),
                        format: Format::Lines,
                        items: 3,
                    },
                },
            ),
        ];
        for (stored, expected) in cases {
            let read: JobPayload = serde_json::from_value(stored.clone()).unwrap();
            assert_eq!(read, expected, "{stored}");
            assert_eq!(serde_json::to_value(&read).unwrap(), stored);
        }
    }

    #[test]
    fn a_job_kind_takes_only_its_payload() {
        let run_id = Uuid::nil();
        assert_eq!(
            StepJob::try_from(JobPayload::RunStep { run_id }),
            Ok(StepJob {
                run_id: Some(run_id)
            })
        );
        assert!(PublishJob::try_from(JobPayload::Resource).is_err());
        assert_eq!(
            CollectSource::try_from(JobPayload::Resource),
            Ok(CollectSource::Scrape)
        );
    }
}
