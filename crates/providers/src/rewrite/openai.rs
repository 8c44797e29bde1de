//! Chat Completions on any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp, the local
//! engine). The request is shaped by the model: reasoning models (o-series, gpt-5 and later)
//! refuse `max_tokens` and any temperature but their default, so they get
//! `max_completion_tokens` and no temperature; other models keep `max_tokens`, which every
//! compatible server reads. A server that still refuses one of those parameters by name (a model
//! the name rule does not know) is asked again without it.

use crate::error_code::ErrorCode;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::{collections::HashMap, sync::Mutex};

use super::{ChatMessage, Completion, RewriteCall, Rewriter, TokenUsage};
use crate::{
    http,
    openai_api::{OpenAiApi, SendError, PROVIDER},
    CallContext, ProviderError,
};

pub const NAME: &str = "openai";
/// Enough for 120 Russian words (about 3 tokens each) with room to spare.
const DEFAULT_MAX_TOKENS: u32 = 1024;
/// A reasoning model's `max_completion_tokens` counts its hidden reasoning too: this much is
/// added to the visible answer's cap, so thinking does not leave the answer empty.
const REASONING_TOKENS: u32 = 4096;
const DEFAULT_TEMPERATURE: f64 = 0.8;

pub use reelforge_vocab::domain::provider::chat::is_reasoning_model;

pub struct ChatRewriter {
    api: OpenAiApi,
    model: String,
    /// The server takes a GBNF `grammar` (llama.cpp): send the call's.
    grammar: bool,
    /// Shapes the server taught by refusing a parameter, by model, so that later calls ask
    /// right the first time.
    learned: Mutex<HashMap<String, Shape>>,
}

/// How the model takes its answer's cap and its temperature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    /// `max_completion_tokens` rather than `max_tokens`.
    completion_tokens: bool,
    /// A temperature is sent.
    temperature: bool,
}

impl Shape {
    fn of(model: &str) -> Self {
        let reasoning = is_reasoning_model(model);
        Shape {
            completion_tokens: reasoning,
            temperature: !reasoning,
        }
    }

    /// The shape without `param`, which the server refused; none when that changes nothing.
    fn without(self, param: &str) -> Option<Self> {
        match param {
            "max_tokens" if !self.completion_tokens => Some(Shape {
                completion_tokens: true,
                ..self
            }),
            "temperature" if self.temperature => Some(Shape {
                temperature: false,
                ..self
            }),
            _ => None,
        }
    }
}

/// The body of `POST /chat/completions`.
#[derive(Debug, Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: Vec<ChatMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    grammar: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<&'a Value>,
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
    /// Why the model declined, when it did (OpenAI); the content is then empty.
    refusal: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

impl ChatRewriter {
    pub fn new(api: OpenAiApi, model: impl Into<String>, grammar: bool) -> Self {
        ChatRewriter {
            api,
            model: model.into(),
            grammar,
            learned: Mutex::default(),
        }
    }

    fn model<'a>(&'a self, call: &'a RewriteCall<'_>) -> &'a str {
        call.options.model.as_deref().unwrap_or(&self.model)
    }

    fn body<'a>(&'a self, call: &'a RewriteCall<'_>, shape: Shape) -> ChatRequest<'a> {
        let mut messages = vec![ChatMessage {
            role: "system".into(),
            content: call.system.to_owned(),
        }];
        messages.extend(call.messages.iter().cloned());
        let options = call.options;
        let max_tokens = options.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
        let cap = call
            .max_tokens
            .map_or(max_tokens, |cap| cap.min(max_tokens));
        // A server that takes a grammar gets it (llama.cpp takes a grammar or a schema, not
        // both): it bounds lengths a schema cannot; others get the JSON schema.
        let grammar = call.grammar.filter(|_| self.grammar);
        ChatRequest {
            model: self.model(call),
            messages,
            temperature: shape
                .temperature
                .then(|| options.temperature.unwrap_or(DEFAULT_TEMPERATURE)),
            max_tokens: (!shape.completion_tokens).then_some(cap),
            max_completion_tokens: shape
                .completion_tokens
                .then(|| cap.saturating_add(REASONING_TOKENS)),
            seed: call.seed,
            grammar,
            response_format: call.response_format.filter(|_| grammar.is_none()),
        }
    }

    /// Asks in the model's shape; a parameter the server refuses by name is left out and the
    /// question asked again, once per parameter.
    async fn ask(&self, call: &RewriteCall<'_>) -> Result<reqwest::Response, ProviderError> {
        let model = self.model(call);
        let mut shape = self
            .learned
            .lock()
            .ok()
            .and_then(|shapes| shapes.get(model).copied())
            .unwrap_or_else(|| Shape::of(model));
        loop {
            let request = self
                .api
                .request(reqwest::Method::POST, "/chat/completions")
                .json(&self.body(call, shape));
            match self.api.send_adaptable(request).await {
                Ok(response) => return Ok(response),
                Err(SendError::RefusedParameter { param, error }) => match shape.without(&param) {
                    Some(adapted) => {
                        tracing::info!(%param, model, "the server refused a parameter; asking without it");
                        shape = adapted;
                        if let Ok(mut shapes) = self.learned.lock() {
                            shapes.insert(model.to_owned(), shape);
                        }
                    }
                    None => return Err(error),
                },
                Err(SendError::Other(error)) => return Err(error),
            }
        }
    }
}

#[async_trait]
impl Rewriter for ChatRewriter {
    async fn complete(
        &self,
        call: &RewriteCall<'_>,
        _ctx: &CallContext<'_>,
    ) -> Result<Completion, ProviderError> {
        let response = self.ask(call).await?;
        let answer: ChatResponse = http::json(PROVIDER, response).await?;
        let choice = answer
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| http::bad_response(PROVIDER, "no choices in the answer"))?;
        let finish_reason = choice.finish_reason.unwrap_or_default();
        let (text, refusal) = choice
            .message
            .map(|m| (m.content.unwrap_or_default(), m.refusal))
            .unwrap_or_default();
        if let Some(refusal) = refusal.filter(|r| !r.trim().is_empty()) {
            return Err(ProviderError::fatal(
                ErrorCode::ModelRefused,
                format!("the model refused to write it: {}", refusal.trim()),
            ));
        }
        if text.trim().is_empty() {
            return Err(match finish_reason.as_str() {
                "content_filter" => ProviderError::fatal(
                    ErrorCode::ContentFiltered,
                    "the model's content filter refused to write this script",
                ),
                "length" if is_reasoning_model(self.model(call)) => http::bad_response(
                    PROVIDER,
                    "the reasoning model spent its max_completion_tokens thinking and wrote nothing; raise options.max_tokens",
                ),
                _ => http::bad_response(
                    PROVIDER,
                    format!("an empty answer (finish_reason `{finish_reason}`)"),
                ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_models_are_told_by_name() {
        for model in [
            "o1",
            "o1-mini",
            "o3",
            "o3-mini-2025-01-31",
            "o4-mini",
            "gpt-5",
            "gpt-5-mini",
            "gpt-5.1",
            "GPT-5.2-codex",
            "openai/gpt-5-nano",
            "gpt-6",
        ] {
            assert!(is_reasoning_model(model), "{model}");
        }
        for model in [
            "gpt-4o-mini",
            "gpt-4.1",
            "gpt-4o",
            "gpt-3.5-turbo",
            "gpt-oss-20b",
            "llama3.1:8b",
            "qwen2.5-coder-1.5b-instruct",
            "omni-moderation-latest",
            "o",
        ] {
            assert!(!is_reasoning_model(model), "{model}");
        }
    }

    #[test]
    fn each_refused_parameter_is_left_out_once() {
        let chat = Shape::of("gpt-4o-mini");
        assert_eq!(
            chat,
            Shape {
                completion_tokens: false,
                temperature: true
            }
        );
        let adapted = chat.without("max_tokens").unwrap();
        assert!(adapted.completion_tokens && adapted.temperature);
        let adapted = adapted.without("temperature").unwrap();
        assert_eq!(adapted, Shape::of("o3"));
        assert_eq!(adapted.without("max_tokens"), None);
        assert_eq!(adapted.without("temperature"), None);
        assert_eq!(chat.without("messages"), None);
    }
}
