//! What PostgreSQL can store and give back unchanged. Text columns refuse NUL; JSONB refuses
//! `\u0000` and keeps numbers as exact decimals, so a float near `f64::MAX` is written out as a
//! 309-digit integer that serde_json then cannot read back. Requests are checked against these
//! rules up front, so such input is a 422 naming the field instead of a 500 from the database.

use serde_json::Value;

use super::project::FieldError;

/// Why a text cannot be stored, if it cannot.
pub fn text_problem(text: &str) -> Option<&'static str> {
    text.contains('\0')
        .then_some("must not contain NUL characters")
}

/// A name or label shown in lists and logs: no control characters at all (ANSI escapes, line
/// breaks, NUL).
pub fn label_problem(text: &str) -> Option<&'static str> {
    text.chars()
        .any(char::is_control)
        .then_some("must not contain control characters")
}

/// Checks free-form JSON (step options, dataset items) and names the first field that cannot be
/// stored: `field` is where `value` sits in the request.
pub fn check_json(field: &str, value: &Value, errors: &mut Vec<FieldError>) {
    match value {
        Value::String(text) => {
            if let Some(problem) = text_problem(text) {
                errors.push(FieldError::new(field, problem));
            }
        }
        Value::Number(number) => {
            if !number_round_trips(number) {
                errors.push(FieldError::new(
                    field,
                    "is a number too large to store exactly; send at most 15 significant digits below 1e300",
                ));
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                check_json(&format!("{field}[{index}]"), item, errors);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let path = format!("{field}.{key}");
                if text_problem(key).is_some() {
                    errors.push(FieldError::new(
                        path.clone(),
                        "keys must not contain NUL characters",
                    ));
                }
                check_json(&path, item, errors);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// PostgreSQL prints a JSONB number as a plain decimal; the number survives when serde_json
/// reads that decimal back to the same value.
fn number_round_trips(number: &serde_json::Number) -> bool {
    if number.is_i64() || number.is_u64() {
        return true;
    }
    let Some(float) = number.as_f64() else {
        return false;
    };
    // Rust's Display writes floats as plain decimals, as PostgreSQL's numeric output does.
    serde_json::from_str::<f64>(&format!("{float}")).is_ok_and(|back| back == float)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(value: Value) -> Vec<String> {
        let mut errors = Vec::new();
        check_json("options", &value, &mut errors);
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn nul_and_unstorable_numbers_are_named() {
        let value: Value =
            serde_json::from_str(r#"{"a": 1.7976931348623157e308, "b": ["ok", "x\u0000y"], "c": 0.5, "d": 12345678901234567890}"#)
                .unwrap();
        assert_eq!(problems(value), ["options.a", "options.b[1]"]);
        assert!(problems(json!({"speed": 1.25, "n": -3, "tiny": 1e-300})).is_empty());
    }

    #[test]
    fn labels_refuse_control_characters() {
        assert!(label_problem("Утренняя мотивация").is_none());
        assert!(label_problem("\u{1b}[31mred").is_some());
        assert!(label_problem("a\nb").is_some());
        assert!(text_problem("a\0b").is_some());
    }
}
