use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ResourceKind;

/// One row of the event log, as delivered over SSE (`id:` = `id`, `event:` = `kind`, `data:` = this).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: i64,
    #[schema(example = "job.progress")]
    pub kind: String,
    pub project_id: Option<Uuid>,
    /// Whose stream it goes to; streams filter on it, clients need not see it.
    #[serde(skip)]
    pub workspace_id: Option<Uuid>,
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// What an event says, by kind: the union a client switches on (`kind` discriminates `data`).
/// The events are stored and sent as JSON; this type describes them, and a test reads every
/// event of a pipeline run through it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", content = "data")]
pub enum EventPayload {
    /// The job, as `GET /v1/jobs/{id}` shows it.
    #[serde(rename = "job.queued")]
    JobQueued(super::job::Job),
    /// The job, as `GET /v1/jobs/{id}` shows it.
    #[serde(rename = "job.running")]
    JobRunning(super::job::Job),
    /// The job, as `GET /v1/jobs/{id}` shows it.
    #[serde(rename = "job.succeeded")]
    JobSucceeded(super::job::Job),
    /// The job, as `GET /v1/jobs/{id}` shows it.
    #[serde(rename = "job.failed")]
    JobFailed(super::job::Job),
    /// The job, as `GET /v1/jobs/{id}` shows it.
    #[serde(rename = "job.canceled")]
    JobCanceled(super::job::Job),
    /// The job with its new `progress` (0-100) and `stage`.
    #[serde(rename = "job.progress")]
    JobProgress(super::job::Job),
    #[serde(rename = "collection.queued")]
    CollectionQueued(ResourceStatus),
    #[serde(rename = "collection.running")]
    CollectionRunning(ResourceStatus),
    #[serde(rename = "collection.succeeded")]
    CollectionSucceeded(ResourceStatus),
    #[serde(rename = "collection.failed")]
    CollectionFailed(ResourceStatus),
    #[serde(rename = "collection.canceled")]
    CollectionCanceled(ResourceStatus),
    #[serde(rename = "reel.queued")]
    ReelQueued(ResourceStatus),
    #[serde(rename = "reel.running")]
    ReelRunning(ResourceStatus),
    #[serde(rename = "reel.succeeded")]
    ReelSucceeded(ResourceStatus),
    #[serde(rename = "reel.failed")]
    ReelFailed(ResourceStatus),
    #[serde(rename = "reel.canceled")]
    ReelCanceled(ResourceStatus),
    #[serde(rename = "transcript.queued")]
    TranscriptQueued(ResourceStatus),
    #[serde(rename = "transcript.running")]
    TranscriptRunning(ResourceStatus),
    #[serde(rename = "transcript.succeeded")]
    TranscriptSucceeded(ResourceStatus),
    #[serde(rename = "transcript.failed")]
    TranscriptFailed(ResourceStatus),
    #[serde(rename = "transcript.canceled")]
    TranscriptCanceled(ResourceStatus),
    #[serde(rename = "script.queued")]
    ScriptQueued(ResourceStatus),
    #[serde(rename = "script.running")]
    ScriptRunning(ResourceStatus),
    #[serde(rename = "script.succeeded")]
    ScriptSucceeded(ResourceStatus),
    #[serde(rename = "script.failed")]
    ScriptFailed(ResourceStatus),
    #[serde(rename = "script.canceled")]
    ScriptCanceled(ResourceStatus),
    #[serde(rename = "audio.queued")]
    AudioQueued(ResourceStatus),
    #[serde(rename = "audio.running")]
    AudioRunning(ResourceStatus),
    #[serde(rename = "audio.succeeded")]
    AudioSucceeded(ResourceStatus),
    #[serde(rename = "audio.failed")]
    AudioFailed(ResourceStatus),
    #[serde(rename = "audio.canceled")]
    AudioCanceled(ResourceStatus),
    #[serde(rename = "video.queued")]
    VideoQueued(ResourceStatus),
    #[serde(rename = "video.running")]
    VideoRunning(ResourceStatus),
    #[serde(rename = "video.succeeded")]
    VideoSucceeded(ResourceStatus),
    #[serde(rename = "video.failed")]
    VideoFailed(ResourceStatus),
    #[serde(rename = "video.canceled")]
    VideoCanceled(ResourceStatus),
    #[serde(rename = "post.queued")]
    PostQueued(ResourceStatus),
    #[serde(rename = "post.running")]
    PostRunning(ResourceStatus),
    #[serde(rename = "post.succeeded")]
    PostSucceeded(ResourceStatus),
    #[serde(rename = "post.failed")]
    PostFailed(ResourceStatus),
    #[serde(rename = "post.canceled")]
    PostCanceled(ResourceStatus),
    /// A post's words were edited by hand and checked again.
    #[serde(rename = "post.edited")]
    PostEdited(PostEdited),
    #[serde(rename = "publication.scheduled")]
    PublicationScheduled(PublicationUpdate),
    #[serde(rename = "publication.uploading")]
    PublicationUploading(PublicationUpdate),
    #[serde(rename = "publication.processing")]
    PublicationProcessing(PublicationUpdate),
    #[serde(rename = "publication.published")]
    PublicationPublished(PublicationUpdate),
    #[serde(rename = "publication.failed")]
    PublicationFailed(PublicationUpdate),
    #[serde(rename = "publication.canceled")]
    PublicationCanceled(PublicationUpdate),
    #[serde(rename = "script.edited")]
    ScriptEdited(ScriptEdited),
    #[serde(rename = "run.queued")]
    RunQueued(RunQueued),
    #[serde(rename = "run.updated")]
    RunUpdated(RunUpdate),
    #[serde(rename = "run.succeeded")]
    RunSucceeded(RunUpdate),
    #[serde(rename = "run.failed")]
    RunFailed(RunUpdate),
    /// Every reel still to go waits for its script to be read (the run's `review`); edit the
    /// scripts if need be, then `POST /v1/runs/{id}/resume`.
    #[serde(rename = "run.awaiting_review")]
    RunAwaitingReview(RunUpdate),
    /// A watchlist's rule matched a reel (once per rule and reel).
    #[serde(rename = "alert")]
    Alert(Box<super::watchlist::AlertRaised>),
    /// The project's provider for a step was retired, and the project moved to its successor
    /// (written by the migration that retired it).
    #[serde(rename = "project.provider_retired")]
    ProjectProviderRetired(ProviderRetired),
}

/// `project.provider_retired`: a project's `settings.providers.<step>` was moved from a retired
/// provider to its successor.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderRetired {
    pub step: super::step::Step,
    /// The retired provider the project had.
    #[schema(example = "openai_assistant")]
    pub from: String,
    /// The provider it has now.
    #[schema(example = "openai")]
    pub to: String,
    /// Why, and what the user may want to carry over by hand.
    pub reason: String,
}

/// `post.edited`: a post's words after a hand edit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostEdited {
    pub id: Uuid,
    pub needs_review: bool,
    pub checks: Vec<super::publishing::CopyCheck>,
}

/// `publication.<status>`: a publication moved on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicationUpdate {
    pub id: Uuid,
    pub video_id: Uuid,
    pub account_id: Uuid,
    pub platform: super::publishing::Platform,
    pub status: super::publishing::PublicationStatus,
    pub post_id: Option<String>,
    pub post_url: Option<String>,
    pub error: Option<super::ErrorInfo>,
    /// What the publication waits for, while it does.
    pub waiting: Option<super::publishing::PublicationWait>,
}

impl PublicationUpdate {
    pub fn of(publication: &super::publishing::Publication) -> Self {
        PublicationUpdate {
            id: publication.id,
            video_id: publication.video_id,
            account_id: publication.account_id,
            platform: publication.platform,
            status: publication.status,
            post_id: publication.post_id.clone(),
            post_url: publication.post_url.clone(),
            error: publication.error.clone(),
            waiting: publication.waiting.clone(),
        }
    }
}

/// `<resource>.<status>`: a collection, reel, transcript, script, audio or video changed status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceStatus {
    pub id: Uuid,
    pub kind: ResourceKind,
    pub status: super::Status,
    pub job_id: Option<Uuid>,
    /// Why it failed or was canceled.
    pub error: Option<super::ErrorInfo>,
}

/// `script.edited`: a hand edit was stored and checked again.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptEdited {
    pub id: Uuid,
    pub word_count: usize,
    pub checks: Vec<crate::script::Check>,
}

/// `run.queued`: a run was accepted for these reels.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunQueued {
    pub id: Uuid,
    pub status: super::Status,
    pub reels: Vec<Uuid>,
}

/// `run.updated`, `run.awaiting_review`, `run.succeeded`, `run.failed`: a run moved on (a step
/// finished, a reel failed, it was resumed), stopped for review, or ended.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunUpdate {
    pub id: Uuid,
    pub status: super::Status,
    /// 0 to 100 over every step of every reel.
    pub progress: u8,
    pub reels: Vec<super::run::RunReel>,
}

/// An event as the stream delivers it in each frame's `data:` line (its `id:` is `id`, its
/// `event:` is `kind`). `kind` and `data` come from [`EventPayload`].
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TypedEvent {
    pub id: i64,
    pub project_id: Option<Uuid>,
    /// The resource the event is about (for `job.*`, the one the job fills).
    #[schema(value_type = Option<super::read_model::EventResourceType>)]
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    #[serde(flatten)]
    pub payload: EventPayload,
    pub created_at: DateTime<Utc>,
}

/// The JSON of a typed event payload (the types above cannot fail to serialize).
pub fn data(payload: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(payload).expect("event data serializes")
}

/// An event about to be appended to the log.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: String,
    pub project_id: Option<Uuid>,
    pub resource_type: Option<&'static str>,
    pub resource_id: Option<Uuid>,
    pub data: serde_json::Value,
}

impl NewEvent {
    pub fn about_resource(
        kind: String,
        resource: ResourceKind,
        id: Uuid,
        project_id: Uuid,
        data: serde_json::Value,
    ) -> Self {
        NewEvent {
            kind,
            project_id: Some(project_id),
            resource_type: Some(resource.as_str()),
            resource_id: Some(id),
            data,
        }
    }

    /// `run.<kind>` with the run's [`RunUpdate`].
    pub fn about_run(kind: &str, run: &super::run::Run) -> Self {
        NewEvent {
            kind: format!("run.{kind}"),
            project_id: Some(run.project_id),
            resource_type: Some("run"),
            resource_id: Some(run.id),
            data: data(&RunUpdate {
                id: run.id,
                status: run.status,
                progress: run.progress,
                reels: run.reels.clone(),
            }),
        }
    }
}
