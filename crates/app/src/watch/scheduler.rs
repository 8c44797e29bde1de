//! The durable scheduler. Every replica running workers runs it; a tick is taken by locking the
//! due watchlist row (`SKIP LOCKED`), starting its collection and moving `next_tick_at` past now
//! in one transaction, so each tick becomes exactly one collection whatever the number of
//! replicas, and a crash before the commit leaves the tick due. It also starts the automatic
//! runs alerts asked for.

use std::{sync::Arc, time::Duration};

use crate::domain::read_model::CollectionParameters;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{
    clock::SharedClock,
    config::JobSettings,
    db,
    domain::{run::CreateRun, watchlist::RunSkipped, ResourceKind},
    error::AppError,
    jobs::queue::{self, StepRequest},
    providers::Providers,
    steps::{self, RunStarter},
};

/// Automatic runs started per pass.
const RUN_BATCH: i64 = 20;

/// Starts the collection of every watchlist due at `now`; answers how many started. Each
/// watchlist has its own transaction: the event log's lock, which starting a collection takes,
/// is held for one watchlist at a time, and one that fails does not hold up the others.
pub async fn tick(
    pool: &PgPool,
    jobs: &JobSettings,
    now: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let mut started = 0;
    loop {
        let mut tx = pool.begin().await?;
        let Some(watchlist) = db::watchlists::lock_due(&mut *tx, now, 1).await?.pop() else {
            return Ok(started);
        };
        match start_collection(&mut tx, &watchlist, jobs, now).await {
            Ok(()) => {
                tx.commit().await?;
                started += 1;
            }
            Err(error) => {
                tx.rollback().await?;
                tracing::warn!(watchlist = %watchlist.id, %error, "starting a watchlist's collection failed; trying again in an hour");
                db::watchlists::postpone(pool, watchlist.id, now + FAILED_TICK_DELAY).await?;
            }
        }
    }
}

/// How long a watchlist whose collection could not be started waits before the next try.
const FAILED_TICK_DELAY: chrono::Duration = chrono::Duration::hours(1);

/// Starts the collection of the tick `watchlist` is due for and moves it to its next tick.
async fn start_collection(
    tx: &mut sqlx::PgConnection,
    watchlist: &crate::domain::watchlist::Watchlist,
    jobs: &JobSettings,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut input = watchlist.collection.clone();
    if let CollectionParameters::Apify { watchlist_id, .. } = &mut input {
        *watchlist_id = Some(watchlist.id);
    }
    let collection = queue::start_step(
        &mut *tx,
        StepRequest {
            kind: ResourceKind::Collection,
            project_id: watchlist.project_id,
            parent_id: watchlist.project_id,
            provider: &watchlist.provider,
            input: input.to_value(),
            payload: crate::domain::job::JobPayload::Resource,
        },
        jobs,
    )
    .await?;
    db::watchlists::record_tick(
        tx,
        watchlist.id,
        watchlist.next_tick_at,
        collection.resource.id,
        watchlist.schedule.tick_after(watchlist.next_tick_at, now),
        now,
    )
    .await
}

/// Starts the runs alerts asked for, each under the alert's id, so a pass that crashes after
/// starting one cannot start it again: the next pass finds the run and records it. Answers how
/// many alerts were settled.
pub async fn start_automatic_runs(
    pool: &PgPool,
    providers: &Providers,
    jobs: &JobSettings,
    now: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let alerts = db::watchlists::lock_runs_due(&mut *tx, RUN_BATCH).await?;
    let starter = RunStarter {
        pool,
        providers,
        jobs,
        now,
        unprocessed_only: true,
    };
    for alert in &alerts {
        let outcome = if db::runs::get(pool, alert.id).await?.is_some() {
            Ok(alert.id)
        } else {
            let body = CreateRun {
                reel_id: Some(alert.reel_id),
                reel_ids: None,
                top: None,
                providers: Default::default(),
                from_step: None,
                options: Default::default(),
                dry_run: false,
                publish: None,
                // As the rule that raised the alert says: a run that waits is announced
                // (`run.awaiting_review`) for someone to read its script.
                review: alert.review,
            };
            match steps::start_run_with(&starter, alert.project_id, body, alert.id).await {
                Ok(_) => Ok(alert.id),
                Err(AppError::Database(error)) => return Err(error),
                Err(refused) => Err(RunSkipped {
                    code: refused.code(),
                    detail: refused.to_string(),
                }),
            }
        };
        if let Err(skipped) = &outcome {
            tracing::info!(alert = %alert.id, reel = %alert.reel_id, code = %skipped.code, "no automatic run");
        }
        db::watchlists::set_run(&mut *tx, alert.id, outcome.as_ref().map(|id| *id)).await?;
    }
    tx.commit().await?;
    Ok(alerts.len())
}

/// Runs the scheduler until `shutdown`, every `interval` of real time, reading `clock`.
pub async fn run_forever(
    pool: PgPool,
    providers: Arc<Providers>,
    jobs: JobSettings,
    clock: SharedClock,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        let now = clock.now();
        if let Err(error) = tick(&pool, &jobs, now).await {
            tracing::warn!(%error, "starting due watchlist collections failed");
        }
        if let Err(error) = start_automatic_runs(&pool, &providers, &jobs, now).await {
            tracing::warn!(%error, "starting automatic runs failed");
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
