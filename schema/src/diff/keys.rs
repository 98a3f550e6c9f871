//! Map keys (`propertyNames`): what each side admits as a key, for the key types the
//! derive writes (a string format or lengths, or an integer's exact range).

use crate::model::StringRules;

/// The ranges of Rust's integer types, narrowest first: what an integer-key pattern the
/// derive writes is recognised as.
const INTEGER_RANGES: &[(&str, i128, u128)] = &[
    ("u8", 0, u8::MAX as u128),
    ("i8", i8::MIN as i128, i8::MAX as u128),
    ("u16", 0, u16::MAX as u128),
    ("i16", i16::MIN as i128, i16::MAX as u128),
    ("u32", 0, u32::MAX as u128),
    ("i32", i32::MIN as i128, i32::MAX as u128),
    ("u64", 0, u64::MAX as u128),
    ("i64", i64::MIN as i128, i64::MAX as u128),
    ("u128", 0, u128::MAX),
    ("i128", i128::MIN, i128::MAX as u128),
];

/// The integer range whose keys a `propertyNames` schema admits: a pattern alone that
/// matches exactly the decimal texts of one of Rust's integer types (probed at both ends
/// and just beyond them).
pub(super) fn integer_range(keys: &StringRules) -> Option<(&'static str, i128, u128)> {
    if keys.format.is_some() || keys.min_length.is_some() || keys.max_length.is_some() {
        return None;
    }
    let regex = regress::Regex::with_flags(keys.pattern.as_deref()?, "u").ok()?;
    let matches = |text: &str| {
        regex
            .find(text)
            .is_some_and(|found| found.range() == (0..text.len()))
    };
    INTEGER_RANGES.iter().copied().find(|&(_, min, max)| {
        let below = if min < 0 {
            format!("-{}", successor(&min.unsigned_abs().to_string()))
        } else {
            "-1".to_owned()
        };
        matches(&min.to_string())
            && matches(&max.to_string())
            && matches("0")
            && !matches(&below)
            && !matches(&successor(&max.to_string()))
            && !matches("-0")
            && !matches("01")
    })
}

/// The decimal text of one more than `digits`.
fn successor(digits: &str) -> String {
    let mut out: Vec<u8> = digits.bytes().collect();
    for digit in out.iter_mut().rev() {
        if *digit == b'9' {
            *digit = b'0';
        } else {
            *digit += 1;
            return String::from_utf8(out).unwrap_or_default();
        }
    }
    let mut carried = vec![b'1'];
    carried.extend(out);
    String::from_utf8(carried).unwrap_or_default()
}

/// How keys are shown in the report.
pub(super) fn describe(keys: Option<&StringRules>) -> String {
    let Some(keys) = keys else {
        return "any string".to_owned();
    };
    if let Some((name, _, _)) = integer_range(keys) {
        return format!("{name} keys");
    }
    let mut parts = Vec::new();
    if let Some(format) = &keys.format {
        parts.push(format!("format `{format}`"));
    }
    match (keys.min_length, keys.max_length) {
        (Some(min), Some(max)) => parts.push(format!("{min} to {max} characters")),
        (Some(min), None) => parts.push(format!("at least {min} characters")),
        (None, Some(max)) => parts.push(format!("at most {max} characters")),
        (None, None) => {}
    }
    if let Some(pattern) = &keys.pattern {
        parts.push(format!("pattern `{pattern}`"));
    }
    if parts.is_empty() {
        "any string".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successors_carry() {
        assert_eq!(successor("255"), "256");
        assert_eq!(successor("999"), "1000");
        assert_eq!(successor("0"), "1");
    }
}
