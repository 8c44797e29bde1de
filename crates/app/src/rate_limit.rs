//! The per-token request limit: GCRA (the `governor` crate) over `rate_limit.per_minute`
//! requests a minute, in bursts of up to as many. It is kept in each replica's memory, so N
//! replicas let a token make up to N times the limit; that bounds what one token can take of a
//! replica, which is what the limit is for, without a shared store on every request.
//!
//! Every `/v1` and `/mcp` answer says where the token stands with the IETF `RateLimit-Policy`
//! and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers); past the limit the answer is
//! 429 `rate_limited` with `Retry-After`. The event stream is exempt (one long request, resumed
//! with `Last-Event-ID`), and so are `/healthz`, `/readyz` and `/metrics`. A signed media link
//! counts against a bucket of its own file, since it carries no token.

use std::{num::NonZeroU32, time::Duration};

use governor::{
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
    Quota, RateLimiter,
};

/// The policy's name in the `RateLimit` fields.
pub const POLICY: &str = "per-token";
/// Keys kept before idle ones (buckets already full again) are dropped.
const MAX_KEYS: usize = 10_000;

type Keyed =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// One replica's buckets.
pub struct RequestLimiter {
    limiter: Keyed,
    per_minute: u32,
}

/// Where a key stands after a request was counted (or refused).
pub struct Standing {
    pub remaining: u32,
    /// Until the bucket is full again (allowed), or until the next request fits (refused).
    pub reset: Duration,
    pub allowed: bool,
}

impl RequestLimiter {
    /// None when `per_minute` is 0 (no limit).
    pub fn new(per_minute: u32) -> Option<Self> {
        let per_minute = NonZeroU32::new(per_minute)?;
        Some(RequestLimiter {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute))
                .with_middleware::<StateInformationMiddleware>(),
            per_minute: per_minute.get(),
        })
    }

    /// Counts a request against `key`'s bucket.
    pub fn count(&self, key: String) -> Standing {
        if self.limiter.len() > MAX_KEYS {
            self.limiter.retain_recent();
        }
        let per_request = Duration::from_secs(60) / self.per_minute;
        match self.limiter.check_key(&key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Standing {
                    remaining,
                    reset: per_request * (self.per_minute - remaining),
                    allowed: true,
                }
            }
            Err(refused) => Standing {
                remaining: 0,
                reset: refused.wait_time_from(DefaultClock::default().now()),
                allowed: false,
            },
        }
    }

    /// The `RateLimit-Policy` field.
    pub fn policy(&self) -> String {
        format!("\"{POLICY}\";q={};w=60", self.per_minute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_the_quota_passes_and_the_next_waits_one_share_of_the_minute() {
        let limiter = RequestLimiter::new(3).unwrap();
        for left in [2, 1, 0] {
            let standing = limiter.count("a".into());
            assert!(standing.allowed);
            assert_eq!(standing.remaining, left);
        }
        let refused = limiter.count("a".into());
        assert!(!refused.allowed);
        assert!(refused.reset <= Duration::from_secs(20) && refused.reset > Duration::ZERO);
        assert!(
            limiter.count("b".into()).allowed,
            "keys have their own buckets"
        );
    }

    #[test]
    fn zero_means_no_limit() {
        assert!(RequestLimiter::new(0).is_none());
    }
}
