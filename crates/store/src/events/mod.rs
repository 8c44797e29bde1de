//! The event bus behind SSE. The `events` table is the source of truth; Postgres NOTIFY only says
//! "there is something new", so any replica sees what any other replica wrote, and a subscriber
//! that reconnects replays from the table by id.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use bytes::Bytes;
use sqlx::{postgres::PgListener, PgPool};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    config::EventSettings,
    db::{self, events::EventFilter},
    domain::event::Event,
};

pub const EVENTS_CHANNEL: &str = "reelforge_events";
const FETCH_BATCH: i64 = 1000;

/// A connection that hears `channel` (e.g. every append to the event log); `None` (logged,
/// naming `who`) when it cannot be had, and the caller polls instead.
pub async fn listen(pool: &PgPool, channel: &str, who: &str) -> Option<PgListener> {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(%error, "{who} could not connect; polling instead");
            return None;
        }
    };
    match listener.listen(channel).await {
        Ok(()) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "{who} could not LISTEN; polling instead");
            None
        }
    }
}

/// One event, rendered once as an SSE frame and shared by every subscriber.
#[derive(Debug, Clone)]
pub struct Frame {
    pub id: i64,
    pub project_id: Option<Uuid>,
    pub workspace_id: Option<Uuid>,
    pub bytes: Bytes,
}

impl Frame {
    pub fn render(event: &Event) -> Frame {
        let data = serde_json::to_string(event).expect("an event always serializes");
        Frame {
            id: event.id,
            project_id: event.project_id,
            workspace_id: event.workspace_id,
            bytes: Bytes::from(format!(
                "id: {}\nevent: {}\ndata: {}\n\n",
                event.id, event.kind, data
            )),
        }
    }
}

struct Subscriber {
    filter: EventFilter,
    sender: mpsc::Sender<Frame>,
}

struct Registry {
    subscribers: HashMap<u64, Subscriber>,
    /// The id of the newest event handed to subscribers.
    last_dispatched: i64,
}

#[derive(Clone)]
pub struct EventBus {
    registry: Arc<Mutex<Registry>>,
    next_subscriber: Arc<AtomicU64>,
    settings: EventSettings,
}

/// A live feed of frames; dropping it unsubscribes.
pub struct Subscription {
    pub frames: mpsc::Receiver<Frame>,
    /// Every event after this id arrives on `frames`.
    pub starts_after: i64,
    id: u64,
    registry: Arc<Mutex<Registry>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        lock(&self.registry).subscribers.remove(&self.id);
    }
}

fn lock(registry: &Mutex<Registry>) -> std::sync::MutexGuard<'_, Registry> {
    // A panic while holding the lock cannot leave the map half-updated, so poisoning is ignored.
    registry
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl EventBus {
    /// Starts the bus at the current end of the log and spawns the task that feeds it.
    /// `listen_pool` is where its LISTEN connects (see [`crate::db::direct_pool`]).
    pub async fn start(
        pool: PgPool,
        listen_pool: PgPool,
        settings: EventSettings,
        shutdown: CancellationToken,
    ) -> Result<Self, sqlx::Error> {
        let last = db::events::last_id(&pool).await?;
        let bus = EventBus {
            registry: Arc::new(Mutex::new(Registry {
                subscribers: HashMap::new(),
                last_dispatched: last,
            })),
            next_subscriber: Arc::new(AtomicU64::new(0)),
            settings,
        };
        tokio::spawn(bus.clone().feed(pool, listen_pool, shutdown));
        Ok(bus)
    }

    pub fn settings(&self) -> &EventSettings {
        &self.settings
    }

    /// Every event of one project, or of all (`None`), for the service's own waits.
    pub fn subscribe(&self, project_id: Option<Uuid>) -> Subscription {
        self.subscribe_to(EventFilter {
            workspace_id: None,
            project_id,
        })
    }

    pub fn subscribe_to(&self, filter: EventFilter) -> Subscription {
        let (sender, frames) = mpsc::channel(self.settings.subscriber_buffer.max(1));
        let id = self.next_subscriber.fetch_add(1, Ordering::Relaxed);
        let mut registry = lock(&self.registry);
        registry
            .subscribers
            .insert(id, Subscriber { filter, sender });
        Subscription {
            frames,
            starts_after: registry.last_dispatched,
            id,
            registry: self.registry.clone(),
        }
    }

    pub fn subscriber_count(&self) -> usize {
        lock(&self.registry).subscribers.len()
    }

    async fn feed(self, pool: PgPool, listen_pool: PgPool, shutdown: CancellationToken) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        loop {
            let mut listener = listen(&listen_pool, EVENTS_CHANNEL, "event listener").await;
            loop {
                if let Err(error) = self.catch_up(&pool).await {
                    tracing::warn!(%error, "reading the event log failed");
                }
                let woke = match listener.as_mut() {
                    Some(listener) => tokio::select! {
                        _ = shutdown.cancelled() => return,
                        received = listener.try_recv() => received.map(|_| true),
                        _ = tokio::time::sleep(poll) => Ok(false),
                    },
                    None => tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(poll) => Ok(false),
                    },
                };
                if woke.is_err() {
                    // Reconnect; catch_up on the new connection covers whatever was missed.
                    break;
                }
                if listener.is_none() && woke.is_ok() {
                    break;
                }
            }
        }
    }

    /// Dispatches every event after the last one dispatched, in id order.
    async fn catch_up(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        loop {
            if self.subscriber_count() == 0 {
                // Nobody listens: skip ahead without reading payloads.
                let last = db::events::last_id(pool).await?;
                if self.skip_ahead_if_idle(last) {
                    return Ok(());
                }
            }
            let after = lock(&self.registry).last_dispatched;
            let events =
                db::events::list_after(pool, after, EventFilter::default(), FETCH_BATCH).await?;
            let fetched = events.len();
            self.dispatch(after, events.iter().map(Frame::render));
            if (fetched as i64) < FETCH_BATCH {
                return Ok(());
            }
        }
    }

    /// Moves the position to `last` unless a subscriber arrived meanwhile (it must get every
    /// event after the position it was given).
    fn skip_ahead_if_idle(&self, last: i64) -> bool {
        let mut registry = lock(&self.registry);
        if !registry.subscribers.is_empty() {
            return false;
        }
        registry.last_dispatched = registry.last_dispatched.max(last);
        true
    }

    fn dispatch(&self, fetched_after: i64, frames: impl Iterator<Item = Frame>) {
        let mut registry = lock(&self.registry);
        // Another catch-up (after a reconnect) may have moved past this batch already.
        if registry.last_dispatched != fetched_after {
            return;
        }
        for frame in frames {
            registry.subscribers.retain(|_, subscriber| {
                if !subscriber
                    .filter
                    .admits(frame.workspace_id, frame.project_id)
                {
                    return true;
                }
                // A full buffer means a slow client: drop it so it resumes by Last-Event-ID
                // instead of holding memory or blocking the others.
                subscriber.sender.try_send(frame.clone()).is_ok()
            });
            registry.last_dispatched = frame.id;
        }
    }
}
