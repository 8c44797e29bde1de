//! Advances pipeline runs. Runs are not jobs themselves: a run only starts step jobs and watches
//! them, so it must never hold a worker slot while waiting (fifty runs would starve the steps
//! they wait for). Instead every replica's advancer locks unfinished runs with
//! `FOR UPDATE SKIP LOCKED`, moves each as far as it can without waiting, and lets go. All state
//! is in the run row, so a run survives restarts and any replica can continue it.

use crate::error_code::ErrorCode;
use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::queue::{self, StepRequest};
use crate::{
    config::JobSettings,
    db,
    domain::{
        event::NewEvent,
        job::JobPayload,
        project::Project,
        resource::StepResource,
        run::{CreateRun, Run, RunReel, RunStepResult},
        step::Step,
        ErrorInfo, ResourceKind, Status,
    },
    script::ScriptOutput,
};

const BATCH: i64 = 50;
/// Notified when a run is created or a job finishes (migration 0008).
const RUNS_CHANNEL: &str = "reelforge_runs";

fn is_done(status: Status) -> bool {
    matches!(
        status,
        Status::Succeeded | Status::Failed | Status::Canceled
    )
}

/// Moves one reel of a run forward until it has to wait; answers whether anything changed.
async fn advance_reel(
    conn: &mut PgConnection,
    run: &Run,
    input: &CreateRun,
    project: &Project,
    reel: &mut RunReel,
    jobs: &JobSettings,
) -> Result<bool, sqlx::Error> {
    let mut changed = false;
    let fail = |reel: &mut RunReel, error: ErrorInfo| {
        reel.status = Status::Failed;
        reel.error = Some(error);
    };
    let prepared = db::reels::get(&mut *conn, reel.reel_id).await?;
    match prepared.as_ref().map(|r| r.status) {
        None => {
            fail(
                reel,
                ErrorInfo::new(ErrorCode::ReelMissing, "the reel was deleted"),
            );
            return Ok(true);
        }
        Some(Status::Succeeded) => {}
        Some(Status::Failed | Status::Canceled) => {
            fail(reel, unprepared(prepared.and_then(|r| r.error)));
            return Ok(true);
        }
        Some(_) => return Ok(false),
    }
    if reel.status == Status::Queued {
        reel.status = Status::Running;
        changed = true;
    }
    loop {
        // The step in flight, if any: refresh it and stop unless it is done.
        if let Some(last) = reel.steps.last_mut() {
            if !is_done(last.status) {
                let Some(resource) =
                    db::resources::get(&mut *conn, last.step.resource(), last.resource_id).await?
                else {
                    fail(
                        reel,
                        ErrorInfo::new(ErrorCode::ResourceMissing, "a step resource was deleted"),
                    );
                    return Ok(true);
                };
                if resource.status != last.status {
                    last.status = resource.status;
                    changed = true;
                }
                if !is_done(resource.status) {
                    return Ok(changed);
                }
                last.duration_ms =
                    Some((resource.updated_at - resource.created_at).num_milliseconds());
                if resource.status != Status::Succeeded {
                    let mut error = resource.error.unwrap_or(ErrorInfo::new(
                        ErrorCode::StepFailed,
                        format!("the {} step failed", last.step),
                    ));
                    // Which step failed and whose it was, for a client to say so.
                    let params = error.params.get_or_insert_with(Default::default);
                    params.step = Some(last.step);
                    params.provider = Some(last.provider.clone());
                    fail(reel, error);
                    return Ok(true);
                }
                note_review(reel, &resource);
            }
        }
        let Some(step) = Step::in_runs().nth(reel.steps.len()) else {
            if let Some(publish) = &input.publish {
                return publish_reel(conn, run, publish, reel, jobs).await;
            }
            reel.status = Status::Succeeded;
            return Ok(true);
        };
        if step == Step::Voice && !reel.reviewed && input.review.stops_for(reel.needs_review) {
            reel.status = Status::AwaitingReview;
            return Ok(true);
        }
        let parent_id = reel.steps.last().map_or(reel.reel_id, |s| s.resource_id);
        let provider = input
            .providers
            .get(step)
            .as_deref()
            .unwrap_or_else(|| project.settings.providers.get(step))
            .to_owned();
        let step_input = input.options.step_input(step);
        let rerun = input
            .from_step
            .and_then(Step::run_index)
            .is_some_and(|from| reel.steps.len() >= from);
        let next = NextStep {
            step,
            parent_id,
            provider,
            input: step_input,
            reuse: !rerun,
        };
        start_or_reuse(conn, run, reel, next, jobs).await?;
        changed = true;
    }
}

/// A run's reel whose media could not be prepared fails with the preparation's own error, so a
/// client can say why (an expired link, not a video); `reel_not_prepared` when it has none.
fn unprepared(reel_error: Option<ErrorInfo>) -> ErrorInfo {
    match reel_error {
        Some(error) => ErrorInfo::new(
            error.code,
            format!("the reel's media could not be prepared: {}", error.message),
        ),
        None => ErrorInfo::new(
            ErrorCode::ReelNotPrepared,
            "the reel's media could not be prepared",
        ),
    }
}

/// The step a reel takes next.
struct NextStep {
    step: Step,
    parent_id: Uuid,
    provider: String,
    input: serde_json::Value,
    /// An earlier succeeded output with the same parent, provider and input may stand in.
    reuse: bool,
}

/// Adds `next` to the reel: an earlier output when one may be reused (answers true), else a
/// new step job.
async fn start_or_reuse(
    conn: &mut PgConnection,
    run: &Run,
    reel: &mut RunReel,
    next: NextStep,
    jobs: &JobSettings,
) -> Result<bool, sqlx::Error> {
    let kind = next.step.resource();
    let reused = if next.reuse {
        db::runs::reusable(
            &mut *conn,
            kind,
            next.parent_id,
            &next.provider,
            &next.input,
        )
        .await?
    } else {
        None
    };
    let (resource_id, status) = match reused {
        Some(id) => (id, Status::Succeeded),
        None => {
            let started = queue::start_step(
                &mut *conn,
                StepRequest {
                    kind,
                    project_id: run.project_id,
                    parent_id: next.parent_id,
                    provider: &next.provider,
                    input: next.input,
                    payload: JobPayload::RunStep { run_id: run.id },
                },
                jobs,
            )
            .await?;
            (started.resource.id, Status::Queued)
        }
    };
    reel.steps.push(RunStepResult {
        step: next.step,
        resource_id,
        provider: next.provider,
        reused: reused.is_some(),
        status,
        duration_ms: reused.map(|_| 0),
    });
    if reused.is_some() {
        if let Some(resource) = db::resources::get(&mut *conn, kind, resource_id).await? {
            note_review(reel, &resource);
        }
    }
    Ok(reused.is_some())
}

/// A reel whose script or post needs a person's eyes says so, with their reasons.
pub(crate) fn note_review(reel: &mut RunReel, resource: &StepResource) {
    let output = resource.output.clone();
    match resource.kind {
        ResourceKind::Script => {
            if let Some(script) =
                output.and_then(|output| serde_json::from_value::<ScriptOutput>(output).ok())
            {
                reel.needs_review = script.needs_review;
                reel.review_reasons = script.review_reasons;
            }
        }
        ResourceKind::Post => {
            if let Some(post) = output.and_then(|output| {
                serde_json::from_value::<crate::domain::publishing::PostOutput>(output).ok()
            }) {
                reel.needs_review |= post.needs_review;
                reel.review_reasons.extend(post.review_reasons);
            }
        }
        _ => {}
    }
}

/// The end of a reel that publishes: its post is written (or reused), then a publication is
/// scheduled per account, unless the reel needs a person's review first.
async fn publish_reel(
    conn: &mut PgConnection,
    run: &Run,
    publish: &crate::domain::run::RunPublish,
    reel: &mut RunReel,
    jobs: &JobSettings,
) -> Result<bool, sqlx::Error> {
    let stop_for_review = |reel: &mut RunReel| {
        reel.status = Status::Failed;
        reel.error = Some(ErrorInfo::new(
            ErrorCode::NeedsReview,
            format!("not published: {}", reel.review_reasons.join("; ")),
        ));
        true
    };
    if reel.needs_review && !publish.even_if_needs_review {
        return Ok(stop_for_review(reel));
    }
    let last = reel.steps.last().cloned();
    let Some(last) = last else {
        return Ok(false);
    };
    if last.step == Step::Render {
        // Settled when the run started; a run stored without it cannot guess one.
        let Some(provider) = publish.post_provider.clone() else {
            reel.status = Status::Failed;
            reel.error = Some(ErrorInfo::new(
                ErrorCode::InvalidJob,
                "the run's publish names no post writer",
            ));
            return Ok(true);
        };
        let next = NextStep {
            step: Step::WritePost,
            parent_id: last.resource_id,
            provider,
            input: run.input.options.step_input(Step::WritePost),
            reuse: true,
        };
        if !start_or_reuse(conn, run, reel, next, jobs).await? {
            return Ok(true);
        }
        if reel.needs_review && !publish.even_if_needs_review {
            return Ok(stop_for_review(reel));
        }
    }
    let post = reel.steps.last().map(|s| s.resource_id);
    let video = reel
        .steps
        .iter()
        .find(|s| s.step == Step::Render)
        .map(|s| s.resource_id);
    let (Some(post), Some(video)) = (post, video) else {
        return Ok(false);
    };
    match crate::publish::publish_for_run(&mut *conn, video, post, publish, chrono::Utc::now())
        .await
    {
        Ok(publications) => {
            reel.publications = publications;
            reel.status = Status::Succeeded;
        }
        Err(crate::error::AppError::Database(error)) => return Err(error),
        Err(refused) => {
            reel.status = Status::Failed;
            reel.error = Some(ErrorInfo::new(
                refused.code(),
                format!("not published: {}", refused.detail_text()),
            ));
        }
    }
    Ok(true)
}

fn overall(reels: &[RunReel]) -> Status {
    if reels.iter().all(|r| is_done(r.status)) {
        if reels.iter().all(|r| r.status == Status::Succeeded) {
            Status::Succeeded
        } else {
            Status::Failed
        }
    } else if reels
        .iter()
        .all(|r| is_done(r.status) || r.status == Status::AwaitingReview)
    {
        Status::AwaitingReview
    } else if reels.iter().any(|r| r.status != Status::Queued) {
        Status::Running
    } else {
        Status::Queued
    }
}

/// Announces a run's new status: a run that ends or stops for review as such (and to the
/// webhook: someone has to act on a stopped one), any other change as `run.updated`.
pub(crate) async fn announce(
    conn: &mut PgConnection,
    run: &Run,
    webhook_attempts: i32,
) -> Result<(), sqlx::Error> {
    let stopped = is_done(run.status) || run.status == Status::AwaitingReview;
    let kind = if stopped {
        run.status.as_str()
    } else {
        "updated"
    };
    if stopped {
        crate::jobs::webhook::queue(
            &mut *conn,
            run.project_id,
            crate::domain::job::WebhookDelivery::Run {
                run_id: run.id,
                event: format!("run.{kind}"),
            },
            webhook_attempts,
        )
        .await?;
    }
    db::events::append(conn, &[NewEvent::about_run(kind, run)]).await
}

/// Cancels what is left of a run: every reel not done yet stops, with the step job it waits
/// on (a queued job at once, a running one at its next checkpoint). Reels already done keep
/// their outcome; a reel's media preparation goes on, as it is the reel's and not the run's.
pub(crate) async fn cancel(conn: &mut PgConnection, run: &mut Run) -> Result<(), sqlx::Error> {
    for reel in run.reels.iter_mut().filter(|reel| !is_done(reel.status)) {
        if let Some(step) = reel.steps.last_mut().filter(|step| !is_done(step.status)) {
            let job = db::resources::get(&mut *conn, step.step.resource(), step.resource_id)
                .await?
                .and_then(|resource| resource.job_id);
            if let Some(job) = job {
                queue::request_cancel_in(&mut *conn, job).await?;
            }
            step.status = Status::Canceled;
        }
        reel.status = Status::Canceled;
        reel.error = Some(ErrorInfo::new(ErrorCode::Canceled, "the run was canceled"));
    }
    run.status = Status::Canceled;
    Ok(())
}

/// Advances every unfinished run once; answers how many changed. A run that finishes is sent
/// to its project's webhook by a job with `webhook_attempts` attempts.
pub async fn advance(
    pool: &PgPool,
    jobs: &JobSettings,
    webhook_attempts: i32,
) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let runs = db::runs::lock_unfinished(&mut tx, BATCH).await?;
    let mut changed_runs = 0;
    for mut run in runs {
        let input = run.input.clone();
        let Some(project) = db::projects::get(&mut *tx, run.project_id).await? else {
            continue;
        };
        let mut changed = false;
        let mut reels = std::mem::take(&mut run.reels);
        // A reel waiting for review stays put until the run is resumed.
        for reel in reels
            .iter_mut()
            .filter(|r| !is_done(r.status) && r.status != Status::AwaitingReview)
        {
            changed |= advance_reel(&mut tx, &run, &input, &project, reel, jobs).await?;
        }
        run.reels = reels;
        if !changed {
            continue;
        }
        run.status = overall(&run.reels);
        run.progress = Run::progress_of(&run.reels, input.publish.is_some());
        db::runs::save(&mut tx, &run).await?;
        announce(&mut tx, &run, webhook_attempts).await?;
        changed_runs += 1;
    }
    tx.commit().await?;
    Ok(changed_runs)
}

/// Runs the advancer until `shutdown`: whenever a run is created or a job finishes, so a run
/// moves on within milliseconds, and every `interval` as a fallback (which also picks up steps
/// that started running).
pub async fn advance_forever(
    pool: PgPool,
    listen: PgPool,
    jobs: JobSettings,
    webhook_attempts: i32,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut listener = crate::events::listen(&listen, RUNS_CHANNEL, "the run advancer").await;
    loop {
        match advance(&pool, &jobs, webhook_attempts).await {
            // More may be ready at once (a reused step lets the next start).
            Ok(changed) if changed > 0 => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "advancing runs failed"),
        }
        let notified = async {
            match listener.as_mut() {
                // A lost connection is re-established by the listener; until then, poll.
                Some(listener) => {
                    if listener.recv().await.is_err() {
                        tokio::time::sleep(interval).await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// The reel entries a new run starts with.
pub fn new_reels(reel_ids: &[Uuid]) -> Vec<RunReel> {
    reel_ids
        .iter()
        .map(|&reel_id| RunReel {
            reel_id,
            status: Status::Queued,
            steps: Vec::new(),
            error: None,
            needs_review: false,
            review_reasons: Vec::new(),
            reviewed: false,
            publications: Vec::new(),
        })
        .collect()
}
