use async_trait::async_trait;

use super::{RewriteRequest, Rewriter, ScriptDraft};
use crate::providers::{
    fake::{sentence_text, FakeBehaviour},
    CallContext, ProviderError,
};

pub struct FakeRewriter;

#[async_trait]
impl Rewriter for FakeRewriter {
    async fn rewrite(
        &self,
        request: &RewriteRequest,
        ctx: &CallContext<'_>,
    ) -> Result<ScriptDraft, ProviderError> {
        FakeBehaviour::from_options(&request.options)?
            .perform(ctx)
            .await?;
        let middle = (request.words.min + request.words.max) / 2;
        Ok(ScriptDraft {
            text: sentence_text(&request.language, middle as usize),
            language: request.language.clone(),
            model: "fake".into(),
        })
    }
}
