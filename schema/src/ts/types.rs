//! Plain TypeScript types for schemas (`--types-only`, and recursive definitions).

use std::fmt::Write as _;

use serde_json::Value;

use super::support;
use super::zod::{check_pattern, is_safe};
use super::{Generator, Warning, jsdoc, key};
use crate::error::{Error, Result};
use crate::model::{Additional, Kind, ObjectRules, Schema};

impl Generator<'_> {
    pub(super) fn ts(&mut self, schema: &Schema, depth: usize) -> Result<String> {
        Ok(match &schema.kind {
            Kind::Any => "unknown".to_owned(),
            Kind::Null => "null".to_owned(),
            Kind::Boolean => "boolean".to_owned(),
            Kind::String(rules) => {
                if let Some(pattern) = &rules.pattern {
                    check_pattern(pattern, &format!("{}/pattern", schema.pointer))?;
                }
                "string".to_owned()
            }
            Kind::Integer(rules) => {
                let rules = rules.effective();
                if self.options.bigint && !self.options.types_only && !is_safe(&rules) {
                    "bigint".to_owned()
                } else {
                    if self.options.types_only && !is_safe(&rules) {
                        self.warnings.push(Warning::new(
                            &schema.pointer,
                            format!(
                                "{} may exceed Number.MAX_SAFE_INTEGER (2^53 - 1); typed `number`, larger values lose precision in JavaScript",
                                rules.format.as_deref().unwrap_or("integer")
                            ),
                        ));
                    }
                    "number".to_owned()
                }
            }
            Kind::Number(_) => "number".to_owned(),
            Kind::Array(rules) => {
                let item = self.ts(&rules.items, depth)?;
                if item.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    format!("{item}[]")
                } else {
                    format!("Array<{item}>")
                }
            }
            Kind::Tuple { items, rest } => {
                let mut items = items
                    .iter()
                    .map(|item| self.ts(item, depth))
                    .collect::<Result<Vec<_>>>()?;
                if let Some(rest) = rest {
                    items.push(format!("...Array<{}>", self.ts(rest, depth)?));
                }
                format!("[{}]", items.join(", "))
            }
            Kind::Object(rules) => self.ts_object(rules, depth)?,
            Kind::Enum(values) => {
                let literals = values
                    .iter()
                    .enumerate()
                    .map(|(index, value)| {
                        ts_literal(value, &format!("{}/enum/{index}", schema.pointer))
                    })
                    .collect::<Result<Vec<_>>>()?;
                literals.join(" | ")
            }
            Kind::Const(value) => ts_literal(value, &format!("{}/const", schema.pointer))?,
            Kind::Ref(name) => name.clone(),
            Kind::Nullable(inner) => format!("{} | null", self.ts_operand(inner, depth)?),
            Kind::Union { variants, .. } => variants
                .iter()
                .map(|variant| self.ts_operand(variant, depth))
                .collect::<Result<Vec<_>>>()?
                .join(" | "),
            Kind::AllOf(parts) => parts
                .iter()
                .map(|part| self.ts_operand(part, depth))
                .collect::<Result<Vec<_>>>()?
                .join(" & "),
        })
    }

    /// A type used as an operand of `|` or `&`: parenthesised when it is itself one.
    fn ts_operand(&mut self, schema: &Schema, depth: usize) -> Result<String> {
        let text = self.ts(schema, depth)?;
        let compound = matches!(
            schema.kind,
            Kind::Nullable(_) | Kind::Union { .. } | Kind::AllOf(_) | Kind::Enum(_)
        ) || (matches!(&schema.kind, Kind::Object(rules) if !rules.properties.is_empty() && matches!(rules.additional, Additional::Schema(_))));
        Ok(if compound { format!("({text})") } else { text })
    }

    pub(super) fn ts_object(&mut self, rules: &ObjectRules, depth: usize) -> Result<String> {
        if !rules.patterns.is_empty() {
            // Keys matching a pattern: an index signature of their one value type (an
            // integer-keyed map), or of `unknown` when the patterns differ.
            let mut values = Vec::new();
            for pattern in &rules.patterns {
                let value = self.ts(&pattern.schema, depth)?;
                if !values.contains(&value) {
                    values.push(value);
                }
            }
            let wider = ObjectRules {
                properties: rules.properties.clone(),
                patterns: Vec::new(),
                additional: match (
                    values.as_slice(),
                    rules.properties.is_empty(),
                    &rules.additional,
                ) {
                    ([_], true, Additional::Forbidden) => {
                        Additional::Schema(Box::new(rules.patterns[0].schema.clone()))
                    }
                    _ => Additional::Allowed,
                },
                keys: None,
            };
            return self.ts_object(&wider, depth);
        }
        let pad = "  ".repeat(depth + 1);
        if rules.properties.is_empty() {
            return Ok(match &rules.additional {
                Additional::Schema(values) => {
                    format!("{{ [key: string]: {} }}", self.ts(values, depth)?)
                }
                Additional::Allowed => "{ [key: string]: unknown }".to_owned(),
                Additional::Unspecified | Additional::Forbidden => "{}".to_owned(),
            });
        }
        let mut code = "{\n".to_owned();
        for property in &rules.properties {
            code.push_str(&jsdoc(property.schema.description.as_deref(), depth + 1));
            let ty = self.ts(&property.schema, depth + 1)?;
            let (optional, ty) = if property.required {
                ("", ty)
            } else {
                ("?", support::optional_type(&property.name, ty))
            };
            let _ = writeln!(code, "{pad}{}{optional}: {ty};", key(&property.name));
        }
        if rules.additional == Additional::Allowed {
            let _ = writeln!(code, "{pad}[key: string]: unknown;");
        }
        code.push_str(&"  ".repeat(depth));
        code.push('}');
        if let Additional::Schema(values) = &rules.additional {
            code = format!("{code} & {{ [key: string]: {} }}", self.ts(values, depth)?);
        }
        Ok(code)
    }
}

fn ts_literal(value: &Value, pointer: &str) -> Result<String> {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => Ok(value.to_string()),
        Value::Array(_) | Value::Object(_) => Err(Error::unsupported(
            pointer,
            "an array or object as an enum value or const",
        )),
    }
}
