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
    /// What `auto` resolves to here; null when nothing usable is configured for the step.
    #[schema(example = "assemblyai")]
    pub preferred: Option<&'static str>,
    /// What to configure when nothing is usable.
    pub configure: Option<&'static str>,
}

#[utoipa::path(
    tag = "projects", operation_id = "list_providers",
    responses((status = 200, description = "Each step's usable providers: configured cloud ones and `local` (the `fake` ones only where configuration turns them on, for tests)", body = Vec<StepChoices>)),
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
                configure: state
                    .providers
                    .preferred(step)
                    .is_none()
                    .then(|| crate::providers::configure_hint(step)),
            })
            .collect(),
    )
}
