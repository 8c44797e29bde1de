use async_trait::async_trait;

use super::{Completion, RewriteCall, Rewriter, TokenUsage};
use crate::{
    providers::{fake::FakeBehaviour, CallContext, ProviderError},
    script::fallback,
};

/// Answers a valid script from stock sentences, after the usual fake delay and failures.
pub struct FakeRewriter;

#[async_trait]
impl Rewriter for FakeRewriter {
    async fn complete(
        &self,
        call: &RewriteCall<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<Completion, ProviderError> {
        FakeBehaviour::from_options(call.options)?
            .perform(ctx)
            .await?;
        let text = fallback::write(call.contract, call.seed).ok_or_else(|| {
            ProviderError::fatal(
                "unsupported_language",
                format!(
                    "the fake writer has no sentences for `{}`",
                    call.contract.language
                ),
            )
        })?;
        Ok(Completion {
            text,
            model: "fake".into(),
            cut_off: false,
            usage: TokenUsage::default(),
        })
    }
}
