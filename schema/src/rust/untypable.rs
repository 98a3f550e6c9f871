//! Shapes typify turns into a type that does not read back what the derive wrote: an enum
//! with an untagged fallback (a variant that takes any JSON, or any object) becomes a
//! struct of optional parts, and a variant whose data is `()` (`{"Ok": null}` of a
//! `Result<(), E>`) becomes a unit variant written `"Ok"`, and an object with a double
//! option (`null` and an absent field differ) reads both as `None`. Such a schema is replaced by
//! `true` (any JSON, `serde_json::Value`), which round-trips, and reported in one line.

use serde_json::{Map, Value};

use crate::model::{Document, escape};

/// `document` with every such schema replaced by `true`, and one line per replacement
/// naming its pointer, the events that hold it and why.
pub(super) fn as_values(document: &Value) -> (Value, Vec<String>) {
    let mut replaced = Vec::new();
    let mut converted = document.clone();
    replace(&mut converted, "", &mut replaced);
    let parsed = Document::from_value(document).ok();
    let lines = replaced
        .into_iter()
        .map(|(pointer, why)| {
            let events = parsed
                .as_ref()
                .map(|document| document.events_at(&pointer))
                .unwrap_or_default();
            let events = if events.is_empty() {
                String::new()
            } else {
                format!(" ({})", events.join(", "))
            };
            format!("{pointer}{events}: {why}; typed `serde_json::Value`")
        })
        .collect();
    (converted, lines)
}

fn replace(node: &mut Value, pointer: &str, replaced: &mut Vec<(String, String)>) {
    match node {
        Value::Object(object) => {
            if let Some(why) = untypable(object) {
                replaced.push((pointer.to_owned(), why));
                *node = Value::Bool(true);
                return;
            }
            for (key, value) in object.iter_mut() {
                replace(value, &format!("{pointer}/{}", escape(key)), replaced);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                replace(item, &format!("{pointer}/{index}"), replaced);
            }
        }
        _ => {}
    }
}

fn untypable(schema: &Map<String, Value>) -> Option<String> {
    if let Some(Value::Object(properties)) = schema.get("properties") {
        if let Some(name) = properties
            .iter()
            .find(|(_, property)| property.get(DOUBLE_OPTION) == Some(&Value::Bool(true)))
            .map(|(name, _)| name)
        {
            return Some(format!(
                "an object with a double option (`{name}`: `null` and an absent field differ), which typify reads as one `Option`"
            ));
        }
    }
    fallback(schema).map(str::to_owned)
}

/// The extension keyword the derive writes on a double option (`Option<Option<T>>` read
/// with a function of its own): `null` ("clear") is not absence ("unchanged").
const DOUBLE_OPTION: &str = "x-double-option";

fn fallback(schema: &Map<String, Value>) -> Option<&'static str> {
    let variants = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))?
        .as_array()?;
    variants.iter().find_map(|variant| match variant {
        Value::Bool(true) => Some("an enum variant that takes any JSON (an untagged fallback)"),
        Value::Object(variant) if variant.is_empty() => {
            Some("an enum variant that takes any JSON (an untagged fallback)")
        }
        Value::Object(variant) if is_open_map(variant) => {
            Some("an enum variant that takes any object (an untagged fallback)")
        }
        Value::Object(variant) if holds_only_null(variant) => Some(
            "a variant whose data is `()` (`{\"Ok\": null}`), which typify writes as a bare string",
        ),
        _ => None,
    })
}

/// `{"type": "object"}` with nothing declared and other keys allowed.
fn is_open_map(schema: &Map<String, Value>) -> bool {
    schema.get("type") == Some(&Value::from("object"))
        && !schema.contains_key("properties")
        && !schema.contains_key("patternProperties")
        && schema
            .get("additionalProperties")
            .is_none_or(|additional| additional == &Value::Bool(true))
}

/// An object of exactly one required property, whose schema is `{"type": "null"}`.
fn holds_only_null(schema: &Map<String, Value>) -> bool {
    let Some(Value::Object(properties)) = schema.get("properties") else {
        return false;
    };
    let mut values = properties.values();
    match (values.next(), values.next()) {
        (Some(Value::Object(only)), None) => {
            only.len() == 1
                && only.get("type") == Some(&Value::from("null"))
                && schema
                    .get("required")
                    .and_then(Value::as_array)
                    .map(Vec::len)
                    == Some(1)
        }
        _ => false,
    }
}
