use crate::error_code::ErrorCode;
use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use serde_json::Value;

use super::{context, Handler, JobContext, JobError};
use crate::domain::job::{CollectSource, CollectedReels, UploadedFile};
use crate::domain::options::CollectOptions;
use crate::{
    config::JobSettings,
    db,
    domain::{
        collection::{CollectionCounts, CollectionOutcome, CollectionProblem},
        resource::StepResource,
        usage::Metric,
        ResourceKind, Status,
    },
    jobs::{prepare_reel::FILES_SOURCE, queue},
    media::{MediaError, MediaStore},
    providers::{
        collect::{
            download,
            normalize::{normalize_all, ReelCandidate, Rejection},
            upload::MEDIA_SCHEME,
            CollectRequest, CollectTarget,
        },
        pick, ProviderError, Providers,
    },
};

/// New reels from one batch beyond which the planner's statistics are refreshed.
const BULK_INSERT: u32 = 500;

/// Covers fetched at once.
const COVER_FETCHES: usize = 4;
/// The most time a collection spends on covers; those not reached wait for the next collection
/// of their reels.
const COVERS_TIME: std::time::Duration = std::time::Duration::from_secs(90);

/// Problems kept per collection; the counts still say how many items were rejected.
pub(super) const PROBLEMS_KEPT: usize = 1000;

pub struct CollectStep {
    pub providers: Arc<Providers>,
    /// For the preparation jobs that `prepare_all` starts.
    pub jobs: JobSettings,
    /// Where uploaded files wait for their reels.
    pub media: Arc<MediaStore>,
    /// For the alert deliveries a watchlist's collection raises.
    pub webhook_attempts: i32,
    /// Covers one collection keeps at most (`collect.max_covers`).
    pub max_covers: u32,
}

#[derive(serde::Deserialize)]
struct ApifyParameters {
    #[serde(default)]
    accounts: Vec<String>,
    #[serde(default)]
    hashtags: Vec<String>,
    per_source_limit: u32,
    newer_than: Option<String>,
    max_items: Option<u32>,
}

/// File endings taken from a server folder; ffprobe still checks each file.
const VIDEO_EXTENSIONS: [&str; 6] = ["mp4", "mov", "m4v", "webm", "mkv", "avi"];

impl CollectStep {
    /// Copies a folder's videos (not its subfolders) into the project's uploads, leaving the
    /// folder as it was. Should one copy fail, the ones made before it go too.
    async fn copy_folder(
        &self,
        project_id: uuid::Uuid,
        folder: &std::path::Path,
    ) -> Result<Vec<UploadedFile>, JobError> {
        // The folder's server path stays out of the message: clients only named it relatively.
        let io = |error: std::io::Error| {
            JobError::fatal(
                ErrorCode::FolderUnreadable,
                format!("the import folder could not be read: {error}"),
            )
        };
        let mut entries = tokio::fs::read_dir(folder).await.map_err(io)?;
        let mut copies = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(io)? {
            let path = entry.path();
            let is_video = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_lowercase().as_str()));
            if !is_video || !entry.file_type().await.map_err(io)?.is_file() {
                continue;
            }
            let scratch = self
                .media
                .provisional_scratch("upload")
                .await
                .map_err(|error| JobError::fatal(ErrorCode::Storage, error.to_string()))?;
            tokio::fs::copy(&path, scratch.path()).await.map_err(io)?;
            // Shared, because any replica's worker may prepare the reel.
            let copy = self
                .media
                .put_provisional(scratch, MediaStore::upload_key(project_id))
                .await
                .map_err(ProviderError::from)?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            copies.push((copy, name));
        }
        let mut files: Vec<UploadedFile> = copies
            .into_iter()
            .map(|(copy, name)| UploadedFile {
                key: copy.keep(),
                name,
            })
            .collect();
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(files)
    }

    /// Uploaded videos become candidates keyed by their content, so uploading a file twice
    /// merges; files ffprobe refuses are problems (and deleted).
    async fn uploaded(
        &self,
        files: Vec<UploadedFile>,
    ) -> Result<(Vec<ReelCandidate>, Vec<Rejection>, u32), JobError> {
        let received = files.len() as u32;
        let (mut candidates, mut rejections) = (Vec::new(), Vec::new());
        for file in files {
            let checked = async {
                let path = self
                    .media
                    .fetch(&file.key)
                    .await
                    .map_err(|error| match error {
                        MediaError::Missing(_) | MediaError::InvalidKey(_) => {
                            ProviderError::fatal(ErrorCode::MediaMissing, error.to_string())
                        }
                        other => ProviderError::from(other),
                    })?;
                let info = download::probe(&path).await?;
                let sha256 = MediaStore::sha256(&path)
                    .await
                    .map_err(ProviderError::from)?;
                Ok::<_, ProviderError>((info, sha256))
            };
            match checked.await {
                Ok((info, sha256)) => candidates.push(ReelCandidate {
                    external_id: format!("file-{}", &sha256[..16]),
                    short_code: None,
                    url: None,
                    caption: Some(file.name),
                    hashtags: Vec::new(),
                    owner_username: None,
                    owner_id: None,
                    posted_at: None,
                    video_url: format!("{MEDIA_SCHEME}{}", file.key),
                    cover_url: None,
                    duration_ms: Some(info.duration_ms as i64),
                    width: i32::try_from(info.width).ok(),
                    height: i32::try_from(info.height).ok(),
                    plays: None,
                    views: None,
                    likes: None,
                    comments: None,
                    shares: None,
                }),
                Err(ProviderError::Fatal { message, .. }) => {
                    let _ = self.media.remove(&file.key).await;
                    rejections.push(Rejection {
                        item: file.name,
                        reason: message,
                    });
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok((candidates, rejections, received))
    }

    /// The raw items of a scrape (`apify`).
    async fn scraped(
        &self,
        ctx: &JobContext,
        collection: &StepResource,
    ) -> Result<Vec<Value>, JobError> {
        match collection.input.get("source").and_then(Value::as_str) {
            Some("apify") => {
                let items = self
                    .scrape(
                        ctx,
                        &collection.provider,
                        &collection.input,
                        context::options(collection)?,
                    )
                    .await?;
                ctx.record_usage(
                    &self.providers.prices,
                    collection,
                    &[(Metric::ActorItems, items.len() as f64)],
                )
                .await;
                Ok(items)
            }
            other => Err(JobError::fatal(
                ErrorCode::InvalidParameters,
                format!("unknown source {other:?}"),
            )),
        }
    }

    async fn scrape(
        &self,
        ctx: &JobContext,
        provider: &str,
        input: &Value,
        options: CollectOptions,
    ) -> Result<Vec<Value>, JobError> {
        let parameters: ApifyParameters = serde_json::from_value(input.clone())
            .map_err(|error| JobError::fatal(ErrorCode::InvalidParameters, error.to_string()))?;
        let collector = pick(&self.providers.collect, provider)?;
        let targets = [
            CollectTarget::Accounts(parameters.accounts),
            CollectTarget::Hashtags(parameters.hashtags),
        ];
        let mut items = Vec::new();
        for target in targets {
            if matches!(&target, CollectTarget::Accounts(l) | CollectTarget::Hashtags(l) if l.is_empty())
            {
                continue;
            }
            let request = CollectRequest {
                target,
                per_source_limit: parameters.per_source_limit,
                newer_than: parameters.newer_than.clone(),
                max_items_cap: parameters.max_items,
                options: options.clone(),
            };
            items.extend(collector.collect(&request, &ctx.call()).await?);
        }
        Ok(items)
    }
}

/// Uploaded videos whose reel exists already: a copy of a reel that is prepared or being
/// prepared is dropped; one that failed or waits takes the new copy instead of its old one.
/// Answers the files no reel uses any more (keys), to remove once the transaction commits
/// (besides every file `candidates` no longer names), and how many candidates were dropped.
async fn keep_one_upload(
    tx: &mut sqlx::PgConnection,
    project_id: uuid::Uuid,
    candidates: &mut Vec<ReelCandidate>,
) -> Result<(Vec<String>, u32), sqlx::Error> {
    let ids: Vec<String> = candidates.iter().map(|c| c.external_id.clone()).collect();
    let existing: HashMap<String, (Status, Option<String>)> =
        db::reels::sources(&mut *tx, project_id, FILES_SOURCE, &ids)
            .await?
            .into_iter()
            .map(|(id, status, url)| (id, (status, url)))
            .collect();
    let mut superseded = Vec::new();
    let before = candidates.len();
    candidates.retain(|candidate| {
        let Some((status, old)) = existing.get(&candidate.external_id) else {
            return true;
        };
        if matches!(status, Status::Succeeded | Status::Queued | Status::Running) {
            return false;
        }
        if let Some(key) = old
            .as_deref()
            .filter(|old| *old != candidate.video_url)
            .and_then(|old| old.strip_prefix(MEDIA_SCHEME))
            .filter(|key| key.ends_with(".upload"))
        {
            superseded.push(key.to_owned());
        }
        true
    });
    Ok((superseded, (before - candidates.len()) as u32))
}

/// Keeps the last occurrence of each reel: a batch may list one reel twice.
fn deduplicate(candidates: Vec<ReelCandidate>) -> (Vec<ReelCandidate>, u32) {
    let total = candidates.len();
    let mut last: HashMap<String, ReelCandidate> = HashMap::with_capacity(total);
    let mut order = Vec::with_capacity(total);
    for candidate in candidates {
        if last
            .insert(candidate.external_id.clone(), candidate.clone())
            .is_none()
        {
            order.push(candidate.external_id);
        }
    }
    let unique: Vec<ReelCandidate> = order
        .into_iter()
        .filter_map(|id| last.remove(&id))
        .collect();
    let repeats = (total - unique.len()) as u32;
    (unique, repeats)
}

/// What merging one batch did.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct BatchMerged {
    pub counts: db::reels::MergeCounts,
    /// Items that repeated a reel of the batch, or an uploaded file already a reel's.
    pub repeats: u32,
    /// Reels whose preparation was started.
    pub preparing: u32,
}

/// When a merged batch's scores are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scores {
    /// With the batch, in its transaction.
    Now,
    /// Once after the last batch ([`recompute_scores`]): each batch would otherwise recompute
    /// every reel of the owners it touches, over and over as a large import grows.
    AfterImport,
}

impl CollectStep {
    /// Merges one batch of candidates into the project's reels in one transaction, under the
    /// project's lock, with the reels' metrics, preparations and alerts.
    pub(super) async fn merge(
        &self,
        ctx: &JobContext,
        project: &crate::domain::project::Project,
        collection: &StepResource,
        candidates: Vec<ReelCandidate>,
        scores: Scores,
        merged_ids: &mut Vec<uuid::Uuid>,
    ) -> Result<BatchMerged, JobError> {
        let source = collection.input.get("source").and_then(Value::as_str);
        // Every uploaded file offered; those no reel ends up naming are removed. (Only uploads:
        // an imported item's address is the client's text, never a key to delete.)
        let offered: Vec<String> = candidates
            .iter()
            .filter(|_| source == Some(FILES_SOURCE))
            .filter_map(|c| c.video_url.strip_prefix(MEDIA_SCHEME))
            .map(str::to_owned)
            .collect();
        let (mut unique, mut repeats) = deduplicate(candidates);

        // One lock first, rows in one order after it: concurrent imports queue, never deadlock.
        unique.sort_by(|a, b| a.external_id.cmp(&b.external_id));
        let mut tx = ctx.pool().begin().await?;
        db::reels::lock_project(&mut tx, project.id).await?;
        // Decided under the lock, so of several uploads of one video at once exactly one file
        // is the reel's and every other copy is removed.
        let mut superseded = if source == Some(FILES_SOURCE) {
            let (superseded, dropped) = keep_one_upload(&mut tx, project.id, &mut unique).await?;
            repeats += dropped;
            superseded
        } else {
            Vec::new()
        };
        let named: std::collections::HashSet<&str> = unique
            .iter()
            .filter_map(|c| c.video_url.strip_prefix(MEDIA_SCHEME))
            .collect();
        superseded.extend(
            offered
                .iter()
                .filter(|key| !named.contains(key.as_str()))
                .cloned(),
        );
        let db::reels::Merged {
            counts: merged,
            reel_ids,
        } = db::reels::merge_batch(
            &mut tx,
            project.id,
            collection.id,
            &collection.provider,
            &unique,
        )
        .await?;
        if scores == Scores::Now {
            db::reels::recompute_metrics(
                &mut tx,
                project.id,
                &reel_ids,
                &project.settings.trend_weights,
            )
            .await?;
        }
        let mut preparing = 0;
        // Uploaded files are here already: preparing them costs nothing, so it is never deferred.
        let prepare_all = source == Some(FILES_SOURCE)
            || collection.input.get("prepare_all").and_then(Value::as_bool) == Some(true);
        if prepare_all {
            for reel_id in db::reels::unprepared_in_collection(&mut *tx, collection.id).await? {
                queue::start_for_existing(
                    &mut tx,
                    ResourceKind::Reel,
                    reel_id,
                    project.id,
                    &self.jobs,
                )
                .await?;
                preparing += 1;
            }
        }
        // A watchlist's collection hands its reels to the alert rules (`watch`), as a job of
        // their own: collecting knows nothing of watching.
        if db::watchlists::of_collection(&mut *tx, collection.id)
            .await?
            .is_some_and(|watchlist| !watchlist.rules.is_empty())
            && !reel_ids.is_empty()
        {
            queue::enqueue_alert_rules(
                &mut tx,
                project.id,
                CollectedReels {
                    collection_id: collection.id,
                    reel_ids: reel_ids.clone(),
                },
                self.jobs.max_attempts,
            )
            .await?;
        }
        tx.commit().await?;
        merged_ids.extend(reel_ids);
        for key in superseded {
            let _ = self.media.remove(&key).await;
        }
        Ok(BatchMerged {
            counts: merged,
            repeats,
            preparing,
        })
    }
}

impl CollectStep {
    /// Fetches and keeps the covers of `reel_ids` that have a scraped cover and no kept one,
    /// while their links still work. Bounded in number and time; a cover that cannot be had is
    /// counted in `covers_failed` and never fails the collection.
    pub(super) async fn keep_covers(
        &self,
        ctx: &JobContext,
        reel_ids: &[uuid::Uuid],
        counts: &mut CollectionCounts,
    ) -> Result<(), JobError> {
        use futures::StreamExt;
        if self.max_covers == 0 {
            return Ok(());
        }
        let wanted =
            db::reels::covers_wanted(ctx.pool(), reel_ids, i64::from(self.max_covers)).await?;
        if wanted.is_empty() {
            return Ok(());
        }
        ctx.call().progress.report(90, "keeping covers").await;
        let deadline = tokio::time::Instant::now() + COVERS_TIME;
        let fetched: Vec<_> = futures::stream::iter(wanted)
            .map(|(reel_id, project_id, url)| async move {
                let prefix = format!("{}/reels/{reel_id}", MediaStore::project_prefix(project_id));
                let kept =
                    tokio::time::timeout_at(deadline, self.providers.covers.keep(&url, &prefix))
                        .await
                        .unwrap_or_else(|_| {
                            Err(ProviderError::retryable("no time was left for the cover"))
                        });
                (reel_id, kept)
            })
            .buffer_unordered(COVER_FETCHES)
            .collect()
            .await;
        for (reel_id, kept) in fetched {
            match kept {
                Ok(key) => {
                    db::reels::set_cover_key(ctx.pool(), reel_id, &key).await?;
                    counts.covers += 1;
                }
                Err(error) => {
                    tracing::info!(reel = %reel_id, %error, "a reel's cover was not kept");
                    counts.covers_failed += 1;
                }
            }
        }
        Ok(())
    }
}

/// The scores of the reels an import merged (and of their owners' other reels), in one pass
/// under the project's lock.
pub(super) async fn recompute_scores(
    ctx: &JobContext,
    project: &crate::domain::project::Project,
    reel_ids: &[uuid::Uuid],
) -> Result<(), JobError> {
    let mut tx = ctx.pool().begin().await?;
    db::reels::lock_project(&mut tx, project.id).await?;
    db::reels::recompute_metrics(
        &mut tx,
        project.id,
        reel_ids,
        &project.settings.trend_weights,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Refreshes the planner's statistics after a large insert, in the background: the collection
/// is done without it.
pub(super) fn after_bulk_insert(ctx: &JobContext, added: u32) {
    if added >= BULK_INSERT {
        let pool = ctx.pool().clone();
        tokio::spawn(async move {
            if let Err(error) = db::reels::refresh_statistics(&pool).await {
                tracing::warn!(%error, "refreshing reel statistics failed");
            }
        });
    }
}

#[async_trait]
impl Handler for CollectStep {
    type Input = CollectSource;
    type Output = CollectionOutcome;

    async fn handle(
        &self,
        ctx: &JobContext,
        source: CollectSource,
    ) -> Result<CollectionOutcome, JobError> {
        let collection = ctx.resource().await?;
        let project = ctx.project(&collection).await?;
        let items = match source {
            CollectSource::Dataset(dataset) => {
                return self.import_file(ctx, &project, &collection, dataset).await
            }
            CollectSource::UploadedFiles(files) => Err(files),
            CollectSource::Folder(folder) => Err(self.copy_folder(project.id, &folder).await?),
            CollectSource::Items(items) => Ok(items),
            CollectSource::Scrape => Ok(self.scraped(ctx, &collection).await?),
        };
        let (candidates, rejections, received) = match items {
            Ok(items) => {
                let (candidates, rejections) = normalize_all(&items);
                (candidates, rejections, items.len() as u32)
            }
            Err(files) => self.uploaded(files).await?,
        };
        ctx.call().progress.report(70, "merging").await;
        let mut merged_ids = Vec::new();
        let batch = self
            .merge(
                ctx,
                &project,
                &collection,
                candidates,
                Scores::Now,
                &mut merged_ids,
            )
            .await?;
        after_bulk_insert(ctx, batch.counts.added);
        let mut counts = CollectionCounts {
            received,
            added: batch.counts.added,
            merged: batch.counts.merged + batch.repeats,
            rejected: rejections.len() as u32,
            preparing: batch.preparing,
            ..Default::default()
        };
        self.keep_covers(ctx, &merged_ids, &mut counts).await?;

        let outcome = CollectionOutcome {
            counts,
            problems: rejections
                .into_iter()
                .take(PROBLEMS_KEPT)
                .map(CollectionProblem::from)
                .collect(),
        };
        Ok(outcome)
    }
}
