//! The legacy Assistants v2 path, for users who keep their instructions in an OpenAI assistant:
//! create a thread and run in one call, poll the run, read the newest message. The assistant's
//! own instructions replace our system prompt, so the constraints travel in the user message.
//! When this path fails the rewrite job falls back to Chat Completions and records it.

use crate::error_code::ErrorCode;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Completion, RewriteCall, Rewriter, TokenUsage};
use crate::providers::{
    http,
    openai_api::{OpenAiApi, PROVIDER},
    CallContext, ProviderError,
};

pub const NAME: &str = "openai_assistant";

pub struct AssistantRewriter {
    pub api: OpenAiApi,
    pub assistant_id: Option<String>,
    pub poll_start: Duration,
    pub poll_max: Duration,
    pub deadline: Duration,
}

#[derive(Debug, Deserialize)]
struct Run {
    id: String,
    thread_id: String,
    status: String,
    last_error: Option<Value>,
    usage: Option<RunUsage>,
    model: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RunUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

fn beta(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request.header("OpenAI-Beta", "assistants=v2")
}

impl AssistantRewriter {
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ProviderError> {
        let response = self
            .api
            .send(beta(self.api.request(reqwest::Method::GET, path)))
            .await?;
        http::json(PROVIDER, response).await
    }
}

#[async_trait]
impl Rewriter for AssistantRewriter {
    async fn complete(
        &self,
        call: &RewriteCall<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<Completion, ProviderError> {
        let assistant_id = call
            .options
            .assistant_id
            .clone()
            .or_else(|| self.assistant_id.clone())
            .ok_or_else(|| {
                ProviderError::fatal(
                    ErrorCode::NotConfigured,
                    "no assistant_id in the options or providers.openai.assistant_id",
                )
            })?;
        // The whole conversation goes into the thread; the rules lead the first message.
        let mut messages: Vec<Value> = call
            .messages
            .iter()
            .map(|m| json!({"role": m.role, "content": m.content}))
            .collect();
        if let Some(first) = messages.first_mut() {
            first["content"] = json!(format!(
                "{}\n\n{}",
                call.system,
                first["content"].as_str().unwrap_or_default()
            ));
        }
        let body = json!({"assistant_id": assistant_id, "thread": {"messages": messages}});
        let response = self
            .api
            .send(beta(self.api.request(reqwest::Method::POST, "/threads/runs")).json(&body))
            .await?;
        let mut run: Run = http::json(PROVIDER, response).await?;
        ctx.progress.report(20, "assistant run started").await;
        let started = Instant::now();
        let mut delay = self.poll_start;
        loop {
            match run.status.as_str() {
                "completed" => break,
                "queued" | "in_progress" | "cancelling" => {}
                other => {
                    let why = run
                        .last_error
                        .as_ref()
                        .and_then(|e| e.get("message"))
                        .and_then(Value::as_str)
                        .unwrap_or("no reason given");
                    return Err(ProviderError::fatal(
                        ErrorCode::ProviderJobFailed,
                        format!("the assistant run ended `{other}`: {why}"),
                    ));
                }
            }
            if started.elapsed() > self.deadline {
                return Err(ProviderError::retryable(format!(
                    "the assistant run {} did not finish in {:?}",
                    run.id, self.deadline
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.poll_max);
            run = self
                .get(&format!("/threads/{}/runs/{}", run.thread_id, run.id))
                .await?;
        }
        let messages: Value = self
            .get(&format!(
                "/threads/{}/messages?order=desc&limit=1",
                run.thread_id
            ))
            .await?;
        let text = messages
            .pointer("/data/0/content/0/text/value")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                http::bad_response(PROVIDER, "the thread's newest message has no text")
            })?;
        let usage = run.usage.map(|u| TokenUsage {
            prompt_tokens: u.prompt_tokens.unwrap_or(0),
            completion_tokens: u.completion_tokens.unwrap_or(0),
        });
        Ok(Completion {
            text: text.to_owned(),
            model: run
                .model
                .unwrap_or_else(|| format!("assistant:{assistant_id}")),
            cut_off: false,
            usage: usage.unwrap_or_default(),
        })
    }
}
