//! Which path a connection's first request takes, decided from its bytes alone.
//!
//! A pure function, so it can be fuzzed: [`read_head`] accepts exactly a complete,
//! well-formed `GET` head asking for `text/event-stream`, without a body or an upgrade;
//! every other request goes to hyper.

use http::{HeaderMap, HeaderName, HeaderValue, Uri};

/// The largest request head the lean path reads; larger heads go to hyper.
pub(crate) const MAX_LEAN_HEAD: usize = 8 * 1024;
/// More headers than this: hyper's.
const MAX_HEADERS: usize = 64;
/// Headers that mean a body follows or the connection changes protocol.
const NOT_LEAN_HEADERS: [&str; 4] = ["content-length", "transfer-encoding", "upgrade", "expect"];

/// What the bytes received so far say about the first request.
#[derive(Debug, PartialEq)]
pub(crate) enum HeadVerdict {
    /// A complete event-stream request for the lean path.
    Lean(LeanHead),
    /// Anything else, including malformed heads: hyper reads it (and answers errors).
    Hyper,
    /// The start of a head that may still be lean: read more.
    Incomplete,
}

/// A `GET` request head for the lean path.
#[derive(Debug, PartialEq)]
pub(crate) struct LeanHead {
    /// The request target, in origin form (`/path?query`).
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    /// How many bytes the head took, final blank line included.
    pub(crate) len: usize,
}

/// Reads the start of a connection's bytes (at most [`MAX_LEAN_HEAD`] are looked at).
pub(crate) fn read_head(bytes: &[u8]) -> HeadVerdict {
    let bytes = &bytes[..bytes.len().min(MAX_LEAN_HEAD)];
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            let not_get = parsed.method.is_some_and(|method| method != "GET");
            return if not_get || bytes.len() == MAX_LEAN_HEAD {
                HeadVerdict::Hyper
            } else {
                HeadVerdict::Incomplete
            };
        }
        Err(_) => return HeadVerdict::Hyper,
    };
    if parsed.method != Some("GET") || parsed.version != Some(1) {
        return HeadVerdict::Hyper;
    }
    let Some(uri) = parsed
        .path
        .filter(|path| path.starts_with('/'))
        .and_then(|path| Uri::try_from(path).ok())
    else {
        return HeadVerdict::Hyper;
    };
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    for header in parsed.headers.iter() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(header.name.as_bytes()),
            HeaderValue::from_bytes(header.value),
        ) else {
            return HeadVerdict::Hyper;
        };
        headers.append(name, value);
    }
    let wants_stream = headers.get_all(http::header::ACCEPT).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|value| value.contains("text/event-stream"))
    });
    let has_body_or_upgrade = NOT_LEAN_HEADERS
        .iter()
        .any(|name| headers.contains_key(*name));
    if !wants_stream || has_body_or_upgrade {
        return HeadVerdict::Hyper;
    }
    HeadVerdict::Lean(LeanHead { uri, headers, len })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The bytes of a head: the inverse of `read_head` on what it accepts.
    fn write_head<V: AsRef<[u8]>>(
        method: &str,
        version: &str,
        uri: &str,
        headers: &[(String, V)],
    ) -> Vec<u8> {
        let mut head = format!("{method} {uri} {version}\r\n").into_bytes();
        for (name, value) in headers {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_ref());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        head
    }

    /// The headers as (name, value) pairs; values of one name stay in their order.
    fn headers_of(head: &LeanHead) -> Vec<(String, Vec<u8>)> {
        head.headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
            .collect()
    }

    /// What `headers_of` gives back for these headers (a `HeaderMap` groups by name).
    fn grouped(headers: &[(String, String)]) -> Vec<(String, Vec<u8>)> {
        let mut names: Vec<&String> = Vec::new();
        for (name, _) in headers {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
            .into_iter()
            .flat_map(|name| {
                headers
                    .iter()
                    .filter(move |(other, _)| other == name)
                    .map(|(name, value)| (name.clone(), value.clone().into_bytes()))
            })
            .collect()
    }

    /// A header that is not one of `NOT_LEAN_HEADERS` nor `accept`.
    fn plain_header() -> impl Strategy<Value = (String, String)> {
        (
            "x-[a-z0-9-]{1,12}|host|cookie|user-agent|cache-control|origin",
            "[!-~]([ -~]{0,30}[!-~])?",
        )
    }

    /// A well-formed event-stream request: target, headers (one of them the `accept`).
    fn sse_request() -> impl Strategy<Value = (String, Vec<(String, String)>)> {
        (
            "/[a-zA-Z0-9/_.~%=&-]{0,40}(\\?[a-zA-Z0-9_.~%=&:-]{0,60})?",
            prop::collection::vec(plain_header(), 0..10),
            "(text/html, )?text/event-stream(; q=0\\.9)?",
            any::<prop::sample::Index>(),
        )
            .prop_map(|(uri, mut headers, accept, at)| {
                let at = at.index(headers.len() + 1);
                headers.insert(at, ("accept".to_owned(), accept));
                (uri, headers)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn a_well_formed_event_stream_get_round_trips((uri, headers) in sse_request()) {
            let bytes = write_head("GET", "HTTP/1.1", &uri, &headers);
            let HeadVerdict::Lean(head) = read_head(&bytes) else {
                panic!("refused: {:?}", String::from_utf8_lossy(&bytes));
            };
            prop_assert_eq!(head.uri.to_string(), uri);
            prop_assert_eq!(headers_of(&head), grouped(&headers));
            prop_assert_eq!(head.len, bytes.len());
        }

        #[test]
        fn a_head_cut_short_is_never_lean((uri, headers) in sse_request(), cut in any::<prop::sample::Index>()) {
            let bytes = write_head("GET", "HTTP/1.1", &uri, &headers);
            let cut = cut.index(bytes.len());
            prop_assert_eq!(read_head(&bytes[..cut]), HeadVerdict::Incomplete);
        }

        #[test]
        fn one_change_sends_the_request_to_hyper(
            (uri, mut headers) in sse_request(),
            change in 0..5usize,
            method in "POST|PUT|HEAD|DELETE|OPTIONS|get",
            body_header in prop::sample::select(&NOT_LEAN_HEADERS[..]),
        ) {
            let (mut method_used, mut version) = ("GET".to_owned(), "HTTP/1.1");
            match change {
                0 => method_used = method,
                1 => version = "HTTP/1.0",
                2 => headers.push((body_header.to_owned(), "1".to_owned())),
                3 => headers.retain(|(name, _)| name != "accept"),
                _ => {
                    for (name, value) in &mut headers {
                        if name == "accept" {
                            *value = "text/html".to_owned();
                        }
                    }
                }
            }
            let bytes = write_head(&method_used, version, &uri, &headers);
            prop_assert_eq!(read_head(&bytes), HeadVerdict::Hyper);
        }

        #[test]
        fn any_bytes_are_read_without_panic_and_only_a_lean_get_is_accepted(
            bytes in prop::collection::vec(any::<u8>(), 0..2_048),
            (uri, headers) in sse_request(),
            splice in any::<prop::sample::Index>(),
        ) {
            check_accepted(&bytes);
            // Noise inside an otherwise good head: most of it is refused, never a panic.
            let mut good = write_head("GET", "HTTP/1.1", &uri, &headers);
            let at = splice.index(good.len());
            good.splice(at..at, bytes.iter().copied().take(16));
            check_accepted(&good);
        }
    }

    /// Whatever `read_head` accepts is a `GET` head that reads back the same.
    fn check_accepted(bytes: &[u8]) {
        let HeadVerdict::Lean(head) = read_head(bytes) else {
            return;
        };
        assert!(head.len <= bytes.len());
        assert!(bytes.starts_with(b"GET /"), "{bytes:?}");
        let again = write_head("GET", "HTTP/1.1", &head.uri.to_string(), &headers_of(&head));
        let HeadVerdict::Lean(reread) = read_head(&again) else {
            panic!("an accepted head does not read back: {again:?}");
        };
        assert_eq!(reread.uri, head.uri);
        assert_eq!(reread.headers, head.headers);
    }

    #[test]
    fn a_head_larger_than_the_lean_limit_is_hypers() {
        let mut bytes = b"GET / HTTP/1.1\r\naccept: text/event-stream\r\nx-big: ".to_vec();
        bytes.resize(MAX_LEAN_HEAD + 10, b'a');
        assert_eq!(read_head(&bytes), HeadVerdict::Hyper);
    }

    #[test]
    fn a_post_is_hypers_before_its_head_is_complete() {
        assert_eq!(
            read_head(b"POST /api/realtime HTTP/1.1\r\nhost"),
            HeadVerdict::Hyper
        );
        assert_eq!(
            read_head(b"GET /api/realtime HTTP/1.1\r\nhost"),
            HeadVerdict::Incomplete
        );
    }
}
