//! Shared behaviour of the `fake` providers: instant, deterministic, and able to fail or stall on
//! request so tests can drive every job path (options `delay_ms`, `fail`, `fail_attempts`).

use std::time::Duration;

use serde::Deserialize;

use super::{CallContext, ProviderError};

pub const NAME: &str = "fake";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FakeBehaviour {
    /// Time spent per progress step (four steps).
    pub delay_ms: u64,
    /// `retryable` or `fatal`.
    pub fail: Option<String>,
    /// Fail only the first N attempts; 0 means every attempt.
    pub fail_attempts: u32,
}

impl FakeBehaviour {
    pub fn from_options(options: &serde_json::Value) -> Result<Self, ProviderError> {
        serde_json::from_value(options.clone()).map_err(|error| {
            ProviderError::fatal("invalid_options", format!("fake provider options: {error}"))
        })
    }

    /// Walks through four progress stages, then fails if told to.
    pub async fn perform(&self, ctx: &CallContext<'_>) -> Result<(), ProviderError> {
        for (percent, stage) in [
            (25, "starting"),
            (50, "working"),
            (75, "finishing"),
            (90, "saving"),
        ] {
            if self.delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(self.delay_ms)).await;
            }
            ctx.progress.report(percent, stage).await;
        }
        let failing = self.fail_attempts == 0 || ctx.attempt <= self.fail_attempts;
        match self.fail.as_deref() {
            Some("retryable") if failing => Err(ProviderError::Retryable {
                message: format!("fake provider failed attempt {} on purpose", ctx.attempt),
                retry_after: Some(Duration::ZERO),
            }),
            Some("fatal") if failing => Err(ProviderError::fatal(
                "fake_failure",
                "fake provider failed on purpose",
            )),
            Some("retryable" | "fatal") | None => Ok(()),
            Some(other) => Err(ProviderError::fatal(
                "invalid_options",
                format!("fake provider: `fail` must be `retryable` or `fatal`, not `{other}`"),
            )),
        }
    }
}

/// Deterministic text of about `words` words, so downstream steps get realistic sizes.
pub fn sentence_text(language: &str, words: usize) -> String {
    let sentence: &[&str] = if language.starts_with("ru") {
        &[
            "Каждый",
            "день",
            "делай",
            "один",
            "шаг",
            "к",
            "своей",
            "цели.",
        ]
    } else {
        &[
            "Every", "day", "take", "one", "step", "toward", "your", "goal.",
        ]
    };
    sentence
        .iter()
        .cycle()
        .take(words)
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}
