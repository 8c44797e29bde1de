use crate::helpers::spawn_app;

#[tokio::test]
async fn health_readiness_docs_and_metrics_are_open() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();

    let health: serde_json::Value = client
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let ready: serde_json::Value = client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");

    let spec: serde_json::Value = client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["paths"]["/v1/projects"]["post"].is_object());
    let docs = client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));

    app.get("/v1/projects").send().await.unwrap();
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(
            r#"reelforge_http_requests_total{method="GET",route="/v1/projects",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains("reelforge_job_queue_depth 0"), "{metrics}");
    assert!(metrics.contains("reelforge_sse_subscribers 0"), "{metrics}");
}

#[tokio::test]
async fn readiness_fails_when_migrations_are_missing() {
    let app = spawn_app().await;
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(&app.pool)
        .await
        .unwrap();
    let response = reqwest::get(app.url("/readyz")).await.unwrap();
    let (status, body) = crate::helpers::problem(response).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("not_ready")));
}

#[tokio::test]
async fn metrics_can_require_a_token() {
    let app = crate::helpers::spawn_app_with(|s| s.server.public_metrics = false).await;
    let open = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(open.status(), 401);
    let with_token = app.get("/metrics").send().await.unwrap();
    assert_eq!(with_token.status(), 200);
}
