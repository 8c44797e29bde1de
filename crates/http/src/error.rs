//! Every HTTP answer that is not a success, rendered as RFC 9457 `application/problem+json`
//! with a stable `code`: the app's errors, and the few only HTTP can meet.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{project::FieldError, ErrorParams};
pub use crate::error_code::ErrorCode;
use reelforge_app::error::retry_seconds;
pub use reelforge_app::error::AppError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("the request target (path and query) is longer than the {limit} bytes read")]
    UriTooLong { limit: usize },
    #[error("this path answers only {}", .0.join(", "))]
    MethodNotAllowed(Vec<&'static str>),
    #[error("too many requests from this token; try again in {} s", .retry_after.as_secs().max(1))]
    RateLimited { retry_after: std::time::Duration },
}

/// Errors the app's own conversions cover, met directly in routes.
macro_rules! through_app_error {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for ApiError {
            fn from(error: $error) -> Self {
                ApiError::App(error.into())
            }
        }
    )*};
}

through_app_error!(
    sqlx::Error,
    anyhow::Error,
    crate::providers::ProviderChoiceError,
    crate::domain::resource::OutputMismatch,
    crate::signed::LinkRefused,
    crate::pagination::BadPage,
);

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
    /// The values `detail` names (a limit, a wait, a provider, a status), typed, so a client
    /// can say the problem in its own language from `code`; absent when the code names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<ErrorParams>,
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::App(error) => error.code(),
            ApiError::UriTooLong { .. } => ErrorCode::UriTooLong,
            ApiError::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
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
                ApiError::App(error) => match error.inner() {
                    AppError::Validation(errors) => Some(errors.clone()),
                    AppError::InvalidBody(error) => Some(vec![error.clone()]),
                    _ => None,
                },
                _ => None,
            },
            params: self.params(),
        }
    }

    fn params(&self) -> Option<ErrorParams> {
        match self {
            ApiError::App(error) => error.params(),
            ApiError::UriTooLong { limit } => Some(ErrorParams {
                limit_bytes: Some(*limit as u64),
                ..Default::default()
            }),
            ApiError::MethodNotAllowed(_) => None,
            ApiError::RateLimited { retry_after } => Some(ErrorParams {
                retry_after_seconds: Some(retry_seconds(*retry_after)),
                ..Default::default()
            }),
        }
    }
}

/// The status an app error is answered with.
fn app_status(app: &AppError) -> StatusCode {
    match app {
        AppError::WithParams(error, _) => app_status(error),
        AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        AppError::Validation(_) | AppError::InvalidBody(_) | AppError::Unprocessable { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::Unauthorized => StatusCode::UNAUTHORIZED,
        AppError::PayloadTooLarge { .. } | AppError::AssetQuotaExceeded(_) => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        AppError::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
        AppError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
        AppError::BudgetExceeded(_) => StatusCode::PAYMENT_REQUIRED,
        AppError::Upstream(error) => match error.code() {
            None => StatusCode::SERVICE_UNAVAILABLE,
            Some(ErrorCode::VoiceSlotsFull) => StatusCode::CONFLICT,
            Some(
                ErrorCode::ProviderRejected
                | ErrorCode::NotConfigured
                | ErrorCode::AccountReauthorizationNeeded,
            ) => StatusCode::UNPROCESSABLE_ENTITY,
            Some(_) => StatusCode::BAD_GATEWAY,
        },
        AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
        AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::App(error) => app_status(error),
            ApiError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let app = match self {
            ApiError::App(error) => Some(error.inner()),
            _ => None,
        };
        match app {
            Some(AppError::Database(error)) => tracing::error!(%error, "database error"),
            Some(AppError::Internal(error)) => {
                tracing::error!(error = %format!("{error:#}"), "internal error")
            }
            Some(AppError::Upstream(error)) => {
                tracing::warn!(%error, "a provider call failed")
            }
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        match app {
            Some(AppError::Unauthorized) => {
                response.insert_header(("WWW-Authenticate", "Bearer"));
            }
            _ => {
                if let ApiError::MethodNotAllowed(methods) = self {
                    response.insert_header(("Allow", methods.join(", ")));
                }
            }
        }
        let problem = self.to_problem();
        // The wait the problem names is the header's too (a provider's, or the rate limit's).
        if let Some(seconds) = problem.params.as_ref().and_then(|p| p.retry_after_seconds) {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        response.json(problem)
    }
}

pub mod extractors {
    //! Turns actix's extractor failures into problems instead of plain-text 400s.

    use actix_web::{
        error::{JsonPayloadError, PathError, QueryPayloadError},
        HttpRequest,
    };

    use super::{ApiError, AppError, ErrorCode};

    pub fn json_error(
        limit: usize,
    ) -> impl Fn(JsonPayloadError, &HttpRequest) -> actix_web::Error + Send + Sync + 'static {
        move |error, _| {
            let api_error = match error {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => {
                    AppError::PayloadTooLarge { limit }
                }
                JsonPayloadError::ContentType => AppError::UnsupportedMediaType(
                    "the body must be JSON (Content-Type: application/json)".into(),
                ),
                JsonPayloadError::Deserialize(error) if error.is_data() => {
                    AppError::unprocessable(ErrorCode::InvalidBody, error.to_string())
                }
                JsonPayloadError::Deserialize(error) => {
                    AppError::bad_request(ErrorCode::MalformedJson, error.to_string())
                }
                other => AppError::bad_request(ErrorCode::MalformedBody, other.to_string()),
            };
            ApiError::from(api_error).into()
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
        ApiError::from(AppError::bad_request(
            ErrorCode::InvalidPathParameter,
            detail,
        ))
        .into()
    }

    pub fn query_error(error: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
        let detail = match error {
            QueryPayloadError::Deserialize(error) => format!("invalid query: {error}"),
            other => other.to_string(),
        };
        ApiError::from(AppError::bad_request(ErrorCode::InvalidQuery, detail)).into()
    }
}
