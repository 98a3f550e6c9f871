//! JSON text kept as it was written: compacted to one line without reordering anything, so
//! that what a writer put in an object's keys and numbers reaches the wire unchanged.

use std::borrow::Cow;

use serde_json::Value;

/// Valid JSON text without the whitespace outside its strings.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Compact<'a> {
    /// The text on one line: keys, values and numbers as written.
    pub(crate) text: Cow<'a, str>,
    /// How many object members the text holds, at any depth (duplicate keys included).
    pub(crate) members: usize,
}

/// Compacts `text`, which must be valid JSON (parse it first): drops the whitespace
/// between tokens and counts the members of its objects. Borrows when nothing is dropped.
pub(crate) fn compact(text: &str) -> Compact<'_> {
    let mut out = String::new();
    let mut run_start = 0;
    let mut dropped = false;
    let mut members = 0;
    let mut in_string = false;
    let mut escaped = false;
    for (index, byte) in text.bytes().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            // Outside strings a colon only separates a member's key from its value.
            b':' => members += 1,
            // JSON's whitespace is ASCII, so these indices are on character boundaries.
            b' ' | b'\t' | b'\n' | b'\r' => {
                out.push_str(&text[run_start..index]);
                run_start = index + 1;
                dropped = true;
            }
            _ => {}
        }
    }
    let text = if dropped {
        out.push_str(&text[run_start..]);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    };
    Compact { text, members }
}

/// How many object members `value` holds, at any depth. A text whose [`Compact::members`]
/// is larger repeats a key that its parsed value kept once.
pub(crate) fn members(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.iter().map(members).sum(),
        Value::Object(map) => map.len() + map.values().map(members).sum::<usize>(),
        _ => 0,
    }
}

/// Whether `value` holds a number that may have been an integer beyond 64 bits in the
/// text it was parsed from: a `Value` keeps those only as the nearest `f64`.
pub(crate) fn may_hold_wide_integer(value: &Value) -> bool {
    // 2^63: below it, every integer a parser met fits an `i64` or a `u64`.
    const WIDE: f64 = 9_223_372_036_854_775_808.0;
    match value {
        Value::Number(number) => number
            .as_f64()
            .is_some_and(|float| number.is_f64() && float.abs() >= WIDE),
        Value::Array(items) => items.iter().any(may_hold_wide_integer),
        Value::Object(map) => map.values().any(may_hold_wide_integer),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_text_is_borrowed_and_counted() {
        let text = r#"{"text":"a: b","sender":{"id":1},"tags":[{"x":true}]}"#;
        let compacted = compact(text);
        assert!(matches!(compacted.text, Cow::Borrowed(_)));
        assert_eq!(compacted.text, text);
        assert_eq!(compacted.members, 5);
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(members(&value), 5);
    }

    #[test]
    fn whitespace_between_tokens_goes_and_strings_keep_theirs() {
        let text = "{\n  \"text\" : \"two  words\\\" \\n\",\r\n\t\"n\": [1, 2.50 ,{ }]\n}\n";
        let compacted = compact(text);
        assert_eq!(
            compacted.text,
            r#"{"text":"two  words\" \n","n":[1,2.50,{}]}"#
        );
        assert_eq!(compacted.members, 2);
        let reparsed: Value = serde_json::from_str(&compacted.text).unwrap();
        assert_eq!(reparsed, serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn a_repeated_key_shows_in_the_counts() {
        let text = r#"{"a":1,"a":2}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!((compact(text).members, members(&value)), (2, 1));
    }

    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(Value::from),
            "[ -~\t\n\\\\\"é\u{1F600}]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::btree_map("[ -~]{0,6}", inner, 0..6)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Pretty-printed text compacts to exactly what serde_json writes compact, and
        /// every member is counted.
        #[test]
        fn pretty_text_compacts_to_the_compact_text(value in any_json()) {
            let pretty = serde_json::to_string_pretty(&value).unwrap();
            let compacted = compact(&pretty);
            proptest::prop_assert_eq!(&compacted.text, &serde_json::to_string(&value).unwrap());
            proptest::prop_assert_eq!(compacted.members, members(&value));
        }
    }

    #[test]
    fn escapes_and_multibyte_characters_survive() {
        let text = "[ \"\\\\\", \"é \u{1F600}\" , \"\\\"\" ]";
        assert_eq!(compact(text).text, "[\"\\\\\",\"é \u{1F600}\",\"\\\"\"]");
        assert_eq!(compact(" 5 ").text, "5");
    }
}
