//! The typed model of a schema document: its events and shared definitions, each schema
//! parsed into the constructs the generators understand, with its JSON pointer.

use std::collections::BTreeMap;

use serde_json::{Number, Value};

use crate::error::{Error, Result};
use crate::warning::Warning;

mod parse;

pub(crate) use parse::is_known_keyword;

/// The document format versions this crate reads (`x-realtime.version`).
pub const SUPPORTED_VERSION: u64 = 1;

/// A parsed schema document: what `EventSchema::document()` writes.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// The Rust name of the event enum.
    pub title: String,
    /// The format version (`x-realtime.version`).
    pub version: u64,
    /// Every event, in declaration order.
    pub events: Vec<Event>,
    /// The shared definitions (`$defs`), by name.
    pub definitions: BTreeMap<String, Schema>,
    /// Keywords read as a wider type (each ignored), with their pointer and events.
    pub warnings: Vec<Warning>,
}

/// One event: its name, description and the schema of its data.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The dotted event name, e.g. `chat.message`.
    pub name: String,
    /// The event's doc comment.
    pub description: Option<String>,
    /// The schema of the event's data.
    pub data: Schema,
}

/// One schema: what it accepts, its description and where it is in the document.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// The JSON pointer of this schema in the document.
    pub pointer: String,
    /// Its `description`.
    pub description: Option<String>,
    /// What it accepts.
    pub kind: Kind,
    /// `x-accepts`: what the type reads where it reads more than it writes (the derive
    /// writes it for a `rust_decimal::Decimal`, written as a string, read from a string or
    /// a number). The document describes what is written; `diff` asks this of readers of
    /// history.
    pub accepts: Option<Box<Schema>>,
}

/// What a schema accepts.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// Any JSON value (`true` or `{}`).
    Any,
    /// `null`.
    Null,
    /// `true` or `false`.
    Boolean,
    /// A string.
    String(StringRules),
    /// An integer.
    Integer(NumberRules),
    /// Any number.
    Number(NumberRules),
    /// An array of one item type.
    Array(ArrayRules),
    /// A fixed-length array (`prefixItems`), possibly followed by more items.
    Tuple {
        /// The schema of each position.
        items: Vec<Schema>,
        /// The schema of items after the fixed ones, if more are allowed.
        rest: Option<Box<Schema>>,
    },
    /// An object.
    Object(ObjectRules),
    /// One of these values (`enum`).
    Enum(Vec<Value>),
    /// Exactly this value (`const`).
    Const(Value),
    /// A reference to a shared definition, by name.
    Ref(String),
    /// This schema or `null` (`type: [T, "null"]`, or `anyOf` with `{type: null}`).
    Nullable(Box<Schema>),
    /// One of these (`oneOf` when `exclusive`, `anyOf` otherwise; serde's enums).
    Union {
        /// The alternatives.
        variants: Vec<Schema>,
        /// `oneOf`: exactly one must match.
        exclusive: bool,
    },
    /// All of these (`allOf`, or several keyword groups side by side, as
    /// `#[serde(flatten)]` and internally tagged newtype variants produce).
    AllOf(Vec<Schema>),
}

/// String constraints.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StringRules {
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `pattern` (ECMA-262).
    pub pattern: Option<String>,
    /// `format`.
    pub format: Option<String>,
    /// `x-whatwg-url: true`: the text must also parse as a URL by the WHATWG URL Standard,
    /// as serde reads a `url::Url` (the derive writes it beside `format: uri`).
    pub whatwg_url: bool,
}

/// Number constraints.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NumberRules {
    /// `minimum`.
    pub minimum: Option<Number>,
    /// `maximum`.
    pub maximum: Option<Number>,
    /// `exclusiveMinimum`.
    pub exclusive_minimum: Option<Number>,
    /// `exclusiveMaximum`.
    pub exclusive_maximum: Option<Number>,
    /// `multipleOf`.
    pub multiple_of: Option<Number>,
    /// `format` (schemars writes `int32`, `uint64`, `double`, ...).
    pub format: Option<String>,
    /// Values refused by `not: {const: ...}` or `not: {enum: [...]}` (`NonZeroI32`).
    pub excluded: Vec<Number>,
}

/// Array constraints.
#[derive(Clone, Debug, PartialEq)]
pub struct ArrayRules {
    /// The schema of every item.
    pub items: Box<Schema>,
    /// `minItems`.
    pub min_items: Option<u64>,
    /// `maxItems`.
    pub max_items: Option<u64>,
    /// `uniqueItems`.
    pub unique: bool,
}

/// Object constraints.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectRules {
    /// The declared properties, in the document's order.
    pub properties: Vec<Property>,
    /// `patternProperties`: properties whose name matches a pattern (schemars writes
    /// `^\d+$` for the keys of a `BTreeMap<u32, T>`), in the document's order.
    pub patterns: Vec<PatternProperty>,
    /// What other properties may be present.
    pub additional: Additional,
    /// `propertyNames`: what every key must be (the derive writes the key type's format,
    /// lengths or integer range for a map with typed keys); `None` for any string.
    pub keys: Option<StringRules>,
}

/// One entry of `patternProperties`.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternProperty {
    /// The pattern (ECMA-262) a property name must match.
    pub pattern: String,
    /// The schema of the properties whose name matches.
    pub schema: Schema,
}

/// One declared property of an object.
#[derive(Clone, Debug, PartialEq)]
pub struct Property {
    /// The key.
    pub name: String,
    /// Whether it must be present (`required`).
    pub required: bool,
    /// Its schema.
    pub schema: Schema,
}

/// `additionalProperties`.
#[derive(Clone, Debug, PartialEq)]
pub enum Additional {
    /// Not given: other properties are allowed (and generated code may drop them).
    Unspecified,
    /// `true`: other properties are allowed and kept.
    Allowed,
    /// `false`: other properties are refused.
    Forbidden,
    /// A schema: other properties are allowed when they match it (a map).
    Schema(Box<Schema>),
}

impl NumberRules {
    /// These rules with the range that a schemars integer format (`uint8`, `int32`, ...)
    /// implies, where the schema does not state it.
    pub fn effective(&self) -> NumberRules {
        let bounds: Option<(i64, i64)> = match self.format.as_deref() {
            Some("int8") => Some((i8::MIN.into(), i8::MAX.into())),
            Some("uint8") => Some((0, u8::MAX.into())),
            Some("int16") => Some((i16::MIN.into(), i16::MAX.into())),
            Some("uint16") => Some((0, u16::MAX.into())),
            Some("int32") => Some((i32::MIN.into(), i32::MAX.into())),
            Some("uint32") => Some((0, u32::MAX.into())),
            _ => None,
        };
        let mut rules = self.clone();
        if let Some((min, max)) = bounds {
            if rules.minimum.is_none() && rules.exclusive_minimum.is_none() {
                rules.minimum = Some(min.into());
            }
            if rules.maximum.is_none() && rules.exclusive_maximum.is_none() {
                rules.maximum = Some(max.into());
            }
        }
        rules
    }
}

impl Document {
    /// Parses a document from JSON text.
    ///
    /// # Errors
    /// [`Error::NotJson`], [`Error::NotDocument`], [`Error::Unsupported`] or
    /// [`Error::Malformed`], each naming where in the input the problem is.
    pub fn from_json(path: &str, text: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text).map_err(|source| Error::NotJson {
            path: path.to_owned(),
            source,
        })?;
        Self::from_value(&value)
    }

    /// Reads and parses the document at `path`.
    ///
    /// # Errors
    /// As [`Document::from_json`], and [`Error::Io`] when the file cannot be read.
    pub fn read(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&path.display().to_string(), &text)
    }

    /// Parses a document from a JSON value.
    ///
    /// # Errors
    /// As [`Document::from_json`].
    pub fn from_value(value: &Value) -> Result<Self> {
        let root = value
            .as_object()
            .ok_or_else(|| Error::not_document("", "expected an object"))?;
        let extension = root.get("x-realtime").ok_or_else(|| {
            Error::not_document(
                "",
                "no `x-realtime` member; write the document with `EventSchema::document()`",
            )
        })?;
        let version = extension
            .get("version")
            .and_then(Value::as_u64)
            .ok_or_else(|| Error::not_document("/x-realtime/version", "expected a number"))?;
        if version != SUPPORTED_VERSION {
            return Err(Error::unsupported(
                "/x-realtime/version",
                format!("format version {version}; this tool reads version {SUPPORTED_VERSION}"),
            ));
        }
        let title = root
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("Events")
            .to_owned();
        let mut warnings = Vec::new();
        let mut definitions = BTreeMap::new();
        if let Some(defs) = root.get("$defs") {
            let defs = defs
                .as_object()
                .ok_or_else(|| Error::not_document("/$defs", "expected an object"))?;
            for (name, schema) in defs {
                let pointer = format!("/$defs/{}", escape(name));
                definitions.insert(
                    name.clone(),
                    Schema::parse(schema, &pointer, &mut warnings)?,
                );
            }
        }
        let entries = root
            .get("oneOf")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::not_document("/oneOf", "expected an array of events"))?;
        let mut events: Vec<Event> = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let pointer = format!("/oneOf/{index}");
            let event = parse_event(entry, &pointer, &mut warnings)?;
            if events.iter().any(|other| other.name == event.name) {
                return Err(Error::not_document(
                    &format!("{pointer}/properties/event/const"),
                    format!("event `{}` appears twice", event.name),
                ));
            }
            events.push(event);
        }
        let mut document = Self {
            title,
            version,
            events,
            definitions,
            warnings: Vec::new(),
        };
        document.check_refs()?;
        document.attribute(&mut warnings);
        document.warnings = warnings;
        Ok(document)
    }

    /// The names of the events whose data contains the schema at `pointer`: the event of
    /// an `/oneOf/<i>` pointer, or every event that refers, directly or through other
    /// definitions, to the definition of a `/$defs/<name>` pointer.
    pub fn events_at(&self, pointer: &str) -> Vec<String> {
        let mut segments = pointer.split('/').skip(1);
        match (segments.next(), segments.next()) {
            (Some("oneOf"), Some(index)) => index
                .parse::<usize>()
                .ok()
                .and_then(|index| self.events.get(index))
                .map(|event| vec![event.name.clone()])
                .unwrap_or_default(),
            (Some("$defs"), Some(name)) => {
                let name = unescape(name);
                self.events
                    .iter()
                    .filter(|event| self.reaches(&event.data, &name))
                    .map(|event| event.name.clone())
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// Fills in the events of each warning.
    pub fn attribute(&self, warnings: &mut [Warning]) {
        for warning in warnings {
            warning.events = self.events_at(&warning.pointer);
        }
    }

    /// Whether `schema` refers to the definition `name`, directly or through others.
    fn reaches(&self, schema: &Schema, name: &str) -> bool {
        let mut seen: Vec<String> = Vec::new();
        let mut pending = schema.refs();
        while let Some(next) = pending.pop() {
            if next == name {
                return true;
            }
            if !seen.contains(&next) {
                if let Some(definition) = self.definition(&next) {
                    pending.extend(definition.refs());
                }
                seen.push(next);
            }
        }
        false
    }

    /// The definition called `name`.
    pub fn definition(&self, name: &str) -> Option<&Schema> {
        self.definitions.get(name)
    }

    /// The event called `name`.
    pub fn event(&self, name: &str) -> Option<&Event> {
        self.events.iter().find(|event| event.name == name)
    }

    fn check_refs(&self) -> Result<()> {
        let mut result = Ok(());
        let mut check = |schema: &Schema| {
            if let Kind::Ref(name) = &schema.kind {
                if result.is_ok() && !self.definitions.contains_key(name) {
                    result = Err(Error::malformed(
                        &schema.pointer,
                        format!("`$ref` to `#/$defs/{name}`, which is not defined"),
                    ));
                }
            }
        };
        for schema in self.definitions.values() {
            schema.walk(&mut check);
        }
        for event in &self.events {
            event.data.walk(&mut check);
        }
        result
    }
}

fn parse_event(entry: &Value, pointer: &str, warnings: &mut Vec<Warning>) -> Result<Event> {
    let entry = entry
        .as_object()
        .ok_or_else(|| Error::not_document(pointer, "expected an event entry object"))?;
    let properties = entry
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            Error::not_document(
                &format!("{pointer}/properties"),
                "expected the properties `event` and `data`",
            )
        })?;
    let name = properties
        .get("event")
        .and_then(|event| event.get("const"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::not_document(
                &format!("{pointer}/properties/event/const"),
                "expected the event name as a string `const`",
            )
        })?;
    let data = properties.get("data").ok_or_else(|| {
        Error::not_document(
            &format!("{pointer}/properties/data"),
            "expected the schema of the event's data",
        )
    })?;
    Ok(Event {
        name: name.to_owned(),
        description: entry
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
        data: Schema::parse(data, &format!("{pointer}/properties/data"), warnings)?,
    })
}

/// Escapes a key for a JSON pointer (RFC 6901).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn unescape(key: &str) -> String {
    key.replace("~1", "/").replace("~0", "~")
}
