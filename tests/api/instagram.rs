//! Instagram against the documented Graph API (`crate::graph`): each documented answer class,
//! asserting what the user sees (the publication's status and error code, its link, the
//! account), and the two logins: each account on its own host, Instagram Login posting by link
//! and refreshing its token, refused up front where no public address is configured.

use serde_json::{json, Value};

use crate::{
    graph::{Fate, GraphFailure, Host, FB_TOKEN, IG_TOKEN, IG_USER},
    helpers::{assert_refused, send_problem, TestApp},
    platforms::Platforms,
    publishing::{
        connect, finished, publish, publishing_app_with, short_video, video_with, write_post,
    },
};

/// One app and one finished video with its words; each case posts it to a new account.
struct Bench {
    platforms: Platforms,
    app: TestApp,
    project_id: String,
    video_id: String,
}

/// What one publication came to, and the stand-in's containers made and published for it.
struct Case {
    publication: Value,
    containers: Vec<String>,
    published: Vec<String>,
    publish_calls: Vec<String>,
}

impl Bench {
    async fn start(
        configure: impl FnOnce(&mut reelforge::config::Settings) + Send + 'static,
    ) -> Self {
        let platforms = Platforms::start().await;
        let app = publishing_app_with(&platforms, reelforge::clock::system(), configure).await;
        let (project_id, video_id) = video_with(&app, &short_video()).await;
        write_post(&app, &video_id, json!({"provider": "fake"})).await;
        Bench {
            platforms,
            app,
            project_id,
            video_id,
        }
    }

    async fn account(&self, token: &str) -> String {
        connect(
            &self.app,
            &self.project_id,
            "instagram",
            json!({"external_id": IG_USER, "access_token": token, "name": uuid::Uuid::new_v4().to_string()}),
        )
        .await
    }

    /// Publishes to a new Facebook Login account with containers' `fates` and `media_publish`
    /// answers scripted.
    async fn case(&self, fates: Vec<Fate>, publish_failures: Vec<GraphFailure>) -> Case {
        let account = self.account(FB_TOKEN).await;
        self.case_for(&account, fates, publish_failures).await
    }

    async fn case_for(
        &self,
        account: &str,
        fates: Vec<Fate>,
        publish_failures: Vec<GraphFailure>,
    ) -> Case {
        let (before, calls_before) = {
            let mut state = self.platforms.graph.state();
            state.fates = fates.into();
            state.publish_failures = publish_failures.into();
            (state.containers.len(), state.publish_calls.len())
        };
        let publication = publish(&self.app, &self.video_id, json!({"account_id": account})).await;
        let publication = finished(&self.app, publication["id"].as_str().unwrap()).await;
        let state = self.platforms.graph.state();
        let containers: Vec<String> = (before + 1..=state.containers.len())
            .map(|n| format!("c{n}"))
            .collect();
        Case {
            published: state
                .published
                .iter()
                .filter(|c| containers.contains(c))
                .cloned()
                .collect(),
            publish_calls: state.publish_calls[calls_before..].to_vec(),
            containers,
            publication,
        }
    }
}

fn error_fate(subcode: &str) -> Fate {
    Fate::Error(format!(
        "Error: Media upload has failed with error code {subcode}"
    ))
}

fn assert_failed(case: &Case, code: &str, platform_code: &str) {
    let publication = &case.publication;
    assert_eq!(publication["status"], "failed", "{publication:#}");
    assert_eq!(publication["error"]["code"], code, "{publication:#}");
    let message = publication["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(platform_code),
        "{platform_code} in {message}"
    );
    assert!(case.published.is_empty(), "nothing was posted");
    assert!(publication["post_url"].is_null());
}

/// Posted once, from the last container made, with the permalink.
fn assert_posted_from_last(case: &Case, containers: usize) {
    let publication = &case.publication;
    assert_eq!(publication["status"], "published", "{publication:#}");
    assert_eq!(case.containers.len(), containers, "{:?}", case.containers);
    assert_eq!(case.published, [case.containers.last().unwrap().clone()]);
    let media = publication["post_id"].as_str().unwrap();
    assert_eq!(
        publication["post_url"],
        format!("https://www.instagram.com/reel/SC{}/", &media[1..])
    );
}

#[tokio::test]
async fn a_container_that_errs_with_a_replace_subcode_or_expires_is_replaced_and_never_published() {
    let bench = Bench::start(|_| {}).await;
    for fate in [
        error_fate("2207020"),
        error_fate("2207053"),
        error_fate("2207006"),
        Fate::Expired,
    ] {
        let case = bench.case(vec![fate.clone()], vec![]).await;
        assert_posted_from_last(&case, 2);
        assert!(
            !case.publish_calls.contains(&case.containers[0]),
            "{fate:?}: the replaced container is never published"
        );
    }
    // Three containers refused: the publication fails, naming the last reason.
    let case = bench
        .case(
            vec![Fate::Expired, error_fate("2207020"), error_fate("2207053")],
            vec![],
        )
        .await;
    assert_failed(&case, "provider_job_failed", "2207053");
    assert_eq!(case.containers.len(), 3);
    assert!(case.publish_calls.is_empty());
}

#[tokio::test]
async fn a_container_that_errs_with_a_retry_subcode_is_polled_twice_more_then_replaced() {
    let bench = Bench::start(|_| {}).await;
    for subcode in ["2207001", "2207032", "2207003"] {
        let case = bench.case(vec![error_fate(subcode)], vec![]).await;
        assert_posted_from_last(&case, 2);
        let polls = bench.platforms.graph.state().containers[&case.containers[0]].polls;
        // IN_PROGRESS, ERROR, then the two retries.
        assert_eq!(polls, 4, "{subcode}");
    }
}

#[tokio::test]
async fn a_container_that_errs_with_a_fatal_subcode_fails_with_the_platforms_code() {
    let bench = Bench::start(|_| {}).await;
    for (subcode, code) in [
        ("2207026", "platform_limit"),
        ("2207052", "provider_rejected"),
        ("2207057", "provider_rejected"),
        ("2207051", "provider_forbidden"),
        ("2207050", "provider_forbidden"),
        ("2207042", "publish_quota_exhausted"),
    ] {
        let case = bench.case(vec![error_fate(subcode)], vec![]).await;
        assert_failed(&case, code, subcode);
        assert_eq!(case.containers.len(), 1, "{subcode}: no new container");
    }
    // A subcode Meta does not document: Meta could not process the video.
    let case = bench
        .case(vec![Fate::Error("Something went wrong".into())], vec![])
        .await;
    assert_failed(&case, "provider_job_failed", "Something went wrong");
}

#[tokio::test]
async fn graph_errors_at_media_publish_are_retried_replaced_or_fatal_as_documented() {
    let bench = Bench::start(|_| {}).await;
    // Retry: the codes Meta says to retry, and undocumented ones it marks transient.
    for failure in [
        GraphFailure(2, None, true),
        GraphFailure(4, None, false),
        GraphFailure(100, Some(2207001), false),
        GraphFailure(100, Some(2207032), false),
        GraphFailure(1234, None, true),
    ] {
        let case = bench.case(vec![], vec![failure]).await;
        assert_posted_from_last(&case, 1);
        assert_eq!(case.publish_calls.len(), 2, "{failure:?}");
    }
    // 2207008: twice more on the same container...
    let case = bench
        .case(vec![], vec![GraphFailure(100, Some(2207008), true); 2])
        .await;
    assert_posted_from_last(&case, 1);
    assert_eq!(case.publish_calls, vec![case.containers[0].clone(); 3]);
    // ...then a new container, the old one never published.
    let case = bench
        .case(vec![], vec![GraphFailure(100, Some(2207008), true); 3])
        .await;
    assert_posted_from_last(&case, 2);
    assert_eq!(case.publish_calls.len(), 4);
    // Replace: 2207020, 2207053, 24/2207006.
    for failure in [
        GraphFailure(100, Some(2207020), false),
        GraphFailure(100, Some(2207053), false),
        GraphFailure(24, Some(2207006), false),
    ] {
        let case = bench.case(vec![], vec![failure]).await;
        assert_posted_from_last(&case, 2);
        assert_eq!(case.publish_calls, case.containers, "{failure:?}");
    }
    // Fatal, with the platform's code in the publication's error.
    for (failure, code, platform_code) in [
        (GraphFailure(10, None, false), "provider_forbidden", "10/0"),
        (
            GraphFailure(200, None, false),
            "provider_forbidden",
            "200/0",
        ),
        (
            GraphFailure(9004, Some(2207052), false),
            "provider_rejected",
            "9004/2207052",
        ),
        (
            GraphFailure(352, Some(2207026), false),
            "platform_limit",
            "352/2207026",
        ),
        (
            GraphFailure(100, Some(2207057), false),
            "provider_rejected",
            "2207057",
        ),
        (
            GraphFailure(4, Some(2207051), false),
            "provider_forbidden",
            "4/2207051",
        ),
        (
            GraphFailure(25, Some(2207050), false),
            "provider_forbidden",
            "25/2207050",
        ),
        (
            GraphFailure(9, Some(2207042), false),
            "publish_quota_exhausted",
            "9/2207042",
        ),
        (GraphFailure(1234, None, false), "provider_rejected", "1234"),
    ] {
        let case = bench.case(vec![], vec![failure]).await;
        assert_failed(&case, code, platform_code);
        assert_eq!(case.publish_calls.len(), 1, "{failure:?}");
    }
    // 190: the token is dead; without a refresh token the account asks to be connected again.
    let account = bench.account(FB_TOKEN).await;
    let case = bench
        .case_for(&account, vec![], vec![GraphFailure(190, None, false)])
        .await;
    assert_failed(&case, "account_reauthorization_needed", "refused the token");
    let account = bench.app.get_json(&format!("/v1/accounts/{account}")).await;
    assert_eq!(account["status"], "reauthorization_needed", "{account:#}");
}

#[tokio::test]
async fn the_permalink_is_read_after_the_post_and_its_failure_never_posts_again() {
    let bench = Bench::start(|_| {}).await;
    // A transient failure: read again on the next attempt.
    bench.platforms.graph.state().permalink_failures = vec![GraphFailure(2, None, true)].into();
    let case = bench.case(vec![], vec![]).await;
    assert_posted_from_last(&case, 1);
    assert_eq!(case.publish_calls.len(), 1);
    assert_eq!(bench.platforms.graph.state().permalink_reads, 2);
    // Refused: the post stands, without its link.
    bench.platforms.graph.state().permalink_failures = vec![GraphFailure(10, None, false)].into();
    let case = bench.case(vec![], vec![]).await;
    let publication = &case.publication;
    assert_eq!(publication["status"], "published", "{publication:#}");
    assert_eq!(publication["post_id"], "m2");
    assert!(publication["post_url"].is_null());
    assert_eq!(case.publish_calls.len(), 1);
}

#[tokio::test]
async fn each_login_calls_its_own_host_and_instagram_login_posts_by_link_and_refreshes() {
    let bench = Bench::start(|s| s.publishing.instagram.graph_version = "v24.0".into()).await;
    let instagram = bench.account(IG_TOKEN).await;
    let stored = bench
        .app
        .get_json(&format!("/v1/accounts/{instagram}"))
        .await;
    assert_eq!(stored["instagram_login"], "instagram");
    let case = bench.case_for(&instagram, vec![], vec![]).await;
    assert_posted_from_last(&case, 1);
    {
        let state = bench.platforms.graph.state();
        let container = &state.containers[&case.containers[0]];
        assert_eq!(container.host, Some(Host::Instagram));
        assert!(!container.resumable && container.uploaded.is_none());
        let link = container.video_url.as_deref().unwrap();
        assert!(
            link.starts_with("https://reels.example.com/media/publications/"),
            "{link}"
        );
        assert_eq!(state.versions, ["v24.0".to_owned()].into());
        assert_eq!(state.refreshes, 0, "a fresh token is not refreshed");
    }
    // A Facebook Login account on the same app uploads to graph.facebook.com.
    let case = bench.case(vec![], vec![]).await;
    assert_posted_from_last(&case, 1);
    {
        let state = bench.platforms.graph.state();
        let container = &state.containers[&case.containers[0]];
        assert_eq!(container.host, Some(Host::Facebook));
        assert!(container.resumable);
    }

    // In its last week (and more than a day old) the token is refreshed before posting, and
    // the new one is stored and used.
    let aging = bench.account(IG_TOKEN).await;
    age_token(&bench.app, &aging, 55, 5).await;
    let case = bench.case_for(&aging, vec![], vec![]).await;
    assert_posted_from_last(&case, 1);
    assert_eq!(bench.platforms.graph.state().refreshes, 1);
    assert_eq!(
        bench.platforms.graph.state().create_tokens.last().unwrap(),
        "IGQWRrefreshed1"
    );
    let account = bench.app.get_json(&format!("/v1/accounts/{aging}")).await;
    let expires: chrono::DateTime<chrono::Utc> =
        account["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        expires > chrono::Utc::now() + chrono::Duration::days(59),
        "{account:#}"
    );

    // Meta refuses the refresh (the token was revoked): connect the account again.
    let revoked = bench.account("IGQWRrevoked").await;
    age_token(&bench.app, &revoked, 55, 5).await;
    let case = bench.case_for(&revoked, vec![], vec![]).await;
    assert_failed(&case, "account_reauthorization_needed", "connect it again");
    assert!(case.containers.is_empty());
    let account = bench.app.get_json(&format!("/v1/accounts/{revoked}")).await;
    assert_eq!(account["status"], "reauthorization_needed");
}

/// Makes an account's token `age_days` old, with `left_days` to live.
async fn age_token(app: &TestApp, account: &str, age_days: i32, left_days: i32) {
    sqlx::query(
        "UPDATE platform_accounts SET token_issued_at = now() - make_interval(days => $2),
             expires_at = now() + make_interval(days => $3) WHERE id = $1::uuid",
    )
    .bind(account)
    .bind(age_days)
    .bind(left_days)
    .execute(&app.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn instagram_login_without_a_public_address_is_refused_up_front() {
    let bench = Bench::start(|s| s.publishing.public_base_url = None).await;
    let instagram = bench.account(IG_TOKEN).await;
    let (status, problem) = send_problem(bench.app.post(
        &format!("/v1/videos/{}/publications", bench.video_id),
        &json!({"account_id": instagram}),
    ))
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("not_configured"))
    );
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("REELFORGE__PUBLISHING__PUBLIC_BASE_URL"));
    assert!(bench.platforms.graph.state().containers.is_empty());
    // A run that would publish to it is refused when it starts.
    let reels = bench.app.collect_fake_reels(&bench.project_id, 1).await;
    assert_refused(
        bench.app.post(
            &format!("/v1/projects/{}/runs", bench.project_id),
            &json!({"reel_id": reels[0]["id"], "publish": {"account_ids": [instagram]}}),
        ),
        "publish.account_ids[0]",
        "REELFORGE__PUBLISHING__PUBLIC_BASE_URL",
    )
    .await;
    // Facebook Login accounts upload the bytes and need no public address.
    let case = bench.case(vec![], vec![]).await;
    assert_posted_from_last(&case, 1);
    // The doctor says so.
    let lines =
        reelforge::publish::readiness(&bench.app.settings.publishing, &bench.app.settings.media);
    let (_, line) = lines.iter().find(|(what, _)| what == "instagram").unwrap();
    assert!(
        line.contains("Instagram Login accounts cannot post"),
        "{line}"
    );
}

/// Accounts connected before logins were told apart get theirs from the token's shape when the
/// service starts.
#[tokio::test]
async fn existing_accounts_learn_their_login_from_the_tokens_shape() {
    let bench = Bench::start(|_| {}).await;
    let facebook = bench.account(FB_TOKEN).await;
    let instagram = bench.account(IG_TOKEN).await;
    sqlx::query("UPDATE platform_accounts SET instagram_login = NULL")
        .execute(&bench.app.pool)
        .await
        .unwrap();
    let replica = bench.app.second_instance(false).await;
    for (id, login) in [(facebook, "facebook"), (instagram, "instagram")] {
        let account = replica.get_json(&format!("/v1/accounts/{id}")).await;
        assert_eq!(account["instagram_login"], login);
    }
}
