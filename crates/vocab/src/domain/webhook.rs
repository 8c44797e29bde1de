//! A project's completion webhook: a signed POST when each run finishes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::project::FieldError;

/// The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "Reelforge-Signature";
/// The delivery's id, the same on every retry, so receivers can drop repeats.
pub const DELIVERY_HEADER: &str = "Reelforge-Delivery";
pub const EVENT_HEADER: &str = "Reelforge-Event";

const SECRET_MIN_CHARS: usize = 16;
const SECRET_MAX_CHARS: usize = 256;
const URL_MAX_CHARS: usize = 2048;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutWebhook {
    /// Where finished runs are POSTed (`http` or `https`).
    #[schema(example = "https://example.com/hooks/reelforge")]
    pub url: String,
    /// Signs every delivery (HMAC-SHA256); 16 to 256 characters. Never returned.
    #[schema(example = "whsec_3f9c2e7a1b8d4c6e")]
    pub secret: String,
}

impl PutWebhook {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        match url::Url::parse(&self.url) {
            _ if self.url.len() > URL_MAX_CHARS => errors.push(FieldError::new(
                "url",
                format!("must be at most {URL_MAX_CHARS} characters"),
            )),
            // The URL parser would quietly percent-encode them; a client sent them by mistake.
            _ if super::storable::label_problem(&self.url).is_some() => errors.push(
                FieldError::new("url", "must not contain control characters"),
            ),
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            _ => errors.push(FieldError::new("url", "must be an http or https URL")),
        }
        if let Some(problem) = super::storable::text_problem(&self.secret) {
            errors.push(FieldError::new("secret", problem));
        } else if !(SECRET_MIN_CHARS..=SECRET_MAX_CHARS).contains(&self.secret.chars().count()) {
            errors.push(FieldError::new(
                "secret",
                format!("must be {SECRET_MIN_CHARS} to {SECRET_MAX_CHARS} characters"),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// A webhook as the API shows it: the secret stays hidden.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookInfo {
    pub url: String,
    /// Always true: a webhook cannot exist without its secret.
    pub secret_set: bool,
    /// The header to verify: `t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>.<raw body>">`.
    #[schema(example = "Reelforge-Signature")]
    pub signature_header: String,
    pub updated_at: DateTime<Utc>,
}

impl WebhookInfo {
    pub fn new(url: String, updated_at: DateTime<Utc>) -> Self {
        WebhookInfo {
            url,
            secret_set: true,
            signature_header: SIGNATURE_HEADER.to_owned(),
            updated_at,
        }
    }
}
