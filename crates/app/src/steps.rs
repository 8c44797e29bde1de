//! Starting a pipeline step: the checks every step shares, then one transaction that creates the
//! resource and its job.

use crate::error_code::ErrorCode;
use uuid::Uuid;

use crate::{
    db,
    domain::{
        event::NewEvent,
        options::StepOptions,
        project::FieldError,
        resource::{StepInput, StepResource, StepStarted},
        step::Step,
        ResourceKind, Status,
    },
    error::AppError,
    jobs::queue::{self, StepRequest},
    script::{self, ScriptOutput},
    state::AppState,
};

pub async fn start<O: StepOptions>(
    state: &AppState,
    kind: ResourceKind,
    parent_id: Uuid,
    provider: Option<String>,
    options: Option<O>,
) -> Result<StepStarted, AppError> {
    let project_id = match kind.parent() {
        None => parent_id,
        Some(parent_kind) => {
            let parent = db::resources::get(&state.pool, parent_kind, parent_id)
                .await?
                .ok_or(AppError::NotFound(parent_kind.as_str()))?;
            if parent.status != Status::Succeeded {
                return Err(AppError::conflict(
                    ErrorCode::ParentNotReady,
                    format!(
                        "the {parent_kind} is {}; it must have succeeded first",
                        parent.status
                    ),
                ));
            }
            parent.project_id
        }
    };
    let project = db::projects::get(&state.pool, project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let step = Step::of(kind);
    let requested = provider.unwrap_or_else(|| project.settings.providers.get(step).clone());
    let provider = state.providers.choose(step, &requested)?;
    let options = options.unwrap_or_default();
    check_options(state, step, &options, provider, project_id)?;
    let library = crate::assets::library_problems(
        &state.pool,
        project_id,
        "options",
        &options.library_keys(),
    )
    .await?;
    if !library.is_empty() {
        return Err(AppError::Validation(library));
    }
    let input = serde_json::to_value(StepInput { options })
        .map_err(|error| AppError::Internal(error.into()))?;
    AppError::require_storable("options", &input["options"])?;
    let mut tx = state.pool.begin().await?;
    let started = queue::start_step(
        &mut tx,
        StepRequest {
            kind,
            project_id,
            parent_id,
            provider,
            input,
            payload: crate::domain::job::JobPayload::Resource,
        },
        &state.settings.jobs,
    )
    .await
    .map_err(|error| match error {
        // The parent was deleted between the check and the insert.
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            AppError::conflict(ErrorCode::ParentGone, "the parent was deleted")
        }
        other => other.into(),
    })?;
    tx.commit().await?;
    Ok(started)
}

/// Refuses options the provider does not take or values out of range, naming each field.
fn check_options<O: StepOptions>(
    state: &AppState,
    step: Step,
    options: &O,
    provider: &str,
    project_id: Uuid,
) -> Result<(), AppError> {
    let errors = options.check(
        provider,
        "options",
        &state.providers.option_scope(project_id),
        &state.providers.required_options(step, provider),
    );
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Marks a reel selected and starts preparing its media unless it is prepared or being
/// prepared; answers the preparation job when one was started.
pub async fn select_reel(
    conn: &mut sqlx::PgConnection,
    reel: &crate::domain::reel::Reel,
    jobs: &crate::config::JobSettings,
) -> Result<Option<crate::domain::job::Job>, sqlx::Error> {
    // The status read before this transaction may be stale: a concurrent run may have started
    // the preparation since.
    let status = db::reels::set_selected(&mut *conn, reel.id, true).await?;
    if !matches!(
        status,
        Some(Status::Pending | Status::Failed | Status::Canceled)
    ) {
        return Ok(None);
    }
    queue::start_for_existing(conn, ResourceKind::Reel, reel.id, reel.project_id, jobs)
        .await
        .map(Some)
}

/// The longest hand-edited script accepted.
const EDIT_MAX_CHARS: usize = 10_000;

/// Refuses stock search words that are not short English terms, or more lists than sentences.
fn broll_keyword_problems(lists: &[Vec<String>], text: &str) -> Result<(), AppError> {
    let sentences = script::words::sentences(text).len();
    if lists.len() > sentences {
        return Err(AppError::validation(
            "broll_keywords",
            format!(
                "one list per sentence: the text has {sentences}, not {}",
                lists.len()
            ),
        ));
    }
    for (index, terms) in lists.iter().enumerate() {
        if terms.len() > script::MAX_SEARCH_TERMS {
            return Err(AppError::validation(
                &format!("broll_keywords[{index}]"),
                format!(
                    "at most {} search terms a sentence",
                    script::MAX_SEARCH_TERMS
                ),
            ));
        }
        if let Some(at) = terms
            .iter()
            .position(|term| script::search_term(term).is_none())
        {
            return Err(AppError::validation(
                &format!("broll_keywords[{index}][{at}]"),
                "must be English words (letters and spaces), at most 40 characters",
            ));
        }
    }
    Ok(())
}

/// A hand edit of a succeeded script: the text is cleaned and every check runs again, so the
/// stored results always describe the stored text.
/// `key_words`, when given, replace the writer's choice of words to stress (each must be a
/// word of the text); else the writer's stay where the text still holds them. `broll_keywords`,
/// when given, replace the stock search words (a list of up to three English terms per
/// sentence); else the sentences the edit left as they were keep theirs.
pub async fn edit_script(
    state: &AppState,
    id: Uuid,
    text: &str,
    key_words: Option<&[String]>,
    broll_keywords: Option<&[Vec<String>]>,
) -> Result<StepResource, AppError> {
    let resource = db::resources::get(&state.pool, ResourceKind::Script, id)
        .await?
        .ok_or(AppError::NotFound("script"))?;
    if text.chars().count() > EDIT_MAX_CHARS {
        return Err(AppError::validation(
            "text",
            format!("must be at most {EDIT_MAX_CHARS} characters"),
        ));
    }
    let (clean_text, removed) = script::clean(text);
    if clean_text.is_empty() {
        return Err(AppError::validation("text", "must contain words"));
    }
    if let Some(lists) = broll_keywords {
        broll_keyword_problems(lists, &clean_text)?;
    }
    let (Some(output), Status::Succeeded) = (resource.output.clone(), resource.status) else {
        return Err(AppError::conflict(
            ErrorCode::ScriptNotReady,
            format!(
                "the script is {}; only a finished script can be edited",
                resource.status
            ),
        ));
    };
    let mut script: ScriptOutput = serde_json::from_value(output)
        .map_err(|error| AppError::Internal(anyhow::anyhow!("stored script output: {error}")))?;
    let transcript = match resource.parent_id {
        Some(parent) => db::resources::get(&state.pool, ResourceKind::Transcript, parent)
            .await?
            .and_then(|t| t.output)
            .and_then(|o| o.get("text").and_then(|t| t.as_str()).map(str::to_owned))
            .unwrap_or_default(),
        None => String::new(),
    };
    let project = db::projects::get(&state.pool, resource.project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let contract = script::Contract {
        language: script.language.clone(),
        words: project.settings.words,
        max_reuse: project.settings.rewrite.max_reuse,
    };
    script.checks = script::evaluate(&clean_text, &removed, &transcript, &contract);
    script.word_count = script::words::count_words(&clean_text);
    script.estimated_seconds =
        script::spoken_seconds(&clean_text, state.settings.scripts.rate(&script.language));
    // Words the edit took out are no longer stressed.
    let chosen = key_words.unwrap_or(&script.key_words);
    let kept = script::keep_key_words(chosen.iter().map(String::as_str), &clean_text);
    if let Some(asked) = key_words {
        if let Some(missing) = asked.iter().find(|word| {
            !kept
                .iter()
                .any(|k| k.to_lowercase() == word.trim().to_lowercase())
        }) {
            return Err(AppError::validation(
                "key_words",
                format!("`{missing}` is not a word of the text (or a second word of one sentence)"),
            ));
        }
    }
    script.key_words = kept;
    script.broll_keywords = match broll_keywords {
        Some(lists) => script::keep_broll_keywords(lists, &clean_text),
        None => script::carry_broll_keywords(&script.broll_keywords, &script.text, &clean_text),
    };
    script.text = clean_text;
    script.writer = crate::script::ScriptWriter::Edited;
    script.strategy = None;
    script.fitted.clear();
    script.assess();
    let output = serde_json::to_value(&script).map_err(|error| AppError::Internal(error.into()))?;

    let mut tx = state.pool.begin().await?;
    if !db::resources::replace_output(
        &mut *tx,
        ResourceKind::Script,
        id,
        &output,
        resource.updated_at,
    )
    .await?
    {
        return Err(AppError::conflict(
            ErrorCode::ScriptNotReady,
            "the script changed while it was being edited; fetch it and try again",
        ));
    }
    db::events::append(
        &mut tx,
        &[NewEvent::about_resource(
            "script.edited".into(),
            ResourceKind::Script,
            id,
            resource.project_id,
            crate::domain::event::data(&crate::domain::event::ScriptEdited {
                id,
                word_count: script.word_count,
                checks: script.checks.clone(),
            }),
        )],
    )
    .await?;
    tx.commit().await?;
    db::resources::get(&state.pool, ResourceKind::Script, id)
        .await?
        .ok_or(AppError::NotFound("script"))
}

/// Most reels one run takes.
const RUN_MAX_REELS: usize = 20;

/// What starting a run needs: the API has it, and so has the scheduler's automatic runs.
pub struct RunStarter<'a> {
    pub pool: &'a sqlx::PgPool,
    pub providers: &'a crate::providers::Providers,
    pub jobs: &'a crate::config::JobSettings,
    pub now: chrono::DateTime<chrono::Utc>,
    /// Refuse reels that have been through the pipeline (automatic runs).
    pub unprocessed_only: bool,
}

impl AppState {
    pub fn run_starter(&self) -> RunStarter<'_> {
        RunStarter {
            pool: &self.pool,
            providers: &self.providers,
            jobs: &self.settings.jobs,
            now: self.clock.now(),
            unprocessed_only: false,
        }
    }
}

/// A run request's outcome: the run, or only its estimate when it was a dry run.
pub enum RunStart {
    Started(Box<crate::domain::run::Run>),
    Estimated(crate::domain::usage::RunEstimate),
}

/// Starts a pipeline run from the API or an MCP tool. A body still asking for a `dry_run` is
/// refused with where estimates went, so one operation answers one kind of success.
pub async fn start_run(
    state: &AppState,
    project_id: Uuid,
    body: crate::domain::run::CreateRun,
) -> Result<crate::domain::run::Run, AppError> {
    if body.dry_run {
        return Err(AppError::validation(
            "dry_run",
            "estimates moved to `POST /v1/projects/{id}/runs/estimate` (operation `estimate_run`, the MCP tool `estimate_run`)",
        ));
    }
    match start_run_with(&state.run_starter(), project_id, body, Uuid::new_v4()).await? {
        RunStart::Started(run) => Ok(*run),
        RunStart::Estimated(_) => Err(AppError::Internal(anyhow::anyhow!(
            "a run that is not a dry run was answered with an estimate"
        ))),
    }
}

/// What the run `body` asks for would cost against the project's monthly budget; queues
/// nothing.
pub async fn estimate_run(
    state: &AppState,
    project_id: Uuid,
    body: crate::domain::run::CreateRun,
) -> Result<crate::domain::usage::RunEstimate, AppError> {
    let body = crate::domain::run::CreateRun {
        dry_run: true,
        ..body
    };
    match start_run_with(&state.run_starter(), project_id, body, Uuid::new_v4()).await? {
        RunStart::Estimated(estimate) => Ok(estimate),
        RunStart::Started(run) => Err(AppError::Internal(anyhow::anyhow!(
            "the dry run queued run {}",
            run.id
        ))),
    }
}

/// Starts a pipeline run with the id given: checks the request, estimates its cost against the
/// project's monthly budget (a dry run stops there), selects (and starts preparing) reels that
/// are not prepared yet, and stores the run; the runs advancer does the rest.
pub async fn start_run_with(
    starter: &RunStarter<'_>,
    project_id: Uuid,
    body: crate::domain::run::CreateRun,
    run_id: Uuid,
) -> Result<RunStart, AppError> {
    let project = db::projects::get(starter.pool, project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    // Each step's provider is settled now (an `auto` included), so a run nothing can serve is
    // refused here rather than failing later.
    let mut body = body;
    let mut option_errors = Vec::new();
    if body.providers.collect.is_some() {
        option_errors.push(FieldError::new(
            "providers.collect",
            "a run starts from collected reels; it does not collect",
        ));
    }
    if body
        .from_step
        .is_some_and(|step| step.run_index().is_none())
    {
        let steps: Vec<&str> = Step::in_runs().map(Step::as_str).collect();
        option_errors.push(FieldError::new(
            "from_step",
            format!(
                "a run starts from collected reels and goes through {}; a post is written again \
                 whenever its video is",
                steps.join(", ")
            ),
        ));
    }
    for step in Step::in_runs() {
        let requested = body
            .providers
            .get(step)
            .clone()
            .unwrap_or_else(|| project.settings.providers.get(step).clone());
        let chosen = starter.providers.choose(step, &requested)?;
        if requested == crate::domain::project::AUTO_PROVIDER {
            *body.providers.get_mut(step) = Some(chosen.to_owned());
        }
        option_errors.extend(body.options.check(
            step,
            chosen,
            &starter.providers.option_scope(project_id),
            &starter.providers.required_options(step, chosen),
        ));
    }
    if let Some(publish) = body.publish.as_mut() {
        let rewrite = body
            .providers
            .rewrite
            .clone()
            .unwrap_or_else(|| project.settings.providers.rewrite.clone());
        let writer = starter.providers.choose(Step::Rewrite, &rewrite)?;
        publish.post_provider = Some(writer.to_owned());
        option_errors.extend(
            crate::publish::run_publish_problems(
                starter.pool,
                &starter.providers.publishing,
                project.id,
                publish,
                starter.providers.publishing.settings.tiktok.audited,
                starter.now,
            )
            .await?,
        );
    }
    if option_errors.is_empty() {
        let voice = body.options.voice.as_ref().map(StepOptions::library_keys);
        let render = body.options.render.as_ref().map(StepOptions::library_keys);
        for (prefix, keys) in [("options.voice", voice), ("options.render", render)] {
            option_errors.extend(
                crate::assets::library_problems(
                    starter.pool,
                    project_id,
                    prefix,
                    &keys.unwrap_or_default(),
                )
                .await?,
            );
        }
    }
    if !option_errors.is_empty() {
        return Err(AppError::Validation(option_errors));
    }
    let options =
        serde_json::to_value(&body.options).map_err(|error| AppError::Internal(error.into()))?;
    AppError::require_storable("options", &options)?;
    let reel_ids: Vec<Uuid> = match (&body.reel_id, &body.reel_ids, body.top) {
        (Some(id), None, None) => vec![*id],
        (None, Some(ids), None) if (1..=RUN_MAX_REELS).contains(&ids.len()) => {
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            if unique.len() != ids.len() {
                return Err(AppError::validation("reel_ids", "must not repeat a reel"));
            }
            ids.clone()
        }
        (None, None, Some(top)) if (1..=RUN_MAX_REELS as u32).contains(&top) => {
            db::reels::top_ids(starter.pool, project_id, i64::from(top)).await?
        }
        _ => {
            return Err(AppError::validation(
                "reel_id",
                format!("give exactly one of `reel_id`, `reel_ids` (1-{RUN_MAX_REELS}) or `top` (1-{RUN_MAX_REELS})"),
            ))
        }
    };
    if reel_ids.is_empty() {
        return Err(AppError::conflict(
            ErrorCode::NoReels,
            "the project has no reels yet; collect some first",
        ));
    }
    let reels = db::reels::get_many(starter.pool, &reel_ids).await?;
    if reels.len() != reel_ids.len() || reels.iter().any(|r| r.project_id != project.id) {
        return Err(AppError::NotFound("reel"));
    }
    let providers = crate::domain::step::StepProviders::from_fn(|step| {
        body.providers
            .get(step)
            .clone()
            .unwrap_or_else(|| project.settings.providers.get(step).clone())
    });
    let lines = crate::budget::estimate(
        &starter.providers.prices,
        &project,
        &providers,
        &reels,
        body.publish.is_some(),
        !starter.providers.stock.libraries.is_empty(),
    );
    let mut tx = starter.pool.begin().await?;
    db::runs::lock_starts(&mut tx, project.id).await?;
    if starter.unprocessed_only {
        // Under the lock, so two alerts on one reel cannot both start a run.
        let processed = db::reels::processed_among(&mut *tx, &reel_ids).await?;
        if !processed.is_empty() {
            return Err(AppError::conflict(
                ErrorCode::AlreadyProcessed,
                "the reel has been through the pipeline already",
            ));
        }
    }
    let budget = crate::db::budget::standing(&mut *tx, &project, starter.now).await?;
    let estimate = crate::budget::judge(lines, budget);
    if body.dry_run {
        return Ok(RunStart::Estimated(estimate));
    }
    if !estimate.within_budget {
        return Err(
            AppError::BudgetExceeded(crate::budget::refusal(&estimate)).with_params(
                crate::domain::ErrorParams {
                    estimate_usd: Some(estimate.total_cost),
                    remaining_usd: Some(estimate.budget.left.unwrap_or_default()),
                    ..Default::default()
                },
            ),
        );
    }
    for reel in &reels {
        select_reel(&mut tx, reel, starter.jobs).await?;
    }
    let input = serde_json::to_value(&body).map_err(|error| AppError::Internal(error.into()))?;
    let run = db::runs::insert(
        &mut *tx,
        run_id,
        project.id,
        &input,
        &crate::jobs::runs::new_reels(&reel_ids),
        estimate.total_cost,
    )
    .await?;
    db::events::append(
        &mut tx,
        &[NewEvent {
            kind: "run.queued".into(),
            project_id: Some(project.id),
            resource_type: Some("run"),
            resource_id: Some(run.id),
            data: crate::domain::event::data(&crate::domain::event::RunQueued {
                id: run.id,
                status: run.status,
                reels: reel_ids.clone(),
            }),
        }],
    )
    .await?;
    tx.commit().await?;
    Ok(RunStart::Started(Box::new(run)))
}

/// A run with its usage and estimated cost.
pub async fn run(state: &AppState, id: Uuid) -> Result<crate::domain::run::Run, AppError> {
    let run = db::runs::get(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound("run"))?;
    let mut runs = [run];
    db::usage::fill_runs(&state.pool, &mut runs).await?;
    let [run] = runs;
    Ok(run)
}

/// Resumes a run stopped for review: each waiting reel goes on to voice and render its script
/// as it is now (edited or not) and does not stop again. Its review flag and reasons are the
/// script's as edited.
pub async fn resume_run(state: &AppState, id: Uuid) -> Result<crate::domain::run::Run, AppError> {
    let mut tx = state.pool.begin().await?;
    let mut run = db::runs::lock(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound("run"))?;
    if run.status != Status::AwaitingReview {
        return Err(AppError::conflict(
            ErrorCode::RunNotAwaitingReview,
            format!(
                "the run is {}; only a run awaiting review can be resumed",
                run.status
            ),
        )
        .with_params(crate::domain::ErrorParams {
            status: Some(run.status),
            ..Default::default()
        }));
    }
    for reel in run
        .reels
        .iter_mut()
        .filter(|reel| reel.status == Status::AwaitingReview)
    {
        reel.status = Status::Running;
        reel.reviewed = true;
        let script = reel
            .steps
            .iter()
            .find(|step| step.step == Step::Rewrite)
            .map(|step| step.resource_id);
        if let Some(script) = script {
            if let Some(resource) =
                db::resources::get(&mut *tx, ResourceKind::Script, script).await?
            {
                crate::jobs::runs::note_review(reel, &resource);
            }
        }
    }
    // Leaving `awaiting_review` wakes the advancers (migration 0034).
    run.status = Status::Running;
    db::runs::save(&mut tx, &run).await?;
    db::events::append(&mut tx, &[NewEvent::about_run("updated", &run)]).await?;
    tx.commit().await?;
    self::run(state, id).await
}

/// Cancels a run that has not ended (queued while its reels are prepared, running, or awaiting
/// review): what is left of it stops, and `run.canceled` is announced (and sent to the webhook).
pub async fn cancel_run(state: &AppState, id: Uuid) -> Result<crate::domain::run::Run, AppError> {
    let mut tx = state.pool.begin().await?;
    let mut run = db::runs::lock(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound("run"))?;
    if matches!(
        run.status,
        Status::Succeeded | Status::Failed | Status::Canceled
    ) {
        return Err(AppError::conflict(
            ErrorCode::RunNotActive,
            format!(
                "the run is {}; only a queued, running or awaiting_review run can be canceled",
                run.status
            ),
        )
        .with_params(crate::domain::ErrorParams {
            status: Some(run.status),
            ..Default::default()
        }));
    }
    crate::jobs::runs::cancel(&mut tx, &mut run).await?;
    db::runs::save(&mut tx, &run).await?;
    crate::jobs::runs::announce(&mut tx, &run, state.settings.webhooks.max_attempts).await?;
    tx.commit().await?;
    self::run(state, id).await
}
