//! zod 4 expressions for schemas.

use std::fmt::Write as _;

use serde_json::{Number, Value};

use super::{Generator, MAX_SAFE_INTEGER, Warning, jsdoc, json_string, key};
use crate::error::{Error, Result};
use crate::model::{Additional, ArrayRules, Kind, NumberRules, ObjectRules, Schema, StringRules};

impl Generator<'_> {
    pub(super) fn zod(&mut self, schema: &Schema, depth: usize) -> Result<String> {
        Ok(match &schema.kind {
            Kind::Any => "z.unknown()".to_owned(),
            Kind::Null => "z.null()".to_owned(),
            Kind::Boolean => "z.boolean()".to_owned(),
            Kind::String(rules) => zod_string(rules, &schema.pointer)?,
            Kind::Integer(rules) => self.zod_integer(rules, &schema.pointer)?,
            Kind::Number(rules) => {
                let mut code = "z.number()".to_owned();
                push_bounds(&mut code, rules, false);
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
            Kind::Object(rules) => self.zod_object(rules, depth)?,
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
            Kind::Union { variants, .. } => {
                let pad = "  ".repeat(depth + 1);
                let mut code = "z.union([\n".to_owned();
                for variant in variants {
                    let _ = writeln!(code, "{pad}{},", self.zod(variant, depth + 1)?);
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
            push_bounds(&mut code, &rules, false);
            return Ok(code);
        }
        let format = rules.format.as_deref().unwrap_or("integer");
        if self.options.bigint {
            self.warnings.push(Warning {
                pointer: pointer.to_owned(),
                message: format!(
                    "{format} is typed `bigint` (z.coerce.bigint()); JSON.parse has already rounded values beyond 2^53 before zod sees them, so send such values as strings if exactness matters"
                ),
            });
            let mut code = "z.coerce.bigint()".to_owned();
            push_bounds(&mut code, &rules, true);
            Ok(code)
        } else {
            self.warnings.push(Warning {
                pointer: pointer.to_owned(),
                message: format!(
                    "{format} may exceed Number.MAX_SAFE_INTEGER (2^53 - 1); typed `number`, larger values lose precision in JavaScript (pass --bigint for `bigint`, or carry the value as a string)"
                ),
            });
            let mut code = "z.number()".to_owned();
            push_bounds(&mut code, &rules, false);
            code.push_str(".refine(Number.isInteger, { message: \"expected an integer\" })");
            Ok(code)
        }
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
            code.push_str(".refine((items) => new Set(items.map((item) => JSON.stringify(item))).size === items.length, { message: \"items must be unique\" })");
        }
        Ok(code)
    }

    fn zod_object(&mut self, rules: &ObjectRules, depth: usize) -> Result<String> {
        if rules.properties.is_empty() {
            if let Additional::Schema(values) = &rules.additional {
                return Ok(format!(
                    "z.record(z.string(), {})",
                    self.zod(values, depth)?
                ));
            }
        }
        let constructor = match rules.additional {
            Additional::Forbidden => "z.strictObject",
            Additional::Allowed => "z.looseObject",
            Additional::Unspecified | Additional::Schema(_) => "z.object",
        };
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
                let _ = writeln!(code, "{pad}{}: {value},", key(&property.name));
            }
            code.push_str(&"  ".repeat(depth));
        }
        code.push_str("})");
        if let Additional::Schema(values) = &rules.additional {
            let _ = write!(code, ".catchall({})", self.zod(values, depth)?);
        }
        Ok(code)
    }
}

pub(super) fn zod_string(rules: &StringRules, pointer: &str) -> Result<String> {
    let mut code = match rules.format.as_deref() {
        None => "z.string()",
        Some("email") => "z.email()",
        Some("uuid") => "z.uuid()",
        Some("date-time") => "z.iso.datetime({ offset: true })",
        Some("date") => "z.iso.date()",
        Some("time") => "z.iso.time()",
        Some("uri") => "z.url()",
        Some("ipv4") => "z.ipv4()",
        Some("ipv6") => "z.ipv6()",
        Some(other) => {
            return Err(Error::unsupported(
                &format!("{pointer}/format"),
                format!(
                    "the string format `{other}`; supported: email, uuid, date-time, date, time, uri, ipv4, ipv6"
                ),
            ));
        }
    }
    .to_owned();
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
        // Refuse here what would throw in the browser: the pattern must be an ECMAScript
        // regular expression with the `u` flag, as JSON Schema specifies.
        if let Err(error) = regress::Regex::with_flags(pattern, "u") {
            return Err(Error::unsupported(
                &format!("{pointer}/pattern"),
                format!("the pattern `{pattern}` is not an ECMAScript regular expression: {error}"),
            ));
        }
        let _ = write!(code, ".regex(new RegExp({}, \"u\"))", json_string(pattern));
    }
    Ok(code)
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

fn push_bounds(code: &mut String, rules: &NumberRules, bigint: bool) {
    let literal = |number: &Number| {
        if bigint {
            let integer = number
                .as_i64()
                .map(i128::from)
                .or_else(|| number.as_u64().map(i128::from))
                .or_else(|| number.as_f64().map(|value| value.trunc() as i128))
                .unwrap_or(0);
            format!("{integer}n")
        } else {
            number.to_string()
        }
    };
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
