//! The connection shared by every OpenAI-compatible client (chat, assistants, transcription,
//! speech): base URL, optional key, and the error rules of the contract, which must also
//! tolerate compatible servers whose error bodies look nothing like OpenAI's.

use crate::error_code::ErrorCode;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{
    http::{self, HttpFailureOr},
    ProviderError,
};

pub const PROVIDER: &str = "openai";

#[derive(Clone)]
pub struct OpenAiApi {
    pub client: reqwest::Client,
    base_url: String,
    /// Local servers (Ollama, llama.cpp, the local engine) need none.
    key: Option<SecretString>,
}

impl OpenAiApi {
    pub fn new(base_url: &str, key: Option<SecretString>, timeout: Duration) -> Self {
        OpenAiApi {
            client: http::client(timeout),
            base_url: base_url.trim_end_matches('/').to_owned(),
            key: key.filter(|k| !k.expose_secret().is_empty()),
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{path}", self.base_url));
        match &self.key {
            Some(key) => request.bearer_auth(key.expose_secret()),
            None => request,
        }
    }

    /// Sends and classifies: a 429 for `insufficient_quota` is final, since waiting does not
    /// add credit; everything else follows the shared rules.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ProviderError> {
        http::send(PROVIDER, request)
            .await
            .map_err(|failure| match failure {
                HttpFailureOr::Status(failure)
                    if failure.status.as_u16() == 429
                        && error_code(&failure.body).as_deref() == Some("insufficient_quota") =>
                {
                    ProviderError::fatal(
                        ErrorCode::ProviderOutOfCredit,
                        format!(
                            "{PROVIDER} says the quota is used up: {}",
                            failure.excerpt()
                        ),
                    )
                }
                other => other.into(),
            })
    }
}

/// `error.code` (or `error.type`) of an OpenAI error body; `None` for any other shape.
fn error_code(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let error = value.get("error")?;
    error
        .get("code")
        .and_then(Value::as_str)
        .or_else(|| error.get("type").and_then(Value::as_str))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::error_code;

    #[test]
    fn error_codes_are_read_from_any_body() {
        assert_eq!(
            error_code(r#"{"error":{"message":"m","type":"insufficient_quota","code":"insufficient_quota"}}"#).as_deref(),
            Some("insufficient_quota")
        );
        assert_eq!(error_code(r#"{"error":"model not found"}"#), None);
        assert_eq!(error_code("<html>Bad Gateway</html>"), None);
    }
}
