//! An event inside the data of another: `Nested<AppEvent>` in a field of `AppEvent` (a
//! batch, an undo), or of any other type.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::Error as _;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::events::{DataOf, Events};

/// One event of `E` as data: `{"event": "<name>", "data": <its data>}`, with the JSON
/// Schema of every event of `E` (one branch per event name).
///
/// The event enum itself has no serde or JSON Schema form (its events' data have), so a
/// variant that carries events of its own enum names them through `Nested`; box it where
/// it is not inside a collection, as any recursive type:
///
/// ```
/// use realtime_core::{Events, Nested};
///
/// #[derive(Events, Clone, Debug, PartialEq)]
/// enum AppEvent {
///     #[event("chat.message")]
///     Message { text: String },
///     /// Several events at once.
///     #[event("chat.batch")]
///     Batch { events: Vec<Nested<AppEvent>> },
///     /// Takes an earlier event back.
///     #[event("chat.undo")]
///     Undo { of: Box<Nested<AppEvent>> },
/// }
///
/// let batch = AppEvent::Batch {
///     events: vec![Nested(AppEvent::Message { text: "hi".into() })],
/// };
/// assert_eq!(
///     batch.to_data_json().unwrap(),
///     r#"{"events":[{"event":"chat.message","data":{"text":"hi"}}]}"#
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Nested<E>(pub E);

impl<E: Events> Serialize for Nested<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut nested = serializer.serialize_struct("Nested", 2)?;
        nested.serialize_field("event", self.0.name())?;
        nested.serialize_field("data", &DataOf(&self.0))?;
        nested.end()
    }
}

impl<'de, E: Events> Deserialize<'de> for Nested<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            event: String,
            data: Value,
        }
        let wire = Wire::deserialize(deserializer)?;
        E::from_data(&wire.event, wire.data)
            .map(Nested)
            .map_err(D::Error::custom)
    }
}

impl<E: Events> JsonSchema for Nested<E> {
    fn schema_name() -> Cow<'static, str> {
        format!("Nested{}", E::TYPE_NAME).into()
    }

    fn schema_id() -> Cow<'static, str> {
        format!("realtime_core::Nested<{}>", std::any::type_name::<E>()).into()
    }

    /// One branch per event. A recursive use (`Nested<AppEvent>` inside `AppEvent`) is a
    /// `$ref` to this definition: schemars registers it before describing the events.
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut definitions = Vec::with_capacity(E::NAMES.len());
        E::describe(generator, &mut definitions);
        let branches = definitions
            .into_iter()
            .map(|definition| {
                let mut branch = Map::new();
                if let Some(description) = definition.description {
                    branch.insert("description".into(), description.into());
                }
                branch.insert("type".into(), "object".into());
                branch.insert(
                    "properties".into(),
                    serde_json::json!({
                        "event": { "const": definition.name },
                        "data": definition.data,
                    }),
                );
                branch.insert("required".into(), serde_json::json!(["event", "data"]));
                branch.insert("additionalProperties".into(), false.into());
                Value::Object(branch)
            })
            .collect::<Vec<_>>();
        schemars::json_schema!({ "oneOf": branches })
    }
}
