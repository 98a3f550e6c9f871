//! What the page shows of each event, computed once when the router is built: the doc
//! comment, the data's JSON Schema (with only the definitions it uses), an example value
//! the server accepts, and the TypeScript `realtime-schema ts` writes for the event alone.

use std::collections::BTreeSet;

use realtime_core::{Events, Realtime};
use serde_json::{Map, Value, json};

/// One event of the set, as the page shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct EventInfo {
    /// The event name, e.g. `chat.message`.
    pub name: String,
    /// The variant's doc comment.
    pub description: Option<String>,
    /// The JSON Schema of the event's data, with the `$defs` it uses.
    pub schema: Value,
    /// A value of the data that the server accepts, when one could be made from the
    /// schema (`examples`, `default`, or the simplest value of each keyword).
    pub example: Option<Value>,
    /// The TypeScript (zod) module `realtime-schema ts` writes for this event alone, or
    /// why it could not.
    pub typescript: String,
}

pub(super) fn describe<E: Events>(realtime: &Realtime<E>) -> Vec<EventInfo> {
    let schema = E::schema();
    let document = schema.document();
    let inspect = realtime.inspect();
    schema
        .events
        .iter()
        .map(|event| {
            let mut data = schema.data_schema(event);
            prune_definitions(&mut data);
            let example = example(&data, &data, 0)
                .filter(|value| inspect.check_data(event.name, value).is_none());
            EventInfo {
                name: event.name.to_owned(),
                description: event.description.clone(),
                typescript: typescript(&document, event.name),
                schema: data,
                example,
            }
        })
        .collect()
}

/// Keeps the `$defs` that the schema reaches from outside them.
fn prune_definitions(schema: &mut Value) {
    let Some(Value::Object(definitions)) = schema.get("$defs").cloned() else {
        return;
    };
    let mut reached = BTreeSet::new();
    let mut body = schema.clone();
    if let Value::Object(object) = &mut body {
        object.remove("$defs");
    }
    let mut pending = vec![body];
    while let Some(value) = pending.pop() {
        for name in references(&value) {
            if reached.insert(name.clone())
                && let Some(definition) = definitions.get(&name)
            {
                pending.push(definition.clone());
            }
        }
    }
    let kept: Map<String, Value> = definitions
        .into_iter()
        .filter(|(name, _)| reached.contains(name))
        .collect();
    if let Value::Object(object) = schema {
        if kept.is_empty() {
            object.remove("$defs");
        } else {
            object.insert("$defs".to_owned(), Value::Object(kept));
        }
    }
}

/// The definition names `value` refers to (`#/$defs/<name>`), anywhere inside it.
fn references(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(object) => {
                if let Some(Value::String(target)) = object.get("$ref")
                    && let Some(name) = target.strip_prefix("#/$defs/")
                {
                    found.push(name.replace("~1", "/").replace("~0", "~"));
                }
                stack.extend(object.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    found
}

/// The generated TypeScript for the document reduced to one event.
fn typescript(document: &Value, event: &str) -> String {
    let mut single = document.clone();
    let Value::Object(object) = &mut single else {
        return "(the schema document is not an object)".to_owned();
    };
    if let Some(Value::Array(branches)) = object.get_mut("oneOf") {
        branches.retain(|branch| branch.pointer("/properties/event/const") == Some(&json!(event)));
    }
    let mut namespaces = Map::new();
    let mut segments: Vec<&str> = event.split('.').collect();
    let leaf = segments.pop().unwrap_or(event);
    let mut node = json!({ leaf: event });
    while let Some(segment) = segments.pop() {
        node = json!({ segment: node });
    }
    if let Value::Object(tree) = node {
        namespaces = tree;
    }
    if let Some(Value::Object(realtime)) = object.get_mut("x-realtime") {
        realtime.insert("events".to_owned(), json!([event]));
        realtime.insert("namespaces".to_owned(), Value::Object(namespaces));
    }
    prune_definitions(&mut single);
    let generated = realtime_schema::Document::from_value(&single).and_then(|document| {
        realtime_schema::ts::generate(&document, &realtime_schema::ts::Options::default())
    });
    match generated {
        Ok(generated) => generated
            .code
            .lines()
            .skip_while(|line| line.starts_with("//") || line.is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
        Err(error) => format!("// realtime-schema ts could not write this event: {error}"),
    }
}

/// Formats made up for an example of a string with `format`.
const FORMAT_EXAMPLES: &[(&str, &str)] = &[
    ("date-time", "2026-01-01T12:00:00Z"),
    ("date", "2026-01-01"),
    ("time", "12:00:00"),
    ("partial-time", "12:00:00"),
    ("partial-date-time", "2026-01-01T12:00:00"),
    ("uuid", "00000000-0000-4000-8000-000000000000"),
    ("email", "someone@example.com"),
    ("uri", "https://example.com/"),
    ("ipv4", "127.0.0.1"),
    ("ipv6", "::1"),
    ("ip", "127.0.0.1"),
    ("hostname", "example.com"),
];

/// The simplest value `schema` describes (resolving `$ref`s in `root`), or `None`; the
/// caller checks it with the server's validator.
fn example(schema: &Value, root: &Value, depth: usize) -> Option<Value> {
    if depth > 16 {
        return None;
    }
    let Value::Object(object) = schema else {
        return (schema == &Value::Bool(true)).then_some(Value::Null);
    };
    let next = |schema: &Value| example(schema, root, depth + 1);
    if let Some(Value::Array(examples)) = object.get("examples")
        && let Some(first) = examples.first()
    {
        return Some(first.clone());
    }
    for keyword in ["const", "default"] {
        if let Some(value) = object.get(keyword) {
            return Some(value.clone());
        }
    }
    if let Some(Value::Array(values)) = object.get("enum") {
        return values.first().cloned();
    }
    if let Some(Value::String(target)) = object.get("$ref") {
        let pointer = target.strip_prefix('#')?;
        return next(root.pointer(pointer)?);
    }
    for keyword in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(branches)) = object.get(keyword) {
            return branches.iter().find_map(next);
        }
    }
    let kind = match object.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|kind| *kind != "null")
            .unwrap_or("null"),
        _ if object.contains_key("properties") => "object",
        _ => return Some(Value::Null),
    };
    let number = |key: &str| object.get(key).and_then(Value::as_f64);
    Some(match kind {
        "object" => {
            let mut value = Map::new();
            let properties = object.get("properties").and_then(Value::as_object);
            let required = object.get("required").and_then(Value::as_array);
            for name in required.into_iter().flatten().filter_map(Value::as_str) {
                let property = properties.and_then(|properties| properties.get(name));
                value.insert(name.to_owned(), property.map_or(Some(Value::Null), next)?);
            }
            Value::Object(value)
        }
        "array" => {
            let mut items: Vec<Value> = match object.get("prefixItems") {
                Some(Value::Array(prefix)) => prefix.iter().map(next).collect::<Option<_>>()?,
                _ => Vec::new(),
            };
            let wanted = number("minItems").unwrap_or(0.0).max(1.0);
            if let Some(item) = object.get("items").filter(|item| item.is_object()) {
                let item = next(item)?;
                #[allow(clippy::cast_precision_loss)]
                while (items.len() as f64) < wanted && items.len() < 16 {
                    items.push(item.clone());
                }
            }
            Value::Array(items)
        }
        "string" => {
            let format = object.get("format").and_then(Value::as_str);
            let text = format
                .and_then(|format| FORMAT_EXAMPLES.iter().find(|(name, _)| *name == format))
                .map_or("example", |(_, text)| text);
            let mut text: String = text.to_owned();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            if format.is_none() {
                let min = number("minLength").unwrap_or(0.0) as usize;
                let max = number("maxLength").map_or(usize::MAX, |max| max as usize);
                while text.chars().count() < min.min(64) {
                    text.push('x');
                }
                text = text.chars().take(max).collect();
            }
            Value::String(text)
        }
        "integer" | "number" => {
            let low = number("minimum")
                .or_else(|| number("exclusiveMinimum").map(|bound| bound.floor() + 1.0));
            let high = number("maximum")
                .or_else(|| number("exclusiveMaximum").map(|bound| bound.ceil() - 1.0));
            let value = match (low, high) {
                (Some(low), _) if low > 0.0 => low,
                (_, Some(high)) if high < 0.0 => high,
                _ => 0.0,
            };
            json!(value.ceil() as i64)
        }
        "boolean" => Value::Bool(false),
        _ => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_example_follows_required_fields_refs_lengths_and_ranges() {
        let schema = json!({
            "type": "object",
            "required": ["who", "count", "tags", "when", "kind"],
            "properties": {
                "who": { "$ref": "#/$defs/Name" },
                "count": { "type": "integer", "minimum": 3 },
                "tags": { "type": "array", "items": { "type": "string" }, "minItems": 2 },
                "when": { "type": ["string", "null"], "format": "date-time" },
                "kind": { "enum": ["a", "b"] },
                "optional": { "type": "string" }
            },
            "$defs": { "Name": { "type": "string", "minLength": 10, "maxLength": 12 } }
        });
        assert_eq!(
            example(&schema, &schema, 0),
            Some(json!({
                "who": "examplexxx",
                "count": 3,
                "tags": ["example", "example"],
                "when": "2026-01-01T12:00:00Z",
                "kind": "a"
            }))
        );
    }

    #[test]
    fn definitions_not_reached_are_dropped() {
        let mut schema = json!({
            "$ref": "#/$defs/A",
            "$defs": {
                "A": { "properties": { "b": { "$ref": "#/$defs/B" } } },
                "B": { "type": "string" },
                "Unused": { "type": "string" }
            }
        });
        prune_definitions(&mut schema);
        let kept: Vec<&String> = schema["$defs"]
            .as_object()
            .map(|d| d.keys().collect())
            .unwrap_or_default();
        assert_eq!(kept, ["A", "B"]);
    }
}
