//! zod 4 expressions for schemas.

use std::fmt::Write as _;

use serde_json::{Number, Value};

use super::support::{self, Support};
use super::{Generator, MAX_SAFE_INTEGER, Warning, formats, jsdoc, json_string, key};
use crate::error::{Error, Result};
use crate::model::{
    Additional, ArrayRules, Kind, NumberRules, ObjectRules, Property, Schema, StringRules,
};

impl Generator<'_> {
    pub(super) fn zod(&mut self, schema: &Schema, depth: usize) -> Result<String> {
        Ok(match &schema.kind {
            // Any JSON value, but present: `z.unknown()` would let a required key be absent.
            Kind::Any => "z.json()".to_owned(),
            Kind::Null => "z.null()".to_owned(),
            Kind::Boolean => "z.boolean()".to_owned(),
            Kind::String(rules) => self.zod_string(rules, &schema.pointer)?,
            Kind::Integer(rules) => self.zod_integer(rules, &schema.pointer)?,
            Kind::Number(rules) => {
                let mut code = "z.number()".to_owned();
                push_bounds(&mut code, rules);
                push_excluded(&mut code, rules);
                if rules.format.as_deref() == Some("float") {
                    // serde rounds to the nearest `f32` (as `Math.fround` does); beyond
                    // its range that is infinity, which the server refuses.
                    code.push_str(".refine((value) => Number.isFinite(Math.fround(value)), { message: \"beyond the range of a 32-bit float\" })");
                }
                code
            }
            Kind::Array(rules) => self.zod_array(rules, depth)?,
            Kind::Tuple { items, rest } => {
                let items = items
                    .iter()
                    .map(|item| self.zod(item, depth))
                    .collect::<Result<Vec<_>>>()?;
                match rest {
                    Some(rest) => format!(
                        "z.tuple([{}], {})",
                        items.join(", "),
                        self.zod(rest, depth)?
                    ),
                    None => format!("z.tuple([{}])", items.join(", ")),
                }
            }
            Kind::Object(rules) => self.zod_object(rules, &schema.pointer, depth)?,
            Kind::Enum(values) => {
                if values.iter().all(Value::is_string) {
                    let values: Vec<String> = values.iter().map(Value::to_string).collect();
                    format!("z.enum([{}])", values.join(", "))
                } else {
                    let literals = values
                        .iter()
                        .enumerate()
                        .map(|(index, value)| {
                            zod_literal(value, &format!("{}/enum/{index}", schema.pointer))
                        })
                        .collect::<Result<Vec<_>>>()?;
                    format!("z.union([{}])", literals.join(", "))
                }
            }
            Kind::Const(value) => zod_literal(value, &format!("{}/const", schema.pointer))?,
            Kind::Ref(name) => {
                if self.lazy.contains(name) {
                    format!("z.lazy(() => {name})")
                } else {
                    name.clone()
                }
            }
            Kind::Nullable(inner) => format!("{}.nullable()", self.zod(inner, depth)?),
            Kind::Union {
                variants,
                exclusive,
            } => {
                // `oneOf`: exactly one variant may match, which `z.union` (the first that
                // matches) does not check, unless a tag tells the variants apart.
                let union = if *exclusive && !support::told_apart_by_a_tag(variants) {
                    self.supports.insert(Support::ExactlyOne);
                    "exactlyOne"
                } else {
                    "z.union"
                };
                let pad = "  ".repeat(depth + 1);
                let mut code = format!("{union}([\n");
                for variant in adjacent_units_refuse_content(variants) {
                    let _ = writeln!(code, "{pad}{},", self.zod(&variant, depth + 1)?);
                }
                let _ = write!(code, "{}])", "  ".repeat(depth));
                code
            }
            Kind::AllOf(parts) => {
                let mut parts = parts.iter();
                let Some(first) = parts.next() else {
                    return Err(Error::malformed(&schema.pointer, "an empty allOf"));
                };
                let mut code = self.zod(first, depth)?;
                for part in parts {
                    code = format!("{code}.and({})", self.zod(part, depth)?);
                }
                code
            }
        })
    }

    fn zod_integer(&mut self, rules: &NumberRules, pointer: &str) -> Result<String> {
        let rules = rules.effective();
        if is_safe(&rules) {
            let mut code = "z.int()".to_owned();
            push_bounds(&mut code, &rules);
            push_excluded(&mut code, &rules);
            return Ok(code);
        }
        let format = rules.format.as_deref().unwrap_or("integer");
        self.warnings.push(Warning::new(
            pointer,
            if self.options.bigint {
                format!(
                    "{format} is typed `bigint` (a JSON number, converted with BigInt); JSON.parse has already rounded values beyond 2^53 before zod sees them (carry the value as a string in Rust if exactness matters)"
                )
            } else {
                format!(
                    "{format} may exceed Number.MAX_SAFE_INTEGER (2^53 - 1); typed `number`, larger values lose precision in JavaScript (pass --bigint for `bigint`, or carry the value as a string)"
                )
            },
        ));
        // The wire holds a JSON number either way: a digit string is refused, as serde
        // refuses it.
        let mut code = "z.number()".to_owned();
        push_bounds(&mut code, &rules);
        code.push_str(".refine(Number.isInteger, { message: \"expected an integer\" })");
        push_excluded(&mut code, &rules);
        if self.options.bigint {
            code.push_str(".transform((value) => BigInt(value))");
        }
        Ok(code)
    }

    fn zod_string(&mut self, rules: &StringRules, pointer: &str) -> Result<String> {
        let mut code = match rules.format.as_deref() {
            None => "z.string()".to_owned(),
            Some(format) => match formats::zod(format) {
                Some((code, helper)) => {
                    self.helpers.extend(helper);
                    code.to_owned()
                }
                None => {
                    self.warnings.push(Warning::new(
                        &format!("{pointer}/format"),
                        format!(
                            "the string format `{format}` is not checked here; typed as any string (a wider type)"
                        ),
                    ));
                    "z.string()".to_owned()
                }
            },
        };
        // JSON Schema (and the Rust validator) count characters (code points); zod's
        // `.min`/`.max` count UTF-16 units, which would refuse 200 emoji under `maxLength: 280`.
        let plural = |count: u64| if count == 1 { "" } else { "s" };
        if let Some(min) = rules.min_length {
            let _ = write!(
                code,
                ".refine((text) => [...text].length >= {min}, {{ message: \"at least {min} character{}\" }})",
                plural(min)
            );
        }
        if let Some(max) = rules.max_length {
            let _ = write!(
                code,
                ".refine((text) => [...text].length <= {max}, {{ message: \"at most {max} character{}\" }})",
                plural(max)
            );
        }
        if let Some(pattern) = &rules.pattern {
            check_pattern(pattern, &format!("{pointer}/pattern"))?;
            let _ = write!(code, ".regex(new RegExp({}, \"u\"))", json_string(pattern));
        }
        if rules.whatwg_url {
            // A `url::Url`: serde reads only a text that parses as a URL (`http://` is a
            // URI without a host, which it refuses).
            self.helpers.insert(formats::Helper::WhatwgUrl);
            code.push_str(".refine(isWhatwgUrl, { message: \"expected a URL\" })");
        }
        Ok(code)
    }

    /// `patternProperties`. With no declared properties and no other keys allowed (what
    /// schemars writes for an integer-keyed map), a `z.record` whose key schema checks the
    /// pattern; otherwise the patterns are not checked (a wider type, with a warning).
    fn zod_pattern_record(
        &mut self,
        rules: &ObjectRules,
        pointer: &str,
        depth: usize,
    ) -> Result<String> {
        let mut keys = Vec::new();
        let mut values = Vec::new();
        for pattern in &rules.patterns {
            let at = format!(
                "{pointer}/patternProperties/{}",
                crate::model::escape(&pattern.pattern)
            );
            check_pattern(&pattern.pattern, &at)?;
            keys.push(format!(
                "z.string().regex(new RegExp({}, \"u\"))",
                json_string(&pattern.pattern)
            ));
            let value = self.zod(&pattern.schema, depth)?;
            if !values.contains(&value) {
                values.push(value);
            }
        }
        if let ([value], true, Additional::Forbidden) = (
            values.as_slice(),
            rules.properties.is_empty(),
            &rules.additional,
        ) {
            let mut key = match keys.as_slice() {
                [key] => key.clone(),
                keys => format!("z.union([{}])", keys.join(", ")),
            };
            if let Some(names) = &rules.keys {
                // The key type's own rules (an integer's exact range) beside the pattern.
                let names = self.zod_string(names, &format!("{pointer}/propertyNames"))?;
                key = match rules.patterns.as_slice() {
                    [only] => format!(
                        "{names}.regex(new RegExp({}, \"u\"))",
                        json_string(&only.pattern)
                    ),
                    _ => format!("{names}.and({key})"),
                };
            }
            return Ok(format!("z.record({key}, {value})"));
        }
        self.warnings.push(Warning::new(
            &format!("{pointer}/patternProperties"),
            "`patternProperties` beside other properties is not checked here; properties matching a pattern are read as any JSON (a wider type)",
        ));
        let wider = ObjectRules {
            properties: rules.properties.clone(),
            patterns: Vec::new(),
            additional: Additional::Allowed,
            keys: rules.keys.clone(),
        };
        self.zod_object(&wider, pointer, depth)
    }

    fn zod_array(&mut self, rules: &ArrayRules, depth: usize) -> Result<String> {
        let mut code = format!("z.array({})", self.zod(&rules.items, depth)?);
        if let Some(min) = rules.min_items {
            let _ = write!(code, ".min({min})");
        }
        if let Some(max) = rules.max_items {
            let _ = write!(code, ".max({max})");
        }
        if rules.unique {
            // Compared as JSON values: `{"a":1,"b":2}` and `{"b":2,"a":1}` are equal.
            self.supports.insert(Support::CanonicalJson);
            code.push_str(".refine((items) => new Set(items.map(canonicalJson)).size === items.length, { message: \"items must be unique\" })");
        }
        Ok(code)
    }

    fn zod_object(&mut self, rules: &ObjectRules, pointer: &str, depth: usize) -> Result<String> {
        if !rules.patterns.is_empty() {
            return self.zod_pattern_record(rules, pointer, depth);
        }
        if rules.properties.is_empty() {
            if let Additional::Schema(values) = &rules.additional {
                let key = match &rules.keys {
                    Some(names) => self.zod_string(names, &format!("{pointer}/propertyNames"))?,
                    None => "z.string()".to_owned(),
                };
                return Ok(format!("z.record({key}, {})", self.zod(values, depth)?));
            }
        }
        if rules.keys.is_some() {
            self.warnings.push(Warning::new(
                &format!("{pointer}/propertyNames"),
                "`propertyNames` beside declared properties is not checked here; read as if absent (a wider type)",
            ));
        }
        let constructor = match rules.additional {
            Additional::Forbidden => "z.strictObject",
            Additional::Allowed => "z.looseObject",
            Additional::Unspecified | Additional::Schema(_) => "z.object",
        };
        let inherited = support::reads_inherited_key(rules);
        let mut code = format!("{constructor}({{");
        if !rules.properties.is_empty() {
            code.push('\n');
            let pad = "  ".repeat(depth + 1);
            for property in &rules.properties {
                code.push_str(&jsdoc(property.schema.description.as_deref(), depth + 1));
                let mut value = self.zod(&property.schema, depth + 1)?;
                if !property.required {
                    value.push_str(".optional()");
                }
                let name = if inherited && property.name == "__proto__" {
                    support::PROTO_KEY.to_owned()
                } else {
                    key(&property.name)
                };
                let _ = writeln!(code, "{pad}{name}: {value},");
            }
            code.push_str(&"  ".repeat(depth));
        }
        code.push_str("})");
        if let Additional::Schema(values) = &rules.additional {
            let _ = write!(code, ".catchall({})", self.zod(values, depth)?);
        }
        if inherited {
            self.supports.insert(Support::OwnProperties);
            code = format!("z.preprocess(ownProperties, {code})");
            if rules
                .properties
                .iter()
                .any(|property| property.name == "__proto__")
            {
                self.supports.insert(Support::RestoreProto);
                let ty = self.ts_object(rules, depth)?;
                let _ = write!(code, ".transform(restoreProto<{ty}>)");
            }
        }
        Ok(code)
    }
}

/// Refuses here what would throw in the browser: a pattern must be an ECMAScript regular
/// expression with the `u` flag, as JSON Schema specifies.
pub(super) fn check_pattern(pattern: &str, pointer: &str) -> Result<()> {
    regress::Regex::with_flags(pattern, "u")
        .map(drop)
        .map_err(|error| {
            Error::unsupported(
                pointer,
                format!("the pattern `{pattern}` is not an ECMAScript regular expression: {error}"),
            )
        })
}

/// Whether every integer the rules allow is exactly representable as a JS number.
pub(super) fn is_safe(rules: &NumberRules) -> bool {
    let within = |number: &Option<Number>| {
        number
            .as_ref()
            .and_then(Number::as_f64)
            .is_some_and(|value| value.abs() <= MAX_SAFE_INTEGER as f64)
    };
    (within(&rules.minimum) || within(&rules.exclusive_minimum))
        && (within(&rules.maximum) || within(&rules.exclusive_maximum))
}

fn push_bounds(code: &mut String, rules: &NumberRules) {
    let literal = |number: &Number| number.to_string();
    for (bound, method) in [
        (&rules.minimum, "gte"),
        (&rules.exclusive_minimum, "gt"),
        (&rules.maximum, "lte"),
        (&rules.exclusive_maximum, "lt"),
        (&rules.multiple_of, "multipleOf"),
    ] {
        if let Some(bound) = bound {
            let _ = write!(code, ".{method}({})", literal(bound));
        }
    }
}

fn zod_literal(value: &Value, pointer: &str) -> Result<String> {
    match value {
        Value::Null => Ok("z.null()".to_owned()),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => Ok(format!("z.literal({value})")),
        Value::Array(_) | Value::Object(_) => Err(Error::unsupported(
            pointer,
            "an array or object as an enum value or const",
        )),
    }
}

/// `not: {const: 0}` (`NonZeroI32`): the values refused.
fn push_excluded(code: &mut String, rules: &NumberRules) {
    match rules.excluded.as_slice() {
        [] => {}
        [only] => {
            let _ = write!(
                code,
                ".refine((value) => value !== {only}, {{ message: \"must not be {only}\" }})"
            );
        }
        values => {
            let list: Vec<String> = values.iter().map(Number::to_string).collect();
            let _ = write!(
                code,
                ".refine((value) => ![{}].includes(value), {{ message: \"must not be one of {}\" }})",
                list.join(", "),
                list.join(", ")
            );
        }
    }
}

/// An adjacently tagged enum (`#[serde(tag = "t", content = "c")]`) as schemars writes it:
/// each variant an object with the tag as a `const`, the variants with data holding
/// exactly the tag and the content, the unit variants only the tag. serde refuses content
/// (other than `null`) on a unit variant while the schema leaves it open, so the unit
/// variants get `c: null` as an optional property. Applied when at least two variants
/// carry the same content key: with one, the schema is also that of an internally tagged
/// enum with one single-field struct variant, which does accept the key on unit variants.
fn adjacent_units_refuse_content(variants: &[Schema]) -> Vec<Schema> {
    let shape = |variant: &Schema| -> Option<(String, Option<String>)> {
        let Kind::Object(rules) = &variant.kind else {
            return None;
        };
        if !rules.patterns.is_empty() || !matches!(rules.additional, Additional::Unspecified) {
            return None;
        }
        let tag = rules
            .properties
            .iter()
            .find(|property| property.required && matches!(property.schema.kind, Kind::Const(_)))?;
        match rules.properties.as_slice() {
            [_] => Some((tag.name.clone(), None)),
            [a, b] if a.required && b.required => {
                let content = if a.name == tag.name { b } else { a };
                Some((tag.name.clone(), Some(content.name.clone())))
            }
            _ => None,
        }
    };
    let shapes: Option<Vec<(String, Option<String>)>> = variants.iter().map(shape).collect();
    let unchanged = || variants.to_vec();
    let Some(shapes) = shapes else {
        return unchanged();
    };
    let Some((tag, _)) = shapes.first() else {
        return unchanged();
    };
    let contents: Vec<&String> = shapes
        .iter()
        .filter_map(|(_, content)| content.as_ref())
        .collect();
    let same_tag = shapes.iter().all(|(other, _)| other == tag);
    let Some(content) = contents.first().copied() else {
        return unchanged();
    };
    if !same_tag || contents.len() < 2 || contents.iter().any(|other| *other != content) {
        return unchanged();
    }
    variants
        .iter()
        .zip(&shapes)
        .map(|(variant, (_, has_content))| {
            let mut variant = variant.clone();
            let pointer = variant.pointer.clone();
            if let (None, Kind::Object(rules)) = (has_content, &mut variant.kind) {
                rules.properties.push(Property {
                    name: content.clone(),
                    required: false,
                    schema: Schema {
                        pointer,
                        description: None,
                        kind: Kind::Null,
                        accepts: None,
                    },
                });
            }
            variant
        })
        .collect()
}
