//! The compiled form of an event set: one JSON Schema validator per event, built once per
//! event type and shared by every handle, the decoder of stored entries, and the metric
//! keys labelled with its event names.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use crate::backend::RawEntry;
use crate::error::{DecodeError, Error, SchemaViolation};
use crate::events::{EventKind, Events};
use crate::json_text;
use crate::metrics::EventKeys;
use crate::schema::EventSchema;
use crate::util::lock;

/// The validators of one event set, indexed by [`EventKind::index`].
pub(crate) struct Catalog {
    names: &'static [&'static str],
    validators: Vec<Result<jsonschema::Validator, String>>,
    /// Per event: whether its data may hold a 128-bit integer (see [`Catalog::check_read_back`]).
    wide: Vec<bool>,
    keys: EventKeys,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

type Cache = Mutex<HashMap<TypeId, Arc<Catalog>>>;

impl Catalog {
    /// The catalog of `E`, compiled on first use and cached for the life of the process.
    pub(crate) fn of<E: Events>() -> Arc<Catalog> {
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let cache = CACHE.get_or_init(Cache::default);
        let key = TypeId::of::<E>();
        if let Some(catalog) = lock(cache).get(&key) {
            return Arc::clone(catalog);
        }
        // Compiled outside the lock: two racing threads may both compile, one result wins.
        let compiled = Arc::new(Self::compile::<E>());
        let mut cache = lock(cache);
        Arc::clone(cache.entry(key).or_insert(compiled))
    }

    fn compile<E: Events>() -> Catalog {
        let schema = EventSchema::accepted_by::<E>();
        let validators = E::Kind::ALL
            .iter()
            .map(|kind| {
                let definition = schema.event(kind.name()).ok_or_else(|| {
                    format!("no schema was described for event `{}`", kind.name())
                })?;
                crate::uri::with_uri_format(crate::pattern::ecma_patterns(jsonschema::options()))
                    .should_validate_formats(true)
                    .build(&schema.data_schema(definition))
                    .map_err(|error| error.to_string())
            })
            .collect();
        let wide = E::Kind::ALL
            .iter()
            .map(|kind| {
                schema.event(kind.name()).is_some_and(|definition| {
                    holds_wide_integer(&schema, definition.data.as_value())
                })
            })
            .collect();
        Catalog {
            names: E::NAMES,
            validators,
            wide,
            keys: EventKeys::new(E::NAMES),
        }
    }

    /// Whether an emit of the event at `index` must check that its text decodes back: its
    /// data may hold a `u128`/`i128`, which serde cannot read inside an untagged or
    /// internally tagged enum or a flattened field, whatever its value.
    pub(crate) fn check_read_back(&self, index: usize) -> bool {
        self.wide.get(index).copied().unwrap_or(true)
    }

    /// The metric keys labelled with this set's event names.
    pub(crate) fn keys(&self) -> &EventKeys {
        &self.keys
    }

    /// Checks `data` against the schema of the event at `index`.
    pub(crate) fn validate(&self, index: usize, data: &Value) -> Result<(), Error> {
        let event = self.names.get(index).copied().unwrap_or("<unknown>");
        match self.validators.get(index) {
            Some(Ok(validator)) => validator.validate(data).map_err(|error| {
                Error::Invalid(SchemaViolation {
                    event,
                    path: error.instance_path().to_string(),
                    rule: error.kind().keyword().to_owned(),
                    message: error.to_string(),
                })
            }),
            Some(Err(message)) => Err(Error::Schema {
                event,
                message: message.clone(),
            }),
            None => Err(Error::Schema {
                event,
                message: "no validator for this event".to_owned(),
            }),
        }
    }

    /// Turns a stored entry into a typed event and its data as compact JSON text: the name
    /// must be known, the data must pass the schema and deserialize. The text is the
    /// stored one on one line (keys in the order written), not a re-encoding.
    ///
    /// Entries in the reference encoding ([`RawEntry::lenient`]) may hold a string without
    /// quotes (`123` for `"123"`): when the JSON reading fails, the text is tried as a string.
    pub(crate) fn decode<E: Events>(&self, entry: &RawEntry) -> Result<(E, String), Error> {
        let kind = E::Kind::from_name(&entry.event).ok_or_else(|| {
            Error::UnknownEvent(crate::private::names::unknown_event(&entry.event, E::NAMES))
        })?;
        let attempt = match serde_json::from_str::<Value>(&entry.data) {
            Ok(data) => self
                .decode_text::<E>(kind, &data, &entry.data)
                .map(|event| (event, json_text::compact(&entry.data).text.into_owned())),
            Err(error) => Err(Error::Decode(DecodeError::InvalidData {
                event: kind.name(),
                path: ".".to_owned(),
                message: format!("data is not JSON: {error}"),
            })),
        };
        if entry.lenient && attempt.is_err() {
            let as_text = Value::String(entry.data.to_string());
            let json = as_text.to_string();
            if let Ok(event) = self.decode_value::<E>(kind, as_text) {
                return Ok((event, json));
            }
        }
        attempt
    }

    /// Validates `data` and decodes the event from `text`, the JSON it was parsed from:
    /// the text keeps integers beyond 64 bits exact, the `Value` does not.
    fn decode_text<E: Events>(&self, kind: E::Kind, data: &Value, text: &str) -> Result<E, Error> {
        self.validate(kind.index(), data)?;
        Ok(E::from_data_json(kind.name(), text)?)
    }

    fn decode_value<E: Events>(&self, kind: E::Kind, data: Value) -> Result<E, Error> {
        self.validate(kind.index(), &data)?;
        Ok(E::from_data(kind.name(), data)?)
    }
}

/// Whether `schema` (with the definitions it refers to) has a 128-bit integer format.
fn holds_wide_integer(set: &EventSchema, schema: &Value) -> bool {
    let mut pending = vec![schema];
    let mut seen = std::collections::HashSet::new();
    while let Some(node) = pending.pop() {
        match node {
            Value::Object(object) => {
                if let Some(Value::String(format)) = object.get("format") {
                    if format == "uint128" || format == "int128" {
                        return true;
                    }
                }
                if let Some(name) = object
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|reference| reference.strip_prefix("#/$defs/"))
                {
                    if seen.insert(name) {
                        pending.extend(set.definitions.get(name));
                    }
                }
                pending.extend(object.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    false
}
