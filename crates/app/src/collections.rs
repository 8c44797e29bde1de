//! Collections (step 1): what a collection request may ask for, and how it becomes a queued
//! job. The routes translate HTTP into these calls and back.

use crate::error_code::ErrorCode;
use futures::StreamExt;
use serde_json::Value;
use uuid::Uuid;

use crate::{
    db,
    domain::{
        collection::{Collection, CollectionOutcome, CollectionStarted, NewCollection},
        job::{DatasetFile, JobPayload, UploadedFile},
        options::{CollectOptions, StepOptions},
        read_model::CollectionParameters,
        resource::StepResource,
        step::Step,
        ResourceKind,
    },
    error::AppError,
    jobs::{
        prepare_reel::FILES_SOURCE,
        queue::{self, StepRequest},
    },
    media::{MediaStore, Provisional},
    state::AppState,
};

const MAX_SOURCES: usize = 50;
const MAX_IMPORT_ITEMS: usize = 100_000;
/// Files per upload, at most.
pub const MAX_UPLOADED_FILES: usize = 20;

/// A collection's stored request. Every collection is started from checked
/// [`CollectionParameters`]; a row that no longer reads as them (written by an older version)
/// shows as files with no names rather than failing every listing.
fn parameters_of(resource: &StepResource) -> CollectionParameters {
    serde_json::from_value(resource.input.clone()).unwrap_or_else(|error| {
        tracing::warn!(collection_id = %resource.id, %error, "a collection's input does not read as its parameters");
        CollectionParameters::Files {
            folder: None,
            files: None,
        }
    })
}

pub fn to_collection(resource: StepResource) -> Collection {
    let parameters = parameters_of(&resource);
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
        parameters,
        status: resource.status,
        job_id: resource.job_id,
        counts: outcome.counts,
        problems: outcome.problems,
        error: resource.error,
        created_at: resource.created_at,
        updated_at: resource.updated_at,
    }
}

fn validate_sources(field: &str, sources: &[String]) -> Result<Vec<String>, AppError> {
    if sources.len() > MAX_SOURCES {
        return Err(AppError::validation(
            field,
            format!("at most {MAX_SOURCES} entries"),
        ));
    }
    sources
        .iter()
        .map(|source| {
            let trimmed = source.trim();
            if trimmed.is_empty() || trimmed.len() > 300 || trimmed.chars().any(char::is_control) {
                Err(AppError::validation(
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
pub fn plan(
    state: &AppState,
    project_provider: &str,
    request: NewCollection,
) -> Result<(String, CollectionParameters, JobPayload), AppError> {
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
                return Err(AppError::validation(
                    "accounts",
                    "give at least one account or hashtag",
                ));
            }
            let per_source_limit = per_source_limit.unwrap_or(30);
            if !(1..=1000).contains(&per_source_limit) {
                return Err(AppError::validation(
                    "per_source_limit",
                    "must be between 1 and 1000",
                ));
            }
            if max_items.is_some_and(|m| !(1..=10_000).contains(&m)) {
                return Err(AppError::validation(
                    "max_items",
                    "must be between 1 and 10000",
                ));
            }
            let requested = provider.unwrap_or_else(|| project_provider.to_owned());
            let provider = state
                .providers
                .choose(Step::Collect, &requested)?
                .to_owned();
            let options: CollectOptions =
                serde_path_to_error::deserialize(Value::Object(options.unwrap_or_default()))
                    .map_err(|error| AppError::invalid_body(&error).under("options"))?;
            let errors = options.check(&provider, "options", &Default::default(), &[]);
            if !errors.is_empty() {
                return Err(AppError::Validation(errors));
            }
            let input = CollectionParameters::Apify {
                accounts,
                hashtags,
                per_source_limit,
                newer_than,
                max_items,
                options,
                prepare_all,
                watchlist_id: None,
            };
            Ok((provider, input, JobPayload::Resource))
        }
        NewCollection::Import { items, prepare_all } => {
            if items.is_empty() || items.len() > MAX_IMPORT_ITEMS {
                return Err(AppError::validation(
                    "items",
                    format!("give 1 to {MAX_IMPORT_ITEMS} items"),
                ));
            }
            for (index, item) in items.iter().enumerate() {
                AppError::require_storable(&format!("items[{index}]"), item)?;
            }
            let input = CollectionParameters::Import {
                item_count: items.len(),
                prepare_all,
                format: None,
            };
            Ok(("import".to_owned(), input, JobPayload::Items { items }))
        }
        NewCollection::Files { folder } => {
            let resolved = resolve_import_folder(&state.settings.media.import_folders, &folder)?;
            let input = CollectionParameters::Files {
                folder: Some(folder),
                files: None,
            };
            Ok((
                FILES_SOURCE.to_owned(),
                input,
                JobPayload::Folder { folder: resolved },
            ))
        }
    }
}

/// Resolves `folder` inside an allowed import root. Canonical paths make `..` and symbolic
/// links unable to lead outside the roots.
pub fn resolve_import_folder(
    roots: &[std::path::PathBuf],
    folder: &str,
) -> Result<std::path::PathBuf, AppError> {
    if roots.is_empty() {
        return Err(AppError::unprocessable(
            ErrorCode::NotConfigured,
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
    Err(AppError::validation(
        "folder",
        "not a folder inside an allowed import folder",
    ))
}

/// Checks a collection request and queues its job.
pub async fn start(
    state: &AppState,
    project_id: Uuid,
    request: NewCollection,
) -> Result<CollectionStarted, AppError> {
    let project = db::projects::get(&state.pool, project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let (provider, input, payload) = plan(state, &project.settings.providers.collect, request)?;
    queue(state, project.id, &provider, input, payload).await
}

/// Creates the collection and its job in one transaction.
async fn queue(
    state: &AppState,
    project_id: Uuid,
    provider: &str,
    input: CollectionParameters,
    payload: JobPayload,
) -> Result<CollectionStarted, AppError> {
    let mut tx = state.pool.begin().await?;
    let started = queue::start_step(
        &mut tx,
        StepRequest {
            kind: ResourceKind::Collection,
            project_id,
            parent_id: project_id,
            provider,
            input: input.to_value(),
            payload,
        },
        &state.settings.jobs,
    )
    .await?;
    tx.commit().await?;
    Ok(CollectionStarted {
        collection: to_collection(started.resource),
        job: started.job,
    })
}

/// Queues the import of a dataset file that [`crate::dataset::spool`] saved; the file stays
/// once it is queued, for the job to read.
pub async fn start_dataset(
    state: &AppState,
    project_id: Uuid,
    spooled: crate::dataset::Spooled,
    prepare_all: bool,
) -> Result<CollectionStarted, AppError> {
    let crate::dataset::Spooled {
        file,
        format,
        items,
    } = spooled;
    let input = CollectionParameters::Import {
        item_count: items as usize,
        prepare_all,
        format: Some(format),
    };
    let payload = JobPayload::Dataset {
        dataset: DatasetFile {
            key: file.key().to_owned(),
            format,
            items,
        },
    };
    let started = queue(state, project_id, "import", input, payload).await?;
    file.keep();
    Ok(started)
}

/// Streams one uploaded video of `project_id`'s to the media store, at most `limit` bytes, where
/// it waits for its reel (never in `tmp`). It stays only once the caller keeps it.
pub async fn save_upload<S>(
    state: &AppState,
    project_id: Uuid,
    chunks: S,
    limit: u64,
) -> Result<Provisional, AppError>
where
    S: futures::Stream<Item = Result<bytes::Bytes, AppError>> + Unpin,
{
    let scratch = write_upload(state, chunks, limit).await?;
    // Shared, because any replica's worker may check and prepare it.
    state
        .media
        .put_provisional(scratch, MediaStore::upload_key(project_id))
        .await
        .map_err(storage_error)
}

/// A full disk is the client's to know (507, retry later); any other storage fault is ours.
pub fn storage_error(error: crate::media::MediaError) -> AppError {
    match &error {
        crate::media::MediaError::Io(io) if crate::media::is_storage_full(io) => {
            AppError::InsufficientStorage
        }
        _ => AppError::Internal(error.into()),
    }
}

/// Queues the collection of uploaded files (each with its name, saved by [`save_upload`]); the
/// files stay once it is queued.
pub async fn start_uploads(
    state: &AppState,
    project_id: Uuid,
    files: Vec<(Provisional, String)>,
) -> Result<CollectionStarted, AppError> {
    let input = CollectionParameters::Files {
        folder: None,
        files: Some(files.iter().map(|(_, name)| name.clone()).collect()),
    };
    let payload = JobPayload::UploadedFiles {
        files: files
            .iter()
            .map(|(file, name)| UploadedFile {
                key: file.key().to_owned(),
                name: name.clone(),
            })
            .collect(),
    };
    let started = queue(state, project_id, FILES_SOURCE, input, payload).await?;
    for (file, _) in files {
        file.keep();
    }
    Ok(started)
}

/// Writes an upload's bytes to a scratch file of this replica only, refusing more than
/// `limit` bytes. Whatever goes wrong, no partial file is left behind.
pub async fn write_upload<S>(
    state: &AppState,
    mut chunks: S,
    limit: u64,
) -> Result<Provisional, AppError>
where
    S: futures::Stream<Item = Result<bytes::Bytes, AppError>> + Unpin,
{
    let scratch = state
        .media
        .provisional_scratch("upload")
        .await
        .map_err(storage_error)?;
    let mut file = tokio::fs::File::create(scratch.path())
        .await
        .map_err(|error| storage_error(error.into()))?;
    let mut written: u64 = 0;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        written += chunk.len() as u64;
        if written > limit {
            return Err(AppError::PayloadTooLarge {
                limit: limit as usize,
            });
        }
        tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
            .await
            .map_err(|error| storage_error(error.into()))?;
    }
    tokio::io::AsyncWriteExt::flush(&mut file)
        .await
        .map_err(|error| storage_error(error.into()))?;
    Ok(scratch)
}

/// The name an uploaded file goes by: its own, without control characters, or its position.
pub fn upload_name(filename: Option<&str>, position: usize) -> String {
    filename
        .map(|name| {
            name.chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| format!("upload {position}"))
}
