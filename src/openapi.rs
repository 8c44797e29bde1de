use actix_web::App;
use utoipa::{
    openapi::{
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
        ContentBuilder, OpenApi as OpenApiDoc, Ref, ResponseBuilder,
    },
    Modify, OpenApi,
};
use utoipa_actix_web::AppExt;

use crate::{
    domain::{project::FieldError, reel::ReelSort},
    error::Problem,
    routes,
};

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
    components(schemas(Problem, FieldError, ReelSort)),
    security(("bearer" = [])),
    tags(
        (name = "projects"), (name = "collections"), (name = "reels"), (name = "transcripts"), (name = "scripts"), (name = "runs"),
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
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("rf_...")
                    .build(),
            ),
        );
    }
}

/// Every operation that needs a token can answer 401; saying so once here keeps handlers short.
fn document_unauthorized(openapi: &mut OpenApiDoc) {
    let unauthorized = ResponseBuilder::new()
        .description("Missing, unknown or revoked token")
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build();
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.patch,
            &mut item.put,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            let open = operation
                .security
                .as_ref()
                .is_some_and(|s| s.iter().all(|r| r == &SecurityRequirement::default()));
            if !open {
                operation
                    .responses
                    .responses
                    .insert("401".into(), unauthorized.clone().into());
            }
        }
    }
}

/// The OpenAPI document, collected from the same route registration the server uses.
pub fn spec() -> OpenApiDoc {
    let (_, spec) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    let mut spec = spec;
    document_unauthorized(&mut spec);
    spec
}

pub fn spec_json() -> String {
    spec().to_pretty_json().expect("the spec always serializes") + "\n"
}
