use crate::error_code::ErrorCode;
use async_trait::async_trait;

use crate::domain::options::StepOptions;

use super::{Completion, RewriteCall, Rewriter, TokenUsage};
use crate::{
    providers::{CallContext, ProviderError},
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
        call.options.fake().perform(ctx).await?;
        let text = fallback::write(call.contract, call.seed).ok_or_else(|| {
            ProviderError::fatal(
                ErrorCode::UnsupportedLanguage,
                format!(
                    "the fake writer has no sentences for `{}`",
                    call.contract.language
                ),
            )
        })?;
        // Counted as a tokenizer roughly would (four characters a token), so usage and cost
        // accounting can be followed without a model.
        let tokens = |chars: usize| (chars as u64).div_ceil(4);
        let prompt_chars = call.system.chars().count()
            + call
                .messages
                .iter()
                .map(|m| m.content.chars().count())
                .sum::<usize>();
        Ok(Completion {
            usage: TokenUsage {
                prompt_tokens: tokens(prompt_chars),
                completion_tokens: tokens(text.chars().count()),
            },
            text,
            model: "fake".into(),
            cut_off: false,
        })
    }
}
