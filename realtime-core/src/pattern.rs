//! The `pattern` keyword with ECMA-262 semantics, as JSON Schema defines it and as the
//! browser's zod module runs it (`new RegExp(pattern, "u")`). The validator's own engine
//! is Rust's regex dialect, where `\b`, `\w` and `\d` may be Unicode-aware and `(?i)` is
//! accepted: server and browser would disagree on the same pattern.
//!
//! schemars escapes the text of `contains(pattern = "...")` with Rust's regex escaping
//! (`\-`, `\#`), which ECMA-262's Unicode mode refuses: [`EcmaEscapes`] writes those
//! characters plainly in the document.

use jsonschema::paths::Location;
use jsonschema::{Keyword, ValidationError, ValidationOptions};
use schemars::transform::{Transform, transform_subschemas};
use serde_json::{Map, Value};

/// `options` with `pattern` checked by an ECMA-262 engine (`regress`, Unicode mode).
pub(crate) fn ecma_patterns(options: ValidationOptions<'_>) -> ValidationOptions<'_> {
    options.with_keyword("pattern", compile)
}

struct EcmaPattern {
    source: String,
    regex: regress::Regex,
}

fn compile<'a>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _path: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let Some(source) = value.as_str() else {
        return Err(ValidationError::custom(format!(
            "`pattern` must be a string, found {value}"
        )));
    };
    let regex = regress::Regex::with_flags(source, "u").map_err(|error| {
        ValidationError::custom(format!(
            "the pattern `{source}` is not an ECMA-262 regular expression (JSON Schema patterns are): {error}"
        ))
    })?;
    Ok(Box::new(EcmaPattern {
        source: source.to_owned(),
        regex,
    }))
}

impl<'i> Keyword<'i> for EcmaPattern {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(ValidationError::custom(format!(
                "{instance} does not match \"{}\"",
                self.source
            )))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        instance
            .as_str()
            .is_none_or(|text| self.regex.find(text).is_some())
    }
}

/// The schemars transform that rewrites Rust's escapes of `#`, `&`, `~` (anywhere) and
/// `-` (outside a class) in `pattern`s: the characters need none, and ECMA-262's Unicode
/// mode refuses them escaped.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EcmaEscapes;

impl Transform for EcmaEscapes {
    fn transform(&mut self, schema: &mut schemars::Schema) {
        if let Some(Value::String(pattern)) = schema.get_mut("pattern") {
            *pattern = without_rust_escapes(pattern);
        }
        transform_subschemas(self, schema);
    }
}

fn without_rust_escapes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next @ ('#' | '&' | '~')) => out.push(next),
                Some('-') if !in_class => out.push('-'),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn accepts(pattern: &str, text: &str) -> bool {
        ecma_patterns(jsonschema::options())
            .build(&json!({ "type": "string", "pattern": pattern }))
            .unwrap()
            .is_valid(&json!(text))
    }

    #[test]
    fn word_boundaries_and_classes_are_ascii_as_in_ecma_262() {
        // `é` is no word character in ECMA-262: a boundary precedes `end`.
        assert!(accepts(r"\bend$", "éend"));
        assert!(!accepts(r"\bend$", "bend"));
        assert!(!accepts(r"^(\w)\1$", "éé"));
        assert!(accepts(r"^(\w)\1$", "aa"));
        assert!(!accepts(r"^(\d)\1$", "١١"));
        assert!(accepts(r"^(\d)\1$", "11"));
    }

    #[test]
    fn unicode_properties_are_read_in_unicode_mode() {
        assert!(accepts(r"^\p{L}[\p{L}\p{M}' -]*$", "Zoë"));
        assert!(!accepts(r"^\p{L}+$", "a1"));
    }

    #[test]
    fn rust_only_syntax_does_not_compile() {
        let built = ecma_patterns(jsonschema::options())
            .build(&json!({ "type": "string", "pattern": "(?i)^[a-z]{3}$" }));
        let error = built.err().unwrap().to_string();
        assert!(
            error.contains("not an ECMA-262 regular expression"),
            "{error}"
        );
    }

    #[test]
    fn an_error_names_the_rule_pattern() {
        let validator = ecma_patterns(jsonschema::options())
            .build(&json!({ "type": "string", "pattern": "^a$" }))
            .unwrap();
        let text = json!("b");
        let error = validator.validate(&text).unwrap_err();
        assert_eq!(error.kind().keyword(), "pattern");
    }

    #[test]
    fn rust_escapes_become_plain_characters_outside_a_class() {
        assert_eq!(without_rust_escapes(r"a\-b\#c\&d\~e"), "a-b#c&d~e");
        assert_eq!(without_rust_escapes(r"[a\-z]\-"), r"[a\-z]-");
        assert_eq!(without_rust_escapes(r"\\-\.\["), r"\\-\.\[");
    }
}
