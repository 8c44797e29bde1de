use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use serde_json::Value;

use super::{context, JobContext, JobError, JobHandler};
use crate::{
    config::JobSettings,
    db,
    domain::collection::{CollectionCounts, CollectionOutcome, Problem},
    domain::ResourceKind,
    jobs::queue,
    providers::{
        collect::{
            normalize::normalize_all, normalize::ReelCandidate, CollectRequest, CollectTarget,
        },
        pick, Providers,
    },
};

/// New reels from one batch beyond which the planner's statistics are refreshed.
const BULK_INSERT: u32 = 500;

/// Problems kept per collection; the counts still say how many items were rejected.
const PROBLEMS_KEPT: usize = 1000;

pub struct CollectStep {
    pub providers: Arc<Providers>,
    /// For the preparation jobs that `prepare_all` starts.
    pub jobs: JobSettings,
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

impl CollectStep {
    async fn scrape(
        &self,
        ctx: &JobContext,
        provider: &str,
        input: &Value,
        options: Value,
    ) -> Result<Vec<Value>, JobError> {
        let parameters: ApifyParameters = serde_json::from_value(input.clone())
            .map_err(|error| JobError::fatal("invalid_parameters", error.to_string()))?;
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

#[async_trait]
impl JobHandler for CollectStep {
    async fn run(&self, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
        let collection = ctx.resource().await?;
        let project = ctx.project(&collection).await?;
        let items: Vec<Value> = match collection.input.get("source").and_then(Value::as_str) {
            Some("import") => {
                serde_json::from_value(ctx.job.payload.get("items").cloned().unwrap_or_default())
                    .map_err(|error| JobError::fatal("invalid_parameters", error.to_string()))?
            }
            Some("apify") => {
                self.scrape(
                    ctx,
                    &collection.provider,
                    &collection.input,
                    context::options(&collection),
                )
                .await?
            }
            other => {
                return Err(JobError::fatal(
                    "invalid_parameters",
                    format!("unknown source {other:?}"),
                ))
            }
        };
        ctx.call().progress.report(70, "merging").await;

        let (candidates, rejections) = normalize_all(&items);
        let (unique, repeats) = deduplicate(candidates);
        let mut tx = ctx.pool().begin().await?;
        let merged = db::reels::merge_batch(
            &mut tx,
            project.id,
            collection.id,
            &collection.provider,
            &unique,
        )
        .await?;
        db::reels::recompute_metrics(&mut *tx, project.id, &project.settings.trend_weights).await?;
        let mut preparing = 0;
        if collection.input.get("prepare_all").and_then(Value::as_bool) == Some(true) {
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
        tx.commit().await?;
        if merged.added >= BULK_INSERT {
            // A hint for the planner that nobody waits on: the collection is done without it.
            let pool = ctx.pool().clone();
            tokio::spawn(async move {
                if let Err(error) = db::reels::refresh_statistics(&pool).await {
                    tracing::warn!(%error, "refreshing reel statistics failed");
                }
            });
        }

        let outcome = CollectionOutcome {
            counts: CollectionCounts {
                received: items.len() as u32,
                added: merged.added,
                merged: merged.merged + repeats,
                rejected: rejections.len() as u32,
                preparing,
            },
            problems: rejections
                .into_iter()
                .take(PROBLEMS_KEPT)
                .map(Problem::from)
                .collect(),
        };
        context::to_output(&outcome)
    }
}
