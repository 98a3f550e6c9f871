//! An AsyncAPI 3.0 document for an event set: one channel addressed by the channel name,
//! one message per event, shared types as component schemas.

use serde_json::{Map, Value, json};

use crate::error::Result;
use crate::model::Document;
use crate::rust::{Draft07, convert_schema};

/// Marks documents written by this module, so that `check` knows how to regenerate them.
pub const GENERATED_BY: &str = "realtime-schema asyncapi";

const COMPONENTS: Draft07 = Draft07 {
    ref_prefix: "#/components/schemas/",
    for_typify: false,
};

/// The AsyncAPI 3.0 document of the schema document `value`. Payload schemas are AsyncAPI
/// (draft-07) schemas: `$defs` are `components.schemas`, tuples use array `items`.
///
/// # Errors
/// When `value` is not a schema document.
pub fn generate(value: &Value) -> Result<Value> {
    let document = Document::from_value(value)?;
    let mut messages = Map::new();
    let mut channel_messages = Map::new();
    let mut operation_messages = Vec::new();
    for (index, event) in document.events.iter().enumerate() {
        let data = value
            .pointer(&format!("/oneOf/{index}/properties/data"))
            .cloned()
            .unwrap_or(Value::Bool(true));
        let mut message = json!({
            "name": event.name,
            "title": event.name,
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "properties": {
                    "event": { "type": "string", "const": event.name },
                    "data": convert_schema(&data, &COMPONENTS),
                },
                "required": ["event", "data"],
            },
        });
        if let (Some(description), Value::Object(message)) = (&event.description, &mut message) {
            let summary = description.lines().next().unwrap_or_default();
            message.insert("summary".into(), summary.into());
            message.insert("description".into(), description.clone().into());
        }
        messages.insert(event.name.clone(), message);
        channel_messages.insert(
            event.name.clone(),
            json!({ "$ref": format!("#/components/messages/{}", event.name) }),
        );
        operation_messages
            .push(json!({ "$ref": format!("#/channels/channel/messages/{}", event.name) }));
    }
    let schemas: Map<String, Value> = value
        .get("$defs")
        .and_then(Value::as_object)
        .map(|defs| {
            defs.iter()
                .map(|(name, schema)| (name.clone(), convert_schema(schema, &COMPONENTS)))
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({
        "asyncapi": "3.0.0",
        "x-generated-by": GENERATED_BY,
        "info": {
            "title": format!("{} events", document.title),
            "version": format!("{}", document.version),
            "description": format!(
                "The events of `{}`, delivered over Server-Sent Events per channel. Each message is the envelope `{{ \"event\", \"data\" }}`.",
                document.title
            ),
        },
        "defaultContentType": "application/json",
        "channels": {
            "channel": {
                "address": "{channel}",
                "title": "A channel",
                "description": "One named channel (e.g. `default`, `room-42`); every event is emitted to one channel.",
                "parameters": {
                    "channel": { "description": "The channel name." }
                },
                "messages": channel_messages,
            }
        },
        "operations": {
            "receiveEvents": {
                "action": "receive",
                "title": "Subscribe to a channel",
                "channel": { "$ref": "#/channels/channel" },
                "messages": operation_messages.clone(),
            },
            "emitEvents": {
                "action": "send",
                "title": "Emit to a channel",
                "channel": { "$ref": "#/channels/channel" },
                "messages": operation_messages,
            }
        },
        "components": {
            "messages": messages,
            "schemas": schemas,
        }
    }))
}

/// The document as committed: pretty JSON with a trailing newline.
///
/// # Errors
/// When `value` is not a schema document.
pub fn generate_text(value: &Value) -> Result<String> {
    let document = generate(value)?;
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    Ok(text)
}
