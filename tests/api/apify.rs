//! The Apify client against a local stand-in that answers as Apify documents.

use std::time::Duration;

use crate::helpers::call_context;
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
    Mock, MockServer, ResponseTemplate,
};

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

fn item(i: usize) -> Value {
    json!({
        "id": format!("{}", 3_300_000_000_000_000_000u64 + i as u64), "shortCode": format!("C{i:09}"),
        "type": "Video", "videoUrl": format!("https://scontent.cdninstagram.com/v/{i}.mp4"),
        "videoPlayCount": 1000 + i, "likesCount": if i % 7 == 0 { -1 } else { 10 + i as i64 },
        "timestamp": "2026-11-20T10:00:00.000Z", "ownerUsername": "coach.anna"
    })
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

const SYNC: &str = "/v2/acts/apify~instagram-reel-scraper/run-sync-get-dataset-items";

#[tokio::test]
async fn small_account_runs_use_the_synchronous_endpoint() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SYNC))
        .and(header("authorization", "Bearer apify_api_test"))
        .and(query_param("maxItems", "40"))
        .and(body_partial_json(json!({
            "username": ["coach.anna", "https://www.instagram.com/mind.set/"],
            "resultsLimit": 20, "onlyPostsNewerThan": "2 months", "skipPinnedPosts": true
        })))
        .respond_with(
            ResponseTemplate::new(200).set_body_json((0..40).map(item).collect::<Vec<_>>()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let items = collect(&server, &accounts(20, None)).await.unwrap();
    let (reels, problems) = normalize_all(&items);
    assert_eq!((reels.len(), problems.len()), (40, 0));
    assert_eq!(reels[7].likes, None, "-1 means hidden");
    assert_eq!(reels[8].plays, Some(1008));
}

#[tokio::test]
async fn hashtags_use_the_hashtag_scraper_for_reels() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/acts/apify~instagram-hashtag-scraper/run-sync-get-dataset-items"))
        .and(query_param("maxItems", "15"))
        .and(body_partial_json(json!({"hashtags": ["motivation", "успех"], "resultsType": "reels", "resultsLimit": 10})))
        .respond_with(ResponseTemplate::new(200).set_body_json(vec![item(1)]))
        .expect(1)
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

async fn mount_async_run(server: &MockServer, final_status: &str, items: usize) {
    Mock::given(method("POST"))
        .and(path("/v2/acts/apify~instagram-reel-scraper/runs"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"data": {"id": "run1", "status": "READY", "defaultDatasetId": "ds1"}}),
        ))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/actor-runs/run1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"id": "run1", "status": "RUNNING", "defaultDatasetId": "ds1"}}),
        ))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/actor-runs/run1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "id": "run1", "status": final_status, "defaultDatasetId": "ds1", "statusMessage": "Instagram asked for a login"
        }})))
        .with_priority(2)
        .mount(server)
        .await;
    let all: Vec<Value> = (0..items).map(item).collect();
    for (offset, page) in all.chunks(1000).enumerate() {
        Mock::given(method("GET"))
            .and(path("/v2/datasets/ds1/items"))
            .and(query_param("offset", (offset * 1000).to_string()))
            .and(query_param("clean", "true"))
            .respond_with(ResponseTemplate::new(200).set_body_json(page))
            .expect(1)
            .mount(server)
            .await;
    }
}

#[tokio::test]
async fn large_runs_start_poll_and_page_through_the_dataset() {
    let server = MockServer::start().await;
    mount_async_run(&server, "SUCCEEDED", 1300).await;
    let items = collect(&server, &accounts(750, None)).await.unwrap();
    assert_eq!(items.len(), 1300);
    assert_eq!(items[1299]["shortCode"], "C000001299");
}

#[tokio::test]
async fn a_synchronous_timeout_falls_back_to_the_asynchronous_form() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SYNC))
        .respond_with(
            ResponseTemplate::new(408)
                .set_body_json(json!({"error": {"type": "run-timeout-exceeded"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_async_run(&server, "SUCCEEDED", 12).await;
    assert_eq!(
        collect(&server, &accounts(20, None)).await.unwrap().len(),
        12
    );
}

#[tokio::test]
async fn a_failed_run_is_a_fatal_error_with_its_message() {
    let server = MockServer::start().await;
    mount_async_run(&server, "FAILED", 0).await;
    match collect(&server, &accounts(750, None)).await {
        Err(ProviderError::Fatal { code, message }) => {
            assert_eq!(code.as_str(), "provider_job_failed");
            assert!(
                message.contains("FAILED") && message.contains("Instagram asked for a login"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

async fn answer(body: ResponseTemplate) -> Result<Vec<Value>, ProviderError> {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SYNC))
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
    let error_body = json!({"error": {"type": "x", "message": "nope"}});
    assert_eq!(
        fatal_code(answer(ResponseTemplate::new(401).set_body_json(&error_body)).await),
        "provider_auth"
    );
    assert_eq!(
        fatal_code(answer(ResponseTemplate::new(402).set_body_json(&error_body)).await),
        "provider_out_of_credit"
    );
    assert_eq!(
        fatal_code(answer(ResponseTemplate::new(403).set_body_json(&error_body)).await),
        "provider_out_of_credit"
    );
    assert_eq!(
        fatal_code(
            answer(ResponseTemplate::new(200).set_body_string("<html>gateway</html>")).await
        ),
        "provider_bad_response"
    );
    match answer(
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "12")
            .set_body_json(&error_body),
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
