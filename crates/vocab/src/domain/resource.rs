use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{job::Job, options, ErrorInfo, ResourceKind, Status};

/// One step's product: a reel, transcript, script, audio or video.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepResource {
    pub id: Uuid,
    pub kind: ResourceKind,
    pub project_id: Uuid,
    /// The resource this one was made from (none for collections and reels, which hang off the project).
    pub parent_id: Option<Uuid>,
    pub status: Status,
    #[schema(example = "fake")]
    pub provider: String,
    /// The request that started the step (provider options, overrides).
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
    /// What the step produced, once it succeeded.
    #[schema(value_type = Option<Object>)]
    pub output: Option<serde_json::Value>,
    pub job_id: Option<Uuid>,
    pub error: Option<ErrorInfo>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The answer to starting a step: the new resource and the job that fills it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepStarted {
    pub resource: StepResource,
    pub job: Job,
}

impl ResourceKind {
    pub fn status_event(self, status: Status) -> String {
        format!("{}.{}", self.as_str(), status.as_str())
    }
}

/// A step resource as clients see it: the shared fields of [`StepResource`] with the step's own
/// typed `output`, so a generated client reads `script.output.checks` without casts.
macro_rules! typed_step {
    (
        $(#[$meta:meta])* $name:ident, $started:ident, $start:ident, $kind:expr, $output:ty, $options:ty
        $(, $link:ident = $route:literal $(if $has:path)? $(, $files:ident = $file_route:literal)?)? $(,)?
    ) => {
        /// The body of the step-starting POST.
        #[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $start {
            /// Overrides the project's provider for this step.
            #[schema(example = "local")]
            pub provider: Option<String>,
            /// Checked against the provider when the step starts, and stored with the resource.
            pub options: Option<$options>,
        }

        $(#[$meta])*
        #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
        pub struct $name {
            pub id: Uuid,
            pub kind: ResourceKind,
            pub project_id: Uuid,
            /// The resource this one was made from.
            pub parent_id: Option<Uuid>,
            pub status: Status,
            #[schema(example = "local")]
            pub provider: String,
            /// The request that started the step.
            pub input: StepInput<$options>,
            /// What the step produced, once it succeeded.
            pub output: Option<$output>,
            pub job_id: Option<Uuid>,
            pub error: Option<ErrorInfo>,
            pub created_at: DateTime<Utc>,
            pub updated_at: DateTime<Utc>,
            $(
                /// The file, once the step has succeeded.
                pub $link: Option<crate::signed::ContentUrl>,
                $(
                    /// Each of `output.files` by its name (thumbnail, subtitles, each further
                    /// format's video), once the step has succeeded.
                    #[serde(default)]
                    pub $files: std::collections::BTreeMap<String, crate::signed::ContentUrl>,
                )?
            )?
        }

        impl TryFrom<StepResource> for $name {
            type Error = OutputMismatch;

            fn try_from(resource: StepResource) -> Result<Self, OutputMismatch> {
                if resource.kind != $kind {
                    return Err(OutputMismatch(format!("a {} is not a {}", resource.kind, $kind)));
                }
                let output = resource
                    .output
                    .map(serde_json::from_value)
                    .transpose()
                    .map_err(|error| OutputMismatch(format!("{} {}: {error}", $kind, resource.id)))?;
                #[allow(unused_variables)]
                let succeeded = resource.status == Status::Succeeded;
                Ok($name {
                    $(
                        $link: (succeeded $(&& output.as_ref().is_some_and($has))?)
                            .then(|| crate::signed::ContentUrl::new(format!($route, id = resource.id))),
                        $(
                            $files: output
                                .iter()
                                .filter(|_| succeeded)
                                .flat_map(|output: &$output| output.files.keys())
                                .map(|name| {
                                    let path = format!($file_route, id = resource.id, name = name);
                                    (name.clone(), crate::signed::ContentUrl::new(path))
                                })
                                .collect(),
                        )?
                    )?
                    id: resource.id,
                    kind: resource.kind,
                    project_id: resource.project_id,
                    parent_id: resource.parent_id,
                    status: resource.status,
                    provider: resource.provider,
                    input: serde_json::from_value(resource.input).map_err(|error| {
                        OutputMismatch(format!("{} {} input: {error}", $kind, resource.id))
                    })?,
                    output,
                    job_id: resource.job_id,
                    error: resource.error,
                    created_at: resource.created_at,
                    updated_at: resource.updated_at,
                })
            }
        }

        /// The answer to starting the step: the new resource and the job that fills it.
        #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
        pub struct $started {
            pub resource: $name,
            pub job: Job,
        }

        impl TryFrom<StepStarted> for $started {
            type Error = OutputMismatch;

            fn try_from(started: StepStarted) -> Result<Self, OutputMismatch> {
                Ok($started {
                    resource: started.resource.try_into()?,
                    job: started.job,
                })
            }
        }
    };
}

/// What a step was started with, as stored with its resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StepInput<O> {
    #[serde(default)]
    pub options: O,
}

/// A stored output that does not read as its step's output type: a bug, never the client's.
#[derive(Debug, thiserror::Error)]
#[error("stored output does not match its type: {0}")]
pub struct OutputMismatch(pub String);

typed_step!(
    /// A transcript of a reel (step 3).
    Transcript, TranscriptStarted, StartTranscript, ResourceKind::Transcript,
    super::output::TranscriptOutput, options::TranscribeOptions
);
typed_step!(
    /// A script rewritten from a transcript (step 4), with its quality checks.
    Script, ScriptStarted, StartScript, ResourceKind::Script, crate::script::ScriptOutput,
    options::RewriteOptions
);
typed_step!(
    /// A voiceover of a script (step 5), fitted to the project's target duration.
    Audio, AudioStarted, StartAudio, ResourceKind::Audio, super::output::VoiceOutput,
    options::VoiceOptions, content_url = "/v1/audio/{id}/content"
);
typed_step!(
    /// A vertical video of a voiceover (step 6).
    Video, VideoStarted, StartVideo, ResourceKind::Video, super::output::RenderOutput,
    options::RenderOptions, content_url = "/v1/videos/{id}/content",
    file_urls = "/v1/videos/{id}/files/{name}"
);
typed_step!(
    /// The words a video is posted with (step 7): title, caption, hashtags and cover, checked
    /// against each platform's limits.
    Post, PostStarted, StartPost, ResourceKind::Post, super::publishing::PostOutput,
    options::PostOptions,
    cover_content_url = "/v1/posts/{id}/cover" if super::publishing::PostOutput::has_cover
);
