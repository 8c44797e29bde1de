//! The app's error: what a use case can refuse or fail with, each with its stable
//! [`ErrorCode`]. It knows no HTTP; the HTTP crate answers each as problem+json.

use crate::domain::{project::FieldError, ErrorParams};
pub use crate::error_code::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
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
    #[error("{detail}")]
    Unprocessable { code: ErrorCode, detail: String },
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
    #[error("internal error")]
    Database(sqlx::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
    /// A refusal with the values its detail names, for clients that say it in their own words
    /// (see [`AppError::with_params`]).
    #[error("{0}")]
    WithParams(Box<AppError>, Box<ErrorParams>),
}

impl From<crate::domain::resource::OutputMismatch> for AppError {
    fn from(error: crate::domain::resource::OutputMismatch) -> Self {
        AppError::Internal(error.into())
    }
}

impl From<crate::providers::ProviderChoiceError> for AppError {
    fn from(error: crate::providers::ProviderChoiceError) -> Self {
        use crate::providers::ProviderChoiceError;
        let (code, step, provider) = match &error {
            ProviderChoiceError::Unknown { step, name, .. } => {
                (ErrorCode::UnknownProvider, Some(*step), Some(name.clone()))
            }
            ProviderChoiceError::NoneUsable { step, .. } => {
                (ErrorCode::NoProvider, Some(*step), None)
            }
            ProviderChoiceError::Retired(retired) => (
                ErrorCode::ProviderRetired,
                None,
                Some(retired.name.to_owned()),
            ),
        };
        AppError::unprocessable(code, error.to_string()).with_params(ErrorParams {
            step,
            provider,
            ..Default::default()
        })
    }
}

/// Input the database refused as data, not as a fault: a 422, so that no such request is ever
/// answered with a 500. Requests are checked before they reach the database
/// ([`crate::domain::storable`]); this is the net under those checks.
impl From<sqlx::Error> for AppError {
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
            Some(detail) => AppError::unprocessable(ErrorCode::InvalidValue, detail),
            None => AppError::Database(error),
        }
    }
}

impl AppError {
    pub fn bad_request(code: ErrorCode, detail: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn conflict(code: ErrorCode, detail: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    pub fn unprocessable(code: ErrorCode, detail: impl Into<String>) -> Self {
        AppError::Unprocessable {
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
            Err(AppError::Validation(errors))
        }
    }

    pub fn invalid_body(error: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = error.path().to_string();
        AppError::InvalidBody(FieldError::new(
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
            AppError::InvalidBody(error) => {
                AppError::InvalidBody(FieldError::new(nest(error.field), error.message))
            }
            AppError::Validation(errors) => AppError::Validation(
                errors
                    .into_iter()
                    .map(|error| FieldError::new(nest(error.field), error.message))
                    .collect(),
            ),
            other => other,
        }
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// The same error carrying the values its detail names (`Problem.params`).
    pub fn with_params(self, params: ErrorParams) -> Self {
        AppError::WithParams(Box::new(self), Box::new(params))
    }

    /// The error itself, without the values attached to it.
    pub fn inner(&self) -> &AppError {
        match self {
            AppError::WithParams(error, _) => error.inner(),
            other => other,
        }
    }

    /// The values the detail names, typed: attached ones, or those the error holds itself.
    pub fn params(&self) -> Option<ErrorParams> {
        match self {
            AppError::WithParams(_, params) => Some((**params).clone()),
            AppError::PayloadTooLarge { limit } => Some(ErrorParams {
                limit_bytes: Some(*limit as u64),
                ..Default::default()
            }),
            AppError::Upstream(error) => error.retry_after().map(|wait| ErrorParams {
                retry_after_seconds: Some(retry_seconds(wait)),
                ..Default::default()
            }),
            _ => None,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::WithParams(error, _) => error.code(),
            AppError::BadRequest { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Unprocessable { code, .. } => *code,
            AppError::Validation(_) => ErrorCode::ValidationFailed,
            AppError::InvalidBody(_) => ErrorCode::InvalidBody,
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::Unauthorized => ErrorCode::Unauthorized,
            AppError::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            AppError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            AppError::InsufficientStorage => ErrorCode::StorageFull,
            AppError::NotReady => ErrorCode::NotReady,
            AppError::BudgetExceeded(_) => ErrorCode::BudgetExceeded,
            AppError::AssetQuotaExceeded(_) => ErrorCode::AssetQuotaExceeded,
            AppError::Upstream(error) => error.code().unwrap_or(ErrorCode::ProviderRetryable),
            AppError::Forbidden { code, .. } => *code,
            AppError::Database(_) | AppError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The detail with each field's problem spelled out, for messages stored outside a
    /// response (a run's reel).
    pub fn detail_text(&self) -> String {
        match self.inner() {
            AppError::Validation(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }
}

/// Whole seconds to wait, rounded up and at least one: a client that waits what it is told is
/// let through (`Retry-After`, `params.retry_after_seconds`).
pub fn retry_seconds(wait: std::time::Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// A presented media link that does not open its file.
impl From<crate::signed::LinkRefused> for AppError {
    fn from(refused: crate::signed::LinkRefused) -> Self {
        AppError::Forbidden {
            code: ErrorCode::InvalidLink,
            detail: refused.0.to_owned(),
        }
    }
}

/// A page request the service cannot answer.
impl From<crate::pagination::BadPage> for AppError {
    fn from(bad: crate::pagination::BadPage) -> Self {
        AppError::BadRequest {
            code: bad.code,
            detail: bad.detail,
        }
    }
}
