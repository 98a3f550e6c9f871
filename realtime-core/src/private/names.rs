//! Event name lists: the unknown-name error, and the compile-time concatenation and
//! distinctness check of the names of enums put together with `#[event(flatten)]`.

use crate::error::UnknownEvent;

/// The error for an event name that is not in `expected`.
pub fn unknown_event(name: &str, expected: &'static [&'static str]) -> UnknownEvent {
    UnknownEvent {
        name: name.chars().take(128).collect(),
        expected,
    }
}

/// Concatenates name lists at compile time (for `Events::NAMES` with flattened enums).
pub const fn concat_names<const N: usize>(parts: &[&[&'static str]]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut filled = 0;
    let mut part = 0;
    while part < parts.len() {
        let mut index = 0;
        while index < parts[part].len() {
            if filled < N {
                out[filled] = parts[part][index];
            }
            filled += 1;
            index += 1;
        }
        part += 1;
    }
    if filled != N {
        panic!("realtime-core: concat_names was given the wrong length");
    }
    out
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut index = 0;
    while index < a.len() {
        if a[index] != b[index] {
            return false;
        }
        index += 1;
    }
    true
}

/// Whether `namespace` is a dotted prefix of `name` (`a.b` of `a.b.c`).
const fn is_namespace_of(namespace: &str, name: &str) -> bool {
    let (prefix, full) = (namespace.as_bytes(), name.as_bytes());
    if prefix.len() >= full.len() || full[prefix.len()] != b'.' {
        return false;
    }
    let mut index = 0;
    while index < prefix.len() {
        if prefix[index] != full[index] {
            return false;
        }
        index += 1;
    }
    true
}

const MESSAGE_CAPACITY: usize = 512;

struct Message {
    bytes: [u8; MESSAGE_CAPACITY],
    len: usize,
}

impl Message {
    const fn new() -> Self {
        Self {
            bytes: [0; MESSAGE_CAPACITY],
            len: 0,
        }
    }

    const fn push(mut self, text: &str) -> Self {
        let text = text.as_bytes();
        let mut index = 0;
        // Stop at a char boundary-safe point: names are ASCII, the fixed text is ASCII.
        while index < text.len() && self.len < MESSAGE_CAPACITY {
            self.bytes[self.len] = text[index];
            self.len += 1;
            index += 1;
        }
        self
    }
}

const fn fail(message: &Message) -> ! {
    let (bytes, _) = message.bytes.split_at(message.len);
    match core::str::from_utf8(bytes) {
        Ok(text) => panic!("{}", text),
        Err(_) => panic!("realtime-core: conflicting event names"),
    }
}

/// Fails compilation when two events share a name, or when a name is also the namespace of
/// another (`a.b` and `a.b.c` cannot both exist in the nested TypeScript schema).
///
/// The derive checks an enum's own names with precise spans; this catches the conflicts
/// that only appear once flattened enums are put together.
pub const fn assert_distinct_names(type_name: &str, names: &[&str]) {
    let mut i = 0;
    while i < names.len() {
        let mut j = 0;
        while j < names.len() {
            if i != j {
                if i < j && str_eq(names[i], names[j]) {
                    fail(
                        &Message::new()
                            .push("event name `")
                            .push(names[i])
                            .push("` is defined twice in `")
                            .push(type_name)
                            .push("` (once through an enum included with #[event(flatten)]); rename one of them with #[event(\"...\")]"),
                    );
                }
                if is_namespace_of(names[i], names[j]) {
                    fail(
                        &Message::new()
                            .push("event name `")
                            .push(names[i])
                            .push("` in `")
                            .push(type_name)
                            .push("` is also the namespace of `")
                            .push(names[j])
                            .push("`; a name cannot be both an event and a namespace, rename one of them"),
                    );
                }
            }
            j += 1;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_names_keeps_order() {
        const NAMES: [&str; 3] = concat_names::<3>(&[&["a"], &["b.c", "d"]]);
        assert_eq!(NAMES, ["a", "b.c", "d"]);
    }

    #[test]
    fn namespace_detection_needs_a_dot_boundary() {
        assert!(is_namespace_of("a.b", "a.b.c"));
        assert!(!is_namespace_of("a.b", "a.bc"));
        assert!(!is_namespace_of("a.b", "a.b"));
    }

    #[test]
    fn distinct_names_pass() {
        assert_distinct_names("T", &["a.b", "a.c", "b"]);
    }

    #[test]
    #[should_panic(expected = "event name `a.b` is defined twice in `T`")]
    fn duplicate_names_fail() {
        assert_distinct_names("T", &["a.b", "x", "a.b"]);
    }

    #[test]
    #[should_panic(expected = "is also the namespace of `a.b.c`")]
    fn name_and_namespace_clash_fails() {
        assert_distinct_names("T", &["a.b.c", "a.b"]);
    }
}
