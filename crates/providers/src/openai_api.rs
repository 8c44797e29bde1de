//! The connection shared by every OpenAI-compatible client (chat, transcription, speech): base
//! URL, optional key, and the error rules of the contract, which must also tolerate compatible
//! servers whose error bodies look nothing like OpenAI's.

use crate::error_code::ErrorCode;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

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
        self.send_adaptable(request)
            .await
            .map_err(ProviderError::from)
    }

    /// As [`OpenAiApi::send`], but a 400 that names a parameter the model does not take
    /// (`unsupported_parameter`, `unsupported_value`) comes back as that parameter, so the
    /// caller can ask again without it.
    pub async fn send_adaptable(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SendError> {
        http::send(PROVIDER, request)
            .await
            .map_err(|failure| match failure {
                HttpFailureOr::Status(failure) => {
                    let error = ErrorBody::parse(&failure.body);
                    match failure.status.as_u16() {
                        429 if error.code() == Some("insufficient_quota") => {
                            SendError::Other(ProviderError::fatal(
                                ErrorCode::ProviderOutOfCredit,
                                format!(
                                    "{PROVIDER} says the quota is used up: {}",
                                    failure.excerpt()
                                ),
                            ))
                        }
                        400 => match error.refused_parameter() {
                            Some(param) => SendError::RefusedParameter {
                                param: param.to_owned(),
                                error: failure.into_error(),
                            },
                            None => SendError::Other(failure.into_error()),
                        },
                        _ => SendError::Other(failure.into_error()),
                    }
                }
                HttpFailureOr::Transport(error) => SendError::Other(error),
            })
    }
}

/// Why [`OpenAiApi::send_adaptable`] got no answer.
#[derive(Debug)]
pub enum SendError {
    /// The model does not take `param` (or not the value sent): asking without it may work.
    RefusedParameter {
        param: String,
        error: ProviderError,
    },
    Other(ProviderError),
}

impl From<SendError> for ProviderError {
    fn from(error: SendError) -> Self {
        match error {
            SendError::RefusedParameter { error, .. } | SendError::Other(error) => error,
        }
    }
}

/// OpenAI's error body, `{"error": {"message", "type", "param", "code"}}`; compatible servers
/// answer other shapes (`{"error": "text"}`, HTML), which read as empty.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorDetail {
    code: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    param: Option<String>,
}

impl ErrorBody {
    fn parse(body: &str) -> Self {
        serde_json::from_str(body).unwrap_or_default()
    }

    /// `error.code`, else `error.type`.
    fn code(&self) -> Option<&str> {
        self.error.code.as_deref().or(self.error.kind.as_deref())
    }

    /// The parameter a 400 says the model does not take, or not with the value sent.
    fn refused_parameter(&self) -> Option<&str> {
        match self.code()? {
            "unsupported_parameter" | "unsupported_value" => self.error.param.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorBody;

    #[test]
    fn error_codes_are_read_from_any_body() {
        let code = |body: &str| ErrorBody::parse(body).code().map(str::to_owned);
        assert_eq!(
            code(r#"{"error":{"message":"m","type":"insufficient_quota","code":"insufficient_quota"}}"#).as_deref(),
            Some("insufficient_quota")
        );
        assert_eq!(code(r#"{"error":"model not found"}"#), None);
        assert_eq!(code("<html>Bad Gateway</html>"), None);
    }

    #[test]
    fn a_refused_parameter_is_named_only_when_the_body_says_so() {
        let refused = |body: &str| {
            ErrorBody::parse(body)
                .refused_parameter()
                .map(str::to_owned)
        };
        assert_eq!(
            refused(r#"{"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}}"#).as_deref(),
            Some("max_tokens")
        );
        assert_eq!(
            refused(r#"{"error": {"message": "Unsupported value: 'temperature' does not support 0.8 with this model. Only the default (1) value is supported.", "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value"}}"#).as_deref(),
            Some("temperature")
        );
        assert_eq!(
            refused(
                r#"{"error": {"message": "Invalid 'messages'", "type": "invalid_request_error", "param": "messages", "code": "invalid_value"}}"#
            ),
            None
        );
        assert_eq!(refused(r#"{"error": "max_tokens is too large"}"#), None);
    }
}
