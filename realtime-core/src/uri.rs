//! The `uri` format as the server checks it: an RFC 3986 URI (what JSON Schema says), or
//! a URL exactly as the WHATWG URL Standard writes it, which is what `url::Url` writes.
//! schemars gives `url::Url` the `uri` format, but the url crate leaves `[ ] { } |` in
//! queries and spaces in opaque paths (`data:text/plain,hello world`), which RFC 3986
//! refuses: a value the app's own type produced must validate.

use std::sync::LazyLock;

use jsonschema::ValidationOptions;
use serde_json::{Value, json};

/// `options` with `format: uri` checked by [`is_uri`].
pub(crate) fn with_uri_format(options: ValidationOptions<'_>) -> ValidationOptions<'_> {
    options.with_format("uri", is_uri)
}

fn is_uri(text: &str) -> bool {
    is_rfc3986_uri(text) || is_whatwg_serialization(text)
}

/// The validator's own RFC 3986 check.
fn is_rfc3986_uri(text: &str) -> bool {
    static RFC3986: LazyLock<Option<jsonschema::Validator>> = LazyLock::new(|| {
        jsonschema::options()
            .should_validate_formats(true)
            .build(&json!({ "format": "uri" }))
            .ok()
    });
    RFC3986
        .as_ref()
        .is_some_and(|validator| validator.is_valid(&Value::String(text.to_owned())))
}

/// Whether `text` parses as a URL and is written back unchanged: what `url::Url` (and
/// the browser's `URL`) writes, never a text they would have to repair.
fn is_whatwg_serialization(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|url| url.as_str() == text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_the_url_crate_writes_them_are_uris() {
        for text in [
            "https://shop.example.com/list?ids[]=1&ids[]=2",
            "https://example.com/?q={x}&filter=a|b",
            "https://example.com/items[1]/x%5Ey",
            "data:text/plain,hello world",
        ] {
            assert!(!is_rfc3986_uri(text), "{text} is RFC 3986");
            let written = url::Url::parse(text).unwrap();
            assert_eq!(written.as_str(), text);
            assert!(is_uri(text), "{text}");
        }
    }

    #[test]
    fn a_text_the_url_crate_would_repair_is_no_uri() {
        for text in [
            "https://example.com/a b",
            " https://example.com",
            "/relative",
        ] {
            assert!(!is_uri(text), "{text}");
        }
        assert!(is_uri("urn:isbn:0451450523"));
    }
}
