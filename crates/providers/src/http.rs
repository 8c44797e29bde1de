//! Shared HTTP plumbing for cloud providers: one client configuration, and one place that turns
//! transport failures and non-success answers into retryable or fatal [`ProviderError`]s.

use crate::error_code::ErrorCode;
use std::time::Duration;

use reqwest::{header::HeaderMap, Response, StatusCode};

use super::ProviderError;

/// Longest body excerpt quoted in an error message.
const EXCERPT_CHARS: usize = 300;

pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("reelforge/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .timeout(timeout)
        .build()
        .expect("the TLS backend is compiled in")
}

/// A non-success answer, kept whole so a vendor client can refine the default classification
/// (OpenAI's `insufficient_quota` 429 is fatal, say) before calling [`HttpFailure::into_error`].
#[derive(Debug)]
pub struct HttpFailure {
    pub provider: &'static str,
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    pub body: String,
}

impl HttpFailure {
    pub async fn read(provider: &'static str, response: Response) -> Self {
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.text().await.unwrap_or_default();
        HttpFailure {
            provider,
            status,
            retry_after,
            body,
        }
    }

    pub fn excerpt(&self) -> String {
        excerpt(&self.body)
    }

    /// The default rules: 408, 429 and 5xx are worth retrying; other answers are final.
    pub fn into_error(self) -> ProviderError {
        let (provider, status) = (self.provider, self.status.as_u16());
        let detail = format!("{provider} answered {status}: {}", self.excerpt());
        match status {
            408 | 425 | 429 | 500..=599 => ProviderError::Retryable {
                message: detail,
                retry_after: self.retry_after,
            },
            401 => ProviderError::fatal(
                ErrorCode::ProviderAuth,
                format!("{provider} rejected the API key (401)"),
            ),
            402 => ProviderError::fatal(ErrorCode::ProviderOutOfCredit, detail),
            403 => ProviderError::fatal(ErrorCode::ProviderForbidden, detail),
            404 => ProviderError::fatal(ErrorCode::ProviderNotFound, detail),
            _ => ProviderError::fatal(ErrorCode::ProviderRejected, detail),
        }
    }
}

/// Timeouts and connection failures are transient; anything else about the exchange is not.
pub fn transport_error(provider: &'static str, error: reqwest::Error) -> ProviderError {
    let transient =
        error.is_timeout() || error.is_connect() || error.is_request() || error.is_body();
    let decode = error.is_decode();
    // reqwest quotes the request URL, whose query may hold a key.
    let error = crate::redact::redact(&error.to_string()).into_owned();
    if transient {
        ProviderError::retryable(format!("{provider} could not be reached: {error}"))
    } else if decode {
        bad_response(provider, error)
    } else {
        ProviderError::retryable(format!("{provider} request failed: {error}"))
    }
}

/// A success status whose body is not what the vendor documents.
pub fn bad_response(provider: &'static str, error: impl std::fmt::Display) -> ProviderError {
    ProviderError::fatal(
        ErrorCode::ProviderBadResponse,
        format!("{provider} sent an unexpected answer: {error}"),
    )
}

/// Sends a request and answers the response when it succeeded, or the classified failure.
pub async fn send(
    provider: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<Response, HttpFailureOr> {
    match request.send().await {
        Err(error) => Err(HttpFailureOr::Transport(transport_error(provider, error))),
        Ok(response) if response.status().is_success() => Ok(response),
        Ok(response) => Err(HttpFailureOr::Status(
            HttpFailure::read(provider, response).await,
        )),
    }
}

/// Either a failure answer that the caller may refine, or an already classified error.
#[derive(Debug)]
pub enum HttpFailureOr {
    Status(HttpFailure),
    Transport(ProviderError),
}

impl From<HttpFailureOr> for ProviderError {
    fn from(failure: HttpFailureOr) -> Self {
        match failure {
            HttpFailureOr::Status(failure) => failure.into_error(),
            HttpFailureOr::Transport(error) => error,
        }
    }
}

/// Parses the body as JSON, reporting a malformed one as a fatal contract break.
pub async fn json<T: serde::de::DeserializeOwned>(
    provider: &'static str,
    response: Response,
) -> Result<T, ProviderError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|error| transport_error(provider, error))?;
    serde_json::from_slice(&bytes).map_err(|error| {
        bad_response(
            provider,
            format!("{error} in {}", excerpt(&String::from_utf8_lossy(&bytes))),
        )
    })
}

/// A quotable start of a vendor's body, with any credential it echoes masked.
fn excerpt(body: &str) -> String {
    let redacted = crate::redact::redact(body);
    let trimmed = redacted.trim();
    if trimmed.chars().count() <= EXCERPT_CHARS {
        trimmed.to_owned()
    } else {
        format!(
            "{}…",
            trimmed.chars().take(EXCERPT_CHARS).collect::<String>()
        )
    }
}

/// `Retry-After` in seconds (or an HTTP date), else OpenAI's `x-ratelimit-reset-requests`
/// (`1s`, `6m0s`, `20ms`).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(value) = header("retry-after") {
        if let Ok(seconds) = value.parse::<f64>() {
            return (seconds.is_finite() && seconds >= 0.0)
                .then(|| Duration::from_secs_f64(seconds.min(3600.0)));
        }
        if let Ok(date) = chrono::DateTime::parse_from_rfc2822(value) {
            return (date.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .to_std()
                .ok();
        }
    }
    header("x-ratelimit-reset-requests").and_then(parse_go_duration)
}

/// Parses durations such as `6m0s`, `1.5s`, `20ms`, `1h2m3s`.
fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let value: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_end..];
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_openai_reset_headers() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[("x-ratelimit-reset-requests", "6m0s")])),
            Some(Duration::from_secs(360))
        );
        assert_eq!(
            retry_after(&headers(&[("x-ratelimit-reset-requests", "20ms")])),
            Some(Duration::from_millis(20))
        );
        assert_eq!(
            retry_after(&headers(&[("x-ratelimit-reset-requests", "1.5s")])),
            Some(Duration::from_millis(1500))
        );
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let parsed = retry_after(&headers(&[("retry-after", &soon)])).unwrap();
        assert!(
            parsed <= Duration::from_secs(30) && parsed >= Duration::from_secs(28),
            "{parsed:?}"
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(
            retry_after(&headers(&[("x-ratelimit-reset-requests", "5 minutes")])),
            None
        );
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn statuses_map_to_retry_classes() {
        let failure = |status: u16| HttpFailure {
            provider: "vendor",
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: None,
            body: "{\"error\": \"x\"}".into(),
        };
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(
                matches!(
                    failure(status).into_error(),
                    ProviderError::Retryable { .. }
                ),
                "{status}"
            );
        }
        let code = |status| match failure(status).into_error() {
            ProviderError::Fatal { code, .. } => code,
            other => panic!("{status}: {other:?}"),
        };
        assert_eq!(code(401), ErrorCode::ProviderAuth);
        assert_eq!(code(402), ErrorCode::ProviderOutOfCredit);
        assert_eq!(code(403), ErrorCode::ProviderForbidden);
        assert_eq!(code(422), ErrorCode::ProviderRejected);
    }

    #[test]
    fn long_bodies_are_cut_in_messages() {
        let failure = HttpFailure {
            provider: "vendor",
            status: StatusCode::BAD_GATEWAY,
            retry_after: None,
            body: "é".repeat(1000),
        };
        let message = failure.into_error().to_string();
        assert!(message.chars().count() < 400, "{message}");
    }
}
