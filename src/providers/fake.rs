//! Shared behaviour of the `fake` providers: instant, deterministic, and able to fail or stall on
//! request so tests can drive every job path (options `delay_ms`, `fail`, `fail_attempts`).

use crate::error_code::ErrorCode;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{CallContext, ProviderError};

pub const NAME: &str = "fake";

/// How a fake provider fails when a test asks it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    Retryable,
    Fatal,
    /// Report success without writing the step's file (voice and render).
    NoOutput,
    /// Panic, as a bug in a step would.
    Panic,
}

/// The fake providers' test knobs, read from the step's options.
#[derive(Debug, Clone, Default)]
pub struct FakeBehaviour {
    /// Time spent per progress step (four steps).
    pub delay_ms: u64,
    pub fail: Option<FailMode>,
    /// Fail only the first N attempts; 0 means every attempt.
    pub fail_attempts: u32,
}

impl FakeBehaviour {
    /// Whether the provider should skip writing its file and still report success.
    pub fn withholds_output(&self) -> bool {
        self.fail == Some(FailMode::NoOutput)
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
