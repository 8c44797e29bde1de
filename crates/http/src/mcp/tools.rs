//! The tools an agent calls. Each one calls the same functions as its REST route, takes the
//! route's own body type (under a field named after it, beside the ids the path carries), and
//! answers the route's own response type, so the two contracts are one.

use std::{collections::BTreeMap, future::Future, sync::LazyLock, time::Duration};

use futures::future::BoxFuture;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use utoipa::ToSchema;
use uuid::Uuid;

use super::schema::json_schema;
use crate::error::AppError;
use crate::{
    collections,
    domain::{
        collection::{Collection, NewCollection},
        project::CreateProject,
        publishing::{NewPublication, PostPatch},
        reel::ReelQuery,
        resource::{Post, Script, StartPost, Video},
        run::{CreateRun, Run},
        usage::RunEstimate,
        workspace::Scope,
        ResourceKind, Status,
    },
    error::ApiError,
    pagination::PageQuery,
    routes::{scripts::EditScript, Data},
};

/// What a tool call runs with.
#[derive(Clone)]
pub struct ToolContext {
    pub state: Data,
    /// Who calls: tools act within its workspace, as the REST routes do.
    pub principal: crate::access::Principal,
    /// Where this service was reached (`http://host:port`), for the links a tool answers.
    pub base_url: String,
    /// Where to report progress, when the client asked for it.
    pub progress: Option<Progress>,
}

/// Progress notifications for one call (`notifications/progress` with the client's token).
#[derive(Clone)]
pub struct Progress {
    pub token: Value,
    pub sender: mpsc::UnboundedSender<Value>,
}

impl Progress {
    fn report(&self, progress: u8, message: &str) {
        // A client that went away is noticed by the waiting loop (`stream_closed`).
        let _ = self.sender.send(json!({
            "jsonrpc": "2.0",
            "method": "notifications/progress",
            "params": {
                "progressToken": self.token,
                "progress": progress,
                "total": 100,
                "message": message,
            },
        }));
    }
}

type Call =
    Box<dyn Fn(ToolContext, Value) -> BoxFuture<'static, Result<Value, ApiError>> + Send + Sync>;

pub struct Tool {
    pub name: &'static str,
    title: &'static str,
    description: &'static str,
    input_schema: Value,
    output_schema: Value,
    call: Call,
}

impl Tool {
    fn new<I, O, E, F, Fut>(
        name: &'static str,
        title: &'static str,
        description: &'static str,
        call: F,
    ) -> Tool
    where
        I: DeserializeOwned + ToSchema + Send + 'static,
        O: Serialize + ToSchema,
        F: Fn(ToolContext, I) -> Fut + Send + Sync + 'static,
        E: Into<ApiError>,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        let call = std::sync::Arc::new(call);
        Tool {
            name,
            title,
            description,
            input_schema: json_schema::<I>(),
            output_schema: json_schema::<O>(),
            call: Box::new(move |context, arguments| {
                let call = call.clone();
                Box::pin(async move {
                    let input = arguments_of::<I>(arguments)?;
                    let output = call(context, input).await.map_err(Into::into)?;
                    Ok(serde_json::to_value(output).expect("a tool's answer serializes"))
                })
            }),
        }
    }

    /// The tool as `tools/list` shows it.
    pub fn describe(&self) -> Value {
        json!({
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": self.input_schema,
            "outputSchema": self.output_schema,
        })
    }

    /// What a token needs to call this tool: `read` for the tools that only read, `write` for
    /// every other one, so a new tool changes nothing for `read` tokens unless listed.
    pub fn scope(&self) -> Scope {
        if READ_ONLY_TOOLS.contains(&self.name) {
            Scope::Read
        } else {
            Scope::Write
        }
    }

    /// Calls the tool as `context.principal`: with the scope it needs, on its workspace's
    /// resources only.
    pub async fn call(&self, context: ToolContext, arguments: Value) -> Result<Value, ApiError> {
        context.principal.require(self.scope())?;
        crate::workspaces::confine_arguments(&context.state.pool, &context.principal, &arguments)
            .await?;
        (self.call)(context, arguments).await
    }
}

/// Arguments are read as a REST body is: an object, every wrong field named by its path.
fn arguments_of<I: DeserializeOwned>(arguments: Value) -> Result<I, ApiError> {
    let arguments = match arguments {
        Value::Null => json!({}),
        Value::Object(_) => arguments,
        _ => return Err(AppError::validation("", "the arguments must be a JSON object").into()),
    };
    serde_path_to_error::deserialize(arguments)
        .map_err(|error| AppError::invalid_body(&error).into())
}

/// The tools that change nothing.
const READ_ONLY_TOOLS: &[&str] = &[
    "list_projects",
    "list_reels",
    "estimate_run",
    "get_run",
    "get_script",
    "get_video_link",
    "list_accounts",
    "get_publication",
];

pub fn find(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|tool| tool.name == name)
}

pub fn all() -> &'static [Tool] {
    &TOOLS
}

/// The longest a tool waits for a collection or run to finish before answering its state.
const MAX_WAIT_SECONDS: u32 = 600;

/// How often a wait looks again when the event bus brings nothing.
const WAIT_POLL: Duration = Duration::from_secs(2);

static TOOLS: LazyLock<Vec<Tool>> = LazyLock::new(|| {
    vec![
        Tool::new(
            "list_projects",
            "List projects",
            "Projects, newest first, one page at a time (`next_cursor` for the next).",
            |context, query: PageQuery| async move {
                crate::projects::list(&context.state, context.principal.workspace_id, &query).await
            },
        ),
        Tool::new(
            "create_project",
            "Create a project",
            "Creates a project: its language and its settings (script length, target duration, \
             providers per step); unset settings take the deployment's defaults.",
            |context, body: CreateProject| async move {
                crate::projects::create(&context.state, context.principal.workspace_id, body).await
            },
        ),
        Tool::new(
            "collect",
            "Collect reels",
            "Collects reels into a project: from Apify by hashtags and accounts, or from an \
             imported Apify dataset (its items). With `wait_seconds`, answers when the \
             collection ends (reporting progress) or the time is up.",
            collect,
        ),
        Tool::new(
            "list_reels",
            "List ranked reels",
            "A project's reels ranked by `sort` (default trend score), with filters: plays, \
             duration, posting date, owner, hashtag, language, selected.",
            |context, input: ListReels| async move {
                let filters = input.filters.unwrap_or_default();
                crate::reels::ranked(&context.state, input.project_id, &filters).await
            },
        ),
        Tool::new(
            "select_reel",
            "Select a reel",
            "Selects a reel for the pipeline and starts preparing its media (download, checks, \
             audio track) unless that is done or under way.",
            |context, input: SelectReel| async move {
                let (selected, _) =
                    crate::reels::select(&context.state, input.project_id, input.reel_id).await?;
                Ok::<_, ApiError>(selected)
            },
        ),
        Tool::new(
            "start_run",
            "Start a pipeline run",
            "Takes reels through transcribe, rewrite, voice and render with the project's \
             providers or the ones given, from a step (`from_step`) if asked. With `review` \
             (`always`, or `when_flagged` for scripts flagged `needs_review`) it stops after the \
             scripts as `awaiting_review`: read them (`get_script`), edit them if need be \
             (`edit_script`), then `resume_run`. With `wait_seconds`, answers when the run ends \
             or stops for review (reporting progress) or the time is up; `get_run` follows it \
             after that.",
            start_run,
        ),
        Tool::new(
            "estimate_run",
            "Estimate a run's cost",
            "What `start_run` with the same `run` would cost, step by step at the providers' \
             prices, against the project's monthly budget (spent, held by runs under way, left); \
             nothing is queued.",
            estimate_run,
        ),
        Tool::new(
            "get_run",
            "Get a run",
            "A run's status (`queued`, `running`, `awaiting_review`, `succeeded`, `failed`) \
             and progress, each reel's steps (`transcribe`, `rewrite`, `voice`, `render`, then \
             `write_post` when it publishes) with the id of the transcript, script, audio, video \
             or post each made, whether a script needs review, why a reel failed, and the run's \
             cost.",
            |context, input: RunId| async move { crate::steps::run(&context.state, input.run_id).await },
        ),
        Tool::new(
            "resume_run",
            "Resume a run stopped for review",
            "Goes on with a run that is `awaiting_review`: each waiting reel is voiced and \
             rendered from its script as it is now (after `edit_script`, the edited text). A \
             run in any other status is refused (`run_not_awaiting_review`). With \
             `wait_seconds`, answers when the run ends or the time is up.",
            resume_run,
        ),
        Tool::new(
            "cancel_run",
            "Cancel a run",
            "Stops a run that has not ended (`queued`, `running` or `awaiting_review`): each \
             reel not done is canceled with the step it waits on. A run that ended is refused \
             (`run_not_active`).",
            |context, input: RunId| async move {
                crate::steps::cancel_run(&context.state, input.run_id).await
            },
        ),
        Tool::new(
            "get_script",
            "Read a script",
            "A script: its text, word count, the checks it passed or failed (`output.checks`) \
             and whether it needs review.",
            |context, input: ScriptId| async move {
                let resource = crate::routes::get_resource(
                    &context.state,
                    ResourceKind::Script,
                    input.script_id,
                )
                .await?;
                Ok::<_, ApiError>(Script::try_from(resource)?)
            },
        ),
        Tool::new(
            "edit_script",
            "Edit a script",
            "Replaces a succeeded script's text; it is cleaned (emoji, markdown) and every check \
             runs again. A run `awaiting_review` voices the edited text once resumed \
             (`resume_run`); otherwise voice and render it again with `start_run` from `voice`.",
            |context, input: EditScriptInput| async move {
                let resource = crate::steps::edit_script(
                    &context.state,
                    input.script_id,
                    &input.edit.text,
                    input.edit.key_words.as_deref(),
                    input.edit.broll_keywords.as_deref(),
                )
                .await?;
                Ok::<_, ApiError>(Script::try_from(resource)?)
            },
        ),
        Tool::new(
            "get_video_link",
            "Get a video's download link",
            "A rendered video with the links to download it and its thumbnail and subtitles. \
             The links take the same bearer token as this connection.",
            video_link,
        ),
        Tool::new(
            "write_post",
            "Write a video's post",
            "Writes the words a video is published with (title, caption, hashtags) and picks a \
             cover frame, with the project's rewrite provider; each platform's limits are \
             checked (`output.checks`, `needs_review`). With `wait_seconds`, answers when done.",
            write_post,
        ),
        Tool::new(
            "edit_post",
            "Edit a post",
            "Replaces a post's title, caption or hashtags; every platform limit is checked again.",
            |context, input: EditPostInput| async move {
                let resource =
                    crate::publish::edit_post(&context.state, input.post_id, input.edit).await?;
                Ok::<_, ApiError>(Post::try_from(resource)?)
            },
        ),
        Tool::new(
            "list_accounts",
            "List platform accounts",
            "The Instagram, YouTube and TikTok accounts a project posts with (connected on the \
             web page or with `POST /v1/projects/{id}/accounts`); tokens are never shown.",
            |context, input: ListAccounts| async move {
                let page = PageQuery {
                    limit: input.limit,
                    cursor: input.cursor,
                };
                crate::publish::list_accounts(&context.state, input.project_id, &page).await
            },
        ),
        Tool::new(
            "publish_video",
            "Publish a video",
            "Posts a video to one account now or at `schedule_at`, with its newest post's words \
             or `copy`. Answers the publication; `get_publication` follows it to `published` and \
             the post's link.",
            |context, input: PublishVideo| async move {
                crate::publish::publish(&context.state, input.video_id, input.publication).await
            },
        ),
        Tool::new(
            "get_publication",
            "Get a publication",
            "A publication's status (`scheduled`, `uploading`, `processing`, `published`, \
             `failed`, `canceled`), the platform's post id and link, or why it failed.",
            |context, input: PublicationId| async move {
                crate::publish::publication(&context.state, input.publication_id).await
            },
        ),
    ]
});

/// `write_post`'s arguments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WritePost {
    pub video_id: Uuid,
    /// The body of `POST /v1/videos/{id}/posts`.
    #[serde(default)]
    pub post: StartPost,
    /// Wait up to this many seconds (at most 600) for the words; 0 (the default) answers at
    /// once.
    #[schema(maximum = 600)]
    #[serde(default)]
    pub wait_seconds: u32,
}

async fn write_post(context: ToolContext, input: WritePost) -> Result<Post, ApiError> {
    let started = crate::steps::start(
        &context.state,
        ResourceKind::Post,
        input.video_id,
        input.post.provider,
        input.post.options,
    )
    .await?;
    let awaited = Awaited::Resource {
        kind: ResourceKind::Post,
        id: started.resource.id,
    };
    wait(
        &context,
        started.resource.project_id,
        input.wait_seconds,
        &awaited,
    )
    .await?;
    let resource =
        crate::routes::get_resource(&context.state, ResourceKind::Post, started.resource.id)
            .await?;
    Ok(Post::try_from(resource)?)
}

/// `edit_post`'s arguments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditPostInput {
    pub post_id: Uuid,
    /// The body of `PATCH /v1/posts/{id}`.
    pub edit: PostPatch,
}

/// `list_accounts`' arguments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAccounts {
    pub project_id: Uuid,
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// `publish_video`'s arguments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishVideo {
    pub video_id: Uuid,
    /// The body of `POST /v1/videos/{id}/publications`.
    pub publication: NewPublication,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicationId {
    pub publication_id: Uuid,
}

/// `collect`'s arguments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Collect {
    pub project_id: Uuid,
    /// The body of `POST /v1/projects/{id}/collections`.
    pub collection: NewCollection,
    /// Wait up to this many seconds (at most 600) for the collection to end; 0 (the default)
    /// answers at once.
    #[schema(maximum = 600)]
    #[serde(default)]
    pub wait_seconds: u32,
}

async fn collect(context: ToolContext, input: Collect) -> Result<Collection, ApiError> {
    let started = collections::start(&context.state, input.project_id, input.collection).await?;
    let collection_id = started.collection.id;
    let awaited = Awaited::Collection {
        id: collection_id,
        job_id: started.job.id,
    };
    wait(&context, input.project_id, input.wait_seconds, &awaited).await?;
    let resource =
        crate::routes::get_resource(&context.state, ResourceKind::Collection, collection_id)
            .await?;
    Ok(collections::to_collection(resource))
}

/// `list_reels`' arguments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListReels {
    pub project_id: Uuid,
    /// The query of `GET /v1/projects/{id}/reels`.
    pub filters: Option<ReelQuery>,
}

/// `select_reel`'s arguments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectReel {
    pub project_id: Uuid,
    pub reel_id: Uuid,
}

/// `start_run`'s arguments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    pub project_id: Uuid,
    /// The body of `POST /v1/projects/{id}/runs`.
    pub run: CreateRun,
    /// Wait up to this many seconds (at most 600) for the run to end; 0 (the default) answers
    /// at once.
    #[schema(maximum = 600)]
    #[serde(default)]
    pub wait_seconds: u32,
}

async fn start_run(context: ToolContext, input: StartRun) -> Result<Run, ApiError> {
    let run = crate::steps::start_run(&context.state, input.project_id, input.run).await?;
    run_after_waiting(&context, &run, input.wait_seconds).await
}

/// The run as it is after waiting up to `wait_seconds` for it to end.
async fn run_after_waiting(
    context: &ToolContext,
    run: &Run,
    wait_seconds: u32,
) -> Result<Run, ApiError> {
    wait(context, run.project_id, wait_seconds, &Awaited::Run(run.id)).await?;
    Ok(crate::steps::run(&context.state, run.id).await?)
}

/// `estimate_run`'s arguments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimateRun {
    pub project_id: Uuid,
    /// The body of `POST /v1/projects/{id}/runs/estimate`.
    pub run: CreateRun,
}

async fn estimate_run(context: ToolContext, input: EstimateRun) -> Result<RunEstimate, ApiError> {
    Ok(crate::steps::estimate_run(&context.state, input.project_id, input.run).await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunId {
    pub run_id: Uuid,
}

/// `resume_run`'s arguments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeRun {
    pub run_id: Uuid,
    /// Wait up to this many seconds (at most 600) for the run to end; 0 (the default) answers
    /// at once.
    #[schema(maximum = 600)]
    #[serde(default)]
    pub wait_seconds: u32,
}

async fn resume_run(context: ToolContext, input: ResumeRun) -> Result<Run, ApiError> {
    let run = crate::steps::resume_run(&context.state, input.run_id).await?;
    run_after_waiting(&context, &run, input.wait_seconds).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptId {
    pub script_id: Uuid,
}

/// `edit_script`'s arguments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditScriptInput {
    pub script_id: Uuid,
    /// The body of `PATCH /v1/scripts/{id}`.
    pub edit: EditScript,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoId {
    pub video_id: Uuid,
}

/// A video with where to download it and its files.
#[derive(Debug, Serialize, ToSchema)]
pub struct VideoLink {
    pub video: Video,
    /// The MP4 (`GET /v1/videos/{id}/content`), once the video has succeeded.
    pub url: Option<String>,
    /// The thumbnail and subtitle files by name.
    pub files: BTreeMap<String, String>,
    /// How to send the links: with the token this client uses.
    #[schema(example = "Authorization: Bearer <token>")]
    pub authorization: String,
}

async fn video_link(context: ToolContext, input: VideoId) -> Result<VideoLink, ApiError> {
    let resource =
        crate::routes::get_resource(&context.state, ResourceKind::Video, input.video_id).await?;
    let video = Video::try_from(resource)?;
    let base = format!("{}/v1/videos/{}", context.base_url, video.id);
    let succeeded = video.status == Status::Succeeded;
    let files = video
        .output
        .as_ref()
        .filter(|_| succeeded)
        .map(|output| {
            output
                .files
                .keys()
                .map(|name| (name.clone(), format!("{base}/files/{name}")))
                .collect()
        })
        .unwrap_or_default();
    Ok(VideoLink {
        url: succeeded.then(|| format!("{base}/content")),
        files,
        video,
        authorization: "Authorization: Bearer <token>".to_owned(),
    })
}

/// What a tool may wait for.
enum Awaited {
    Run(Uuid),
    Collection {
        id: Uuid,
        job_id: Uuid,
    },
    /// A step resource, done when it has succeeded, failed or been canceled.
    Resource {
        kind: ResourceKind,
        id: Uuid,
    },
}

/// How far something awaited has come.
struct Standing {
    done: bool,
    progress: u8,
    message: String,
}

impl Awaited {
    async fn standing(&self, state: &Data) -> Result<Standing, ApiError> {
        match *self {
            Awaited::Run(id) => {
                let run = crate::steps::run(state, id).await?;
                let steps_done = run
                    .reels
                    .iter()
                    .flat_map(|reel| &reel.steps)
                    .filter(|step| step.status == Status::Succeeded)
                    .count();
                Ok(Standing {
                    // A run stopped for review waits for a person, not for time.
                    done: run.status.is_terminal() || run.status == Status::AwaitingReview,
                    progress: run.progress,
                    message: format!("run {}: {steps_done} steps done", run.status),
                })
            }
            Awaited::Resource { kind, id } => {
                let resource = crate::routes::get_resource(state, kind, id).await?;
                let done = resource.status.is_terminal();
                Ok(Standing {
                    done,
                    progress: if done { 100 } else { 0 },
                    message: format!("{kind} {}", resource.status),
                })
            }
            Awaited::Collection { id, job_id } => {
                let collection =
                    crate::routes::get_resource(state, ResourceKind::Collection, id).await?;
                let job = crate::db::jobs::get(&state.pool, job_id).await?;
                let (progress, stage) = job.map_or((0, None), |job| (job.progress, job.stage));
                let done = collection.status.is_terminal();
                Ok(Standing {
                    done,
                    progress: if done {
                        100
                    } else {
                        progress.clamp(0, 100) as u8
                    },
                    message: match stage {
                        Some(stage) if !done => {
                            format!("collection {}: {stage}", collection.status)
                        }
                        _ => format!("collection {}", collection.status),
                    },
                })
            }
        }
    }
}

/// Waits up to `seconds` for `awaited` to end, looking again whenever the event bus brings news
/// of the project (and every few seconds regardless), and reporting each step forward.
async fn wait(
    context: &ToolContext,
    project_id: Uuid,
    seconds: u32,
    awaited: &Awaited,
) -> Result<(), ApiError> {
    if seconds == 0 {
        return Ok(());
    }
    let mut subscription = context.state.bus.subscribe(Some(project_id));
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(u64::from(seconds.min(MAX_WAIT_SECONDS)));
    let mut reported: Option<u8> = None;
    loop {
        let standing = awaited.standing(&context.state).await?;
        if let Some(progress) = &context.progress {
            if reported.is_none_or(|last| standing.progress > last) {
                progress.report(standing.progress, &standing.message);
                reported = Some(standing.progress);
            }
        }
        if standing.done {
            return Ok(());
        }
        tokio::select! {
            Some(_) = subscription.frames.recv() => {}
            () = tokio::time::sleep(WAIT_POLL) => {}
            () = tokio::time::sleep_until(deadline) => return Ok(()),
            () = context.state.shutdown.cancelled() => return Ok(()),
            () = stream_closed(context.progress.as_ref()) => return Ok(()),
        }
    }
}

/// Resolves when the event stream a call reports to is gone (its client left); never for a
/// call answered with plain JSON, whose handler is dropped with the connection instead.
async fn stream_closed(progress: Option<&Progress>) {
    match progress {
        Some(progress) => progress.sender.closed().await,
        None => std::future::pending().await,
    }
}
