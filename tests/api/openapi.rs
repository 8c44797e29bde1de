use std::collections::BTreeSet;

#[test]
fn the_committed_document_matches_the_code() {
    let generated = reelforge::openapi::spec_json();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap_or_default();
    assert!(
        generated == committed,
        "openapi/openapi.json is stale: run `cargo run -q -- openapi > openapi/openapi.json`"
    );
}

/// A reviewable inventory of every operation: method, path, operation id, statuses.
#[test]
fn operations_snapshot() {
    let spec = serde_json::to_value(reelforge::openapi::spec()).unwrap();
    let mut lines = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let statuses: Vec<&String> =
                operation["responses"].as_object().unwrap().keys().collect();
            let secured = operation.get("security").map_or("bearer", |s| {
                if s == &serde_json::json!([{}]) {
                    "open"
                } else {
                    "bearer"
                }
            });
            lines.insert(format!(
                "{} {path} {} {statuses:?} {secured}",
                method.to_uppercase(),
                operation["operationId"].as_str().unwrap()
            ));
        }
    }
    insta::assert_snapshot!(lines.into_iter().collect::<Vec<_>>().join("\n"));
}

/// Every `$ref` resolves, collection problems are their own schema (not the error `Problem`), and
/// every operation that takes a body says what a malformed, oversized or non-JSON one gets.
#[test]
fn the_document_describes_what_the_service_answers() {
    let spec = reelforge::openapi::spec_value();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let text = spec.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling $ref to {name}");
    }
    for (name, schema) in schemas {
        for field in ["operationId", "operationRef", "requestBody"] {
            assert!(
                schema["properties"].get(field).is_none(),
                "{name}.{field} would be renamed"
            );
        }
    }
    assert_eq!(
        schemas["CollectionProblem"]["required"],
        serde_json::json!(["item", "reason"])
    );
    assert!(text.contains("\"items\":{\"$ref\":\"#/components/schemas/CollectionProblem\"}"));
    assert!(schemas["Problem"]["required"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("code")));
    let create_run = &spec["paths"]["/v1/projects/{id}/runs"]["post"];
    assert!(
        create_run["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"),
        "{create_run}"
    );
    let upload = &spec["paths"]["/v1/projects/{id}/collections/files"]["post"];
    assert!(
        !upload.to_string().contains("Idempotency-Key"),
        "uploads do not take keys"
    );
    let run_links = &spec["paths"]["/v1/runs/{id}"]["get"]["responses"]["200"]["links"];
    assert_eq!(
        run_links["video"]["operationId"], "get_video",
        "{run_links}"
    );
    assert_eq!(
        run_links["video"]["parameters"]["id"],
        "$response.body#/reels/0/steps/3/resource_id"
    );
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
            }
        }
    }
}

/// The read models a frontend reads are typed where their write models are: no `type: object`
/// without properties, closed sets as enums, pages that refer to their items, and the event
/// union with a discriminator.
#[test]
fn read_models_are_typed_for_generated_clients() {
    let spec = reelforge::openapi::spec_value();
    let schemas = &spec["components"]["schemas"];
    let reference =
        |name: &str| serde_json::json!({"$ref": format!("#/components/schemas/{name}")});
    let property = |schema: &str, field: &str| schemas[schema]["properties"][field].clone();
    assert_eq!(
        property("Run", "input")["$ref"],
        reference("CreateRun")["$ref"]
    );
    assert_eq!(
        property("Collection", "parameters")["$ref"],
        reference("CollectionParameters")["$ref"]
    );
    assert_eq!(
        property("Watchlist", "collection")["$ref"],
        reference("CollectionParameters")["$ref"]
    );
    assert!(
        property("Reel", "media")
            .to_string()
            .contains("#/components/schemas/PreparedReel"),
        "{}",
        property("Reel", "media")
    );
    assert!(property("Check", "name").to_string().contains("CheckName"));
    assert_eq!(
        schemas["CheckName"]["enum"].as_array().unwrap().len(),
        9,
        "{}",
        schemas["CheckName"]
    );
    assert!(property("TypedEvent", "resource_type").is_null());
    assert!(schemas["TypedEvent"]
        .to_string()
        .contains("EventResourceType"));
    let pages: Vec<_> = schemas
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| name.starts_with("Page_"))
        .collect();
    assert!(pages.len() >= 14);
    for (name, page) in pages {
        let item = name.trim_start_matches("Page_");
        assert_eq!(
            page["properties"]["items"]["items"],
            reference(item),
            "{name}"
        );
    }
    let events = &schemas["EventPayload"];
    assert_eq!(events["discriminator"]["propertyName"], "kind");
    assert_eq!(
        events["discriminator"]["mapping"]["job.queued"],
        "#/components/schemas/EventPayload.job.queued"
    );
    assert_eq!(schemas["TypedEvent"]["allOf"][0]["oneOf"], events["oneOf"]);
    assert!(events["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .all(|member| member.get("$ref").is_some()));
    // Every product with a file says where it plays.
    for (schema, field) in [
        ("Video", "content_url"),
        ("Video", "file_urls"),
        ("Audio", "content_url"),
        ("Reel", "content_url"),
        ("Reel", "thumbnail_content_url"),
        ("Asset", "content_url"),
    ] {
        assert!(!property(schema, field).is_null(), "{schema}.{field}");
    }
    // Starting a run answers one schema; the estimate is its own operation.
    let start = &spec["paths"]["/v1/projects/{id}/runs"]["post"]["responses"];
    assert!(start.get("200").is_none(), "{start}");
    assert_eq!(
        spec["paths"]["/v1/projects/{id}/runs/estimate"]["post"]["responses"]["200"]["content"]
            ["application/json"]["schema"],
        reference("RunEstimate")
    );
}

/// Headers and failures are documented where they are sent: every `/v1` answer's rate limit
/// fields, 429 with `Retry-After`, a 5xx problem, `Location`, the media headers.
#[test]
fn headers_and_failures_are_documented_where_they_are_sent() {
    let spec = reelforge::openapi::spec_value();
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let id = operation["operationId"].as_str().unwrap();
            assert!(operation["summary"].is_string(), "{id} has no summary");
            assert!(
                operation["description"].is_string(),
                "{id} has no description"
            );
            let responses = &operation["responses"];
            assert!(responses.get("500").is_some(), "{method} {path} lacks 500");
            if path.starts_with("/v1/") && path != "/v1/events" {
                assert!(
                    responses["429"]["headers"].get("Retry-After").is_some(),
                    "{method} {path}"
                );
                for (status, response) in responses.as_object().unwrap() {
                    assert!(
                        response["headers"].get("RateLimit").is_some(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert!(operations >= 82, "{operations}");
    assert_eq!(spec["servers"][0]["url"], "http://localhost:8080");
    for tag in spec["tags"].as_array().unwrap() {
        assert!(tag["description"].is_string(), "{tag}");
    }
    let created = &spec["paths"]["/v1/projects"]["post"]["responses"]["201"]["headers"];
    assert!(created.get("Location").is_some(), "{created}");
    assert!(created.get("Idempotent-Replayed").is_some(), "{created}");
    let content = &spec["paths"]["/v1/videos/{id}/content"]["get"];
    for header in ["ETag", "Last-Modified", "Content-Range"] {
        assert!(
            content["responses"]["206"]["headers"].get(header).is_some(),
            "{header}"
        );
    }
    assert!(content["security"]
        .as_array()
        .unwrap()
        .iter()
        .any(|requirement| requirement.get("signed_link").is_some()));
}

/// The committed document as a frontend team lints it before generating a client: Redocly's
/// recommended rules and Spectral's `spectral:oas`, pinned in tests/web (scripts/setup installs
/// them from the npm cache).
#[test]
fn redocly_and_spectral_find_no_error_in_the_document() {
    let web = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web"));
    assert!(
        web.join("node_modules/@redocly/cli").is_dir(),
        "tests/web has no node_modules: run scripts/setup"
    );
    let output = std::process::Command::new("npm")
        .args(["run", "--silent", "lint"])
        .current_dir(web)
        .output()
        .expect("npm runs (scripts/setup installs Node.js)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("a JSON report");
    assert_eq!(report["redocly"]["errors"], 0, "{report:#}");
    assert_eq!(report["redocly"]["invalid_examples"], 0, "{report:#}");
    assert_eq!(report["spectral"]["errors"], 0, "{report:#}");
}
