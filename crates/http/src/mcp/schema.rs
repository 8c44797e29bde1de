//! Tool schemas as self-contained JSON Schema, made from the same Rust types (and so the same
//! component schemas) as the OpenAPI document: a tool's input cannot drift from the REST body it
//! wraps.

use std::{collections::BTreeMap, sync::LazyLock};

use serde_json::{Map, Value};
use utoipa::ToSchema;

const OPENAPI_REF: &str = "#/components/schemas/";
const JSON_SCHEMA_REF: &str = "#/$defs/";

/// The OpenAPI document's component schemas, with the notes it adds to them (which providers
/// take each option).
static COMPONENTS: LazyLock<Map<String, Value>> =
    LazyLock::new(|| {
        match crate::openapi::spec_value()
            .pointer_mut("/components/schemas")
            .map(Value::take)
        {
            Some(Value::Object(schemas)) => schemas,
            _ => Map::new(),
        }
    });

/// `T`'s schema with every schema it refers to under `$defs`. Components come from the OpenAPI
/// document where it has them, else from the types themselves.
pub fn json_schema<T: ToSchema>() -> Value {
    let mut own = Vec::new();
    T::schemas(&mut own);
    let own: BTreeMap<String, Value> = own
        .into_iter()
        .map(|(name, schema)| (name, to_json(&schema)))
        .collect();
    let mut root = to_json(&T::schema());
    let mut defs = Map::new();
    let mut pending = Vec::new();
    collect_refs(&root, OPENAPI_REF, &mut pending);
    while let Some(name) = pending.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        let schema = COMPONENTS
            .get(&name)
            .or_else(|| own.get(&name))
            .unwrap_or_else(|| panic!("the schema `{name}` is neither a component nor declared"))
            .clone();
        collect_refs(&schema, OPENAPI_REF, &mut pending);
        defs.insert(name, schema);
    }
    if !defs.is_empty() {
        root["$defs"] = Value::Object(defs);
    }
    to_json_schema(&mut root, false);
    root
}

fn to_json(schema: &impl serde::Serialize) -> Value {
    serde_json::to_value(schema).expect("a schema serializes")
}

/// The names of the schemas `value` refers to with references that start with `prefix`.
fn collect_refs(value: &Value, prefix: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                if let Some(name) = reference.strip_prefix(prefix) {
                    found.push(name.to_owned());
                }
            }
            map.values().for_each(|v| collect_refs(v, prefix, found));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, prefix, found)),
        _ => {}
    }
}

/// Rewrites what is OpenAPI's own into JSON Schema 2020-12: references point into `$defs`,
/// `example` becomes `examples`, and `discriminator` (a hint that `oneOf` already enforces)
/// goes. `names` is true inside `properties` or `$defs`, whose keys are names, not keywords.
fn to_json_schema(value: &mut Value, names: bool) {
    match value {
        Value::Object(map) => {
            if !names {
                if let Some(Value::String(reference)) = map.get_mut("$ref") {
                    if let Some(name) = reference.strip_prefix(OPENAPI_REF) {
                        *reference = format!("{JSON_SCHEMA_REF}{name}");
                    }
                }
                map.remove("discriminator");
                if let Some(example) = map.remove("example") {
                    map.entry("examples")
                        .or_insert_with(|| Value::Array(vec![example]));
                }
            }
            for (key, child) in map.iter_mut() {
                let child_names = !names && matches!(key.as_str(), "properties" | "$defs");
                to_json_schema(child, child_names);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| to_json_schema(v, false)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_refers_only_to_its_own_definitions_in_json_schema_terms() {
        let schema = json_schema::<crate::domain::run::CreateRun>();
        let text = schema.to_string();
        assert!(!text.contains(OPENAPI_REF), "{text}");
        assert!(!text.contains("\"example\":"), "{text}");
        let mut refs = Vec::new();
        collect_refs(&schema, JSON_SCHEMA_REF, &mut refs);
        assert!(!refs.is_empty());
        for name in refs {
            assert!(
                schema["$defs"].get(&name).is_some(),
                "{name} is not in $defs"
            );
        }
        // The definitions are the OpenAPI document's, notes included.
        assert_eq!(
            schema["$defs"]["VoiceOptions"]["properties"]["model"]["description"],
            COMPONENTS["VoiceOptions"]["properties"]["model"]["description"]
        );
    }
}
