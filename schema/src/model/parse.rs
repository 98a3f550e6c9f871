//! Parsing one JSON Schema into a [`Schema`], keyword by keyword.

use serde_json::{Map, Number, Value};

use super::{
    Additional, ArrayRules, Kind, NumberRules, ObjectRules, PatternProperty, Property, Schema,
    StringRules, escape, unescape,
};
use crate::error::{Error, Result};
use crate::warning::Warning;

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
const OBJECT_KEYWORDS: &[&str] = &[
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
];
const OTHER_KEYWORDS: &[&str] = &[
    "type", "enum", "const", "$ref", "oneOf", "anyOf", "allOf", "format", "not",
];

/// Whether `key` is a keyword the model reads (an annotation or an assertion).
pub(crate) fn is_known_keyword(key: &str) -> bool {
    [
        ANNOTATIONS,
        STRING_KEYWORDS,
        NUMBER_KEYWORDS,
        ARRAY_KEYWORDS,
        OBJECT_KEYWORDS,
        OTHER_KEYWORDS,
    ]
    .iter()
    .any(|group| group.contains(&key))
}

/// Parsing state: the warnings met so far.
struct Parser<'w> {
    warnings: &'w mut Vec<Warning>,
}

impl Schema {
    /// Parses the schema `value` found at `pointer`. A keyword the generators do not know
    /// is read as if it were absent (so the schema accepts more, never less) and adds a
    /// warning with its pointer to `warnings`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for constructs that no wider reading covers (a `$ref` to
    /// another document, the schema `false`), [`Error::Malformed`] for keywords with
    /// values of the wrong shape.
    pub fn parse(value: &Value, pointer: &str, warnings: &mut Vec<Warning>) -> Result<Self> {
        Parser { warnings }.schema(value, pointer)
    }

    fn new(pointer: &str, description: Option<String>, kind: Kind) -> Self {
        Self {
            pointer: pointer.to_owned(),
            description,
            kind,
            accepts: None,
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
                for pattern in &rules.patterns {
                    pattern.schema.walk(visit);
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

impl Parser<'_> {
    fn schema(&mut self, value: &Value, pointer: &str) -> Result<Schema> {
        let object = match value {
            Value::Bool(true) => return Ok(Schema::new(pointer, None, Kind::Any)),
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
            if !is_known_keyword(key) && !key.starts_with("x-") {
                self.warn(
                    &format!("{pointer}/{}", escape(key)),
                    format!(
                        "the keyword `{key}` is not supported; read as if absent (a wider type)"
                    ),
                );
            }
        }
        let description = object
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut parts = Vec::new();
        if let Some(mut kind) = self.assertions(object, pointer)? {
            if let Some(not) = object.get("not") {
                self.exclude(&mut kind, not, &format!("{pointer}/not"));
            }
            parts.push(Schema::new(pointer, None, kind));
        } else if object.contains_key("not") {
            self.warn(
                &format!("{pointer}/not"),
                "`not` without a type is not supported; read as if absent (a wider type)",
            );
        }
        if let Some(reference) = object.get("$ref") {
            parts.push(Schema::new(
                pointer,
                None,
                Kind::Ref(parse_ref(reference, &format!("{pointer}/$ref"))?),
            ));
        }
        for (keyword, exclusive) in [("oneOf", true), ("anyOf", false)] {
            if let Some(list) = object.get(keyword) {
                let variants = self.list(list, &format!("{pointer}/{keyword}"))?;
                parts.push(Schema::new(pointer, None, union(variants, exclusive)));
            }
        }
        if let Some(list) = object.get("allOf") {
            parts.extend(self.list(list, &format!("{pointer}/allOf"))?);
        }
        let kind = match parts.len() {
            0 => Kind::Any,
            1 => parts.remove(0).kind,
            _ => Kind::AllOf(parts),
        };
        let mut schema = Schema::new(pointer, description, kind);
        if let Some(reader) = object.get(ACCEPTS) {
            let reader = self.schema(reader, &format!("{pointer}/{ACCEPTS}"))?;
            schema.accepts = Some(Box::new(reader));
        }
        Ok(schema)
    }

    fn warn(&mut self, pointer: &str, message: impl Into<String>) {
        self.warnings.push(Warning::new(pointer, message));
    }

    /// `not` with the values a number may not take (`NonZeroI32` writes `not: {const: 0}`)
    /// becomes [`NumberRules::excluded`]; any other `not` is read as if absent.
    fn exclude(&mut self, kind: &mut Kind, not: &Value, pointer: &str) {
        let values: Option<Vec<Number>> = match not.as_object() {
            Some(not)
                if not.keys().all(|key| {
                    matches!(key.as_str(), "const" | "enum" | "type")
                        || ANNOTATIONS.contains(&key.as_str())
                }) =>
            {
                let listed = match (not.get("const"), not.get("enum")) {
                    (Some(value), None) => Some(vec![value.clone()]),
                    (None, Some(Value::Array(values))) => Some(values.clone()),
                    _ => None,
                };
                listed.and_then(|values| {
                    values
                        .iter()
                        .map(|value| value.as_number().cloned())
                        .collect()
                })
            }
            _ => None,
        };
        let rules = match kind {
            Kind::Integer(rules) | Kind::Number(rules) => Some(rules),
            Kind::Nullable(inner) => match &mut inner.kind {
                Kind::Integer(rules) | Kind::Number(rules) => Some(rules),
                _ => None,
            },
            _ => None,
        };
        match (rules, values) {
            (Some(rules), Some(values)) => rules.excluded = values,
            _ => self.warn(
                pointer,
                "only `not` with the numbers a number may not be is supported; read as if absent (a wider type)",
            ),
        }
    }

    fn list(&mut self, list: &Value, pointer: &str) -> Result<Vec<Schema>> {
        let items = list
            .as_array()
            .filter(|items| !items.is_empty())
            .ok_or_else(|| Error::malformed(pointer, "expected a non-empty array of schemas"))?;
        items
            .iter()
            .enumerate()
            .map(|(index, item)| self.schema(item, &format!("{pointer}/{index}")))
            .collect()
    }

    /// The part of a schema given by `type`, `enum`, `const` and the per-type keywords.
    fn assertions(&mut self, object: &Map<String, Value>, pointer: &str) -> Result<Option<Kind>> {
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
                "array" => self.array(object, pointer)?,
                "object" => Kind::Object(self.object(object, pointer)?),
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

    fn array(&mut self, object: &Map<String, Value>, pointer: &str) -> Result<Kind> {
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
            let items = self.list(prefix, &format!("{pointer}/prefixItems"))?;
            let rest = match object.get("items") {
                None | Some(Value::Bool(false)) => None,
                Some(schema) => Some(Box::new(self.schema(schema, &format!("{pointer}/items"))?)),
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
            Some(schema) => self.schema(schema, &format!("{pointer}/items"))?,
            None => Schema::new(&format!("{pointer}/items"), None, Kind::Any),
        };
        Ok(Kind::Array(ArrayRules {
            items: Box::new(items),
            min_items,
            max_items,
            unique,
        }))
    }

    fn object(&mut self, object: &Map<String, Value>, pointer: &str) -> Result<ObjectRules> {
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
                    schema: self
                        .schema(schema, &format!("{pointer}/properties/{}", escape(name)))?,
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
            Some(schema) => Additional::Schema(Box::new(
                self.schema(schema, &format!("{pointer}/additionalProperties"))?,
            )),
        };
        let mut patterns = Vec::new();
        if let Some(declared) = object.get("patternProperties") {
            let declared = declared.as_object().ok_or_else(|| {
                Error::malformed(
                    &format!("{pointer}/patternProperties"),
                    "expected an object",
                )
            })?;
            for (pattern, schema) in declared {
                patterns.push(PatternProperty {
                    pattern: pattern.clone(),
                    schema: self.schema(
                        schema,
                        &format!("{pointer}/patternProperties/{}", escape(pattern)),
                    )?,
                });
            }
        }
        let keys = match object.get("propertyNames") {
            None => None,
            Some(names) => self.key_names(names, &format!("{pointer}/propertyNames"))?,
        };
        Ok(ObjectRules {
            properties,
            patterns,
            additional,
            keys,
        })
    }

    /// `propertyNames`: a string schema (`type: string` implied, as keys are strings);
    /// any other is read as if absent, with a warning.
    fn key_names(&mut self, names: &Value, pointer: &str) -> Result<Option<StringRules>> {
        let Some(object) = names.as_object() else {
            if names == &Value::Bool(true) {
                return Ok(None);
            }
            return Err(Error::malformed(pointer, "expected a schema (an object)"));
        };
        let only_string = object.iter().all(|(key, value)| {
            STRING_KEYWORDS.contains(&key.as_str())
                || matches!(key.as_str(), "format" | WHATWG_URL)
                || (key == "type" && value == "string")
                || ANNOTATIONS.contains(&key.as_str())
        });
        if !only_string {
            self.warn(
                pointer,
                "only `propertyNames` with string constraints (`format`, `pattern`, lengths) is supported; read as if absent (a wider type)",
            );
            return Ok(None);
        }
        Ok(Some(parse_string(object, pointer)?))
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
        whatwg_url: object.get(WHATWG_URL) == Some(&Value::Bool(true)),
    })
}

/// The extension keyword of a `url::Url` (`realtime_core::schema::WhatwgUrl`).
pub(crate) const WHATWG_URL: &str = "x-whatwg-url";

/// The extension keyword of what a type reads where it reads more than it writes.
pub(crate) const ACCEPTS: &str = "x-accepts";

fn parse_number(object: &Map<String, Value>, pointer: &str) -> Result<NumberRules> {
    Ok(NumberRules {
        minimum: get_number(object, "minimum", pointer)?,
        maximum: get_number(object, "maximum", pointer)?,
        exclusive_minimum: get_number(object, "exclusiveMinimum", pointer)?,
        exclusive_maximum: get_number(object, "exclusiveMaximum", pointer)?,
        multiple_of: get_number(object, "multipleOf", pointer)?,
        format: get_string(object, "format", pointer)?,
        excluded: Vec::new(),
    })
}
