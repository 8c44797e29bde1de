//! The Apify client against a local stand-in that answers as Apify documents: asynchronous
//! runs through their states, datasets paged on raw rows with `clean=true` (short and empty
//! pages mid-dataset), and the `{"error": {"type", "message"}}` failures.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use crate::helpers::{call_context, MemoryCheckpoints};
use reelforge::providers::{
    collect::{
        apify::ApifyCollector, normalize::normalize_all, CollectRequest, CollectTarget, Collector,
    },
    ProviderError,
};
use secrecy::SecretString;
use serde_json::{json, Value};
use wiremock::{
    matchers::{body_partial_json, header, method, path, query_param},
    Mock, MockServer, Request, Respond, ResponseTemplate,
};

pub const REEL_SCRAPER: &str = "apify~instagram-reel-scraper";
pub const HASHTAG_SCRAPER: &str = "apify~instagram-hashtag-scraper";
const RUN: &str = "/v2/actor-runs/run1";
const DATASET: &str = "/v2/datasets/ds1/items";

/// Apify's error body.
pub fn apify_error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"error": {"type": kind, "message": message}}))
}

/// A run object as `POST /v2/acts/{actor}/runs` and `GET /v2/actor-runs/{id}` answer it.
fn run(status: &str, message: Option<&str>) -> Value {
    json!({"data": {
        "id": "run1", "actId": "reGe1ST3OBgYZSsZJ", "status": status, "statusMessage": message,
        "startedAt": "2026-12-06T10:00:00.000Z", "defaultDatasetId": "ds1",
        "defaultKeyValueStoreId": "kv1", "options": {"timeoutSecs": 3600, "memoryMbytes": 1024}
    }})
}

/// The run's states, one per poll, the last one repeated.
struct RunStates {
    states: Vec<&'static str>,
    message: Option<&'static str>,
    polls: AtomicUsize,
}

impl Respond for RunStates {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let poll = self.polls.fetch_add(1, Ordering::SeqCst);
        let state = self.states[poll.min(self.states.len() - 1)];
        ResponseTemplate::new(200).set_body_json(run(state, self.message))
    }
}

/// A dataset of raw rows, `{}` among them. `offset` and `limit` count raw rows and
/// `clean=true` drops the empty ones after that, so a page may be short or empty; the
/// pagination headers say what was scanned, and `Total` lags behind.
struct Dataset(Vec<Value>);

impl Respond for Dataset {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let query = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        let number = |name: &str, default: usize| {
            query(name)
                .and_then(|value| value.parse().ok())
                .unwrap_or(default)
        };
        let rows = &self.0;
        let offset = number("offset", 0).min(rows.len());
        let limit = number("limit", rows.len());
        let scanned = &rows[offset..(offset + limit).min(rows.len())];
        let clean = query("clean").as_deref() == Some("true");
        let items: Vec<&Value> = scanned
            .iter()
            .filter(|row| !clean || row.as_object().is_some_and(|o| !o.is_empty()))
            .collect();
        ResponseTemplate::new(200)
            .insert_header("X-Apify-Pagination-Offset", offset.to_string())
            .insert_header("X-Apify-Pagination-Limit", limit.to_string())
            .insert_header("X-Apify-Pagination-Count", scanned.len().to_string())
            .insert_header("X-Apify-Pagination-Total", (rows.len() / 2).to_string())
            .set_body_json(items)
    }
}

/// Mounts `actor`'s asynchronous run (started once, then polled through `states`) and its
/// dataset of `rows`. The synchronous endpoint answers as it does past 300 s, and must never
/// be called: its run would go on and a second one would bill twice.
pub async fn mount_run(
    server: &MockServer,
    actor: &str,
    states: &[&'static str],
    message: Option<&'static str>,
    rows: Vec<Value>,
) {
    Mock::given(method("POST"))
        .and(path(format!("/v2/acts/{actor}/run-sync-get-dataset-items")))
        .respond_with(apify_error(
            408,
            "run-timeout-exceeded",
            "Actor run exceeded the timeout of 300 seconds for this API endpoint",
        ))
        .expect(0)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v2/acts/{actor}/runs")))
        .and(header("authorization", "Bearer apify_api_test"))
        .respond_with(ResponseTemplate::new(201).set_body_json(run("READY", None)))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(RUN))
        .and(query_param("waitForFinish", "60"))
        .respond_with(RunStates {
            states: states.to_vec(),
            message,
            polls: AtomicUsize::new(0),
        })
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(DATASET))
        .and(query_param("clean", "true"))
        .and(query_param("format", "json"))
        .respond_with(Dataset(rows))
        .mount(server)
        .await;
}

/// How many runs the stand-in was asked to start.
pub async fn run_starts(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/runs"))
        .count()
}

/// The dataset offsets asked for, in order.
async fn offsets(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == DATASET)
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(key, _)| key == "offset")
                .map(|(_, value)| value.into_owned())
        })
        .collect()
}

fn client(server: &MockServer) -> ApifyCollector {
    ApifyCollector::new(
        &server.uri(),
        SecretString::from("apify_api_test"),
        Duration::from_secs(5),
    )
    .with_polling(
        Duration::from_millis(10),
        Duration::from_millis(40),
        Duration::from_secs(5),
    )
}

pub fn item(i: usize) -> Value {
    json!({
        "id": format!("{}", 3_300_000_000_000_000_000u64 + i as u64), "shortCode": format!("C{i:09}"),
        "type": "Video", "videoUrl": format!("https://scontent.cdninstagram.com/v/{i}.mp4"),
        "videoPlayCount": 1000 + i, "likesCount": if i % 7 == 0 { -1 } else { 10 + i as i64 },
        "timestamp": "2026-11-20T10:00:00.000Z", "ownerUsername": "coach.anna"
    })
}

fn items(count: usize) -> Vec<Value> {
    (0..count).map(item).collect()
}

fn accounts(limit: u32, cap: Option<u32>) -> CollectRequest {
    CollectRequest {
        target: CollectTarget::Accounts(vec![
            "coach.anna".into(),
            "https://www.instagram.com/mind.set/".into(),
        ]),
        per_source_limit: limit,
        newer_than: Some("2 months".into()),
        max_items_cap: cap,
        options: Default::default(),
    }
}

async fn collect(
    server: &MockServer,
    request: &CollectRequest,
) -> Result<Vec<Value>, ProviderError> {
    client(server).collect(request, &call_context()).await
}

#[tokio::test]
async fn account_runs_start_asynchronously_poll_and_read_the_dataset() {
    let server = MockServer::start().await;
    mount_run(
        &server,
        REEL_SCRAPER,
        &["READY", "RUNNING", "SUCCEEDED"],
        None,
        items(40),
    )
    .await;
    let items = collect(&server, &accounts(20, None)).await.unwrap();
    let (reels, problems) = normalize_all(&items);
    assert_eq!((reels.len(), problems.len()), (40, 0));
    assert_eq!(reels[7].likes, None, "-1 means hidden");
    assert_eq!(reels[8].plays, Some(1008));
    let start = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path().ends_with("/runs"))
        .unwrap();
    assert_eq!(start.url.query(), Some("maxItems=40"));
    let input: Value = serde_json::from_slice(&start.body).unwrap();
    assert_eq!(
        input,
        json!({
            "username": ["coach.anna", "https://www.instagram.com/mind.set/"],
            "resultsLimit": 20, "onlyPostsNewerThan": "2 months", "skipPinnedPosts": true
        })
    );
    assert_eq!(
        offsets(&server).await,
        ["0"],
        "40 items are all the run may return"
    );
}

#[tokio::test]
async fn hashtags_use_the_hashtag_scraper_for_reels() {
    let server = MockServer::start().await;
    mount_run(&server, HASHTAG_SCRAPER, &["SUCCEEDED"], None, items(1)).await;
    Mock::given(method("POST"))
        .and(path(format!("/v2/acts/{HASHTAG_SCRAPER}/runs")))
        .and(query_param("maxItems", "15"))
        .and(body_partial_json(json!({"hashtags": ["motivation", "успех"], "resultsType": "reels", "resultsLimit": 10})))
        .respond_with(ResponseTemplate::new(201).set_body_json(run("READY", None)))
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let request = CollectRequest {
        target: CollectTarget::Hashtags(vec!["#motivation".into(), "успех".into()]),
        per_source_limit: 10,
        newer_than: None,
        max_items_cap: Some(15),
        options: Default::default(),
    };
    assert_eq!(collect(&server, &request).await.unwrap().len(), 1);
}

#[tokio::test]
async fn short_and_empty_pages_do_not_end_the_dataset() {
    let server = MockServer::start().await;
    // 2,500 raw rows: 3 items in the first thousand, none in the second, 5 in the last 500.
    let mut rows = vec![json!({}); 2500];
    for (n, at) in [10, 500, 999, 2000, 2100, 2200, 2300, 2499]
        .into_iter()
        .enumerate()
    {
        rows[at] = item(n);
    }
    mount_run(&server, REEL_SCRAPER, &["SUCCEEDED"], None, rows).await;
    let items = collect(&server, &accounts(750, None)).await.unwrap();
    let codes: Vec<&str> = items
        .iter()
        .map(|i| i["shortCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 8, "{codes:?}");
    assert_eq!(codes[7], "C000000007");
    assert_eq!(offsets(&server).await, ["0", "1000", "2000", "2500"]);
}

#[tokio::test]
async fn large_runs_page_through_the_dataset() {
    let server = MockServer::start().await;
    mount_run(
        &server,
        REEL_SCRAPER,
        &["RUNNING", "SUCCEEDED"],
        None,
        items(1300),
    )
    .await;
    let items = collect(&server, &accounts(750, None)).await.unwrap();
    assert_eq!(items.len(), 1300);
    assert_eq!(items[1299]["shortCode"], "C000001299");
    assert_eq!(offsets(&server).await, ["0", "1000", "1300"]);
}

#[tokio::test]
async fn failed_runs_are_fatal_with_apify_status_and_message() {
    for state in ["FAILED", "ABORTED", "TIMED-OUT"] {
        let server = MockServer::start().await;
        mount_run(
            &server,
            REEL_SCRAPER,
            &["RUNNING", state],
            Some("Instagram asked for a login"),
            Vec::new(),
        )
        .await;
        let checkpoints = MemoryCheckpoints::default();
        let call = checkpoints.call();
        match client(&server).collect(&accounts(750, None), &call).await {
            Err(ProviderError::Fatal { code, message }) => {
                assert_eq!(code.as_str(), "provider_job_failed");
                assert!(
                    message.contains(state) && message.contains("Instagram asked for a login"),
                    "{message}"
                );
            }
            other => panic!("{state}: {other:?}"),
        }
        assert_eq!(
            checkpoints.0.lock().unwrap().clone(),
            Some(json!({"apify_runs": {}})),
            "a retry asked for by hand starts a new run"
        );
        assert!(offsets(&server).await.is_empty(), "no dataset read");
    }
}

#[tokio::test]
async fn a_run_interrupted_while_polled_is_resumed_never_started_again() {
    let server = MockServer::start().await;
    mount_run(
        &server,
        REEL_SCRAPER,
        &["RUNNING", "SUCCEEDED"],
        None,
        items(12),
    )
    .await;
    // Apify holds the first poll open; the worker dies waiting.
    Mock::given(method("GET"))
        .and(path(RUN))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(run("RUNNING", None))
                .set_delay(Duration::from_secs(30)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let checkpoints = MemoryCheckpoints::default();
    let call = checkpoints.call();
    let collector = client(&server);
    let request = accounts(20, None);
    let polled = async {
        while !server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .any(|r| r.url.path() == RUN)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        result = collector.collect(&request, &call) => panic!("the held poll answered: {result:?}"),
        _ = polled => {}
    }
    assert_eq!(
        checkpoints.0.lock().unwrap().clone(),
        Some(json!({"apify_runs": {REEL_SCRAPER: {"id": "run1", "dataset_id": "ds1"}}}))
    );
    let items = collector.collect(&request, &call).await.unwrap();
    assert_eq!(items.len(), 12);
    assert_eq!(run_starts(&server).await, 1, "the run was resumed");
}

async fn answer(body: ResponseTemplate) -> Result<Vec<Value>, ProviderError> {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v2/acts/{REEL_SCRAPER}/runs")))
        .respond_with(body)
        .mount(&server)
        .await;
    collect(&server, &accounts(5, None)).await
}

fn fatal_code(result: Result<Vec<Value>, ProviderError>) -> &'static str {
    match result {
        Err(ProviderError::Fatal { code, .. }) => code.as_str(),
        other => panic!("expected a fatal error, got {other:?}"),
    }
}

#[tokio::test]
async fn vendor_errors_map_to_retry_classes() {
    for (answer_with, code) in [
        (
            apify_error(401, "token-not-valid", "Authentication token is not valid."),
            "provider_auth",
        ),
        (
            apify_error(
                402,
                "not-enough-usage-to-run-paid-actor",
                "You have exceeded your remaining usage.",
            ),
            "provider_out_of_credit",
        ),
        (
            apify_error(
                403,
                "insufficient-permissions",
                "You need to rent this Actor.",
            ),
            "provider_out_of_credit",
        ),
        (
            apify_error(404, "record-not-found", "Actor was not found"),
            "provider_not_found",
        ),
        (
            ResponseTemplate::new(201).set_body_string("<html>gateway</html>"),
            "provider_bad_response",
        ),
    ] {
        assert_eq!(fatal_code(answer(answer_with).await), code);
    }
    match answer(
        apify_error(
            429,
            "rate-limit-exceeded",
            "You have exceeded the rate limit.",
        )
        .insert_header("Retry-After", "12"),
    )
    .await
    {
        Err(ProviderError::Retryable { retry_after, .. }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(12)))
        }
        other => panic!("{other:?}"),
    }
    for status in [500, 502, 503] {
        let result =
            answer(ResponseTemplate::new(status).set_body_string("upstream trouble")).await;
        assert!(
            matches!(result, Err(ProviderError::Retryable { .. })),
            "{status}: {result:?}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_server_is_retryable() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let collector = ApifyCollector::new(
        &format!("http://{unused}"),
        SecretString::from("k"),
        Duration::from_secs(2),
    );
    let result = collector.collect(&accounts(5, None), &call_context()).await;
    assert!(
        matches!(result, Err(ProviderError::Retryable { .. })),
        "{result:?}"
    );
}
