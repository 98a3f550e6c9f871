//! Parsing one JSON Schema into a [`Schema`], keyword by keyword.

use serde_json::{Map, Number, Value};

use super::{
    Additional, ArrayRules, Kind, NumberRules, ObjectRules, Property, Schema, StringRules, escape,
    unescape,
};
use crate::error::{Error, Result};

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
