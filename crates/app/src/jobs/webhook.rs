//! Delivers a finished run or a raised alert to its project's webhook: a signed POST, retried by
//! the queue with its usual backoff until the receiver answers 2xx.

use crate::error_code::ErrorCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

use super::{JobContext, JobError, JobHandler};
use crate::{
    db,
    domain::webhook::{DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER},
    providers::{
        fetch::{self, UrlGuard},
        http,
    },
};

/// Delivers to receivers the media guard allows: a project owner must not be able to make the
/// service POST to its own internal network (hosts in `media.fetch_allow_hosts` are exempt).
pub struct DeliverWebhook {
    guard: UrlGuard,
    timeout: Duration,
}

impl DeliverWebhook {
    pub fn new(guard: UrlGuard, timeout: Duration) -> Self {
        DeliverWebhook { guard, timeout }
    }
}

/// Refuses a receiver the delivery guard would refuse, when the webhook is set rather than
/// first at delivery. A host that does not resolve yet is accepted: delivery checks again.
pub async fn check_receiver(
    settings: &crate::config::Settings,
    url: &str,
) -> Result<(), crate::error::AppError> {
    let guard = UrlGuard::new(&settings.media.fetch_allow_hosts);
    let url = reqwest::Url::parse(url)
        .map_err(|_| crate::error::AppError::validation("url", "must be an http or https URL"))?;
    match guard.check(&url).await {
        Err(crate::providers::ProviderError::Fatal { message, .. }) => {
            Err(crate::error::AppError::Validation(vec![
                crate::domain::project::FieldError::new("url", message),
            ]))
        }
        _ => Ok(()),
    }
}

/// `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`: the timestamp is signed with
/// the body so a captured delivery cannot be replayed later under a fresh one.
pub fn signature(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// What a webhook job delivers (its payload).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum WebhookDelivery {
    /// A run that ended or stopped for review; `event` is `run.succeeded`, `run.failed` or
    /// `run.awaiting_review`.
    Run { run_id: Uuid, event: String },
    /// A raised alert (`alert`).
    Alert { alert_id: Uuid },
}

/// Queues a delivery to the project's webhook, if it has one.
pub async fn queue(
    conn: &mut sqlx::PgConnection,
    project_id: Uuid,
    delivery: WebhookDelivery,
    max_attempts: i32,
) -> Result<(), sqlx::Error> {
    if db::webhooks::get(&mut *conn, project_id).await?.is_none() {
        return Ok(());
    }
    crate::jobs::queue::enqueue(
        conn,
        &db::jobs::NewJob {
            id: Uuid::new_v4(),
            kind: crate::domain::JobKind::Webhook,
            project_id: Some(project_id),
            resource: None,
            payload: serde_json::to_value(&delivery).expect("a delivery serializes"),
            max_attempts,
        },
    )
    .await?;
    Ok(())
}

/// The event name and the data of a delivery, as they are now; `None` when its subject is gone.
async fn subject(
    pool: &sqlx::PgPool,
    delivery: &WebhookDelivery,
) -> Result<Option<(Uuid, String, serde_json::Value)>, sqlx::Error> {
    match delivery {
        WebhookDelivery::Run { run_id, event } => {
            let Some(run) = db::runs::get(pool, *run_id).await? else {
                return Ok(None);
            };
            let mut runs = [run];
            db::usage::fill_runs(pool, &mut runs).await?;
            let [run] = runs;
            Ok(Some((run.project_id, event.clone(), json!(run))))
        }
        WebhookDelivery::Alert { alert_id } => {
            let Some(raised) = db::events::alert(pool, *alert_id).await? else {
                return Ok(None);
            };
            Ok(Some((
                raised.alert.project_id,
                "alert".to_owned(),
                json!(raised),
            )))
        }
    }
}

fn retry(message: String, retry_after: Option<Duration>) -> JobError {
    JobError::Retryable {
        code: ErrorCode::WebhookFailed,
        message,
        retry_after,
    }
}

#[async_trait]
impl JobHandler for DeliverWebhook {
    async fn run(&self, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
        let delivery: WebhookDelivery =
            serde_json::from_value(ctx.job.payload.clone()).map_err(|_| {
                JobError::fatal(
                    ErrorCode::InvalidJob,
                    "a webhook job needs a run and an event, or an alert",
                )
            })?;
        let Some((project_id, event, data)) = subject(ctx.pool(), &delivery).await? else {
            return Ok(json!({ "delivered": false, "reason": "its subject was deleted" }));
        };
        let Some(webhook) = db::webhooks::get(ctx.pool(), project_id).await? else {
            return Ok(json!({ "delivered": false, "reason": "the webhook was removed" }));
        };
        let event = event.as_str();
        let body = serde_json::to_vec(&json!({
            "id": ctx.job.id,
            "type": event,
            "created_at": ctx.job.created_at,
            "data": data,
        }))
        .map_err(|error| JobError::fatal(ErrorCode::OutputInvalid, error.to_string()))?;
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let signed = signature(webhook.secret.expose_secret().as_bytes(), timestamp, &body);
        let url = reqwest::Url::parse(&webhook.url).map_err(|error| {
            JobError::fatal(ErrorCode::UrlRefused, format!("not a URL: {error}"))
        })?;
        let client = fetch::pinned_client(&self.guard, &url, Some(self.timeout)).await?;
        let response = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signed)
            .header(DELIVERY_HEADER, ctx.job.id.to_string())
            .header(EVENT_HEADER, event)
            .body(body)
            .send()
            .await
            .map_err(|error| retry(format!("the webhook could not be reached: {error}"), None))?;
        let status = response.status();
        if status.is_success() {
            return Ok(json!({ "delivered": true, "status": status.as_u16(), "url": webhook.url }));
        }
        if status == reqwest::StatusCode::GONE {
            return Err(JobError::fatal(
                ErrorCode::WebhookGone,
                "the receiver answered 410 Gone; deliveries stop",
            ));
        }
        Err(retry(
            format!("the webhook answered {}", status.as_u16()),
            http::retry_after(response.headers()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_an_independent_hmac() {
        // From Python: hmac.new(b"key", b"1700000000.{}", hashlib.sha256).hexdigest()
        assert_eq!(
            signature(b"key", 1_700_000_000, b"{}"),
            "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }
}
