use actix_web::{get, post, web, HttpRequest, HttpResponse};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Data;
use crate::{
    db,
    domain::{
        collection::{Collection, CollectionOutcome, NewCollection},
        job::Job,
        resource::StepResource,
        ResourceKind,
    },
    error::{ApiError, Problem},
    jobs::{
        prepare_reel::FILES_SOURCE,
        queue::{self, StepRequest},
    },
    pagination::{Page, PageQuery},
    state::AppState,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(import_file)
        .service(upload_files)
        .service(list)
        .service(get_one);
}

const MAX_SOURCES: usize = 50;
const MAX_IMPORT_ITEMS: usize = 100_000;

/// The answer to starting a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionStarted {
    pub collection: Collection,
    pub job: Job,
}

fn to_collection(resource: StepResource) -> Collection {
    let outcome: CollectionOutcome = resource
        .output
        .and_then(|output| serde_json::from_value(output).ok())
        .unwrap_or_default();
    Collection {
        id: resource.id,
        project_id: resource.project_id,
        source: resource
            .input
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        provider: resource.provider,
        parameters: resource.input,
        status: resource.status,
        job_id: resource.job_id,
        counts: outcome.counts,
        problems: outcome.problems,
        error: resource.error,
        created_at: resource.created_at,
        updated_at: resource.updated_at,
    }
}

fn validate_sources(field: &str, sources: &[String]) -> Result<Vec<String>, ApiError> {
    if sources.len() > MAX_SOURCES {
        return Err(ApiError::validation(
            field,
            format!("at most {MAX_SOURCES} entries"),
        ));
    }
    sources
        .iter()
        .map(|source| {
            let trimmed = source.trim();
            if trimmed.is_empty() || trimmed.len() > 300 || trimmed.chars().any(char::is_control) {
                Err(ApiError::validation(
                    field,
                    "entries must be non-empty names or URLs",
                ))
            } else {
                Ok(trimmed.to_owned())
            }
        })
        .collect()
}

/// Checks the request and splits it into what the API shows (`input`) and what only the job
/// needs (`payload`).
fn plan(
    state: &AppState,
    project_provider: &str,
    request: NewCollection,
) -> Result<(String, Value, Value), ApiError> {
    match request {
        NewCollection::Apify {
            accounts,
            hashtags,
            per_source_limit,
            newer_than,
            max_items,
            provider,
            options,
            prepare_all,
        } => {
            let accounts = validate_sources("accounts", &accounts)?;
            let hashtags = validate_sources("hashtags", &hashtags)?;
            if accounts.is_empty() && hashtags.is_empty() {
                return Err(ApiError::validation(
                    "accounts",
                    "give at least one account or hashtag",
                ));
            }
            let per_source_limit = per_source_limit.unwrap_or(30);
            if !(1..=1000).contains(&per_source_limit) {
                return Err(ApiError::validation(
                    "per_source_limit",
                    "must be between 1 and 1000",
                ));
            }
            if max_items.is_some_and(|m| !(1..=10_000).contains(&m)) {
                return Err(ApiError::validation(
                    "max_items",
                    "must be between 1 and 10000",
                ));
            }
            if let Some(options) = &options {
                ApiError::require_storable("options", &Value::Object(options.clone()))?;
            }
            let requested = provider.unwrap_or_else(|| project_provider.to_owned());
            let provider = state
                .providers
                .choose(ResourceKind::Collection, &requested)?
                .to_owned();
            let input = json!({
                "source": "apify", "accounts": accounts, "hashtags": hashtags, "per_source_limit": per_source_limit,
                "newer_than": newer_than, "max_items": max_items, "options": options.unwrap_or_default(), "prepare_all": prepare_all,
            });
            Ok((provider, input, json!({})))
        }
        NewCollection::Import { items, prepare_all } => {
            if items.is_empty() || items.len() > MAX_IMPORT_ITEMS {
                return Err(ApiError::validation(
                    "items",
                    format!("give 1 to {MAX_IMPORT_ITEMS} items"),
                ));
            }
            for (index, item) in items.iter().enumerate() {
                ApiError::require_storable(&format!("items[{index}]"), item)?;
            }
            let input = json!({ "source": "import", "item_count": items.len(), "prepare_all": prepare_all });
            Ok(("import".to_owned(), input, json!({ "items": items })))
        }
        NewCollection::Files { folder } => {
            let resolved = resolve_import_folder(&state.settings.media.import_folders, &folder)?;
            let input = json!({ "source": FILES_SOURCE, "folder": folder });
            Ok((
                FILES_SOURCE.to_owned(),
                input,
                json!({ "folder": resolved }),
            ))
        }
    }
}

/// Resolves `folder` inside an allowed import root. Canonical paths make `..` and symbolic
/// links unable to lead outside the roots.
pub fn resolve_import_folder(
    roots: &[std::path::PathBuf],
    folder: &str,
) -> Result<std::path::PathBuf, ApiError> {
    if roots.is_empty() {
        return Err(ApiError::unprocessable(
            "import_folders_disabled",
            "no server folders may be imported here (set REELFORGE__MEDIA__IMPORT_FOLDERS)",
        ));
    }
    let requested = std::path::Path::new(folder);
    for root in roots {
        let Ok(root) = root.canonicalize() else {
            continue;
        };
        let candidate = if requested.is_absolute() {
            requested.to_path_buf()
        } else {
            root.join(requested)
        };
        if let Ok(resolved) = candidate.canonicalize() {
            if resolved.starts_with(&root) && resolved.is_dir() {
                return Ok(resolved);
            }
        }
    }
    Err(ApiError::validation(
        "folder",
        "not a folder inside an allowed import folder",
    ))
}

#[utoipa::path(
    tag = "collections", operation_id = "create_collection",
    params(("id" = Uuid, Path, description = "The project's id")),
    request_body(content = NewCollection, examples(
        ("apify" = (value = json!({"source": "apify", "accounts": ["coach.anna"], "hashtags": ["мотивация"], "per_source_limit": 30, "newer_than": "2 months"}))),
        ("import" = (value = json!({"source": "import", "items": [{"shortCode": "C9xYz12AbCd", "videoUrl": "https://scontent.cdninstagram.com/v/clip.mp4", "videoPlayCount": 612345, "ownerUsername": "coach.anna"}]}))),
    )),
    responses(
        (status = 202, description = "Queued; reels appear as the job merges them", body = CollectionStarted),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/collections")]
pub async fn create(
    state: Data,
    project_id: web::Path<Uuid>,
    body: crate::routes::body::Json<NewCollection>,
) -> Result<HttpResponse, ApiError> {
    start(&state, *project_id, body.into_inner()).await
}

/// Checks a collection request and queues its job.
async fn start(
    state: &AppState,
    project_id: Uuid,
    request: NewCollection,
) -> Result<HttpResponse, ApiError> {
    let project = db::projects::get(&state.pool, project_id)
        .await?
        .ok_or(ApiError::NotFound("project"))?;
    let (provider, input, payload) = plan(state, &project.settings.providers.collect, request)?;
    queue_collection(state, project.id, &provider, input, payload).await
}

/// Creates the collection and its job in one transaction.
async fn queue_collection(
    state: &AppState,
    project_id: Uuid,
    provider: &str,
    input: Value,
    payload: Value,
) -> Result<HttpResponse, ApiError> {
    let mut tx = state.pool.begin().await?;
    let started = queue::start_step(
        &mut tx,
        StepRequest {
            kind: ResourceKind::Collection,
            project_id,
            parent_id: project_id,
            provider,
            input,
            payload,
        },
        &state.settings.jobs,
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::Accepted().json(CollectionStarted {
        collection: to_collection(started.resource),
        job: started.job,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportFileQuery {
    /// Prepare (download) every imported reel now.
    pub prepare_all: Option<bool>,
}

/// Reads the body up to `limit` bytes, answering 413 past it.
async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|error| ApiError::bad_request("malformed_body", error.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A dataset export as a JSON array, or JSON lines (one item per line, blank lines skipped).
pub fn parse_dataset(content_type: &str, body: &[u8]) -> Result<Vec<Value>, ApiError> {
    match content_type {
        "application/json" => serde_json::from_slice::<Vec<Value>>(body)
            .map_err(|error| ApiError::bad_request("malformed_json", format!("expected a JSON array of items: {error}"))),
        "application/x-ndjson" | "application/jsonl" | "application/json-lines" | "application/jsonlines" => {
            let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_request("malformed_json", "the body is not UTF-8"))?;
            text.lines()
                .enumerate()
                .filter(|(_, line)| !line.trim().is_empty())
                .map(|(number, line)| {
                    serde_json::from_str(line)
                        .map_err(|error| ApiError::bad_request("malformed_json", format!("line {}: {error}", number + 1)))
                })
                .collect()
        }
        other => Err(ApiError::UnsupportedMediaType(format!(
            "send the dataset as application/json (an array) or application/x-ndjson (JSON lines), not `{other}`"
        ))),
    }
}

#[utoipa::path(
    tag = "collections", operation_id = "import_dataset_file",
    params(("id" = Uuid, Path, description = "The project's id"), ImportFileQuery),
    request_body(
        description = "An Apify dataset export as a JSON array (`application/json`) or JSON lines (`application/x-ndjson`); items that are not usable reels (not objects, not videos) become the collection's `problems`",
        content(
            (Vec<serde_json::Value> = "application/json"),
            (String = "application/x-ndjson"),
        ),
    ),
    responses(
        (status = 202, description = "Queued, as for `source: import`", body = CollectionStarted),
        (status = 400, description = "Malformed JSON (with the line number for JSON lines)", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/collections/import")]
pub async fn import_file(
    state: Data,
    project_id: web::Path<Uuid>,
    query: web::Query<ImportFileQuery>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let content_type = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_lowercase())
        .unwrap_or_default();
    let body = read_body(payload, state.settings.server.body_limit_bytes).await?;
    let items = parse_dataset(&content_type, &body)?;
    let request = NewCollection::Import {
        items,
        prepare_all: query.prepare_all.unwrap_or(false),
    };
    start(&state, *project_id, request).await
}

#[utoipa::path(
    tag = "collections", operation_id = "list_collections",
    params(("id" = Uuid, Path, description = "The project's id"), PageQuery),
    responses(
        (status = 200, description = "Newest first", body = Page<Collection>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}/collections")]
pub async fn list(
    state: Data,
    project_id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<Collection>>, ApiError> {
    let page = super::list_children(&state, ResourceKind::Collection, *project_id, &query).await?;
    Ok(web::Json(Page {
        items: page.items.into_iter().map(to_collection).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(
    tag = "collections", operation_id = "get_collection",
    params(("id" = Uuid, Path, description = "The project's id"), ("collection_id" = Uuid, Path)),
    responses(
        (status = 200, body = Collection),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}/collections/{collection_id}")]
pub async fn get_one(
    state: Data,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<Collection>, ApiError> {
    let (project_id, collection_id) = path.into_inner();
    let resource = super::get_resource(&state, ResourceKind::Collection, collection_id).await?;
    if resource.project_id != project_id {
        return Err(ApiError::NotFound("collection"));
    }
    Ok(web::Json(to_collection(resource)))
}

/// Files per upload, at most.
const MAX_UPLOADED_FILES: usize = 20;

/// Streams one multipart part to a scratch file, at most `limit` bytes. Whatever goes wrong, no
/// partial file is left behind.
async fn save_part(
    state: &AppState,
    field: &mut actix_multipart::Field,
    limit: u64,
) -> Result<String, ApiError> {
    let key = state
        .media
        .scratch_key("upload")
        .await
        .map_err(storage_error)?;
    let path = state.media.path(&key).map_err(storage_error)?;
    let written = async {
        let mut file = tokio::fs::File::create(&path)
            .await
            .map_err(|error| storage_error(error.into()))?;
        let mut written: u64 = 0;
        while let Some(chunk) = field.next().await {
            let chunk = chunk
                .map_err(|error| ApiError::bad_request("malformed_multipart", error.to_string()))?;
            written += chunk.len() as u64;
            if written > limit {
                return Err(ApiError::PayloadTooLarge {
                    limit: limit as usize,
                });
            }
            tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
                .await
                .map_err(|error| storage_error(error.into()))?;
        }
        tokio::io::AsyncWriteExt::flush(&mut file)
            .await
            .map_err(|error| storage_error(error.into()))
    }
    .await;
    if let Err(error) = written {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(error);
    }
    // Shared, because any replica's worker may check and prepare it.
    state.media.put(&key, &path).await.map_err(storage_error)?;
    Ok(key)
}

/// A full disk is the client's to know (507, retry later); any other storage fault is ours.
fn storage_error(error: crate::media::MediaError) -> ApiError {
    match &error {
        crate::media::MediaError::Io(io) if crate::media::is_storage_full(io) => {
            ApiError::InsufficientStorage
        }
        _ => ApiError::Internal(error.into()),
    }
}

#[utoipa::path(
    tag = "collections", operation_id = "upload_videos",
    params(("id" = Uuid, Path, description = "The project's id")),
    request_body(description = "`multipart/form-data` with one to 20 `file` parts, each a video", content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Queued: each video is checked with ffprobe and becomes a prepared reel; the rest are problems", body = CollectionStarted),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 507, description = "The media storage is full (`storage_full`); nothing was kept", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/collections/files")]
pub async fn upload_files(
    state: Data,
    project_id: web::Path<Uuid>,
    mut form: actix_multipart::Multipart,
) -> Result<HttpResponse, ApiError> {
    db::projects::get(&state.pool, *project_id)
        .await?
        .ok_or(ApiError::NotFound("project"))?;
    let limit = state.settings.media.max_download_bytes;
    let mut files: Vec<Value> = Vec::new();
    let result = async {
        while let Some(field) = form.next().await {
            let mut field = field
                .map_err(|error| ApiError::bad_request("malformed_multipart", error.to_string()))?;
            if field.name() != Some("file") {
                return Err(ApiError::validation(
                    "file",
                    "send each video as a part named `file`",
                ));
            }
            if files.len() == MAX_UPLOADED_FILES {
                return Err(ApiError::validation(
                    "file",
                    format!("at most {MAX_UPLOADED_FILES} files per upload"),
                ));
            }
            let name = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .map(|n| {
                    n.chars()
                        .filter(|c| !c.is_control())
                        .take(200)
                        .collect::<String>()
                })
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("upload {}", files.len() + 1));
            let key = save_part(&state, &mut field, limit).await?;
            files.push(json!({ "key": key, "name": name }));
        }
        if files.is_empty() {
            return Err(ApiError::validation(
                "file",
                "attach at least one video as a `file` part",
            ));
        }
        Ok(())
    }
    .await;
    if let Err(error) = result {
        for key in files.iter().filter_map(|file| file["key"].as_str()) {
            let _ = state.media.remove(key).await;
        }
        return Err(error);
    }
    let names: Vec<&Value> = files.iter().map(|f| &f["name"]).collect();
    let input = json!({ "source": FILES_SOURCE, "files": names });
    queue_collection(
        &state,
        *project_id,
        FILES_SOURCE,
        input,
        json!({ "files": files }),
    )
    .await
}
