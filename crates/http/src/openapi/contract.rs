//! What the document promises a frontend beyond each handler's own annotation, added in one
//! place so no operation forgets it: the servers, the headers answers carry, the rate limit and
//! server failures, signed media links, list pages that refer to their item schema, and the
//! event union's discriminator.

use utoipa::openapi::{
    header::HeaderBuilder,
    path::{Operation, ParameterBuilder, ParameterIn},
    schema::{ArrayItems, Discriminator, Schema},
    security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme},
    server::ServerBuilder,
    ObjectBuilder, OpenApi, Ref, RefOr, Required, Type,
};

use super::problem_response;

/// Everything below, in order.
pub fn apply(openapi: &mut OpenApi) {
    document_servers(openapi);
    refer_page_items(openapi);
    discriminate_events(openapi);
    document_signed_links(openapi);
    document_failures(openapi);
    document_headers(openapi);
}

fn document_servers(openapi: &mut OpenApi) {
    openapi.servers = Some(vec![ServerBuilder::new()
        .url("http://localhost:8080")
        .description(Some(
            "A service on this machine (`reelforge serve`'s default address); a deployment serves this document at its own origin (`/openapi.json`)",
        ))
        .build()]);
}

/// `Page<T>` is generic, so utoipa inlines `T` in each `Page_T`; the item schema is a component
/// of its own, and a reference keeps one type per resource in generated clients.
fn refer_page_items(openapi: &mut OpenApi) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    let names: Vec<String> = components.schemas.keys().cloned().collect();
    for name in names {
        let Some(item) = name.strip_prefix("Page_") else {
            continue;
        };
        if !components.schemas.contains_key(item) {
            continue;
        }
        let Some(RefOr::T(Schema::Object(page))) = components.schemas.get_mut(&name) else {
            continue;
        };
        if let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items") {
            items.items = ArrayItems::RefOrSchema(Box::new(Ref::from_schema_name(item).into()));
        }
    }
}

/// `EventPayload` is a union on `kind`: each member becomes a component of its own
/// (`EventPayload.job.queued`), so the union can name `kind` as its discriminator with a
/// mapping, which generators turn into a switchable union.
fn discriminate_events(openapi: &mut OpenApi) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    let Some(RefOr::T(Schema::OneOf(union))) = components.schemas.get_mut("EventPayload") else {
        return;
    };
    let mut members = Vec::new();
    let mut discriminator = Discriminator::new("kind");
    for member in union.items.iter_mut() {
        let RefOr::T(Schema::Object(object)) = member else {
            continue;
        };
        let kind = match object.properties.get("kind") {
            Some(RefOr::T(Schema::Object(kind))) => kind
                .enum_values
                .as_ref()
                .and_then(|values| values.first())
                .and_then(|value| value.as_str())
                .map(str::to_owned),
            _ => None,
        };
        let Some(kind) = kind else {
            continue;
        };
        let name = format!("EventPayload.{kind}");
        discriminator
            .mapping
            .insert(kind, format!("#/components/schemas/{name}"));
        let schema = std::mem::replace(member, Ref::from_schema_name(&name).into());
        members.push((name, schema));
    }
    // `TypedEvent` is the union with the event's envelope. Generators read an `allOf` holding a
    // discriminated schema as a subtype named by the discriminator (openapi-typescript sets its
    // `kind` to "TypedEvent"), so there the union is written out in place, without one; each
    // member's `kind` is a single value, which still tells them apart.
    let undiscriminated = Schema::OneOf(union.clone());
    union.discriminator = Some(discriminator);
    components.schemas.extend(members);
    if let Some(RefOr::T(Schema::AllOf(event))) = components.schemas.get_mut("TypedEvent") {
        for part in event.items.iter_mut() {
            if matches!(part, RefOr::Ref(r) if r.ref_location.ends_with("/EventPayload")) {
                *part = RefOr::T(undiscriminated.clone());
            }
        }
    }
}

/// The content routes a signed link opens take it instead of a token.
fn document_signed_links(openapi: &mut OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "signed_link",
        SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
            crate::signed::SIGNATURE,
            "The `signature` of a `content_url` (with its `expires`): opens that one file, without a token, until it expires; an altered or expired link answers 403 `invalid_link`.",
        ))),
    );
    let expires = ParameterBuilder::new()
        .name(crate::signed::EXPIRES)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(
            "Part of a signed link (`content_url`): Unix seconds after which it no longer opens",
        ))
        .schema(Some(
            ObjectBuilder::new().schema_type(Type::Integer).format(Some(
                utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64),
            )),
        ))
        .build();
    let signature = ParameterBuilder::new()
        .name(crate::signed::SIGNATURE)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(
            "Part of a signed link (`content_url`): HMAC-SHA256 of the path and `expires`, base64url",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build();
    for (path, item) in openapi.paths.paths.iter_mut() {
        let concrete = path.replace(['{', '}'], "");
        if !crate::signed::signable(&concrete) {
            continue;
        }
        let Some(operation) = item.get.as_mut() else {
            continue;
        };
        operation.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("signed_link", Vec::<String>::new()),
        ]);
        let parameters = operation.parameters.get_or_insert_with(Vec::new);
        parameters.push(expires.clone());
        parameters.push(signature.clone());
        operation.responses.responses.insert(
            "403".into(),
            problem_response("A signed link that was altered, is for another file or has expired (`invalid_link`)"),
        );
    }
}

fn is_v1(path: &str) -> bool {
    path.starts_with("/v1/")
}

/// Whether a path's requests count against the rate limit: `/v1` but the event stream, and MCP.
fn counted(path: &str) -> bool {
    (is_v1(path) && path != "/v1/events") || path == "/mcp"
}

/// Every `/v1` operation but the event stream, and MCP, is counted against the rate limit, and
/// every operation can meet a fault of its own or of the database.
fn document_failures(openapi: &mut OpenApi) {
    let limited = problem_response("The token's requests exceed `rate_limit.per_minute` on this replica (`rate_limited`); wait `Retry-After` seconds");
    let internal = problem_response(
        "An unexpected fault (`internal`), or the database could not be reached; retrying later can help",
    );
    for (path, item) in openapi.paths.paths.iter_mut() {
        let counted = counted(path);
        for operation in operations_of(item) {
            let responses = &mut operation.responses.responses;
            if counted {
                responses
                    .entry("429".into())
                    .or_insert_with(|| limited.clone());
            }
            responses
                .entry("500".into())
                .or_insert_with(|| internal.clone());
        }
    }
}

fn operations_of(
    item: &mut utoipa::openapi::path::PathItem,
) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.post,
        &mut item.patch,
        &mut item.put,
        &mut item.delete,
    ]
    .into_iter()
    .flatten()
}

fn header(description: &str, schema: Type) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(schema))
        .description(Some(description))
        .build()
}

/// The headers answers carry, on the answers that carry them.
fn document_headers(openapi: &mut OpenApi) {
    let location = header("Where the new resource is read", Type::String);
    let replayed = header(
        "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`",
        Type::String,
    );
    let retry_after = header("Seconds to wait before trying again", Type::Integer);
    let policy = header(
        "The rate limit's policy (IETF RateLimit fields): `\"per-token\";q=<requests>;w=60`",
        Type::String,
    );
    let standing = header(
        "Where the token stands: `\"per-token\";r=<requests left>;t=<seconds until the quota is whole again>`",
        Type::String,
    );
    let etag = header(
        "The file's entity tag, for `If-None-Match` and `If-Range`",
        Type::String,
    );
    let last_modified = header(
        "When the file was last written, for `If-Modified-Since`",
        Type::String,
    );
    let content_range = header(
        "The bytes sent out of the whole file: `bytes 0-1023/146515`",
        Type::String,
    );
    let accept_ranges = header("`bytes`: the file may be fetched in ranges", Type::String);
    /// Operations whose 201 answer names the new resource in `Location`.
    const LOCATED: [&str; 4] = [
        "create_project",
        "upload_asset",
        "clone_voice",
        "create_watchlist",
    ];
    for (path, item) in openapi.paths.paths.iter_mut() {
        let counted = counted(path);
        for operation in operations_of(item) {
            let located = operation
                .operation_id
                .as_deref()
                .is_some_and(|id| LOCATED.contains(&id));
            // `document_idempotency` gave the header to exactly the operations that honour it.
            let takes_key = operation
                .parameters
                .iter()
                .flatten()
                .any(|p| p.name == crate::idempotency::HEADER);
            for (status, response) in operation.responses.responses.iter_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                let headers = &mut response.headers;
                if counted {
                    headers.insert("RateLimit-Policy".into(), policy.clone());
                    headers.insert("RateLimit".into(), standing.clone());
                }
                match status.as_str() {
                    "429" | "503" => {
                        headers.insert("Retry-After".into(), retry_after.clone());
                    }
                    "201" if located => {
                        headers.insert("Location".into(), location.clone());
                    }
                    _ => {}
                }
                if takes_key && status.starts_with('2') {
                    headers.insert(crate::idempotency::REPLAYED_HEADER.into(), replayed.clone());
                }
                let file = response.content.keys().any(|c| {
                    c.starts_with("video/")
                        || c.starts_with("audio/")
                        || c.starts_with("image/")
                        || c == "application/octet-stream"
                });
                if file && (status == "200" || status == "206") {
                    headers.insert("ETag".into(), etag.clone());
                    headers.insert("Last-Modified".into(), last_modified.clone());
                    headers.insert("Accept-Ranges".into(), accept_ranges.clone());
                    if status == "206" {
                        headers.insert("Content-Range".into(), content_range.clone());
                    }
                }
            }
        }
    }
}
