use actix_web::App;
use utoipa::{
    openapi::{
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
        OpenApi as OpenApiDoc,
    },
    Modify, OpenApi,
};
use utoipa_actix_web::AppExt;

use crate::{domain::project::FieldError, error::Problem, routes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "reelforge",
        description = "Repurpose trending Instagram Reels: collect and rank reels, transcribe, rewrite, voice and render. \
Steps run as durable jobs; follow them with `GET /v1/jobs/{id}` or the `GET /v1/events` server-sent event stream. \
Every `/v1` route needs `Authorization: Bearer <token>` (create one with `reelforge token create --name NAME`). \
Errors are `application/problem+json` with a stable `code`."
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem, FieldError)),
    security(("bearer" = [])),
    tags(
        (name = "projects"), (name = "reels"), (name = "transcripts"), (name = "scripts"),
        (name = "audio"), (name = "videos"), (name = "jobs"), (name = "events"), (name = "health"),
    ),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("rf_...").build()),
        );
    }
}

/// The OpenAPI document, collected from the same route registration the server uses.
pub fn spec() -> OpenApiDoc {
    let (_, spec) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    spec
}

pub fn spec_json() -> String {
    spec().to_pretty_json().expect("the spec always serializes") + "\n"
}
