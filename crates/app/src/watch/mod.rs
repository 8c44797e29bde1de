//! The trend radar: watchlists a scheduler collects on time ([`scheduler`]), rules that raise
//! alerts on the reels collected ([`alerts`]), and the automatic runs those may start.

pub mod alerts;
pub mod scheduler;

use uuid::Uuid;

use crate::{
    collections, db,
    domain::{
        collection::NewCollection,
        project::{validate_name, FieldError},
        run::Review,
        watchlist::{NewRule, NewWatchlist, Rule, UpdateWatchlist, Watchlist},
    },
    error::AppError,
    pagination::{Page, PageQuery},
    state::AppState,
};

/// Most rules one watchlist holds.
const MAX_RULES: usize = 20;

/// A watchlist's collection is checked as a collection request is, and must scrape.
fn plan_collection(
    state: &AppState,
    project_provider: &str,
    collection: NewCollection,
) -> Result<(String, crate::domain::read_model::CollectionParameters), AppError> {
    if !matches!(collection, NewCollection::Apify { .. }) {
        return Err(AppError::validation(
            "collection.source",
            "a watchlist collects from Apify (`source: apify`); imports and files are one-off",
        ));
    }
    // A scrape needs nothing beyond its input (`payload` is for imports' items).
    let (provider, input, _) = collections::plan(state, project_provider, collection)
        .map_err(|error| error.under("collection"))?;
    Ok((provider, input))
}

/// Gives each rule an id, keeping the id of an unchanged rule (each old id once) so the reels it
/// alerted on do not alert again. A rule that does not say how its runs review keeps the old
/// rule's setting, or is `when_flagged` when new.
fn identify(rules: Vec<NewRule>, existing: &[Rule]) -> Vec<Rule> {
    let mut unclaimed: Vec<&Rule> = existing.iter().collect();
    rules
        .into_iter()
        .map(|rule| {
            let same = unclaimed
                .iter()
                .position(|old| old.conditions == rule.conditions && old.auto_run == rule.auto_run)
                .map(|index| unclaimed.remove(index));
            Rule {
                id: same.map_or_else(Uuid::new_v4, |old| old.id),
                name: rule.name,
                conditions: rule.conditions,
                auto_run: rule.auto_run,
                review: rule
                    .review
                    .or(same.map(|old| old.review))
                    .unwrap_or(Review::WhenFlagged),
            }
        })
        .collect()
}

fn validate(watchlist: &Watchlist, errors: &mut Vec<FieldError>) {
    validate_name(&watchlist.name, errors);
    watchlist.schedule.validate("schedule", errors);
    if watchlist.rules.len() > MAX_RULES {
        errors.push(FieldError::new(
            "rules",
            format!("at most {MAX_RULES} rules"),
        ));
    }
    for (index, rule) in watchlist.rules.iter().enumerate() {
        rule.conditions
            .validate(&format!("rules[{index}].conditions"), errors);
        if let Some(problem) = rule
            .name
            .as_deref()
            .and_then(crate::domain::storable::label_problem)
        {
            errors.push(FieldError::new(format!("rules[{index}].name"), problem));
        }
    }
}

fn checked(watchlist: Watchlist) -> Result<Watchlist, AppError> {
    let mut errors = Vec::new();
    validate(&watchlist, &mut errors);
    if errors.is_empty() {
        Ok(watchlist)
    } else {
        Err(AppError::Validation(errors))
    }
}

pub async fn create(
    state: &AppState,
    project_id: Uuid,
    body: NewWatchlist,
) -> Result<Watchlist, AppError> {
    let project = db::projects::get(&state.pool, project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let (provider, collection) =
        plan_collection(state, &project.settings.providers.collect, body.collection)?;
    let now = state.clock.now();
    let watchlist = checked(Watchlist {
        id: Uuid::new_v4(),
        project_id,
        name: body.name.trim().to_owned(),
        provider,
        collection,
        next_tick_at: body.schedule.first_tick(now, None),
        schedule: body.schedule,
        rules: identify(body.rules, &[]),
        paused: body.paused,
        last_tick_at: None,
        created_at: now,
        updated_at: now,
    })?;
    Ok(db::watchlists::upsert(&state.pool, &watchlist).await?)
}

pub async fn update(
    state: &AppState,
    id: Uuid,
    patch: UpdateWatchlist,
) -> Result<Watchlist, AppError> {
    let mut tx = state.pool.begin().await?;
    let mut watchlist = db::watchlists::get_for_update(&mut *tx, id)
        .await?
        .ok_or(AppError::NotFound("watchlist"))?;
    let now = state.clock.now();
    let mut reschedule = false;
    if let Some(name) = patch.name {
        watchlist.name = name.trim().to_owned();
    }
    if let Some(collection) = patch.collection {
        let project = db::projects::get(&mut *tx, watchlist.project_id)
            .await?
            .ok_or(AppError::NotFound("project"))?;
        (watchlist.provider, watchlist.collection) =
            plan_collection(state, &project.settings.providers.collect, collection)?;
    }
    if let Some(schedule) = patch.schedule {
        reschedule |= schedule != watchlist.schedule;
        watchlist.schedule = schedule;
    }
    if let Some(rules) = patch.rules {
        watchlist.rules = identify(rules, &watchlist.rules);
    }
    if let Some(paused) = patch.paused {
        // Resuming starts from now: ticks missed while paused were not wanted.
        reschedule |= watchlist.paused && !paused;
        watchlist.paused = paused;
    }
    if reschedule {
        watchlist.next_tick_at = watchlist.schedule.first_tick(now, watchlist.last_tick_at);
    }
    let watchlist = checked(watchlist)?;
    let stored = db::watchlists::upsert(&mut *tx, &watchlist).await?;
    tx.commit().await?;
    Ok(stored)
}

pub async fn list(
    state: &AppState,
    project_id: Uuid,
    query: &PageQuery,
) -> Result<Page<Watchlist>, AppError> {
    let page = query.parse()?;
    db::projects::get(&state.pool, project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let rows = db::watchlists::list(&state.pool, project_id, page).await?;
    Ok(Page::from_rows(rows, page.limit))
}

pub async fn get(state: &AppState, id: Uuid) -> Result<Watchlist, AppError> {
    db::watchlists::get(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound("watchlist"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::watchlist::RuleConditions;

    fn rule(name: &str, min_outlier_score: f64) -> NewRule {
        NewRule {
            name: Some(name.into()),
            conditions: RuleConditions {
                min_outlier_score: Some(min_outlier_score),
                ..RuleConditions::default()
            },
            auto_run: false,
            review: None,
        }
    }

    #[test]
    fn a_new_rule_reviews_when_flagged_and_an_unchanged_one_keeps_its_setting() {
        let stored = Rule {
            review: Review::Never,
            ..identify(vec![rule("stored before the setting", 2.0)], &[])[0].clone()
        };
        let updated = identify(
            vec![
                rule("unchanged", 2.0),
                rule("new", 3.0),
                NewRule {
                    review: Some(Review::Always),
                    ..rule("said", 4.0)
                },
            ],
            std::slice::from_ref(&stored),
        );
        assert_eq!(updated[0].id, stored.id);
        assert_eq!(updated[0].review, Review::Never);
        assert_eq!(updated[1].review, Review::WhenFlagged);
        assert_eq!(updated[2].review, Review::Always);
    }

    #[test]
    fn an_unchanged_rule_keeps_its_id_and_two_alike_do_not_share_one() {
        let first = identify(vec![rule("a", 2.0)], &[]);
        let again = identify(
            vec![rule("renamed", 2.0), rule("twin", 2.0), rule("b", 3.0)],
            &first,
        );
        assert_eq!(again[0].id, first[0].id);
        assert_ne!(again[1].id, first[0].id);
        assert_ne!(again[2].id, first[0].id);
    }
}
