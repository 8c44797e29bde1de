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
