//! The Apify REST client: the Instagram reel and hashtag scrapers, always run asynchronously.
//!
//! The synchronous endpoint stops answering after 300 s (408) while its run goes on, and no
//! header names that run: falling back to a second, asynchronous run would scrape and bill
//! twice. So every scrape starts with `POST /v2/acts/{actor}/runs`, the run's id is checkpointed
//! before anything else is asked, and a restarted job resumes polling that run
//! (`waitForFinish`, so Apify holds each poll until the run ends or a minute passes). The
//! dataset is then paged with `clean=true`, whose pages may hold fewer items than `limit`, or
//! none: only a page that scanned no rows ends it.

use crate::error_code::ErrorCode;
use std::{collections::BTreeMap, time::Duration};

use async_trait::async_trait;
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{CollectRequest, CollectTarget, Collector};
use crate::{
    http::{self, HttpFailureOr},
    CallContext, ProviderError,
};

pub use reelforge_vocab::domain::provider::apify::NAME;
const PROVIDER: &str = NAME;
const REEL_SCRAPER: &str = "apify~instagram-reel-scraper";
const HASHTAG_SCRAPER: &str = "apify~instagram-hashtag-scraper";
/// Raw dataset rows asked for per page.
const DATASET_PAGE: u64 = 1000;
/// How long Apify may hold a status poll open until the run ends (its maximum is 60 s).
const WAIT_FOR_FINISH: Duration = Duration::from_secs(60);
/// The run states after which nothing more happens, besides `SUCCEEDED`.
const FAILED_STATES: [&str; 3] = ["FAILED", "ABORTED", "TIMED-OUT"];

pub struct ApifyCollector {
    client: reqwest::Client,
    /// For status polls, which Apify holds open for up to [`WAIT_FOR_FINISH`].
    poll_timeout: Duration,
    base_url: String,
    token: SecretString,
    /// Pause between polls that came back before the run ended; doubles up to `poll_max`.
    poll_start: Duration,
    poll_max: Duration,
    /// How long one attempt waits for a run before it gives up (the retry resumes the run).
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

/// The runs this job started, by actor (a collection of accounts and hashtags runs two), so a
/// restarted job polls them instead of paying for new ones.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    #[serde(default)]
    apify_runs: BTreeMap<String, StartedRun>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StartedRun {
    id: String,
    dataset_id: Option<String>,
}

impl ApifyCollector {
    pub fn new(base_url: &str, token: SecretString, timeout: Duration) -> Self {
        ApifyCollector {
            client: http::client(timeout),
            poll_timeout: WAIT_FOR_FINISH + timeout,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token,
            poll_start: Duration::from_secs(1),
            poll_max: Duration::from_secs(10),
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

    /// Sends a request, answering the success or Apify's failure classified.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ProviderError> {
        http::send(PROVIDER, request).await.map_err(Self::classify)
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

    async fn checkpoint(ctx: &CallContext<'_>) -> Result<Checkpoint, ProviderError> {
        ctx.checkpoint(
            "the scrape's checkpoint",
            "check the account's Apify runs before collecting again",
        )
        .await
    }

    /// The run this job started for `actor`, or a new one, checkpointed before anything else.
    async fn started_run(
        &self,
        actor: &str,
        input: &Value,
        max_items: u32,
        ctx: &CallContext<'_>,
    ) -> Result<StartedRun, ProviderError> {
        let mut checkpoint = Self::checkpoint(ctx).await?;
        if let Some(run) = checkpoint.apify_runs.get(actor) {
            ctx.progress.report(10, "resuming the scraper run").await;
            return Ok(run.clone());
        }
        let request = self
            .request(reqwest::Method::POST, &format!("/v2/acts/{actor}/runs"))
            .query(&[("maxItems", max_items)])
            .json(input);
        let run = http::json::<RunEnvelope>(PROVIDER, self.send(request).await?)
            .await?
            .data;
        let run = StartedRun {
            id: run.id,
            dataset_id: run.default_dataset_id,
        };
        checkpoint.apify_runs.insert(actor.to_owned(), run.clone());
        ctx.save_checkpoint(&checkpoint).await?;
        ctx.progress.report(10, "scraper running").await;
        Ok(run)
    }

    /// Polls the run until it ends; answers the finished run.
    async fn finished(&self, run_id: &str) -> Result<Run, ProviderError> {
        let started = tokio::time::Instant::now();
        let mut delay = self.poll_start;
        loop {
            let request = self
                .request(reqwest::Method::GET, &format!("/v2/actor-runs/{run_id}"))
                .query(&[("waitForFinish", WAIT_FOR_FINISH.as_secs())])
                .timeout(self.poll_timeout);
            let run = http::json::<RunEnvelope>(PROVIDER, self.send(request).await?)
                .await?
                .data;
            if run.status == "SUCCEEDED" || FAILED_STATES.contains(&run.status.as_str()) {
                return Ok(run);
            }
            if started.elapsed() > self.run_deadline {
                return Err(ProviderError::retryable(format!(
                    "the apify run {run_id} is still {}",
                    run.status
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.poll_max);
        }
    }

    /// Runs `actor` (or resumes the run this job started) and reads its dataset.
    async fn run(
        &self,
        actor: &str,
        input: &Value,
        max_items: u32,
        ctx: &CallContext<'_>,
    ) -> Result<Vec<Value>, ProviderError> {
        let started = self.started_run(actor, input, max_items, ctx).await?;
        let run = self.finished(&started.id).await?;
        if run.status != "SUCCEEDED" {
            // The run is over and paid for; a retry of this job asks for a new one.
            let mut checkpoint = Self::checkpoint(ctx).await?;
            checkpoint.apify_runs.remove(actor);
            ctx.save_checkpoint(&checkpoint).await?;
            return Err(ProviderError::fatal(
                ErrorCode::ProviderJobFailed,
                format!(
                    "the apify run {} ended {}: {}",
                    run.id,
                    run.status,
                    run.status_message.as_deref().unwrap_or("no message")
                ),
            ));
        }
        let dataset = run
            .default_dataset_id
            .or(started.dataset_id)
            .ok_or_else(|| {
                http::bad_response(PROVIDER, "a finished run without defaultDatasetId")
            })?;
        ctx.progress.report(60, "reading results").await;
        self.read_dataset(&dataset, max_items as usize).await
    }

    /// Pages through the dataset. `offset` and `limit` count raw rows and `clean` filters after
    /// them, so a page may be short or empty mid-dataset: the offset moves by the rows Apify
    /// says it scanned (`X-Apify-Pagination-Count`), and only a page that scanned none ends.
    async fn read_dataset(
        &self,
        dataset: &str,
        max_items: usize,
    ) -> Result<Vec<Value>, ProviderError> {
        let mut items = Vec::new();
        let mut offset = 0;
        while items.len() < max_items {
            let request = self
                .request(
                    reqwest::Method::GET,
                    &format!("/v2/datasets/{dataset}/items"),
                )
                .query(&[("clean", "true"), ("format", "json")])
                .query(&[("offset", offset), ("limit", DATASET_PAGE)]);
            let response = self.send(request).await?;
            let scanned = scanned_rows(response.headers());
            let page: Vec<Value> = http::json(PROVIDER, response).await?;
            // Without the header, an empty page is the only end that can be told.
            let scanned = scanned.unwrap_or(if page.is_empty() { 0 } else { DATASET_PAGE });
            if scanned == 0 {
                break;
            }
            items.extend(page);
            offset += scanned;
        }
        items.truncate(max_items);
        Ok(items)
    }
}

/// The raw rows a dataset page scanned, as Apify reports them.
fn scanned_rows(headers: &HeaderMap) -> Option<u64> {
    headers
        .get("x-apify-pagination-count")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
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
        ctx.progress.report(5, "starting scraper").await;
        self.run(actor, &input, request.max_items(), ctx).await
    }
}
