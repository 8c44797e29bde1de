//! Stock B-roll search: one trait, one file per library (Pexels, Pixabay). Each client keeps the
//! rate-limit window its last answer reported and does not call again before that window
//! resets, so a render does not spend an hour's quota collecting 429s.

pub mod pexels;
pub mod pixabay;

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;

use super::{http, ProviderError};

pub use reelforge_vocab::domain::provider::STOCK_KEY_SETTINGS as KEY_SETTINGS;

/// The libraries configured, and how their files are fetched.
pub struct StockLibraries {
    /// By name; the first is the default.
    pub libraries: std::collections::BTreeMap<&'static str, std::sync::Arc<dyn StockLibrary>>,
    pub guard: super::fetch::UrlGuard,
    pub limits: super::fetch::Limits,
}

impl StockLibraries {
    pub fn names(&self) -> Vec<&'static str> {
        self.libraries.keys().copied().collect()
    }

    /// `asked` if it is configured, else the default; none when no library is.
    pub fn pick(&self, asked: Option<&str>) -> Option<&std::sync::Arc<dyn StockLibrary>> {
        match asked {
            Some(name) => self.libraries.get(name),
            None => self.libraries.values().next(),
        }
    }
}

pub use reelforge_vocab::domain::stock::{Orientation, StockClip, StockFile};

#[async_trait]
pub trait StockLibrary: Send + Sync {
    /// `pexels` or `pixabay`.
    fn name(&self) -> &'static str;

    /// The credit line the library's terms ask for.
    fn credit(&self, clip: &StockClip) -> String;

    /// Clips for `query` (English words), the ones of `orientation` first.
    async fn search(
        &self,
        query: &str,
        orientation: Orientation,
    ) -> Result<Vec<StockClip>, ProviderError>;
}

/// What a library's last answer said of its rate limit.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Window {
    remaining: Option<u64>,
    reset_at: Option<DateTime<Utc>>,
}

/// A library's rate-limit window, as its headers report it.
#[derive(Debug, Default)]
pub struct RateWindow(Mutex<Window>);

/// Without a reset time, a 429 is taken to last this long.
const UNKNOWN_RESET_SECONDS: i64 = 60;

impl RateWindow {
    fn window(&self) -> std::sync::MutexGuard<'_, Window> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Refuses a call while the window is spent, with how long until it resets.
    pub fn check(&self, provider: &str, now: DateTime<Utc>) -> Result<(), ProviderError> {
        let window = *self.window();
        match (window.remaining, window.reset_at) {
            (Some(0), Some(reset_at)) if reset_at > now => Err(limited(provider, reset_at, now)),
            _ => Ok(()),
        }
    }

    /// Records what an answer's headers said; a header an answer lacks keeps its last value.
    pub fn observe(&self, remaining: Option<u64>, reset_at: Option<DateTime<Utc>>) {
        let mut window = self.window();
        if remaining.is_some() {
            window.remaining = remaining;
        }
        if reset_at.is_some() {
            window.reset_at = reset_at;
        }
    }

    /// A 429: the window is spent until `reset_at`, else the last reset reported, else a
    /// minute from now.
    pub fn exhausted(
        &self,
        provider: &str,
        reset_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> ProviderError {
        let mut window = self.window();
        // A 429 while the last answer had requests left is the hourly cap, not the monthly
        // quota whose rollover the last reset may be.
        let known = window.reset_at.filter(|at| *at > now).map(|at| {
            if window.remaining.is_some_and(|left| left > 0) {
                at.min(now + chrono::Duration::hours(1))
            } else {
                at
            }
        });
        let reset_at = reset_at
            .filter(|at| *at > now)
            .or(known)
            .unwrap_or(now + chrono::Duration::seconds(UNKNOWN_RESET_SECONDS));
        *window = Window {
            remaining: Some(0),
            reset_at: Some(reset_at),
        };
        limited(provider, reset_at, now)
    }
}

fn limited(provider: &str, reset_at: DateTime<Utc>, now: DateTime<Utc>) -> ProviderError {
    ProviderError::Retryable {
        message: format!(
            "{provider}'s rate limit is spent until {}",
            reset_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        retry_after: (reset_at - now).to_std().ok(),
    }
}

/// What each library's client holds: an HTTP client, the API's address, the key, and the
/// rate-limit window its answers report.
pub struct StockClient {
    pub client: reqwest::Client,
    pub base_url: String,
    pub key: secrecy::SecretString,
    pub window: RateWindow,
}

impl StockClient {
    pub fn new(base_url: &str, key: secrecy::SecretString, timeout: std::time::Duration) -> Self {
        StockClient {
            client: http::client(timeout),
            base_url: base_url.trim_end_matches('/').to_owned(),
            key,
            window: RateWindow::default(),
        }
    }
}

/// How a library's `X-Ratelimit-Reset` header tells the reset time.
#[derive(Debug, Clone, Copy)]
pub enum ResetHeader {
    /// Pexels: the UNIX time of the reset.
    UnixSeconds,
    /// Pixabay: seconds from now.
    SecondsLeft,
}

impl RateWindow {
    /// Sends `request` unless the window is spent, and records the window the answer reports;
    /// a 429 spends it until its reset.
    pub async fn send(
        &self,
        provider: &'static str,
        reset: ResetHeader,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ProviderError> {
        let now = Utc::now();
        self.check(provider, now)?;
        let response = request
            .send()
            .await
            .map_err(|error| http::transport_error(provider, error))?;
        let headers = response.headers();
        let reset_at = header_number(headers, "x-ratelimit-reset").and_then(|value| {
            let value = i64::try_from(value).ok()?;
            match reset {
                ResetHeader::UnixSeconds => DateTime::from_timestamp(value, 0),
                ResetHeader::SecondsLeft => Some(now + chrono::Duration::seconds(value)),
            }
        });
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(self.exhausted(provider, reset_at, now));
        }
        self.observe(header_number(headers, "x-ratelimit-remaining"), reset_at);
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(http::HttpFailure::read(provider, response)
                .await
                .into_error())
        }
    }
}

/// A header's value as a whole number.
fn header_number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::video_format::VideoFormat;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn wait(error: ProviderError) -> std::time::Duration {
        error.retry_after().expect("a wait")
    }

    #[test]
    fn a_spent_window_refuses_calls_until_it_resets() {
        let window = RateWindow::default();
        assert!(window.check("pexels", at(0)).is_ok());
        window.observe(Some(3), Some(at(100)));
        assert!(window.check("pexels", at(0)).is_ok());
        window.observe(Some(0), None);
        assert_eq!(
            wait(window.check("pexels", at(40)).unwrap_err()).as_secs(),
            60
        );
        assert!(window.check("pexels", at(100)).is_ok());
    }

    #[test]
    fn a_429_without_headers_keeps_the_last_reset() {
        let window = RateWindow::default();
        window.observe(Some(5), Some(at(300)));
        assert_eq!(wait(window.exhausted("pexels", None, at(0))).as_secs(), 300);
        assert!(window.check("pexels", at(299)).is_err());
        // A reset the answer gives wins; with none known at all, a minute.
        let fresh = RateWindow::default();
        assert_eq!(wait(fresh.exhausted("pixabay", None, at(0))).as_secs(), 60);
        assert_eq!(
            wait(fresh.exhausted("pixabay", Some(at(7)), at(0))).as_secs(),
            7
        );
        // A reset already past is no reset.
        let fresh = RateWindow::default();
        assert_eq!(
            wait(fresh.exhausted("pixabay", Some(at(0)), at(0))).as_secs(),
            60
        );
        // Pexels' reset may be the month's rollover: with requests left, a 429 is the hourly cap.
        let monthly = RateWindow::default();
        monthly.observe(Some(150), Some(at(20 * 86_400)));
        assert_eq!(
            wait(monthly.exhausted("pexels", None, at(0))).as_secs(),
            3600
        );
    }

    #[test]
    fn the_best_file_is_the_smallest_that_is_big_enough() {
        let file = |width, height| StockFile {
            url: format!("{width}x{height}"),
            width,
            height,
        };
        let clip = StockClip {
            id: "1".into(),
            page_url: String::new(),
            author: String::new(),
            author_url: None,
            duration_seconds: 5.0,
            files: vec![file(2160, 3840), file(540, 960), file(1080, 1920)],
        };
        assert_eq!(clip.best_file((1080, 1920)).unwrap().url, "1080x1920");
        assert_eq!(clip.best_file((540, 960)).unwrap().url, "540x960");
        assert_eq!(clip.best_file((4000, 4000)).unwrap().url, "2160x3840");
        // A landscape file fills a portrait frame only when it is tall enough.
        let wide = StockClip {
            files: vec![file(1920, 1080), file(3840, 2160)],
            ..clip.clone()
        };
        assert_eq!(wide.best_file((1080, 1920)).unwrap().url, "3840x2160");
        assert!(Orientation::Portrait.fits(1080, 1920));
        assert!(!Orientation::Portrait.fits(1920, 1080));
        assert!(Orientation::Square.fits(1000, 1050));
        assert_eq!(
            Orientation::of(VideoFormat::Landscape),
            Orientation::Landscape
        );
    }
}
