//! Refuses what a request line itself gets wrong, before routing, as problems: a target longer
//! than the service reads (414), and a NUL character in the query (400), which would otherwise
//! reach a filter as text PostgreSQL cannot hold or a token nobody could have been issued.

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};

use crate::error::AppError;
use crate::error::{ApiError, ErrorCode};

/// The longest request target (path and query) read, in bytes. Longer ones are refused with a
/// problem here up to the HTTP parser's own limit (64 KiB, where it answers a bare 400 before
/// any of this service's code runs).
pub const MAX_TARGET_BYTES: usize = 8 * 1024;

pub async fn check(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let target = req
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if target > MAX_TARGET_BYTES {
        return Err(ApiError::UriTooLong {
            limit: MAX_TARGET_BYTES,
        }
        .into());
    }
    // Every `%` of a well-formed query starts an escape, so this finds exactly the NULs.
    if req.query_string().contains("%00") {
        return Err(ApiError::from(AppError::bad_request(
            ErrorCode::InvalidQuery,
            "query parameters must not contain NUL characters",
        ))
        .into());
    }
    next.call(req).await
}
