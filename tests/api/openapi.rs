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
