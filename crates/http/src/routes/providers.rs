//! Which providers this deployment offers, so a frontend can offer the choice.

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::Data;
use crate::domain::step::Step;

#[derive(Serialize, ToSchema)]
pub struct StepChoices {
    /// The field in project settings and run overrides.
    pub step: Step,
    #[schema(example = json!(["fake", "local", "assemblyai"]))]
    pub available: Vec<&'static str>,
    /// What `auto` resolves to here; null when nothing usable is configured for the step.
    #[schema(example = "assemblyai")]
    pub preferred: Option<&'static str>,
    /// What to configure when nothing is usable.
    pub configure: Option<String>,
    /// The voices of the `local` provider (the voice step, when the local engine runs), for
    /// `options.voice`.
    pub voices: Vec<crate::engines::EngineVoice>,
    /// The stock B-roll libraries configured here (the render step), the default first, for
    /// `options.stock_library`.
    #[schema(example = json!(["pexels", "pixabay"]))]
    pub stock_libraries: Vec<&'static str>,
}

/// List the providers of each step
///
/// Each step's usable providers in this deployment, the options each takes and whether it is ready.
#[utoipa::path(
    tag = "projects", operation_id = "list_providers",
    responses((status = 200, description = "Each step's usable providers: configured cloud ones and `local` (the `fake` ones only where configuration turns them on, for tests)", body = Vec<StepChoices>)),
)]
#[get("/providers")]
pub async fn list(state: Data) -> web::Json<Vec<StepChoices>> {
    let local_voices = match state
        .providers
        .names(Step::Voice)
        .contains(&crate::providers::LOCAL)
    {
        true => crate::engines::voices(&state.settings.engines).await,
        false => Vec::new(),
    };
    web::Json(
        Step::with_provider_setting()
            .map(|step| StepChoices {
                step,
                available: state.providers.names(step),
                preferred: state.providers.preferred(step),
                configure: state
                    .providers
                    .preferred(step)
                    .is_none()
                    .then(|| step.configure_hint()),
                voices: match step {
                    Step::Voice => local_voices.clone(),
                    _ => Vec::new(),
                },
                stock_libraries: match step {
                    Step::Render => state.providers.stock.names(),
                    _ => Vec::new(),
                },
            })
            .collect(),
    )
}
