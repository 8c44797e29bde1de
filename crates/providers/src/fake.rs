//! Shared behaviour of the `fake` providers: instant, deterministic, and able to fail or stall on
//! request so tests can drive every job path (options `delay_ms`, `fail`, `fail_attempts`).

use crate::error_code::ErrorCode;
use std::time::Duration;

use super::{CallContext, ProviderError};

pub use reelforge_vocab::domain::provider::fake::{FailMode, FakeBehaviour, NAME};

/// Runs a fake step.
#[allow(async_fn_in_trait)]
pub trait Perform {
    /// Walks through four progress stages, then fails if told to.
    async fn perform(&self, ctx: &CallContext<'_>) -> Result<(), ProviderError>;
}

impl Perform for FakeBehaviour {
    async fn perform(&self, ctx: &CallContext<'_>) -> Result<(), ProviderError> {
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
        if failing && self.fail == Some(FailMode::Panic) {
            panic!("fake provider panicked on purpose");
        }
        match self.fail {
            Some(FailMode::Retryable) if failing => Err(ProviderError::Retryable {
                message: format!("fake provider failed attempt {} on purpose", ctx.attempt),
                retry_after: Some(Duration::ZERO),
            }),
            Some(FailMode::Fatal) if failing => Err(ProviderError::fatal(
                ErrorCode::FakeFailure,
                "fake provider failed on purpose",
            )),
            _ => Ok(()),
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
