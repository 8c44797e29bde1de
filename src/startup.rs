//! Wiring: database, migrations, event bus, workers and the HTTP server of one replica.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{dev::Server, middleware::from_fn, web, App, HttpResponse, HttpServer};
use anyhow::Context;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    access::TokenCache,
    config::Settings,
    db,
    error::extractors,
    events::EventBus,
    jobs::{self, worker::WorkerPool},
    metrics::Metrics,
    openapi::{self, ApiDoc},
    providers::Providers,
    routes,
    state::AppState,
};

/// What this process runs.
#[derive(Debug, Clone, Copy)]
pub struct Roles {
    pub http: bool,
    pub workers: bool,
}

pub struct Application {
    port: Option<u16>,
    server: Option<Server>,
    workers: Option<JoinHandle<()>>,
    shutdown: CancellationToken,
    pool: PgPool,
}

/// Scratch files older than this when an instance starts were left by a crash or a kill: no
/// step works on one for an hour.
const SCRATCH_MAX_AGE: Duration = Duration::from_secs(3600);

/// Connects and migrates. Every command that touches the database starts here.
pub async fn prepare_database(settings: &Settings) -> anyhow::Result<PgPool> {
    let pool = db::connect(&settings.database).await.context(
        "could not connect to PostgreSQL (set DATABASE_URL or REELFORGE__DATABASE__URL)",
    )?;
    let direct = db::direct_pool(&settings.database, &pool)?;
    db::MIGRATOR
        .run(&direct)
        .await
        .context("running migrations failed")?;
    Ok(pool)
}

/// Without a configured `publishing.token_key`, the key kept in the media root (made on the
/// first start), so connecting an account works out of the box on one machine. Replicas on
/// other machines would each make their own, so several need the key configured (`doctor`);
/// with the s3 store the root is only a replica's cache, so no key is made there.
fn keep_token_key(settings: &mut Settings) -> anyhow::Result<()> {
    if settings.publishing.token_key.is_some()
        || settings.media.store != crate::config::MediaStoreKind::Local
    {
        return Ok(());
    }
    let root = &settings.media.root;
    let (key, made) = crate::providers::publish::sealed::key_kept_in(root).with_context(|| {
        format!(
            "keeping a token key in {} (or set REELFORGE__PUBLISHING__TOKEN_KEY)",
            root.display()
        )
    })?;
    if made {
        tracing::info!(
            path = %root.join(crate::providers::publish::sealed::KEY_FILE).display(),
            "made the key that seals account tokens; back it up, and configure it on every replica when there are several"
        );
    }
    settings.publishing.token_key = Some(key);
    Ok(())
}

impl Application {
    pub async fn build(settings: Settings, roles: Roles) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, roles, crate::clock::system()).await
    }

    /// As `build`, with the clock schedules and budgets read (a manual one in tests).
    pub async fn build_with_clock(
        settings: Settings,
        roles: Roles,
        clock: crate::clock::SharedClock,
    ) -> anyhow::Result<Self> {
        let mut settings = settings;
        keep_token_key(&mut settings)?;
        let pool = prepare_database(&settings).await?;
        let listen = db::direct_pool(&settings.database, &pool)?;
        let shutdown = CancellationToken::new();
        let providers = Arc::new(Providers::from_settings(&settings)?);
        match providers.media.sweep_scratch(SCRATCH_MAX_AGE).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed old scratch files"),
            Err(error) => tracing::warn!(%error, "sweeping old scratch files failed"),
        }
        crate::publish::instagram::infer_logins(&pool, &providers.publishing)
            .await
            .context("telling the logins of Instagram accounts apart")?;

        if settings.engines.is_enabled() && settings.engines.manage && roles.workers {
            tokio::spawn(crate::engines::supervise(
                settings.engines.clone(),
                shutdown.clone(),
            ));
        }
        if roles.workers {
            tokio::spawn(jobs::runs::advance_forever(
                pool.clone(),
                listen.clone(),
                settings.jobs.clone(),
                settings.webhooks.max_attempts,
                std::time::Duration::from_millis(settings.jobs.poll_interval_ms.min(250)),
                shutdown.clone(),
            ));
        }
        if roles.workers {
            tokio::spawn(crate::watch::scheduler::run_forever(
                pool.clone(),
                providers.clone(),
                settings.jobs.clone(),
                clock.clone(),
                std::time::Duration::from_millis(settings.watch.tick_interval_ms),
                shutdown.clone(),
            ));
        }
        let workers = roles.workers.then(|| {
            WorkerPool::new(
                pool.clone(),
                settings.jobs.clone(),
                jobs::handlers(providers.clone(), &settings, clock.clone()),
            )
            .listening_on(listen.clone())
            .spawn(shutdown.clone())
        });

        let (server, port) = if roles.http {
            let bus = EventBus::start(
                pool.clone(),
                listen.clone(),
                settings.events.clone(),
                shutdown.clone(),
            )
            .await?;
            let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
                .with_context(|| {
                    format!(
                        "could not listen on {}:{}",
                        settings.server.host, settings.server.port
                    )
                })?;
            let port = listener.local_addr()?.port();
            let http_workers = settings.server.http_workers;
            let media = providers.media.clone();
            let tokens = Arc::new(TokenCache::new(Duration::from_secs(60)));
            tokio::spawn(
                tokens
                    .clone()
                    .follow_revocations(listen.clone(), shutdown.clone()),
            );
            tokio::spawn(crate::idempotency::purge_forever(
                pool.clone(),
                shutdown.clone(),
            ));
            let links = Arc::new(
                crate::db::link_keys::load_link_signer(&pool, &settings.links)
                    .await
                    .context("loading the media link key")?,
            );
            let limiter = crate::rate_limit::RequestLimiter::new(settings.rate_limit.per_minute)
                .map(Arc::new);
            let state = AppState {
                pool: pool.clone(),
                settings: Arc::new(settings),
                bus,
                providers,
                metrics: Arc::new(Metrics::new()),
                tokens,
                media,
                clock,
                shutdown: shutdown.clone(),
                links,
                limiter,
            };
            let server = http_server(state, listener, http_workers)?;
            (Some(server), Some(port))
        } else {
            (None, None)
        };
        Ok(Application {
            port,
            server,
            workers,
            shutdown,
            pool,
        })
    }

    pub fn port(&self) -> Option<u16> {
        self.port
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Cancel to stop: the server stops accepting, workers stop claiming and drain.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        if let Some(server) = self.server {
            let handle = server.handle();
            let shutdown = self.shutdown.clone();
            tokio::spawn(async move {
                shutdown.cancelled().await;
                handle.stop(true).await;
            });
            server.await?;
        } else {
            self.shutdown.cancelled().await;
        }
        // However the server ended, workers stop too.
        self.shutdown.cancel();
        if let Some(workers) = self.workers {
            workers.await?;
        }
        Ok(())
    }
}

fn http_server(
    state: AppState,
    listener: TcpListener,
    http_workers: Option<usize>,
) -> anyhow::Result<Server> {
    let body_limit = state.settings.server.body_limit_bytes;
    let spec = web::Bytes::from(openapi::spec_json());
    let state = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        let (app, _) = App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .app_data(state.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(body_limit)
                    .error_handler(extractors::json_error(body_limit)),
            )
            .app_data(web::PathConfig::default().error_handler(extractors::path_error))
            .app_data(web::QueryConfig::default().error_handler(extractors::query_error))
            .configure(routes::configure)
            .split_for_parts();
        let document = spec.clone();
        app.route(
            "/openapi.json",
            web::get().to(move || {
                let document = document.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(document)
                }
            }),
        )
        .service(
            SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json")),
        )
        .configure(routes::page::configure)
        .default_service(web::to(routes::not_found))
        .wrap(from_fn(crate::request_line::check))
        .wrap(from_fn(crate::track::track))
        .wrap(TracingLogger::default())
    })
    // A client that closes its socket has left: its request is dropped at once, releasing
    // what a long answer holds (an MCP call waiting on a run, an event stream), instead of
    // running to its end for nobody.
    .h1_allow_half_closed(false)
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(10);
    if let Some(workers) = http_workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}

/// Cancels `token` on SIGTERM or Ctrl-C.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("installing a SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        token.cancel();
    });
}
