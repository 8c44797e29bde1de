use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::Data;
use crate::error::AppError;
use crate::{
    db,
    error::{ApiError, Problem},
};

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Check that the process is alive
///
/// Answers as long as the process runs, without touching the database: for liveness probes.
#[utoipa::path(tag = "health", security(()), responses((status = 200, description = "The process is alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// Check that the service can serve
///
/// Answers 200 once the database answers and is migrated, 503 otherwise: for readiness probes and load balancers.
#[utoipa::path(
    tag = "health", security(()),
    responses(
        (status = 200, description = "The database answers and is migrated", body = Health),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/readyz")]
pub async fn readyz(state: Data) -> Result<web::Json<Health>, ApiError> {
    match db::is_migrated(&state.pool).await {
        Ok(true) => Ok(web::Json(Health { status: "ready" })),
        Ok(false) => Err(AppError::NotReady.into()),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            Err(AppError::NotReady.into())
        }
    }
}
