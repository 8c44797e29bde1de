use actix_web::App;
use utoipa::{
    openapi::{
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
        ContentBuilder, OpenApi as OpenApiDoc, Ref, ResponseBuilder,
    },
    Modify, OpenApi,
};
use utoipa_actix_web::AppExt;

mod contract;

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
AI agents can use the same operations as MCP tools at `/mcp`. Every `/v1` route and `/mcp` need `Authorization: Bearer <token>` (create one with `reelforge token create --name NAME [--workspace W] [--scope read|write|admin]`). \
Each token belongs to one workspace and sees only its projects and everything made in them (reels, runs, jobs, files, accounts, webhooks, events, MCP tools): another workspace's resources answer 404, as if they did not exist. \
A `read` token may only read (`GET`, and the MCP tools that change nothing), `write` (the default) may also create, change and delete, `admin` may also manage its workspace's tokens (`/v1/tokens`); a missing scope is a 403 `insufficient_scope`. \
Errors are `application/problem+json` with a stable `code`."
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem, FieldError, ReelSort)),
    security(("bearer" = [])),
    tags(
        (name = "projects", description = "A workspace's projects: each holds its reels, runs and files, and the settings its steps start from (providers, script length, voice, look, monthly budget)"),
        (name = "collections", description = "Step 1: reels gathered from Apify (accounts, hashtags), a dataset export, a server folder or uploaded videos, merged into the project by their Instagram id"),
        (name = "reels", description = "Step 2: the project's reels ranked by how strongly they trend; selecting one prepares its media (video, sound, a frame)"),
        (name = "transcripts", description = "Step 3: what a reel says, word by word, by the project's transcription provider"),
        (name = "scripts", description = "Step 4: a fresh script rewritten from a transcript, with its quality checks; editable by hand"),
        (name = "runs", description = "Steps 3 to 6 (and 7) for one or more reels in one call, reusing unchanged steps, within the project's monthly budget; estimate first with `estimate_run`"),
        (name = "audio", description = "Step 5: voiceovers of a script, fitted to the project's target length, with word timings"),
        (name = "videos", description = "Step 6: vertical videos of a voiceover with subtitles, in one or more formats; each file has a signed `content_url`"),
        (name = "jobs", description = "The durable background jobs every step runs as: progress, cancel and retry"),
        (name = "events", description = "The server-sent event stream of a workspace's jobs, resources, runs and publications, resumable with `Last-Event-ID`"),
        (name = "health", description = "Liveness, readiness and Prometheus metrics for load balancers, orchestrators and monitoring"),
        (name = "assets", description = "Each project's media library: clips, images, music and fonts to use in renders (`clip_keys`, `image_key`, `music_key`, `logo_key`, `subtitles.font_key`), within `assets.quota_bytes`"),
        (name = "voices", description = "Each project's voice library: voices cloned with ElevenLabs from recordings in its media library; the default one speaks `elevenlabs` voice steps that name no voice"),
        (name = "watchlists", description = "The trend radar: hashtags and accounts collected on a schedule, rules that raise alerts (the `alert` event and webhook) and may start runs within the project's monthly budget"),
        (name = "posts", description = "Step 7's words: a title, caption, hashtags and cover for a video, written by the project's rewrite provider as structured JSON and checked against every platform's limits"),
        (name = "publishing", description = "Step 7: platform accounts (OAuth or pasted tokens, sealed at rest) and publications to Instagram Reels, YouTube Shorts and TikTok, now or scheduled, resumed after a crash and never posted twice"),
        (name = "tokens", description = "A workspace's bearer tokens, managed by its `admin` tokens: made with a scope (`read`, `write`, `admin`), listed without their secrets, revoked"),
        (name = "mcp", description = "The Model Context Protocol server for AI agents, on `/mcp` with the same bearer tokens: the same operations as tools whose input schemas are this document's schemas"),
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
                    .description(Some("A token of one workspace with a scope: `read` reads, `write` also changes, `admin` also manages the workspace's tokens. Another workspace's resources answer 404; a missing scope answers 403 `insufficient_scope`."))
                    .build(),
            ),
        );
    }
}

/// Every operation that needs a token can answer 401; saying so once here keeps handlers short.
fn document_unauthorized(openapi: &mut OpenApiDoc) {
    let unauthorized = problem_response("Missing, unknown or revoked token");
    for operation in operations_mut(openapi) {
        let open = operation
            .security
            .as_ref()
            .is_some_and(|s| s.iter().all(|r| r == &SecurityRequirement::default()));
        if !open {
            operation
                .responses
                .responses
                .insert("401".into(), unauthorized.clone());
        }
    }
}

/// Every `/v1` operation that needs more than a `read` token (any but `GET`, and the token
/// routes) can answer 403 `insufficient_scope`; the scope is decided by method and path in one
/// place (`auth::require_token`), so it is documented in one place too.
fn document_scopes(openapi: &mut OpenApiDoc) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        if !path.starts_with("/v1/") {
            continue;
        }
        let (needed, operations) = if path.starts_with(crate::routes::tokens::PATH) {
            (
                "admin",
                vec![&mut item.get, &mut item.post, &mut item.delete],
            )
        } else {
            (
                "write",
                vec![
                    &mut item.post,
                    &mut item.patch,
                    &mut item.put,
                    &mut item.delete,
                ],
            )
        };
        let forbidden = problem_response(&format!(
            "The token's scope is not `{needed}` or above (`insufficient_scope`)"
        ));
        for operation in operations.into_iter().flatten() {
            operation
                .responses
                .responses
                .entry("403".into())
                .or_insert_with(|| forbidden.clone());
        }
    }
}

/// Every operation of the document, whatever its method.
fn operations_mut(
    openapi: &mut OpenApiDoc,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.post,
            &mut item.patch,
            &mut item.put,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
    })
}

fn problem_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// The failures the framework can answer on any operation, before a handler runs: a request
/// target too long (414), a malformed path or query (400) and, where a body is taken, a
/// malformed (400), oversized (413), non-JSON (415) or wrongly typed (422) one. Documented once here, so no operation forgets them.
fn document_common_failures(openapi: &mut OpenApiDoc) {
    for operation in operations_mut(openapi) {
        let takes_input = operation.request_body.is_some()
            || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
        let mut failures = vec![(
            "414",
            "The path and query are longer than the 8 KiB the service reads (`uri_too_long`)",
        )];
        if takes_input {
            failures.push(("400", "Malformed path, query or body (`invalid_query`, which a NUL character in any query parameter is, `invalid_path_parameter`, `malformed_json`, `invalid_cursor`)"));
        }
        if operation.request_body.is_some() {
            failures.extend([
                    ("413", "The body is larger than the server accepts (`payload_too_large`)"),
                    ("415", "The body is not of a content type this operation takes (`unsupported_media_type`)"),
                    ("422", "The body does not fit the schema or the rules (`invalid_body`, which a key given twice in one object is, `validation_failed`)"),
                ]);
        }
        for (status, description) in failures {
            operation
                .responses
                .responses
                .entry(status.into())
                .or_insert_with(|| problem_response(description));
        }
    }
}

/// Every `POST` under `/v1` that takes JSON honours `Idempotency-Key` (see
/// [`crate::idempotency`]); the header and the answers it can bring are documented once here.
fn document_idempotency(openapi: &mut OpenApiDoc) {
    use utoipa::openapi::{
        path::{ParameterBuilder, ParameterIn},
        ObjectBuilder, Required, Type,
    };
    let header = ParameterBuilder::new()
        .name(crate::idempotency::HEADER)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "1 to 255 printable ASCII characters (spaces allowed, not only spaces). Makes a retried request safe: the same key with the same request within 24 hours answers the first success again (with `Idempotent-Replayed: true`) and does nothing; with another request it is a 422 `idempotency_key_reused`; while the first is still running, a repeat waits up to 10 s, then gets a 409 `idempotency_key_in_flight`. Scoped to the token (so to its workspace). Not taken with multipart uploads or token creation.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[ -~]*[!-~][ -~]*$")),
        ))
        .build();
    for (path, item) in openapi.paths.paths.iter_mut() {
        let Some(operation) = item.post.as_mut().filter(|_| path.starts_with("/v1/")) else {
            continue;
        };
        let multipart = operation
            .request_body
            .as_ref()
            .is_some_and(|body| body.content.keys().any(|c| c.starts_with("multipart/")));
        if multipart || path == crate::routes::tokens::PATH {
            continue;
        }
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(header.clone());
        let responses = &mut operation.responses.responses;
        responses.entry("400".into()).or_insert_with(|| {
            problem_response("Malformed input (`invalid_idempotency_key`, ...)")
        });
        responses.entry("409".into()).or_insert_with(|| {
            problem_response("A request with the same `Idempotency-Key` is still running (`idempotency_key_in_flight`)")
        });
        responses.entry("422".into()).or_insert_with(|| {
            problem_response(
                "The `Idempotency-Key` was sent with another request (`idempotency_key_reused`)",
            )
        });
    }
}

/// Links a client (or a stateful fuzzer) can follow from a run to everything it made: the run
/// itself from its creation, and from the run its first reel and that reel's four step
/// resources, in pipeline order.
fn link_runs_to_their_products(openapi: &mut OpenApiDoc) {
    use utoipa::openapi::link::LinkBuilder;
    let link = |operation_id: &str, pointer: &str, description: &str| {
        LinkBuilder::new()
            .operation_id(operation_id)
            .parameter("id", format!("$response.body#{pointer}"))
            .description(description)
            .build()
    };
    // (operation, status, [(link name, link)])
    type Links = Vec<(&'static str, utoipa::openapi::link::Link)>;
    let mut links: Vec<(&str, &str, Links)> = vec![
        (
            "create_run",
            "202",
            vec![("run", link("get_run", "/id", "The run just started"))],
        ),
        (
            "get_run",
            "200",
            vec![
                (
                    "reel",
                    link("get_reel", "/reels/0/reel_id", "The run's first reel"),
                ),
                (
                    "transcript",
                    link(
                        "get_transcript",
                        "/reels/0/steps/0/resource_id",
                        "Its transcript (step 3)",
                    ),
                ),
                (
                    "script",
                    link(
                        "get_script",
                        "/reels/0/steps/1/resource_id",
                        "Its script (step 4)",
                    ),
                ),
                (
                    "audio",
                    link(
                        "get_audio",
                        "/reels/0/steps/2/resource_id",
                        "Its voiceover (step 5)",
                    ),
                ),
                (
                    "video",
                    link(
                        "get_video",
                        "/reels/0/steps/3/resource_id",
                        "Its video (step 6)",
                    ),
                ),
            ],
        ),
    ];
    for item in openapi.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
            let Some(index) = links
                .iter()
                .position(|(id, ..)| operation.operation_id.as_deref() == Some(id))
            else {
                continue;
            };
            let (_, status, named) = links.swap_remove(index);
            if let Some(utoipa::openapi::RefOr::T(response)) =
                operation.responses.responses.get_mut(status)
            {
                for (name, link) in named {
                    response.links.insert(name.to_owned(), link.into());
                }
            }
        }
    }
    let missing: Vec<&str> = links.iter().map(|(id, ..)| *id).collect();
    assert!(
        missing.is_empty(),
        "operations to link are missing: {missing:?}"
    );
}

/// The methods the document declares for a concrete request path (`/v1/projects/1f0...`), in
/// the order `Allow` lists them; empty when no documented path matches.
pub fn methods_for(path: &str) -> Vec<&'static str> {
    static TEMPLATES: std::sync::LazyLock<Vec<(Vec<String>, Vec<&'static str>)>> =
        std::sync::LazyLock::new(|| {
            let mut templates: Vec<(Vec<String>, Vec<&'static str>)> = spec()
                .paths
                .paths
                .iter()
                .map(|(template, item)| {
                    let declared = [
                        ("GET", item.get.is_some()),
                        ("POST", item.post.is_some()),
                        ("PUT", item.put.is_some()),
                        ("PATCH", item.patch.is_some()),
                        ("DELETE", item.delete.is_some()),
                    ];
                    let methods = declared
                        .into_iter()
                        .filter_map(|(method, present)| present.then_some(method))
                        .collect();
                    (template.split('/').map(str::to_owned).collect(), methods)
                })
                .collect();
            // The page and the document are served beside the API, GET only.
            for path in crate::routes::page::paths().chain(["/openapi.json"]) {
                templates.push((path.split('/').map(str::to_owned).collect(), vec!["GET"]));
            }
            templates
        });
    let segments: Vec<&str> = path.split('/').collect();
    // `/collections/files` is its own path, not `/collections/{collection_id}`: of the templates
    // that match, only those with the most literal segments count.
    let mut best: Option<(usize, Vec<&'static str>)> = None;
    for (template, declared) in TEMPLATES.iter() {
        let matches = template.len() == segments.len()
            && template.iter().zip(&segments).all(|(expected, given)| {
                (expected.starts_with('{') && !given.is_empty()) || expected == given
            });
        if !matches {
            continue;
        }
        let literal = template.iter().filter(|s| !s.starts_with('{')).count();
        match &mut best {
            Some((most, methods)) if *most == literal => {
                for method in declared {
                    if !methods.contains(method) {
                        methods.push(method);
                    }
                }
            }
            Some((most, _)) if *most > literal => {}
            _ => best = Some((literal, declared.clone())),
        }
    }
    best.map(|(_, methods)| methods).unwrap_or_default()
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
    document_scopes(&mut spec);
    document_idempotency(&mut spec);
    document_common_failures(&mut spec);
    link_runs_to_their_products(&mut spec);
    document_option_providers(&mut spec);
    contract::apply(&mut spec);
    spec
}

/// Says on each step option which providers take it; another provider refuses it with a 422.
fn document_option_providers(spec: &mut OpenApiDoc) {
    use utoipa::openapi::{schema::Schema, RefOr};
    let Some(components) = spec.components.as_mut() else {
        return;
    };
    for (schema, options) in crate::domain::options::providers_by_option() {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) else {
            continue;
        };
        for (option, providers) in options.iter().filter(|(_, p)| !p.is_empty()) {
            let note = format!("Taken only by: {}.", providers.join(", "));
            let description = match object.properties.get_mut(*option) {
                Some(RefOr::T(Schema::Object(property))) => &mut property.description,
                Some(RefOr::T(Schema::OneOf(property))) => &mut property.description,
                _ => continue,
            };
            *description = Some(match description.take() {
                Some(text) => format!("{text} {note}"),
                None => note,
            });
        }
    }
}

/// The document as served at `/openapi.json` and committed in `openapi/openapi.json`.
///
/// utoipa 5 writes the fields of link objects in snake_case (`operation_id`); OpenAPI spells
/// them `operationId`, `operationRef` and `requestBody`, and tools reject the others. The text is
/// mended in place, which keeps utoipa's field order; no schema of ours has a property of those
/// names (a test holds that).
pub fn spec_json() -> String {
    let text = spec().to_pretty_json().expect("the spec always serializes") + "\n";
    [
        ("\"operation_id\":", "\"operationId\":"),
        ("\"operation_ref\":", "\"operationRef\":"),
        ("\"request_body\":", "\"requestBody\":"),
    ]
    .iter()
    .fold(text, |text, (from, to)| text.replace(from, to))
}

pub fn spec_value() -> serde_json::Value {
    serde_json::from_str(&spec_json()).expect("the document is JSON")
}
