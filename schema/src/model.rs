//! The typed model of a schema document: its events and shared definitions, each schema
//! parsed into the constructs the generators understand, with its JSON pointer.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};

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
    /// What other properties may be present.
    pub additional: Additional,
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
        let mut definitions = BTreeMap::new();
        if let Some(defs) = root.get("$defs") {
            let defs = defs
                .as_object()
                .ok_or_else(|| Error::not_document("/$defs", "expected an object"))?;
            for (name, schema) in defs {
                let pointer = format!("/$defs/{}", escape(name));
                definitions.insert(name.clone(), Schema::parse(schema, &pointer)?);
            }
        }
        let entries = root
            .get("oneOf")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::not_document("/oneOf", "expected an array of events"))?;
        let mut events: Vec<Event> = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let pointer = format!("/oneOf/{index}");
            let event = parse_event(entry, &pointer)?;
            if events.iter().any(|other| other.name == event.name) {
                return Err(Error::not_document(
                    &format!("{pointer}/properties/event/const"),
                    format!("event `{}` appears twice", event.name),
                ));
            }
            events.push(event);
        }
        let document = Self {
            title,
            version,
            events,
            definitions,
        };
        document.check_refs()?;
        Ok(document)
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

fn parse_event(entry: &Value, pointer: &str) -> Result<Event> {
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
        data: Schema::parse(data, &format!("{pointer}/properties/data"))?,
    })
}

/// Keywords that only annotate; they never change what a schema accepts.
const ANNOTATIONS: &[&str] = &[
    "$comment",
    "$schema",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
];

const STRING_KEYWORDS: &[&str] = &["minLength", "maxLength", "pattern"];
const NUMBER_KEYWORDS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];
const ARRAY_KEYWORDS: &[&str] = &[
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "uniqueItems",
];
const OBJECT_KEYWORDS: &[&str] = &["properties", "required", "additionalProperties"];
const OTHER_KEYWORDS: &[&str] = &[
    "type", "enum", "const", "$ref", "oneOf", "anyOf", "allOf", "format",
];

impl Schema {
    /// Parses the schema `value` found at `pointer`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for keywords the generators cannot express,
    /// [`Error::Malformed`] for keywords with values of the wrong shape.
    pub fn parse(value: &Value, pointer: &str) -> Result<Self> {
        let object = match value {
            Value::Bool(true) => return Ok(Self::new(pointer, None, Kind::Any)),
            Value::Bool(false) => {
                return Err(Error::unsupported(
                    pointer,
                    "the schema `false`, which accepts nothing",
                ));
            }
            Value::Object(object) => object,
            _ => return Err(Error::malformed(pointer, "expected a schema (an object)")),
        };
        for key in object.keys() {
            let known = [
                ANNOTATIONS,
                STRING_KEYWORDS,
                NUMBER_KEYWORDS,
                ARRAY_KEYWORDS,
                OBJECT_KEYWORDS,
                OTHER_KEYWORDS,
            ]
            .iter()
            .any(|group| group.contains(&key.as_str()));
            if !known && !key.starts_with("x-") {
                return Err(Error::unsupported(
                    &format!("{pointer}/{}", escape(key)),
                    format!("the keyword `{key}`"),
                ));
            }
        }
        let description = object
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut parts = Vec::new();
        if let Some(kind) = parse_assertions(object, pointer)? {
            parts.push(Self::new(pointer, None, kind));
        }
        if let Some(reference) = object.get("$ref") {
            parts.push(Self::new(
                pointer,
                None,
                Kind::Ref(parse_ref(reference, &format!("{pointer}/$ref"))?),
            ));
        }
        for (keyword, exclusive) in [("oneOf", true), ("anyOf", false)] {
            if let Some(list) = object.get(keyword) {
                let variants = parse_list(list, &format!("{pointer}/{keyword}"))?;
                parts.push(Self::new(pointer, None, union(variants, exclusive)));
            }
        }
        if let Some(list) = object.get("allOf") {
            parts.extend(parse_list(list, &format!("{pointer}/allOf"))?);
        }
        let kind = match parts.len() {
            0 => Kind::Any,
            1 => parts.remove(0).kind,
            _ => Kind::AllOf(parts),
        };
        Ok(Self::new(pointer, description, kind))
    }

    fn new(pointer: &str, description: Option<String>, kind: Kind) -> Self {
        Self {
            pointer: pointer.to_owned(),
            description,
            kind,
        }
    }

    /// Calls `visit` on this schema and every schema inside it (not through `$ref`s).
    pub fn walk(&self, visit: &mut impl FnMut(&Schema)) {
        visit(self);
        match &self.kind {
            Kind::Array(rules) => rules.items.walk(visit),
            Kind::Tuple { items, rest } => {
                items.iter().for_each(|item| item.walk(visit));
                if let Some(rest) = rest {
                    rest.walk(visit);
                }
            }
            Kind::Object(rules) => {
                for property in &rules.properties {
                    property.schema.walk(visit);
                }
                if let Additional::Schema(schema) = &rules.additional {
                    schema.walk(visit);
                }
            }
            Kind::Nullable(inner) => inner.walk(visit),
            Kind::Union { variants, .. } | Kind::AllOf(variants) => {
                variants.iter().for_each(|variant| variant.walk(visit));
            }
            Kind::Any
            | Kind::Null
            | Kind::Boolean
            | Kind::String(_)
            | Kind::Integer(_)
            | Kind::Number(_)
            | Kind::Enum(_)
            | Kind::Const(_)
            | Kind::Ref(_) => {}
        }
    }

    /// The names of the definitions this schema refers to, directly or nested.
    pub fn refs(&self) -> Vec<String> {
        let mut names = Vec::new();
        self.walk(&mut |schema| {
            if let Kind::Ref(name) = &schema.kind {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
        });
        names
    }
}

/// `anyOf: [X, {type: null}]` is how schemars writes `Option<X>`.
fn union(mut variants: Vec<Schema>, exclusive: bool) -> Kind {
    if variants.len() == 2 {
        if let Some(null) = variants.iter().position(|v| v.kind == Kind::Null) {
            variants.remove(null);
            return Kind::Nullable(Box::new(variants.remove(0)));
        }
    }
    Kind::Union {
        variants,
        exclusive,
    }
}

fn parse_list(list: &Value, pointer: &str) -> Result<Vec<Schema>> {
    let items = list
        .as_array()
        .filter(|items| !items.is_empty())
        .ok_or_else(|| Error::malformed(pointer, "expected a non-empty array of schemas"))?;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| Schema::parse(item, &format!("{pointer}/{index}")))
        .collect()
}

fn parse_ref(value: &Value, pointer: &str) -> Result<String> {
    let text = value
        .as_str()
        .ok_or_else(|| Error::malformed(pointer, "expected a string"))?;
    match text.strip_prefix("#/$defs/") {
        Some(name) if !name.contains('/') => Ok(unescape(name)),
        _ => Err(Error::unsupported(
            pointer,
            format!("the reference `{text}`; only `#/$defs/<name>` is supported"),
        )),
    }
}

/// The part of a schema given by `type`, `enum`, `const` and the per-type keywords.
fn parse_assertions(object: &Map<String, Value>, pointer: &str) -> Result<Option<Kind>> {
    if let Some(value) = object.get("const") {
        return Ok(Some(Kind::Const(value.clone())));
    }
    if let Some(values) = object.get("enum") {
        let values = values
            .as_array()
            .filter(|values| !values.is_empty())
            .ok_or_else(|| {
                Error::malformed(&format!("{pointer}/enum"), "expected a non-empty array")
            })?;
        return Ok(Some(match values.as_slice() {
            [only] => Kind::Const(only.clone()),
            _ => Kind::Enum(values.clone()),
        }));
    }
    let types: Vec<String> = match object.get("type") {
        None => {
            let has = |group: &[&str]| group.iter().any(|key| object.contains_key(*key));
            if has(OBJECT_KEYWORDS) {
                vec!["object".into()]
            } else if has(ARRAY_KEYWORDS) {
                vec!["array".into()]
            } else if has(STRING_KEYWORDS) {
                vec!["string".into()]
            } else if has(NUMBER_KEYWORDS) {
                vec!["number".into()]
            } else {
                return Ok(None);
            }
        }
        Some(Value::String(name)) => vec![name.clone()],
        Some(Value::Array(names)) => names
            .iter()
            .map(|name| {
                name.as_str().map(str::to_owned).ok_or_else(|| {
                    Error::malformed(&format!("{pointer}/type"), "expected type names")
                })
            })
            .collect::<Result<_>>()?,
        Some(_) => {
            return Err(Error::malformed(
                &format!("{pointer}/type"),
                "expected a type name or an array of them",
            ));
        }
    };
    let mut kinds = Vec::new();
    let mut nullable = false;
    for name in &types {
        let kind = match name.as_str() {
            "null" => {
                nullable = true;
                continue;
            }
            "boolean" => Kind::Boolean,
            "string" => Kind::String(parse_string(object, pointer)?),
            "integer" => Kind::Integer(parse_number(object, pointer)?),
            "number" => Kind::Number(parse_number(object, pointer)?),
            "array" => parse_array(object, pointer)?,
            "object" => Kind::Object(parse_object(object, pointer)?),
            other => {
                return Err(Error::malformed(
                    &format!("{pointer}/type"),
                    format!("unknown type `{other}`"),
                ));
            }
        };
        kinds.push(Schema::new(pointer, None, kind));
    }
    let inner = match kinds.len() {
        0 => return Ok(Some(Kind::Null)),
        1 => kinds.remove(0),
        _ => Schema::new(
            pointer,
            None,
            Kind::Union {
                variants: kinds,
                exclusive: true,
            },
        ),
    };
    Ok(Some(if nullable {
        Kind::Nullable(Box::new(inner))
    } else {
        inner.kind
    }))
}

fn get_u64(object: &Map<String, Value>, key: &str, pointer: &str) -> Result<Option<u64>> {
    object
        .get(key)
        .map(|value| {
            value.as_u64().ok_or_else(|| {
                Error::malformed(
                    &format!("{pointer}/{key}"),
                    "expected a non-negative integer",
                )
            })
        })
        .transpose()
}

fn get_number(object: &Map<String, Value>, key: &str, pointer: &str) -> Result<Option<Number>> {
    object
        .get(key)
        .map(|value| match value {
            Value::Number(number) => Ok(number.clone()),
            _ => Err(Error::malformed(
                &format!("{pointer}/{key}"),
                "expected a number",
            )),
        })
        .transpose()
}

fn get_string(object: &Map<String, Value>, key: &str, pointer: &str) -> Result<Option<String>> {
    object
        .get(key)
        .map(|value| {
            value
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| Error::malformed(&format!("{pointer}/{key}"), "expected a string"))
        })
        .transpose()
}

fn parse_string(object: &Map<String, Value>, pointer: &str) -> Result<StringRules> {
    Ok(StringRules {
        min_length: get_u64(object, "minLength", pointer)?,
        max_length: get_u64(object, "maxLength", pointer)?,
        pattern: get_string(object, "pattern", pointer)?,
        format: get_string(object, "format", pointer)?,
    })
}

fn parse_number(object: &Map<String, Value>, pointer: &str) -> Result<NumberRules> {
    Ok(NumberRules {
        minimum: get_number(object, "minimum", pointer)?,
        maximum: get_number(object, "maximum", pointer)?,
        exclusive_minimum: get_number(object, "exclusiveMinimum", pointer)?,
        exclusive_maximum: get_number(object, "exclusiveMaximum", pointer)?,
        multiple_of: get_number(object, "multipleOf", pointer)?,
        format: get_string(object, "format", pointer)?,
    })
}

fn parse_array(object: &Map<String, Value>, pointer: &str) -> Result<Kind> {
    let min_items = get_u64(object, "minItems", pointer)?;
    let max_items = get_u64(object, "maxItems", pointer)?;
    let unique = match object.get("uniqueItems") {
        None => false,
        Some(Value::Bool(unique)) => *unique,
        Some(_) => {
            return Err(Error::malformed(
                &format!("{pointer}/uniqueItems"),
                "expected a boolean",
            ));
        }
    };
    if let Some(prefix) = object.get("prefixItems") {
        let items = parse_list(prefix, &format!("{pointer}/prefixItems"))?;
        let rest = match object.get("items") {
            None | Some(Value::Bool(false)) => None,
            Some(schema) => Some(Box::new(Schema::parse(
                schema,
                &format!("{pointer}/items"),
            )?)),
        };
        let length = items.len() as u64;
        let closed = rest.is_none() || max_items == Some(length);
        if min_items.unwrap_or(0) < length {
            return Err(Error::unsupported(
                &format!("{pointer}/minItems"),
                "a tuple with optional positions (minItems below the number of prefixItems)",
            ));
        }
        if unique || (max_items.is_some_and(|max| max > length) && rest.is_none()) {
            return Err(Error::unsupported(
                pointer,
                "a tuple with uniqueItems or with more items than prefixItems but no `items`",
            ));
        }
        return Ok(Kind::Tuple {
            items,
            rest: if closed { None } else { rest },
        });
    }
    let items = match object.get("items") {
        Some(schema) => Schema::parse(schema, &format!("{pointer}/items"))?,
        None => Schema::new(&format!("{pointer}/items"), None, Kind::Any),
    };
    Ok(Kind::Array(ArrayRules {
        items: Box::new(items),
        min_items,
        max_items,
        unique,
    }))
}

fn parse_object(object: &Map<String, Value>, pointer: &str) -> Result<ObjectRules> {
    let required: Vec<&str> = match object.get("required") {
        None => Vec::new(),
        Some(Value::Array(names)) => names
            .iter()
            .map(|name| {
                name.as_str().ok_or_else(|| {
                    Error::malformed(&format!("{pointer}/required"), "expected property names")
                })
            })
            .collect::<Result<_>>()?,
        Some(_) => {
            return Err(Error::malformed(
                &format!("{pointer}/required"),
                "expected an array of property names",
            ));
        }
    };
    let mut properties = Vec::new();
    if let Some(declared) = object.get("properties") {
        let declared = declared.as_object().ok_or_else(|| {
            Error::malformed(&format!("{pointer}/properties"), "expected an object")
        })?;
        for (name, schema) in declared {
            properties.push(Property {
                name: name.clone(),
                required: required.contains(&name.as_str()),
                schema: Schema::parse(schema, &format!("{pointer}/properties/{}", escape(name)))?,
            });
        }
    }
    for name in &required {
        if !properties.iter().any(|property| property.name == *name) {
            return Err(Error::unsupported(
                &format!("{pointer}/required"),
                format!("the required property `{name}` has no schema in `properties`"),
            ));
        }
    }
    let additional = match object.get("additionalProperties") {
        None => Additional::Unspecified,
        Some(Value::Bool(true)) => Additional::Allowed,
        Some(Value::Bool(false)) => Additional::Forbidden,
        Some(schema) => Additional::Schema(Box::new(Schema::parse(
            schema,
            &format!("{pointer}/additionalProperties"),
        )?)),
    };
    Ok(ObjectRules {
        properties,
        additional,
    })
}

/// Escapes a key for a JSON pointer (RFC 6901).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn unescape(key: &str) -> String {
    key.replace("~1", "/").replace("~0", "~")
}
