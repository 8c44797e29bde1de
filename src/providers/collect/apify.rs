//! The Apify REST client: Instagram reel and hashtag scrapers, run synchronously for small runs
//! and asynchronously (start, poll, page through the dataset) for large ones or when the
//! synchronous call times out (408).

use crate::error_code::ErrorCode;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{CollectRequest, CollectTarget, Collector};
use crate::providers::{
    http::{self, HttpFailureOr},
    CallContext, ProviderError,
};

pub const NAME: &str = "apify";
const PROVIDER: &str = NAME;
const REEL_SCRAPER: &str = "apify~instagram-reel-scraper";
const HASHTAG_SCRAPER: &str = "apify~instagram-hashtag-scraper";
/// Runs expected to return more items than this go straight to the asynchronous form.
const SYNC_MAX_ITEMS: u32 = 200;
const DATASET_PAGE: usize = 1000;

pub struct ApifyCollector {
    client: reqwest::Client,
    base_url: String,
    token: SecretString,
    /// First poll delay; doubles up to `poll_max`.
    poll_start: Duration,
    poll_max: Duration,
    /// How long an asynchronous run may take before the attempt gives up (and is retried).
    run_deadline: Duration,
}

#[derive(Debug, Deserialize)]
struct RunEnvelope {
    data: Run,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    id: String,
    status: String,
    default_dataset_id: Option<String>,
    status_message: Option<String>,
}

impl ApifyCollector {
    pub fn new(base_url: &str, token: SecretString, timeout: Duration) -> Self {
        ApifyCollector {
            client: http::client(timeout),
            base_url: base_url.trim_end_matches('/').to_owned(),
            token,
            poll_start: Duration::from_secs(2),
            poll_max: Duration::from_secs(30),
            run_deadline: Duration::from_secs(60 * 60),
        }
    }

    /// Shorter polling for tests against a local stand-in.
    pub fn with_polling(mut self, start: Duration, max: Duration, deadline: Duration) -> Self {
        self.poll_start = start;
        self.poll_max = max;
        self.run_deadline = deadline;
        self
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(self.token.expose_secret())
    }

    /// Apify answers 402/403 when the account is out of credit or the actor is not rented.
    fn classify(failure: HttpFailureOr) -> ProviderError {
        match failure {
            HttpFailureOr::Status(failure) if matches!(failure.status.as_u16(), 402 | 403) => {
                ProviderError::fatal(
                    ErrorCode::ProviderOutOfCredit,
                    format!(
                        "apify refused the run ({}): {}",
                        failure.status.as_u16(),
                        failure.excerpt()
                    ),
                )
            }
            other => other.into(),
        }
    }

    async fn run_sync(
        &self,
        actor: &str,
        input: &Value,
        max_items: u32,
    ) -> Result<Option<Vec<Value>>, ProviderError> {
        let request = self
            .request(
                reqwest::Method::POST,
                &format!("/v2/acts/{actor}/run-sync-get-dataset-items"),
            )
            .query(&[
                ("maxItems", max_items.to_string()),
                ("timeout", "300".into()),
                ("format", "json".into()),
            ])
            .json(input);
        match http::send(PROVIDER, request).await {
            Ok(response) => http::json::<Vec<Value>>(PROVIDER, response).await.map(Some),
            // The run outlived the synchronous window; it goes on, but its items must be
            // fetched the asynchronous way.
            Err(HttpFailureOr::Status(failure)) if failure.status.as_u16() == 408 => Ok(None),
            Err(failure) => Err(Self::classify(failure)),
        }
    }

    async fn run_async(
        &self,
        actor: &str,
        input: &Value,
        max_items: u32,
        ctx: &CallContext<'_>,
    ) -> Result<Vec<Value>, ProviderError> {
        let request = self
            .request(reqwest::Method::POST, &format!("/v2/acts/{actor}/runs"))
            .query(&[("maxItems", max_items.to_string())])
            .json(input);
        let response = http::send(PROVIDER, request)
            .await
            .map_err(Self::classify)?;
        let mut run = http::json::<RunEnvelope>(PROVIDER, response).await?.data;
        ctx.progress.report(10, "scraper running").await;

        let started = tokio::time::Instant::now();
        let mut delay = self.poll_start;
        while run.status != "SUCCEEDED" {
            match run.status.as_str() {
                "FAILED" | "ABORTED" | "TIMED-OUT" => {
                    return Err(ProviderError::fatal(
                        ErrorCode::ProviderJobFailed,
                        format!(
                            "the apify run {} ended {}: {}",
                            run.id,
                            run.status,
                            run.status_message.as_deref().unwrap_or("no message")
                        ),
                    ))
                }
                _ if started.elapsed() > self.run_deadline => {
                    return Err(ProviderError::retryable(format!(
                        "the apify run {} is still {}",
                        run.id, run.status
                    )))
                }
                _ => {}
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.poll_max);
            let response = http::send(
                PROVIDER,
                self.request(reqwest::Method::GET, &format!("/v2/actor-runs/{}", run.id)),
            )
            .await
            .map_err(Self::classify)?;
            run = http::json::<RunEnvelope>(PROVIDER, response).await?.data;
        }
        let dataset = run.default_dataset_id.ok_or_else(|| {
            http::bad_response(PROVIDER, "a finished run without defaultDatasetId")
        })?;
        ctx.progress.report(60, "reading results").await;
        self.read_dataset(&dataset, max_items as usize).await
    }

    async fn read_dataset(
        &self,
        dataset: &str,
        max_items: usize,
    ) -> Result<Vec<Value>, ProviderError> {
        let mut items = Vec::new();
        loop {
            let limit = DATASET_PAGE.min(max_items - items.len());
            let request = self
                .request(
                    reqwest::Method::GET,
                    &format!("/v2/datasets/{dataset}/items"),
                )
                .query(&[("clean", "true"), ("format", "json")])
                .query(&[("offset", items.len()), ("limit", limit)]);
            let response = http::send(PROVIDER, request)
                .await
                .map_err(Self::classify)?;
            let page: Vec<Value> = http::json(PROVIDER, response).await?;
            let last_page = page.len() < limit;
            items.extend(page);
            if last_page || items.len() >= max_items {
                return Ok(items);
            }
        }
    }
}

/// The actor and its input for a request, per the actors' documented inputs.
pub fn actor_input(request: &CollectRequest) -> (&'static str, Value) {
    match &request.target {
        CollectTarget::Accounts(accounts) => {
            let mut input = json!({
                "username": accounts,
                "resultsLimit": request.per_source_limit,
                "skipPinnedPosts": true,
            });
            if let Some(newer) = &request.newer_than {
                input["onlyPostsNewerThan"] = json!(newer);
            }
            (REEL_SCRAPER, input)
        }
        CollectTarget::Hashtags(tags) => {
            let tags: Vec<&str> = tags.iter().map(|t| t.trim_start_matches('#')).collect();
            (
                HASHTAG_SCRAPER,
                json!({ "hashtags": tags, "resultsType": "reels", "resultsLimit": request.per_source_limit }),
            )
        }
    }
}

#[async_trait]
impl Collector for ApifyCollector {
    async fn collect(
        &self,
        request: &CollectRequest,
        ctx: &CallContext<'_>,
    ) -> Result<Vec<Value>, ProviderError> {
        let (actor, input) = actor_input(request);
        let max_items = request.max_items();
        ctx.progress.report(5, "starting scraper").await;
        if max_items <= SYNC_MAX_ITEMS {
            if let Some(items) = self.run_sync(actor, &input, max_items).await? {
                return Ok(items);
            }
        }
        self.run_async(actor, &input, max_items, ctx).await
    }
}
