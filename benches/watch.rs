//! Issue #17 benchmarks (numbers go to BENCHMARKS.md via bench/watch): the scheduler with 1,000
//! watchlists of 50 reels each in one project, the alert rules on a 50-reel collection, and the
//! ranked list over those 50,000 reels. The library is driven in process against PostgreSQL.

mod common;

use reelforge::domain::read_model::CollectionParameters;
use std::time::Instant;

use chrono::{Duration, Utc};
use common::{database_url, summarize, Latency};
use reelforge::{
    config::{JobSettings, Settings},
    db,
    domain::{
        reel::{ReelQuery, ReelSort},
        watchlist::{Rule, RuleConditions, Schedule, Watchlist},
    },
    startup::prepare_database,
    watch::scheduler,
};
use secrecy::SecretString;
use sqlx::PgPool;
use uuid::Uuid;

const WATCHLISTS: usize = 1_000;
const REELS_PER_WATCHLIST: usize = 50;

fn rules() -> Vec<Rule> {
    let rule = |conditions: RuleConditions| Rule {
        id: Uuid::new_v4(),
        name: None,
        conditions,
        auto_run: false,
        review: Default::default(),
    };
    let none = RuleConditions::default();
    vec![
        rule(RuleConditions {
            min_outlier_score: Some(3.0),
            ..none.clone()
        }),
        rule(RuleConditions {
            min_recent_velocity: Some(5_000.0),
            posted_within_hours: Some(48),
            ..none.clone()
        }),
        rule(RuleConditions {
            min_engagement_rate: Some(0.08),
            max_duration: Some(60.0),
            ..none
        }),
    ]
}

/// One project, 1,000 watchlists of one account each, 50 reels per account.
async fn seed(pool: &PgPool) -> (Uuid, Vec<Uuid>) {
    let project = db::projects::insert(
        pool,
        common::default_workspace(pool).await,
        "radar",
        "ru",
        &Settings::default().defaults.settings,
    )
    .await
    .unwrap();
    let now = Utc::now();
    let mut watchlists = Vec::with_capacity(WATCHLISTS);
    for n in 0..WATCHLISTS {
        let watchlist = Watchlist {
            id: Uuid::new_v4(),
            project_id: project.id,
            name: format!("competitor {n}"),
            provider: "fake".into(),
            collection: CollectionParameters::Apify {
                accounts: vec![format!("acct{n}")],
                hashtags: Vec::new(),
                per_source_limit: REELS_PER_WATCHLIST as u32,
                newer_than: None,
                max_items: None,
                options: Default::default(),
                prepare_all: false,
                watchlist_id: None,
            },
            schedule: Schedule::EveryHours(6),
            rules: rules(),
            paused: false,
            next_tick_at: now,
            last_tick_at: None,
            created_at: now,
            updated_at: now,
        };
        watchlists.push(db::watchlists::upsert(pool, &watchlist).await.unwrap().id);
    }
    let count = WATCHLISTS * REELS_PER_WATCHLIST;
    let ids: Vec<Uuid> = (0..count).map(|_| Uuid::new_v4()).collect();
    let codes: Vec<String> = (0..count).map(|i| format!("R{i}")).collect();
    let owners: Vec<String> = (0..count)
        .map(|i| format!("acct{}", i / REELS_PER_WATCHLIST))
        .collect();
    let plays: Vec<i64> = (0..count as i64)
        .map(|i| 1_000 + (i * 7919) % 1_000_000)
        .collect();
    sqlx::query(
        "INSERT INTO reels (id, project_id, status, provider, external_id, owner_username, plays,
                            likes, posted_at, duration_ms, engagement_rate, velocity, recent_velocity,
                            outlier_score, trend_score)
         SELECT u.id, $1, 'pending', 'fake', u.code, u.owner, u.plays, u.plays / 20,
                now() - make_interval(hours => (u.plays % 96)::int), 30000, 0.05, u.plays / 24.0,
                u.plays / 10.0, (u.plays % 7)::float8 / 2, log(1 + u.plays)
         FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::int8[]) AS u(id, code, owner, plays)",
    )
    .bind(project.id)
    .bind(&ids)
    .bind(&codes)
    .bind(&owners)
    .bind(&plays)
    .execute(pool)
    .await
    .unwrap();
    db::reels::refresh_statistics(pool).await.unwrap();
    (project.id, watchlists)
}

fn ms(latency: &Latency) -> String {
    format!("p50 {:.2} ms, p99 {:.2} ms", latency.p50, latency.p99)
}

async fn timed<F, Fut>(times: usize, mut call: F) -> Latency
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(times);
    for _ in 0..times {
        let start = Instant::now();
        call().await;
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    summarize(samples)
}

async fn ticks_per_watchlist(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*), COALESCE(max(n), 0) FROM (SELECT count(*) AS n FROM watchlist_ticks GROUP BY watchlist_id, tick_at) t",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::main]
async fn main() {
    let url = database_url();
    let mut settings = Settings::default();
    settings.database.url = SecretString::from(url.clone());
    settings.database.max_connections = 10;
    let pool = prepare_database(&settings).await.unwrap();
    let jobs = JobSettings::default();
    let (project_id, _) = seed(&pool).await;
    let now = Utc::now();

    // Nothing due: what every replica pays every `tick_interval_ms`.
    let later = now - Duration::hours(1);
    let idle = timed(200, || async {
        assert_eq!(scheduler::tick(&pool, &jobs, later).await.unwrap(), 0);
    })
    .await;

    // All 1,000 due at once: first cold (the tables' first writes), then one replica, then two
    // replicas looking at the same moment, six hours apart each.
    let start = Instant::now();
    assert_eq!(
        scheduler::tick(&pool, &jobs, now).await.unwrap(),
        WATCHLISTS
    );
    let cold = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let started = scheduler::tick(&pool, &jobs, now + Duration::hours(6))
        .await
        .unwrap();
    let one_replica = start.elapsed().as_secs_f64();
    assert_eq!(started, WATCHLISTS);
    let next = now + Duration::hours(12);
    let start = Instant::now();
    let (a, b) = tokio::join!(
        scheduler::tick(&pool, &jobs, next),
        scheduler::tick(&pool, &jobs, next)
    );
    let two_replicas = start.elapsed().as_secs_f64();
    let (a, b) = (a.unwrap(), b.unwrap());
    let (ticks, most_per_tick) = ticks_per_watchlist(&pool).await;
    assert_eq!(a + b, WATCHLISTS);
    assert_eq!(most_per_tick, 1);

    // The rules on one watchlist's 50-reel collection, in a transaction rolled back each time.
    let collection: Uuid = sqlx::query_scalar("SELECT collection_id FROM watchlist_ticks LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let owner: String = sqlx::query_scalar(
        "SELECT w.collection->'accounts'->>0 FROM watchlists w JOIN watchlist_ticks t ON t.watchlist_id = w.id
         WHERE t.collection_id = $1",
    )
    .bind(collection)
    .fetch_one(&pool)
    .await
    .unwrap();
    let batch: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM reels WHERE owner_username = $1")
        .bind(&owner)
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(batch.len(), REELS_PER_WATCHLIST);
    let raised = std::sync::atomic::AtomicUsize::new(0);
    let rules_cost = timed(50, || async {
        let mut tx = pool.begin().await.unwrap();
        let alerts =
            reelforge::watch::alerts::on_collected(&mut tx, collection, &batch, Utc::now(), 8)
                .await
                .unwrap();
        raised.store(alerts, std::sync::atomic::Ordering::Relaxed);
        tx.rollback().await.unwrap();
    })
    .await;
    let raised = raised.into_inner();

    // The ranked list over the 50,000 reels, and with processed reels hidden.
    let page = db::reels::ReelPage {
        offset: 0,
        limit: 20,
    };
    let ranked_query = ReelQuery {
        sort: Some(ReelSort::TrendScore),
        ..ReelQuery::default()
    };
    let ranked = timed(100, || async {
        db::reels::list(&pool, project_id, &ranked_query, &page)
            .await
            .unwrap();
    })
    .await;
    let unprocessed_query = ReelQuery {
        processed: Some(false),
        ..ranked_query.clone()
    };
    let unprocessed = timed(100, || async {
        db::reels::list(&pool, project_id, &unprocessed_query, &page)
            .await
            .unwrap();
    })
    .await;

    println!("| what | result |");
    println!("|---|---|");
    println!(
        "| a scheduler pass with nothing due, 1,000 watchlists (200 passes) | {} |",
        ms(&idle)
    );
    println!("| 1,000 watchlists due at once, the first time (cold tables) | {cold:.2} s |");
    println!(
        "| 1,000 due at once, one replica: each becomes a queued collection | {one_replica:.2} s, {:.2} ms per watchlist |",
        one_replica * 1000.0 / WATCHLISTS as f64
    );
    println!(
        "| 1,000 due again, two replicas at the same moment | {two_replicas:.2} s ({a} and {b} taken), {:.2}x one replica; {ticks} ticks in all, at most {most_per_tick} collection per tick |",
        two_replicas / one_replica
    );
    println!(
        "| 3 alert rules on a 50-reel collection (in the collection's transaction; {raised} alerts) | {} |",
        ms(&rules_cost)
    );
    println!(
        "| ranked list over 50,000 reels, `trend_score`, 20 per page, in process (100 queries) | {} |",
        ms(&ranked)
    );
    println!(
        "| the same with processed reels hidden (`processed=false`) | {} |",
        ms(&unprocessed)
    );
    pool.close().await;
    let _ = url;
}
