//! The schema model of an event set and its JSON Schema document.
//!
//! [`EventSchema`] holds the JSON Schema of every event's data and the shared `$defs`. Its
//! [`document`](EventSchema::document) is a JSON Schema 2020-12 describing the envelope
//! `{ "event": ..., "data": ... }` as a `oneOf`, the shape schemars gives an adjacently
//! tagged enum, plus an `x-realtime` member with the format version and namespace tree.

use std::path::Path;

use serde_json::{Map, Value, json};

pub use crate::typed_schema::{
    ACCEPTS_KEYWORD, MapType, StructTag, TypedKeys, WHATWG_URL_KEYWORD, WhatwgUrl,
};

/// The version of the schema document format, stored in its `x-realtime` member.
pub const SCHEMA_FORMAT_VERSION: u32 = 1;

/// The `$schema` of every document this crate writes.
pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// One event of an event set: its name, description and the JSON Schema of its data.
#[derive(Clone, Debug, PartialEq)]
pub struct EventDefinition {
    /// The event name, e.g. `"chat.message"`.
    pub name: &'static str,
    /// The variant's doc comment, if any.
    pub description: Option<String>,
    /// The JSON Schema of the event's data; `$ref`s point into the shared definitions.
    pub data: schemars::Schema,
}

/// The schema of an event set: one definition per event and the shared `$defs`.
#[derive(Clone, Debug, PartialEq)]
pub struct EventSchema {
    /// The Rust name of the event enum.
    pub title: &'static str,
    /// Every event, in declaration order.
    pub events: Vec<EventDefinition>,
    /// Shared type definitions, referenced as `#/$defs/<name>`.
    pub definitions: Map<String, Value>,
}

impl EventSchema {
    /// The definition of the event called `name`.
    pub fn event(&self, name: &str) -> Option<&EventDefinition> {
        self.events.iter().find(|event| event.name == name)
    }

    /// A standalone JSON Schema for the data of one event: its schema with every shared
    /// definition beside it, ready for a validator.
    pub fn data_schema(&self, event: &EventDefinition) -> Value {
        let mut schema = Map::new();
        schema.insert("$schema".into(), DRAFT_2020_12.into());
        match event.data.as_value() {
            Value::Object(object) => schema.extend(object.clone()),
            other => {
                schema.insert("allOf".into(), Value::Array(vec![other.clone()]));
            }
        }
        if !self.definitions.is_empty() {
            schema.insert("$defs".into(), Value::Object(self.definitions.clone()));
        }
        Value::Object(schema)
    }

    /// The namespace tree: each dotted segment a nested object, each leaf the full event
    /// name (`{"chat": {"message": "chat.message"}}`).
    pub fn namespace_tree(&self) -> Value {
        let mut tree = Map::new();
        for event in &self.events {
            let mut node = &mut tree;
            let mut segments = event.name.split('.').peekable();
            while let Some(segment) = segments.next() {
                if segments.peek().is_none() {
                    node.insert(segment.to_owned(), Value::String(event.name.to_owned()));
                    break;
                }
                let child = node
                    .entry(segment.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !child.is_object() {
                    // A leaf and a namespace of the same name; the derive refuses this,
                    // so only a hand-written `describe` gets here. Keep the leaf.
                    break;
                }
                let Value::Object(next) = child else { break };
                node = next;
            }
        }
        Value::Object(tree)
    }

    /// The JSON Schema 2020-12 document of the envelope `{ "event", "data" }`, with keys
    /// sorted so that a changed schema is a minimal diff.
    pub fn document(&self) -> Value {
        let one_of: Vec<Value> = self
            .events
            .iter()
            .map(|event| {
                let mut variant = json!({
                    "type": "object",
                    "properties": {
                        "event": { "type": "string", "const": event.name },
                        "data": event.data.as_value(),
                    },
                    "required": ["event", "data"],
                });
                if let (Some(description), Value::Object(object)) =
                    (&event.description, &mut variant)
                {
                    object.insert("description".into(), description.clone().into());
                }
                variant
            })
            .collect();
        let mut document = json!({
            "$schema": DRAFT_2020_12,
            "title": self.title,
            "oneOf": one_of,
            "x-realtime": {
                "version": SCHEMA_FORMAT_VERSION,
                "events": self.events.iter().map(|event| event.name).collect::<Vec<_>>(),
                "namespaces": self.namespace_tree(),
            },
        });
        if let Value::Object(object) = &mut document {
            if !self.definitions.is_empty() {
                object.insert("$defs".into(), Value::Object(self.definitions.clone()));
            }
        }
        sort_keys(document)
    }

    /// The document as pretty-printed JSON with a trailing newline, as it is committed.
    pub fn to_pretty_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.document())
            .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"));
        text.push('\n');
        text
    }

    /// Writes the document to `path`.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write_to(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, self.to_pretty_json())
    }

    /// Compares the document with the committed file at `path`; with the environment
    /// variable `REALTIME_BLESS=1` rewrites the file instead (see [`realtime_snapshot`]).
    ///
    /// Use it in a test so that a changed schema is a visible diff in review:
    ///
    /// ```no_run
    /// # use realtime_core::Events;
    /// # #[derive(Events, Clone)] enum AppEvent { #[event("a")] A }
    /// AppEvent::schema().assert_matches_file("schema/app-event.json");
    /// ```
    ///
    /// # Panics
    /// When the file is missing or differs (this is a test helper).
    #[track_caller]
    pub fn assert_matches_file(&self, path: impl AsRef<Path>) {
        realtime_snapshot::Snapshot::new(path.as_ref()).assert_matches(&self.to_pretty_json());
    }
}

/// Sorts the keys of every object, recursively, whatever map type serde_json was built with.
fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<(String, Value)> = object.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, sort_keys(value)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}
