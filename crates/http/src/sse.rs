//! Turns a subscription plus a replay from the log into an SSE byte stream with no gaps and no
//! duplicates: the live feed is registered first, the log is replayed up to whatever it holds,
//! and live frames the replay already sent are skipped.

use std::{collections::VecDeque, time::Duration};

use bytes::Bytes;
use futures::Stream;
use sqlx::PgPool;
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::events::{EventBus, Frame, Subscription};
use crate::{
    access::RevocationWatch,
    db::{self, events::EventFilter},
};

const REPLAY_PAGE: i64 = 500;

pub struct EventStream {
    pool: PgPool,
    filter: EventFilter,
    subscription: Subscription,
    /// Replay position while replaying from the log; `None` once live.
    replay_after: Option<i64>,
    replay_buffer: VecDeque<Frame>,
    sent_up_to: i64,
    retry_hint: Option<Bytes>,
    keepalive: Interval,
    shutdown: CancellationToken,
    /// The stream ends when the token that opened it is revoked.
    token: RevocationWatch,
}

impl EventStream {
    pub fn open(
        bus: &EventBus,
        pool: PgPool,
        filter: EventFilter,
        last_event_id: Option<i64>,
        shutdown: CancellationToken,
        token: RevocationWatch,
    ) -> Self {
        let subscription = bus.subscribe_to(filter);
        let settings = bus.settings();
        let period = Duration::from_secs(settings.keepalive_seconds.max(1));
        let mut keepalive = interval_at(Instant::now() + period, period);
        keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let sent_up_to = last_event_id.unwrap_or(subscription.starts_after);
        EventStream {
            pool,
            filter,
            replay_after: last_event_id,
            replay_buffer: VecDeque::new(),
            sent_up_to,
            retry_hint: Some(Bytes::from(format!("retry: {}\n\n", settings.retry_ms))),
            keepalive,
            shutdown,
            subscription,
            token,
        }
    }

    async fn next_chunk(&mut self) -> Option<Bytes> {
        if let Some(hint) = self.retry_hint.take() {
            return Some(hint);
        }
        if let Some(after) = self.replay_after {
            if self.replay_buffer.is_empty() {
                match db::events::list_after(&self.pool, after, self.filter, REPLAY_PAGE).await {
                    Ok(events) if events.is_empty() => self.replay_after = None,
                    Ok(events) => self.replay_buffer.extend(events.iter().map(Frame::render)),
                    Err(error) => {
                        // Ending the stream makes the client reconnect and resume from its last id.
                        tracing::warn!(%error, "event replay failed");
                        return None;
                    }
                }
            }
            if let Some(frame) = self.replay_buffer.pop_front() {
                self.replay_after = Some(frame.id);
                self.sent_up_to = self.sent_up_to.max(frame.id);
                return Some(frame.bytes);
            }
        }
        loop {
            tokio::select! {
                frame = self.subscription.frames.recv() => match frame {
                    Some(frame) if frame.id <= self.sent_up_to => continue,
                    Some(frame) => {
                        self.sent_up_to = frame.id;
                        return Some(frame.bytes);
                    }
                    // The bus dropped this subscriber for falling behind.
                    None => return None,
                },
                _ = self.keepalive.tick() => return Some(Bytes::from_static(b": keep-alive\n\n")),
                _ = self.shutdown.cancelled() => return None,
                _ = self.token.revoked() => return None,
            }
        }
    }

    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
        futures::stream::unfold(self, |mut stream| async move {
            let chunk = stream.next_chunk().await?;
            Some((Ok(chunk), stream))
        })
    }
}
