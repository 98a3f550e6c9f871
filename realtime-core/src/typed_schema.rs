//! Schemas that say what schemars leaves out: maps with typed keys, `url::Url`, the tag
//! of a struct with serde's `tag`, and what a type reads where it reads more than it
//! writes.
//!
//! schemars writes the same schema for `HashMap<String, T>` and `HashMap<Uuid, T>`, and
//! `^\d+$` for every unsigned key type, so a generated validator and `diff` cannot see
//! that the server (serde) refuses the key `"not-a-uuid"`, or `"256"` for a `u8`.
//! [`TypedKeys`] adds `propertyNames`: the key type's string constraints, or for an integer
//! the exact decimal range serde reads. schemars also writes the same schema for
//! `#[schemars(url)] String` and `url::Url`; [`WhatwgUrl`] adds `x-whatwg-url: true`, which
//! says that the text must also parse as a URL (serde refuses `"http://"` for a `Url`).
//!
//! A `rust_decimal::Decimal` is written as a string and read from a string or a number;
//! the document describes what is written, so `x-accepts` holds what it reads, for `diff`
//! to ask of readers of history (`u32` to `Decimal` reads the stored numbers).
//!
//! `#[derive(Events)]` uses them (through `crate::schema_probe`) for the types it sees in
//! the fields and data of the event enum, also inside `Option`, `Vec`, `Box`, sets, arrays,
//! tuples and map values; a type of the app's own names them with
//! `#[schemars(with = "...")]`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value};

/// The schema of the map type `M` with `propertyNames`: what its key type admits, written
/// for the key's text. Use it for a map in a type of your own (the derive does it for the
/// fields of the event enum):
///
/// ```
/// use std::collections::HashMap;
///
/// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
/// struct Scores {
///     #[schemars(with = "realtime_core::schema::TypedKeys<HashMap<u8, u32>>")]
///     by_level: HashMap<u8, u32>,
/// }
///
/// let schema = schemars::schema_for!(Scores);
/// let keys = &schema.as_value()["properties"]["by_level"]["propertyNames"];
/// assert_eq!(keys["pattern"], r"^(?:\d|[1-9]\d|1\d{2}|2[0-4]\d|25[0-5])$");
/// ```
#[derive(Debug)]
pub struct TypedKeys<M: ?Sized>(PhantomData<M>);

/// A map type: what [`TypedKeys`] reads the key type from.
pub trait MapType {
    /// The type of its keys.
    type Key: JsonSchema;
}

impl<K: JsonSchema, V, S> MapType for HashMap<K, V, S> {
    type Key = K;
}

impl<K: JsonSchema, V> MapType for BTreeMap<K, V> {
    type Key = K;
}

impl<M: MapType + JsonSchema + ?Sized> JsonSchema for TypedKeys<M> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        M::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        Cow::Owned(format!("realtime_core::TypedKeys<{}>", M::schema_id()))
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = M::json_schema(generator);
        let key = <M::Key as JsonSchema>::json_schema(generator);
        if let Some(names) = property_names(&key) {
            schema.insert("propertyNames".to_owned(), names);
        }
        schema
    }
}

/// The schema of `url::Url`: `format: uri`, as schemars writes it, and `x-whatwg-url: true`:
/// the text must also parse as a URL by the WHATWG URL Standard, as serde reads a `Url`
/// (`"http://"`, `"http://a:99999"` are URIs but no URLs). Use it for a `Url` in a type of
/// your own (the derive does it for the fields of the event enum):
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
/// struct Link {
///     #[schemars(with = "realtime_core::schema::WhatwgUrl")]
///     href: url::Url,
///     /// Inside a wrapper, wrapped the same way.
///     #[schemars(with = "Vec<realtime_core::schema::WhatwgUrl>")]
///     mirrors: Vec<url::Url>,
/// }
///
/// let schema = schemars::schema_for!(Link);
/// let mirrors = &schema.as_value()["properties"]["mirrors"];
/// assert_eq!(mirrors["items"]["x-whatwg-url"], true);
/// ```
#[derive(Debug)]
pub struct WhatwgUrl;

/// The extension keyword [`WhatwgUrl`] writes.
pub const WHATWG_URL_KEYWORD: &str = "x-whatwg-url";

impl JsonSchema for WhatwgUrl {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Url".into()
    }

    fn schema_id() -> Cow<'static, str> {
        "realtime_core::WhatwgUrl".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "uri",
            WHATWG_URL_KEYWORD: true,
        })
    }
}

/// The tag serde writes for a struct with `#[serde(tag = "...")]` (`{"type": "Circle",
/// ...}`), which schemars leaves out of the struct's schema, so that generated types would
/// lack it and drop it. Name it as a transform beside the serde attribute: the tag becomes
/// a required property of that one value.
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
/// #[serde(tag = "type")]
/// #[schemars(transform = realtime_core::schema::StructTag::new("type", "Circle"))]
/// struct Circle {
///     radius: f64,
/// }
///
/// let schema = schemars::schema_for!(Circle);
/// assert_eq!(schema.as_value()["properties"]["type"]["const"], "Circle");
/// assert_eq!(schema.as_value()["required"][0], "type");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct StructTag {
    tag: &'static str,
    name: &'static str,
}

impl StructTag {
    /// The tag `tag` (serde's `tag = "..."`) with the value `name`: the struct's name as
    /// serde writes it (after `rename`).
    pub const fn new(tag: &'static str, name: &'static str) -> Self {
        Self { tag, name }
    }
}

impl schemars::transform::Transform for StructTag {
    fn transform(&mut self, schema: &mut Schema) {
        let Some(object) = schema.as_object_mut() else {
            return;
        };
        if let Value::Object(properties) = object
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()))
        {
            properties.insert(
                self.tag.to_owned(),
                serde_json::json!({ "type": "string", "const": self.name }),
            );
        }
        if let Value::Array(required) = object
            .entry("required")
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            if !required.iter().any(|name| name == self.tag) {
                required.insert(0, self.tag.into());
            }
        }
    }
}

/// The extension keyword that holds the schema of what a type reads, where it differs
/// from what it writes (the document describes what is written).
pub const ACCEPTS_KEYWORD: &str = "x-accepts";

/// The `propertyNames` schema for keys of the type whose schema is `key`: a string's
/// `format` and lengths (`Uuid`, `char`), an integer's range as a pattern of the decimal
/// text serde reads (no sign on zero, no leading zeros); `None` for other keys (a plain
/// `String`, an enum or a pattern, which schemars already writes as `properties` or
/// `patternProperties`).
fn property_names(key: &Schema) -> Option<Value> {
    let object = key.as_object()?;
    match object.get("type")?.as_str()? {
        "string" => {
            let mut names = Map::new();
            for keyword in ["format", "minLength", "maxLength"] {
                if let Some(value) = object.get(keyword) {
                    names.insert(keyword.to_owned(), value.clone());
                }
            }
            if names.is_empty() {
                return None;
            }
            names.insert("type".to_owned(), "string".into());
            Some(Value::Object(names))
        }
        "integer" => {
            let (min, max) = integer_bounds(object)?;
            let mut names = Map::new();
            names.insert("type".to_owned(), "string".into());
            names.insert("pattern".to_owned(), integer_pattern(min, max)?.into());
            Some(Value::Object(names))
        }
        _ => None,
    }
}

/// The range of an integer schema: its format's, narrowed by `minimum`/`maximum`.
fn integer_bounds(object: &Map<String, Value>) -> Option<(i128, u128)> {
    let (mut min, mut max): (i128, u128) = match object.get("format")?.as_str()? {
        "int8" => (i8::MIN.into(), 127),
        "uint8" => (0, u8::MAX.into()),
        "int16" => (i16::MIN.into(), 32_767),
        "uint16" => (0, u16::MAX.into()),
        "int32" => (i32::MIN.into(), 2_147_483_647),
        "uint32" => (0, u32::MAX.into()),
        "int64" | "int" => (i64::MIN.into(), 9_223_372_036_854_775_807),
        "uint64" | "uint" => (0, u64::MAX.into()),
        "int128" => (i128::MIN, i128::MAX.unsigned_abs()),
        "uint128" => (0, u128::MAX),
        _ => return None,
    };
    if let Some(minimum) = object.get("minimum").and_then(Value::as_i64) {
        min = min.max(minimum.into());
    }
    if let Some(maximum) = object.get("maximum").and_then(Value::as_u64) {
        max = max.min(maximum.into());
    }
    Some((min, max))
}

/// An ECMA-262 pattern matching exactly the decimal texts of the integers in
/// `min..=max` as serde_json reads a map key: `0`, or digits without a leading zero,
/// with `-` before a negative one. `None` when the range is empty or below zero.
fn integer_pattern(min: i128, max: u128) -> Option<String> {
    let mut alternatives = Vec::new();
    let low = u128::try_from(min).unwrap_or(0);
    if low > max {
        return None;
    }
    alternatives.extend(decimal_range(low, max));
    if min < 0 {
        let negative = decimal_range(1, min.unsigned_abs());
        alternatives.push(format!("-(?:{})", negative.join("|")));
    }
    Some(format!("^(?:{})$", alternatives.join("|")))
}

/// Alternatives matching the decimal texts (no leading zeros) of `low..=high`: one per
/// number of digits, where every number of consecutive lengths is in the range
/// (`[1-9]\d{1,17}`) one for all of them.
fn decimal_range(low: u128, high: u128) -> Vec<String> {
    let mut out = Vec::new();
    // The lengths, in digits, of a run of lengths whose every number is in the range.
    let mut full: Option<(usize, usize)> = None;
    let flush = |full: &mut Option<(usize, usize)>, out: &mut Vec<String>| {
        if let Some((first, last)) = full.take() {
            out.push(match (first - 1, last - 1) {
                (0, 0) => "[1-9]".to_owned(),
                (1, 1) => r"[1-9]\d".to_owned(),
                (0, 1) => r"[1-9]\d?".to_owned(),
                (a, b) if a == b => format!(r"[1-9]\d{{{a}}}"),
                (a, b) => format!(r"[1-9]\d{{{a},{b}}}"),
            });
        }
    };
    let mut low = low;
    while low <= high {
        let digits = low.to_string().len();
        let power = 10u128.checked_pow(u32::try_from(digits).unwrap_or(u32::MAX));
        // The largest number with as many digits as `low`, or `high`.
        let top = power.map_or(u128::MAX, |power| power - 1).min(high);
        let smallest = 10u128.pow(u32::try_from(digits - 1).unwrap_or(0)).max(1);
        if low == smallest && power.is_some() && top.checked_add(1) == power {
            full = Some(full.map_or((digits, digits), |(first, _)| (first, digits)));
        } else {
            flush(&mut full, &mut out);
            out.extend(same_length(
                low.to_string().as_bytes(),
                top.to_string().as_bytes(),
            ));
        }
        match top.checked_add(1) {
            Some(next) => low = next,
            None => break,
        }
    }
    flush(&mut full, &mut out);
    out
}

/// Alternatives matching the digit strings from `low` to `high`, both of one length.
fn same_length(low: &[u8], high: &[u8]) -> Vec<String> {
    let (Some((&first_low, rest_low)), Some((&first_high, rest_high))) =
        (low.split_first(), high.split_first())
    else {
        return vec![String::new()];
    };
    let rest = rest_low.len();
    let any = |count: usize| match count {
        0 => String::new(),
        1 => r"\d".to_owned(),
        _ => format!(r"\d{{{count}}}"),
    };
    let class = |from: u8, to: u8| {
        if from == to {
            char::from(from).to_string()
        } else if from == b'0' && to == b'9' {
            r"\d".to_owned()
        } else {
            format!("[{}-{}]", char::from(from), char::from(to))
        }
    };
    if first_low == first_high {
        return same_length(rest_low, rest_high)
            .into_iter()
            .map(|tail| format!("{}{tail}", char::from(first_low)))
            .collect();
    }
    let low_full = rest_low.iter().all(|&digit| digit == b'0');
    let high_full = rest_high.iter().all(|&digit| digit == b'9');
    let mut out = Vec::new();
    let mut from = first_low;
    if !low_full {
        let nines = vec![b'9'; rest];
        out.extend(
            same_length(rest_low, &nines)
                .into_iter()
                .map(|tail| format!("{}{tail}", char::from(first_low))),
        );
        from += 1;
    }
    let to = if high_full {
        first_high
    } else {
        first_high - 1
    };
    if from <= to {
        out.push(format!("{}{}", class(from, to), any(rest)));
    }
    if !high_full {
        let zeros = vec![b'0'; rest];
        out.extend(
            same_length(&zeros, rest_high)
                .into_iter()
                .map(|tail| format!("{}{tail}", char::from(first_high))),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        regress::Regex::with_flags(pattern, "u")
            .map(|regex| regex.find(text).is_some())
            .unwrap_or(false)
    }

    #[test]
    fn integer_patterns_match_exactly_the_keys_serde_reads() {
        let u8_keys = integer_pattern(0, 255).unwrap();
        assert_eq!(u8_keys, r"^(?:\d|[1-9]\d|1\d{2}|2[0-4]\d|25[0-5])$");
        for number in 0..=1000u32 {
            assert_eq!(
                matches(&u8_keys, &number.to_string()),
                number <= 255,
                "{number}"
            );
        }
        for refused in ["", "-0", "00", "01", "-1", "1.0", "1e2", " 1", "+1"] {
            assert!(!matches(&u8_keys, refused), "{refused}");
        }
        let i16_keys = integer_pattern(i16::MIN.into(), 32_767).unwrap();
        for number in -40_000..=40_000i32 {
            let inside = i16::try_from(number).is_ok();
            assert_eq!(matches(&i16_keys, &number.to_string()), inside, "{number}");
        }
        assert!(!matches(&i16_keys, "-0"));
        let wide = integer_pattern(i128::MIN, u128::MAX).unwrap();
        assert!(matches(&wide, &u128::MAX.to_string()));
        assert!(matches(&wide, &i128::MIN.to_string()));
        assert!(!matches(&wide, "340282366920938463463374607431768211456"));
        assert!(!matches(&wide, "-170141183460469231731687303715884105729"));
        let positive = integer_pattern(1, 10).unwrap();
        assert!(!matches(&positive, "0") && matches(&positive, "10"));
        assert_eq!(integer_pattern(5, 4), None);
    }
}
