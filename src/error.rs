//! One error type for every HTTP answer that is not a success, rendered as RFC 9457
//! `application/problem+json` with a stable `code`.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::project::FieldError;
pub use crate::error_code::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: ErrorCode, detail: String },
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    /// A body that does not read as the operation's request type (a wrong type, an unknown
    /// field), with the field it failed at.
    #[error("the body does not match the request schema at `{}`: {}", .0.field, .0.message)]
    InvalidBody(FieldError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{detail}")]
    Conflict { code: ErrorCode, detail: String },
    #[error("a valid bearer token is required")]
    Unauthorized,
    #[error("the body is larger than the {limit} bytes allowed")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request target (path and query) is longer than the {limit} bytes read")]
    UriTooLong { limit: usize },
    #[error("{detail}")]
    Unprocessable { code: ErrorCode, detail: String },
    #[error("this path answers only {}", .0.join(", "))]
    MethodNotAllowed(Vec<&'static str>),
    #[error("the media storage is full; nothing was kept, try again once space is freed")]
    InsufficientStorage,
    #[error("the service is not ready")]
    NotReady,
    #[error("{0}")]
    BudgetExceeded(String),
    #[error("{0}")]
    AssetQuotaExceeded(String),
    /// A provider called while the request waits (voice cloning) failed.
    #[error("{0}")]
    Upstream(crate::providers::ProviderError),
    #[error("{detail}")]
    Forbidden { code: ErrorCode, detail: String },
    #[error("too many requests from this token; try again in {} s", .retry_after.as_secs().max(1))]
    RateLimited { retry_after: std::time::Duration },
    #[error("internal error")]
    Database(sqlx::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<crate::domain::resource::OutputMismatch> for ApiError {
    fn from(error: crate::domain::resource::OutputMismatch) -> Self {
        ApiError::Internal(error.into())
    }
}

impl From<crate::providers::ProviderChoiceError> for ApiError {
    fn from(error: crate::providers::ProviderChoiceError) -> Self {
        let code = match error {
            crate::providers::ProviderChoiceError::Unknown { .. } => ErrorCode::UnknownProvider,
            crate::providers::ProviderChoiceError::NoneUsable { .. } => ErrorCode::NoProvider,
            crate::providers::ProviderChoiceError::Retired(_) => ErrorCode::ProviderRetired,
        };
        ApiError::unprocessable(code, error.to_string())
    }
}

/// Input the database refused as data, not as a fault: a 422, so that no such request is ever
/// answered with a 500. Requests are checked before they reach the database
/// ([`crate::domain::storable`]); this is the net under those checks.
impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        let refused_as_data = match &error {
            sqlx::Error::Database(db) => db.code().and_then(|code| match code.as_ref() {
                // character_not_in_repertoire (NUL in text), untranslatable_character (\u0000
                // in JSONB), invalid_text_representation, numeric_value_out_of_range,
                // string_data_right_truncation, program_limit_exceeded (an index row too big).
                "22021" | "22P05" => Some("text must not contain NUL characters"),
                "22P02" | "22003" => Some("a value is out of the range the service can store"),
                "22001" | "54000" => Some("a value is too long to store"),
                _ => None,
            }),
            _ => None,
        };
        match refused_as_data {
            Some(detail) => ApiError::unprocessable(ErrorCode::InvalidValue, detail),
            None => ApiError::Database(error),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[schema(example = "/problems/not_found")]
    pub r#type: String,
    #[schema(example = "Not Found")]
    pub title: String,
    #[schema(example = 404)]
    pub status: u16,
    #[schema(example = "project not found")]
    pub detail: String,
    pub code: ErrorCode,
    /// Per-field reasons, for `validation_failed` and `invalid_body`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl ApiError {
    pub fn bad_request(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn conflict(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    pub fn unprocessable(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::Unprocessable {
            code,
            detail: detail.into(),
        }
    }

    /// Free-form JSON from a request that PostgreSQL could not store and give back unchanged
    /// (NUL, numbers beyond what JSONB round-trips) is refused, naming each field.
    pub fn require_storable(field: &str, value: &serde_json::Value) -> Result<(), Self> {
        let mut errors = Vec::new();
        crate::domain::storable::check_json(field, value, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(errors))
        }
    }

    pub fn invalid_body(error: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = error.path().to_string();
        ApiError::InvalidBody(FieldError::new(
            if path == "." { String::new() } else { path },
            error.inner().to_string(),
        ))
    }

    /// The same error with its fields inside `parent`, for a value checked apart from its body.
    pub fn under(self, parent: &str) -> Self {
        let nest = |field: String| match field.as_str() {
            "" => parent.to_owned(),
            _ => format!("{parent}.{field}"),
        };
        match self {
            ApiError::InvalidBody(error) => {
                ApiError::InvalidBody(FieldError::new(nest(error.field), error.message))
            }
            ApiError::Validation(errors) => ApiError::Validation(
                errors
                    .into_iter()
                    .map(|error| FieldError::new(nest(error.field), error.message))
                    .collect(),
            ),
            other => other,
        }
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. } => *code,
            ApiError::Validation(_) => ErrorCode::ValidationFailed,
            ApiError::InvalidBody(_) => ErrorCode::InvalidBody,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::Unauthorized => ErrorCode::Unauthorized,
            ApiError::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            ApiError::UriTooLong { .. } => ErrorCode::UriTooLong,
            ApiError::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            ApiError::InsufficientStorage => ErrorCode::StorageFull,
            ApiError::NotReady => ErrorCode::NotReady,
            ApiError::BudgetExceeded(_) => ErrorCode::BudgetExceeded,
            ApiError::AssetQuotaExceeded(_) => ErrorCode::AssetQuotaExceeded,
            ApiError::Upstream(error) => error.code().unwrap_or(ErrorCode::ProviderRetryable),
            ApiError::Forbidden { code, .. } => *code,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::Database(_) | ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The detail with each field's problem spelled out, for messages stored outside a
    /// response (a run's reel).
    pub fn detail_text(&self) -> String {
        match self {
            ApiError::Validation(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            r#type: format!("/problems/{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            // Display of the internal variants is fixed text, so nothing internal leaks; the
            // rest can quote a platform or a caller (an OAuth `error_description`), so it is
            // masked like a job error.
            detail: crate::redact::redact(&self.to_string()).into_owned(),
            code: self.code(),
            errors: match self {
                ApiError::Validation(errors) => Some(errors.clone()),
                ApiError::InvalidBody(error) => Some(vec![error.clone()]),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) | ApiError::InvalidBody(_) | ApiError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::PayloadTooLarge { .. } | ApiError::AssetQuotaExceeded(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BudgetExceeded(_) => StatusCode::PAYMENT_REQUIRED,
            ApiError::Upstream(error) => match error.code() {
                None => StatusCode::SERVICE_UNAVAILABLE,
                Some(ErrorCode::VoiceSlotsFull) => StatusCode::CONFLICT,
                Some(
                    ErrorCode::ProviderRejected
                    | ErrorCode::NotConfigured
                    | ErrorCode::AccountReauthorizationNeeded,
                ) => StatusCode::UNPROCESSABLE_ENTITY,
                Some(_) => StatusCode::BAD_GATEWAY,
            },
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Database(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Database(error) => tracing::error!(%error, "database error"),
            ApiError::Internal(error) => {
                tracing::error!(error = %format!("{error:#}"), "internal error")
            }
            ApiError::Upstream(error) => tracing::warn!(%error, "a provider call failed"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        match self {
            ApiError::Unauthorized => {
                response.insert_header(("WWW-Authenticate", "Bearer"));
            }
            ApiError::MethodNotAllowed(methods) => {
                response.insert_header(("Allow", methods.join(", ")));
            }
            ApiError::Upstream(crate::providers::ProviderError::Retryable {
                retry_after: Some(wait),
                ..
            }) => {
                response.insert_header(("Retry-After", wait.as_secs().max(1).to_string()));
            }
            ApiError::RateLimited { retry_after } => {
                // Rounded up: a client that waits what it is told is let through.
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                response.insert_header(("Retry-After", seconds.max(1).to_string()));
            }
            _ => {}
        }
        response.json(self.to_problem())
    }
}

pub mod extractors {
    //! Turns actix's extractor failures into problems instead of plain-text 400s.

    use actix_web::{
        error::{JsonPayloadError, PathError, QueryPayloadError},
        HttpRequest,
    };

    use super::{ApiError, ErrorCode};

    pub fn json_error(
        limit: usize,
    ) -> impl Fn(JsonPayloadError, &HttpRequest) -> actix_web::Error + Send + Sync + 'static {
        move |error, _| {
            let api_error = match error {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => {
                    ApiError::PayloadTooLarge { limit }
                }
                JsonPayloadError::ContentType => ApiError::UnsupportedMediaType(
                    "the body must be JSON (Content-Type: application/json)".into(),
                ),
                JsonPayloadError::Deserialize(error) if error.is_data() => {
                    ApiError::unprocessable(ErrorCode::InvalidBody, error.to_string())
                }
                JsonPayloadError::Deserialize(error) => {
                    ApiError::bad_request(ErrorCode::MalformedJson, error.to_string())
                }
                other => ApiError::bad_request(ErrorCode::MalformedBody, other.to_string()),
            };
            api_error.into()
        }
    }

    pub fn path_error(error: PathError, request: &HttpRequest) -> actix_web::Error {
        // `GET /collections/files` reaches `/collections/{collection_id}`: the path is another
        // operation's, so the method is what is wrong.
        let allowed = crate::openapi::methods_for(request.path());
        if !allowed.is_empty() && !allowed.contains(&request.method().as_str()) {
            return ApiError::MethodNotAllowed(allowed).into();
        }
        let detail = match error {
            PathError::Deserialize(error) => format!("invalid path parameter: {error}"),
            other => other.to_string(),
        };
        ApiError::bad_request(ErrorCode::InvalidPathParameter, detail).into()
    }

    pub fn query_error(error: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
        let detail = match error {
            QueryPayloadError::Deserialize(error) => format!("invalid query: {error}"),
            other => other.to_string(),
        };
        ApiError::bad_request(ErrorCode::InvalidQuery, detail).into()
    }
}
