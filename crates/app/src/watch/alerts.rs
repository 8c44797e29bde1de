//! Alert rules, applied to the reels each watchlist collection merged (by the
//! `apply_alert_rules` job the collection queues as it commits): an alert is raised once per
//! rule and reel, announced on the event stream and to the project's webhook exactly when it is
//! stored.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    db::{self, watchlists::NewAlert},
    domain::job::CollectedReels,
    domain::{event::NewEvent, job::WebhookDelivery, watchlist::AlertRaised},
    jobs::webhook,
    jobs::{Handler, JobContext, JobError},
};

/// Applies the rules of the watchlist that started `collection_id` (if one did) to the reels it
/// merged; answers how many alerts were raised.
pub async fn on_collected(
    conn: &mut PgConnection,
    collection_id: Uuid,
    reel_ids: &[Uuid],
    now: DateTime<Utc>,
    webhook_attempts: i32,
) -> Result<usize, sqlx::Error> {
    let Some(watchlist) = db::watchlists::of_collection(&mut *conn, collection_id).await? else {
        return Ok(0);
    };
    if watchlist.rules.is_empty() || reel_ids.is_empty() {
        return Ok(0);
    }
    let reels = db::reels::get_many(&mut *conn, reel_ids).await?;
    let processed = db::reels::processed_among(&mut *conn, reel_ids).await?;
    let matches: Vec<NewAlert> = watchlist
        .rules
        .iter()
        .flat_map(|rule| {
            reels
                .iter()
                .filter(|reel| {
                    rule.conditions
                        .matches(reel, processed.contains(&reel.id), now)
                })
                .map(|reel| NewAlert {
                    rule_id: rule.id,
                    reel_id: reel.id,
                    metrics: reel.metrics.clone(),
                    auto_run: rule.auto_run,
                    review: rule.review,
                })
        })
        .collect();
    if matches.is_empty() {
        return Ok(0);
    }
    let alerts =
        db::watchlists::insert_alerts(&mut *conn, watchlist.project_id, watchlist.id, &matches)
            .await?;
    let mut events = Vec::with_capacity(alerts.len());
    for alert in &alerts {
        let reel = reels
            .iter()
            .find(|reel| reel.id == alert.reel_id)
            .expect("an alert is about a reel of the batch")
            .clone();
        let rule_name = watchlist
            .rules
            .iter()
            .find(|rule| rule.id == alert.rule_id)
            .and_then(|rule| rule.name.clone());
        events.push(NewEvent {
            kind: "alert".into(),
            project_id: Some(watchlist.project_id),
            resource_type: Some("alert"),
            resource_id: Some(alert.id),
            data: crate::domain::event::data(&AlertRaised {
                alert: alert.clone(),
                watchlist_name: watchlist.name.clone(),
                rule_name,
                reel,
            }),
        });
        webhook::queue(
            conn,
            watchlist.project_id,
            WebhookDelivery::Alert { alert_id: alert.id },
            webhook_attempts,
        )
        .await?;
    }
    db::events::append(conn, &events).await?;
    Ok(alerts.len())
}

/// The `apply_alert_rules` job: the rules of a watchlist's collection, applied in one
/// transaction.
pub struct ApplyAlertRules {
    pub webhook_attempts: i32,
}

#[async_trait::async_trait]
impl Handler for ApplyAlertRules {
    type Input = CollectedReels;
    /// How many alerts were raised.
    type Output = usize;

    async fn handle(&self, ctx: &JobContext, collected: CollectedReels) -> Result<usize, JobError> {
        let mut tx = ctx.pool().begin().await?;
        let raised = on_collected(
            &mut tx,
            collected.collection_id,
            &collected.reel_ids,
            chrono::Utc::now(),
            self.webhook_attempts,
        )
        .await?;
        tx.commit().await?;
        Ok(raised)
    }
}
