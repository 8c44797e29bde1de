use std::sync::Arc;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{
    access::TokenCache, config::Settings, events::EventBus, media::MediaStore, metrics::Metrics,
    providers::Providers,
};

/// Shared by every request handler of one replica.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub bus: EventBus,
    pub providers: Arc<Providers>,
    pub metrics: Arc<Metrics>,
    pub tokens: Arc<TokenCache>,
    pub media: Arc<MediaStore>,
    /// The time schedules and budgets see.
    pub clock: crate::clock::SharedClock,
    /// Cancelled on shutdown; long-lived responses (SSE) end when it fires.
    pub shutdown: CancellationToken,
    /// Signs and checks the media links (`content_url`).
    pub links: Arc<crate::signed::LinkSigner>,
    /// The per-token request limit; none when `rate_limit.per_minute` is 0.
    pub limiter: Option<Arc<crate::rate_limit::RequestLimiter>>,
}
