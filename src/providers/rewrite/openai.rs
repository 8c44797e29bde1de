//! Chat Completions on any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp, the local
//! engine).

use crate::error_code::ErrorCode;
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Completion, RewriteCall, Rewriter, TokenUsage};
use crate::providers::{
    http,
    openai_api::{OpenAiApi, PROVIDER},
    CallContext, ProviderError,
};

pub const NAME: &str = "openai";
/// Enough for 120 Russian words (about 3 tokens each) with room to spare.
const DEFAULT_MAX_TOKENS: u32 = 1024;

pub struct ChatRewriter {
    pub api: OpenAiApi,
    pub model: String,
    /// The server takes a GBNF `grammar` (llama.cpp): send the call's.
    pub grammar: bool,
}

#[derive(Debug, Deserialize)]
struct ChatResponse {
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: Option<Message>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Message {
    content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

impl ChatRewriter {
    fn body(&self, call: &RewriteCall<'_>) -> Value {
        let mut messages = vec![json!({"role": "system", "content": call.system})];
        messages.extend(
            call.messages
                .iter()
                .map(|m| json!({"role": m.role, "content": m.content})),
        );
        let options = call.options;
        let max_tokens = options.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
        let mut body = json!({
            "model": options.model.as_deref().unwrap_or(&self.model),
            "messages": messages,
            "temperature": options.temperature.unwrap_or(0.8),
            "max_tokens": call.max_tokens.map_or(max_tokens, |cap| cap.min(max_tokens)),
            "seed": call.seed,
        });
        // A server that takes a grammar gets it (llama.cpp takes a grammar or a schema, not
        // both): it bounds lengths a schema cannot; others get the JSON schema.
        if let (true, Some(grammar)) = (self.grammar, call.grammar) {
            body["grammar"] = json!(grammar);
        } else if let Some(format) = call.response_format {
            body["response_format"] = format.clone();
        }
        body
    }
}

#[async_trait]
impl Rewriter for ChatRewriter {
    async fn complete(
        &self,
        call: &RewriteCall<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<Completion, ProviderError> {
        ctx.progress.report(20, "asking the model").await;
        let response = self
            .api
            .send(
                self.api
                    .request(reqwest::Method::POST, "/chat/completions")
                    .json(&self.body(call)),
            )
            .await?;
        let answer: ChatResponse = http::json(PROVIDER, response).await?;
        let choice = answer
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| http::bad_response(PROVIDER, "no choices in the answer"))?;
        let finish_reason = choice.finish_reason.unwrap_or_default();
        let text = choice.message.and_then(|m| m.content).unwrap_or_default();
        if text.trim().is_empty() {
            return Err(if finish_reason == "content_filter" {
                ProviderError::fatal(
                    ErrorCode::ContentFiltered,
                    "the model's content filter refused to write this script",
                )
            } else {
                http::bad_response(
                    PROVIDER,
                    format!("an empty answer (finish_reason `{finish_reason}`)"),
                )
            });
        }
        let usage = answer.usage.map(|u| TokenUsage {
            prompt_tokens: u.prompt_tokens.unwrap_or(0),
            completion_tokens: u.completion_tokens.unwrap_or(0),
        });
        Ok(Completion {
            text,
            model: answer.model.unwrap_or_else(|| self.model.clone()),
            cut_off: finish_reason == "length",
            usage: usage.unwrap_or_default(),
        })
    }

    fn model_billions(&self, options: &crate::domain::options::RewriteOptions) -> Option<f64> {
        super::billions_in_name(options.model.as_deref().unwrap_or(&self.model))
    }
}
