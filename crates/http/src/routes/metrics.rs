use actix_web::{get, HttpRequest, HttpResponse};

use super::Data;
use crate::error::ApiError;

/// Read the Prometheus metrics
///
/// This replica's request, job and provider metrics in Prometheus' text format.
#[utoipa::path(
    tag = "health", security(()),
    responses((status = 200, description = "Prometheus text format; needs a token when `server.public_metrics` is false", content_type = "text/plain")),
)]
#[get("/metrics")]
pub async fn metrics(state: Data, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    if !state.settings.server.public_metrics {
        let service_request = actix_web::dev::ServiceRequest::from_request(request);
        crate::auth::authenticate(&service_request).await?;
    }
    let body = state.metrics.render(&state).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
