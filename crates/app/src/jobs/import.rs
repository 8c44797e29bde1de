//! A dataset file import (`POST .../collections/import`): the request spooled the file to the
//! media store; this reads it a piece at a time, and merges its items in batches, each in its
//! own transaction, reporting how far it got. Memory holds one batch, whatever the file's size.

use serde_json::Value;
use tokio::io::AsyncReadExt;

use super::{
    collect::{after_bulk_insert, recompute_scores, CollectStep, Scores, PROBLEMS_KEPT},
    context, JobContext, JobError,
};
use crate::{
    dataset::{RawItem, Splitter},
    db,
    domain::{
        collection::{CollectionOutcome, CollectionProblem},
        project::Project,
        resource::StepResource,
    },
    error_code::ErrorCode,
    providers::{collect::normalize::normalize, CheckpointStore, ProviderError},
};

/// Items merged per transaction: large enough that a transaction's fixed costs (the project
/// lock, the metrics of the owners it touches) are spread thin, small enough that the project
/// lock is never held for long and a failed batch is cheap to redo.
pub const BATCH: usize = 2000;

/// The largest one item may be; a real Apify reel item is about 1 KB.
pub const MAX_ITEM_BYTES: usize = 1024 * 1024;

const READ_BUFFER: usize = 64 * 1024;

pub use crate::domain::job::DatasetFile;

/// Counts an unusable item (and keeps it, up to [`PROBLEMS_KEPT`]).
fn reject(tally: &mut CollectionOutcome, line: u64, item: String, reason: String) {
    tally.counts.rejected += 1;
    if tally.problems.len() < PROBLEMS_KEPT {
        tally.problems.push(CollectionProblem {
            item,
            reason,
            line: Some(line),
        });
    }
}

/// One item as JSON that can be stored, or why not.
fn parse(raw: &RawItem) -> Result<Value, String> {
    if raw.oversized {
        return Err(format!("longer than {MAX_ITEM_BYTES} bytes"));
    }
    let value: Value = serde_json::from_slice(&raw.bytes).map_err(|error| {
        // serde's own position is within the item; the line in the file is what a user finds.
        format!(
            "not JSON: {}",
            error
                .to_string()
                .split(" at line")
                .next()
                .unwrap_or_default()
        )
    })?;
    let mut errors = Vec::new();
    crate::domain::storable::check_json("item", &value, &mut errors);
    match errors.into_iter().next() {
        Some(error) => Err(format!("{}: {}", error.field, error.message)),
        None => Ok(value),
    }
}

impl CollectStep {
    pub(super) async fn import_file(
        &self,
        ctx: &JobContext,
        project: &Project,
        collection: &StepResource,
        dataset: DatasetFile,
    ) -> Result<CollectionOutcome, JobError> {
        let path = self
            .media
            .fetch(&dataset.key)
            .await
            .map_err(ProviderError::from)?;
        let unreadable = |error: std::io::Error| {
            JobError::fatal(
                ErrorCode::Storage,
                format!("the dataset file could not be read: {error}"),
            )
        };
        let mut file = tokio::fs::File::open(&path).await.map_err(unreadable)?;
        let mut splitter = Splitter::new(dataset.format, MAX_ITEM_BYTES);
        // What earlier attempts merged, batch by batch: a retried import goes on after it.
        let mut tally: CollectionOutcome = match ctx.load().await? {
            Some(checkpoint) => serde_json::from_value(checkpoint).unwrap_or_default(),
            None => CollectionOutcome::default(),
        };
        let mut skip = tally.counts.received;
        let resumed = skip > 0;
        // Every reel merged, for the scores computed once at the end (16 bytes each).
        let mut merged_ids = Vec::new();
        let mut pending: Vec<RawItem> = Vec::with_capacity(BATCH);
        let mut buffer = vec![0; READ_BUFFER];
        loop {
            let read = file.read(&mut buffer).await.map_err(unreadable)?;
            let mut emit = |item| match skip {
                0 => pending.push(item),
                _ => skip -= 1,
            };
            let framing = if read == 0 {
                splitter.finish(&mut emit)
            } else {
                splitter.feed(&buffer[..read], &mut emit)
            };
            // The request checked the framing already; a file that changed since is not ours.
            framing
                .map_err(|error| JobError::fatal(ErrorCode::MalformedJson, error.to_string()))?;
            while pending.len() >= BATCH || (read == 0 && !pending.is_empty()) {
                let batch: Vec<RawItem> = pending.drain(..pending.len().min(BATCH)).collect();
                self.import_batch(ctx, project, collection, batch, &mut tally, &mut merged_ids)
                    .await?;
                // Saved after the batch's commit: a crash in between merges that batch again,
                // which changes nothing but its counts.
                ctx.save(&context::to_output(&tally)?).await?;
                let done = tally.counts.received as u64;
                let percent = (done * 100 / dataset.items.max(1)).min(99) as u8;
                let stage = format!(
                    "{done} of {} items read, {} merged",
                    dataset.items,
                    tally.counts.added + tally.counts.merged
                );
                ctx.call().progress.report(percent, &stage).await;
            }
            if read == 0 {
                break;
            }
        }
        if resumed {
            // Earlier attempts' reels are scored too.
            merged_ids = db::reels::in_collection(ctx.pool(), collection.id).await?;
        }
        recompute_scores(ctx, project, &merged_ids).await?;
        after_bulk_insert(ctx, tally.counts.added);
        // Once the scores are known, so the best reels' covers are the ones kept.
        self.keep_covers(ctx, &merged_ids, &mut tally.counts)
            .await?;
        // Merged for good: a retry from here would only merge the same items again.
        let _ = self.media.remove(&dataset.key).await;
        Ok(tally)
    }

    async fn import_batch(
        &self,
        ctx: &JobContext,
        project: &Project,
        collection: &StepResource,
        batch: Vec<RawItem>,
        tally: &mut CollectionOutcome,
        merged_ids: &mut Vec<uuid::Uuid>,
    ) -> Result<(), JobError> {
        let mut candidates = Vec::with_capacity(batch.len());
        for raw in batch {
            let position = tally.counts.received as usize;
            tally.counts.received += 1;
            match parse(&raw) {
                Ok(item) => match normalize(&item, position) {
                    Ok(candidate) => candidates.push(candidate),
                    Err(rejection) => reject(tally, raw.line, rejection.item, rejection.reason),
                },
                Err(reason) => reject(tally, raw.line, format!("line {}", raw.line), reason),
            }
        }
        let batch = self
            .merge(
                ctx,
                project,
                collection,
                candidates,
                Scores::AfterImport,
                merged_ids,
            )
            .await?;
        tally.counts.added += batch.counts.added;
        tally.counts.merged += batch.counts.merged + batch.repeats;
        tally.counts.preparing += batch.preparing;
        Ok(())
    }
}
