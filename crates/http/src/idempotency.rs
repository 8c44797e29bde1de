//! `Idempotency-Key` on every `POST` under `/v1`, as Stripe's API has it: an automation script
//! that retries a timed-out request never starts paid work twice.
//!
//! - The first request with a key claims it (a row in PostgreSQL, so every replica sees it),
//!   runs, and stores its answer when it succeeded (2xx).
//! - The same key with the same request within 24 hours answers that stored response again,
//!   with `Idempotent-Replayed: true`, and does nothing.
//! - The same key with another request (method, path, query, content type or body differ) is a
//!   422 `idempotency_key_reused`.
//! - A repeat that arrives while the first is still running waits for its answer, up to
//!   [`WAIT_FOR_FIRST`], then gets a 409 `idempotency_key_in_flight`.
//! - An answer that is not a success is not kept: the client may fix the cause (a parent not
//!   ready yet, a 5xx) and retry with the same key.
//!
//! Keys are scoped to the token that sent them, and so to its workspace: two tokens (in one
//! workspace or two) never see each other's keys.

use crate::error::AppError;
use crate::error_code::ErrorCode;
use std::time::Duration;

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
    web, HttpMessage, HttpResponse,
};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{access::Principal, db, error::ApiError, state::AppState};

pub const HEADER: &str = "Idempotency-Key";
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
const MAX_KEY_CHARS: usize = 255;
/// A claim still without an answer after this long is taken to be abandoned (its replica died
/// mid-request) and may be claimed again by the same request.
const ABANDONED_AFTER_SECONDS: f64 = 120.0;
/// How long a repeat waits for the answer of the request still running with its key.
pub const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

fn checked_key(req: &ServiceRequest) -> Result<Option<String>, ApiError> {
    let Some(raw) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    raw.to_str()
        .ok()
        .map(str::trim)
        .filter(|key| {
            !key.is_empty()
                && key.chars().count() <= MAX_KEY_CHARS
                && key.chars().all(|c| c.is_ascii_graphic() || c == ' ')
        })
        .map(|key| Some(key.to_owned()))
        .ok_or_else(|| {
            AppError::bad_request(
                ErrorCode::InvalidIdempotencyKey,
                format!("{HEADER} must be 1 to {MAX_KEY_CHARS} printable ASCII characters"),
            )
            .into()
        })
}

/// What makes two requests "the same request".
fn request_hash(req: &ServiceRequest, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [
        req.method().as_str(),
        req.path(),
        req.query_string(),
        req.headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.update(body);
    hex::encode(hash.finalize())
}

fn replay(stored: db::idempotency::StoredKey) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(stored.status.unwrap_or(200) as u16)
        .unwrap_or(actix_web::http::StatusCode::OK);
    let mut response = HttpResponse::build(status);
    if let Some(content_type) = stored.content_type {
        response.content_type(content_type);
    }
    response
        .insert_header((REPLAYED_HEADER, "true"))
        .body(stored.body.unwrap_or_default())
}

enum Claim {
    Mine,
    Answered(HttpResponse),
}

async fn claim_or_replay(
    pool: &PgPool,
    token: Uuid,
    key: &str,
    hash: &str,
) -> Result<Claim, ApiError> {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    loop {
        if db::idempotency::claim(pool, token, key, hash, ABANDONED_AFTER_SECONDS).await? {
            return Ok(Claim::Mine);
        }
        match db::idempotency::get(pool, token, key).await? {
            // Released between the two statements: claim again.
            None => continue,
            Some(stored) if stored.request_hash != hash => {
                return Err(AppError::unprocessable(
                    ErrorCode::IdempotencyKeyReused,
                    format!("this {HEADER} was sent with another request in the last 24 hours; use a new key for a new request"),
                ).into())
            }
            Some(stored) if stored.status.is_some() => return Ok(Claim::Answered(replay(stored))),
            Some(_) if tokio::time::Instant::now() < deadline => tokio::time::sleep(POLL).await,
            Some(_) => {
                return Err(AppError::conflict(
                    ErrorCode::IdempotencyKeyInFlight,
                    format!("a request with this {HEADER} is still being answered; retry shortly"),
                ).into())
            }
        }
    }
}

/// Middleware for the `/v1` scope (inside authentication, which names the token).
pub async fn honour_key(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() != Method::POST {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(key) = checked_key(&req)? else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if req
        .content_type()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return Err(ApiError::from(AppError::unprocessable(
            ErrorCode::IdempotencyUnsupported,
            format!("{HEADER} is not taken with uploads: uploading a video again merges into the same reel"),
        )).into());
    }
    if req.path() == crate::routes::tokens::PATH {
        return Err(ApiError::from(AppError::unprocessable(
            ErrorCode::IdempotencyUnsupported,
            format!("{HEADER} is not taken when creating a token: its secret is shown once and never stored, so the answer cannot be replayed"),
        )).into());
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("application state missing")))
        .map_err(ApiError::from)?;
    let token = req
        .extensions()
        .get::<Principal>()
        .map(|principal| principal.token_id)
        .ok_or(AppError::Unauthorized)
        .map_err(ApiError::from)?;

    // The body decides whether a repeat is the same request, so it is read here and handed on.
    let limit = state.settings.server.body_limit_bytes;
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::from(AppError::PayloadTooLarge { limit }).into());
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let hash = request_hash(&req, &body);
    req.set_payload(Payload::from(body));

    match claim_or_replay(&state.pool, token, &key, &hash).await? {
        Claim::Answered(response) => return Ok(req.into_response(response)),
        Claim::Mine => {}
    }
    let response = match next.call(req).await {
        Ok(response) => response,
        Err(error) => {
            let _ = db::idempotency::release(&state.pool, token, &key).await;
            return Err(error);
        }
    };
    if !response.status().is_success() {
        db::idempotency::release(&state.pool, token, &key)
            .await
            .map_err(ApiError::from)?;
        return Ok(response.map_into_boxed_body());
    }
    let (request, response) = response.into_parts();
    let status = response.status();
    let content_type = response
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (head, body) = response.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|_| AppError::Internal(anyhow::anyhow!("reading a response body failed")))
        .map_err(ApiError::from)?;
    db::idempotency::complete(
        &state.pool,
        token,
        &key,
        status.as_u16(),
        content_type.as_deref(),
        &bytes,
    )
    .await
    .map_err(ApiError::from)?;
    Ok(ServiceResponse::new(
        request,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}

/// Drops keys past their 24 hours, hourly, until `stop`.
pub async fn purge_forever(pool: PgPool, stop: CancellationToken) {
    loop {
        match db::idempotency::purge_expired(&pool).await {
            Ok(0) => {}
            Ok(count) => tracing::debug!(count, "expired idempotency keys dropped"),
            Err(error) => tracing::warn!(%error, "dropping expired idempotency keys failed"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}
