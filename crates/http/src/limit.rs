//! The per-token request limit at the door: counts each `/v1` request (see the app's
//! `rate_limit` for the policy) and writes the IETF `RateLimit` fields on the answer.

use std::time::Duration;

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web,
};

use crate::{
    access::hash, auth::presented_token, error::ApiError, rate_limit::POLICY, state::AppState,
};

fn seconds_up(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// Middleware at the door of `/v1` and `/mcp`, before authentication: counts the request against
/// the token it presents (valid or not, so guessing tokens is limited too), its signed link, or
/// else its peer, and says so on every answer, a 401 included.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let limiter = req
        .app_data::<web::Data<AppState>>()
        .and_then(|state| state.limiter.clone());
    let Some(limiter) = limiter.filter(|_| req.path() != "/v1/events") else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let key = match presented_token(&req) {
        Some(token) => format!("token:{}", hash(&token)),
        None if crate::signed::is_signed(req.query_string()) => format!("link:{}", req.path()),
        None => format!(
            "peer:{}",
            req.peer_addr()
                .map(|peer| peer.ip().to_string())
                .unwrap_or_default()
        ),
    };
    let standing = limiter.count(key);
    let fields = [
        ("ratelimit-policy", limiter.policy()),
        (
            "ratelimit",
            format!(
                "\"{POLICY}\";r={};t={}",
                standing.remaining,
                seconds_up(standing.reset)
            ),
        ),
    ];
    let mut response = if standing.allowed {
        next.call(req).await?.map_into_left_body()
    } else {
        let error = ApiError::RateLimited {
            retry_after: standing.reset,
        };
        req.into_response(actix_web::ResponseError::error_response(&error))
            .map_into_right_body()
    };
    for (name, value) in fields {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    Ok(response)
}
