//! Supervises the local engine server: starts it, waits until `/health` answers, restarts it
//! with backoff when it dies, and stops it on shutdown. The engine runs in its own process so a
//! crash or a 2 GB model cannot take the service down.

use std::time::Duration;

use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use crate::config::EngineSettings;

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The engine's health URL, beside its `/v1` base.
pub fn health_url(settings: &EngineSettings) -> String {
    let base = settings.base_url();
    format!(
        "{}/health",
        base.trim_end_matches('/').trim_end_matches("/v1")
    )
}

/// A voice the local engine speaks with, as its `/health` lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct EngineVoice {
    /// The `voice` option's value.
    #[schema(example = "rhvoice-anna")]
    pub name: String,
    /// The language it speaks (`*`: any, by language code).
    #[schema(example = "ru")]
    pub language: String,
    #[schema(example = "LGPL-2.1+")]
    pub licence: String,
}

/// The voices the engine can speak with now; none when it is off or does not answer.
pub async fn voices(settings: &EngineSettings) -> Vec<EngineVoice> {
    if !settings.is_enabled() {
        return Vec::new();
    }
    health(settings)
        .await
        .and_then(|health| serde_json::from_value(health["voices"].clone()).ok())
        .unwrap_or_default()
}

/// Asks the engine how it is; `None` when it does not answer.
pub async fn health(settings: &EngineSettings) -> Option<serde_json::Value> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .ok()?;
    let response = client.get(health_url(settings)).send().await.ok()?;
    response.json().await.ok()
}

async fn wait_until_healthy(settings: &EngineSettings, child: &mut tokio::process::Child) -> bool {
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(settings.startup_timeout_seconds);
    while tokio::time::Instant::now() < deadline {
        if health(settings).await.is_some() {
            return true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Runs until `shutdown`: keeps one engine process alive.
pub async fn supervise(settings: EngineSettings, shutdown: CancellationToken) {
    let Some((program, args)) = settings.command.split_first() else {
        tracing::error!("engines.command is empty; the local engine is not started");
        return;
    };
    let mut backoff = Duration::from_secs(1);
    loop {
        let spawned = Command::new(program)
            .args(args)
            .args([
                "--host",
                &settings.host,
                "--port",
                &settings.port.to_string(),
            ])
            .kill_on_drop(true)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) => {
                tracing::error!(%error, program, "could not start the local engine (run scripts/setup)");
                return;
            }
        };
        let started = tokio::time::Instant::now();
        if wait_until_healthy(&settings, &mut child).await {
            tracing::info!(url = %settings.base_url(), "local engine ready");
        } else {
            tracing::warn!("the local engine did not become healthy in time");
        }
        tokio::select! {
            status = child.wait() => {
                tracing::error!(?status, "the local engine exited; restarting in {backoff:?}");
            }
            _ = shutdown.cancelled() => {
                let _ = child.kill().await;
                return;
            }
        }
        // A process that ran a while earns a fresh backoff; a crash loop slows down.
        if started.elapsed() > Duration::from_secs(60) {
            backoff = Duration::from_secs(1);
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.cancelled() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
