//! Which providers this deployment offers, so a frontend can offer the choice.

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::Data;
use crate::domain::{project::StepProviders, ResourceKind};

#[derive(Serialize, ToSchema)]
pub struct StepChoices {
    /// The field in project settings and run overrides: `collect`, `transcribe`, `rewrite`,
    /// `voice` or `render`.
    #[schema(example = "transcribe")]
    pub step: &'static str,
    #[schema(example = json!(["fake", "local", "assemblyai"]))]
    pub available: Vec<&'static str>,
    /// What `auto` resolves to here.
    #[schema(example = "assemblyai")]
    pub preferred: &'static str,
}

#[utoipa::path(
    tag = "projects", operation_id = "list_providers",
    responses((status = 200, description = "Each step's available providers (configured cloud ones, `local` when the engines run, and `fake`)", body = Vec<StepChoices>)),
)]
#[get("/providers")]
pub async fn list(state: Data) -> web::Json<Vec<StepChoices>> {
    web::Json(
        StepProviders::CHOSEN
            .iter()
            .map(|&step: &ResourceKind| StepChoices {
                step: StepProviders::step_field(step),
                available: state.providers.names(step),
                preferred: state.providers.preferred(step),
            })
            .collect(),
    )
}
