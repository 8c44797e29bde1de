use serde_json::json;

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn v1_needs_a_valid_unrevoked_token() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();

    let missing = client.get(app.url("/v1/projects")).send().await.unwrap();
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    let (status, body) = problem(missing).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));

    for header in [
        "Bearer rf_wrong",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "rf_no_scheme",
        "Bearer 🎉",
    ] {
        let response = client
            .get(app.url("/v1/projects"))
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
    }
    // Writes are refused too, and change nothing.
    let refused = client
        .post(app.url("/v1/projects"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(app.get_json("/v1/projects").await["items"], json!([]));

    // Revocation reaches every replica's token cache within moments.
    let replica = app.second_instance(false).await;
    assert_eq!(
        replica.get("/v1/projects").send().await.unwrap().status(),
        200,
        "cached on the replica"
    );
    let revoked = reelforge::db::tokens::revoke(&app.pool, "test")
        .await
        .unwrap();
    assert_eq!(revoked, 1);
    for instance in [&app, &replica] {
        crate::helpers::eventually(
            &format!("the revocation seen by {}", instance.address),
            std::time::Duration::from_secs(2),
            || async { instance.get("/v1/projects").send().await.unwrap().status() },
            |status| *status == 401,
        )
        .await;
    }
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes() {
    let app = spawn_app().await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, vec![reelforge::access::hash(&app.token)]);
    assert!(!stored[0].contains(&app.token));
}

#[tokio::test]
async fn the_event_stream_takes_the_token_as_a_query_parameter() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let ok = client
        .get(app.url(&format!("/v1/events?access_token={}", app.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    // Only the event stream: other routes ignore it.
    let other = client
        .get(app.url(&format!("/v1/projects?access_token={}", app.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 401);
}
