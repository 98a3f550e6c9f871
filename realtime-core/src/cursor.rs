//! Positions in a channel's history: stream ids (`<ms>-<seq>`) and bare milliseconds.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The id of an entry in a channel's history, `<ms>-<seq>` as in Redis Streams.
///
/// Ids grow strictly within a channel: [`Cursor::next`] never goes back even when the
/// clock does. A cursor compares with a bare millisecond value `m` as with `m-0`, which is
/// how Redis reads an incomplete id at the start of a range:
///
/// ```
/// use realtime_core::Cursor;
///
/// let cursor: Cursor = "1732712345678-1".parse()?;
/// assert_eq!(cursor.to_string(), "1732712345678-1");
/// assert!(cursor > 1732712345678_u64);
/// assert!(cursor < "1732712345679-0".parse::<Cursor>()?);
/// # Ok::<(), realtime_core::CursorParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cursor {
    ms: u64,
    seq: u64,
}

impl Cursor {
    /// The smallest cursor, `0-0`.
    pub const MIN: Cursor = Cursor { ms: 0, seq: 0 };
    /// The largest cursor.
    pub const MAX: Cursor = Cursor {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// The cursor `<ms>-<seq>`.
    pub const fn new(ms: u64, seq: u64) -> Self {
        Self { ms, seq }
    }

    /// The millisecond part.
    pub const fn ms(self) -> u64 {
        self.ms
    }

    /// The sequence part.
    pub const fn seq(self) -> u64 {
        self.seq
    }

    /// The cursor just before this one (`None` for `0-0`): as an exclusive start, it
    /// includes this cursor.
    pub const fn predecessor(self) -> Option<Cursor> {
        match (self.ms, self.seq) {
            (0, 0) => None,
            (ms, 0) => Some(Cursor::new(ms - 1, u64::MAX)),
            (ms, seq) => Some(Cursor::new(ms, seq - 1)),
        }
    }

    /// The id of the entry appended after `last` at time `now_ms`: `now_ms-0` when the clock
    /// moved past `last`, else `last` with the next sequence number (as Redis `XADD *` does).
    pub const fn next(last: Option<Cursor>, now_ms: u64) -> Cursor {
        match last {
            None => Cursor::new(now_ms, 0),
            Some(last) if now_ms > last.ms => Cursor::new(now_ms, 0),
            Some(last) if last.seq < u64::MAX => Cursor::new(last.ms, last.seq + 1),
            Some(last) => Cursor::new(last.ms.saturating_add(1), 0),
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({self})")
    }
}

/// A malformed cursor or position string.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed cursor `{input}`: expected `<ms>-<seq>` (e.g. `1732712345678-0`){}", if *.allow_millis { " or a bare millisecond value" } else { "" })]
pub struct CursorParseError {
    input: String,
    allow_millis: bool,
}

impl CursorParseError {
    fn new(input: &str, allow_millis: bool) -> Self {
        // Long garbage is cut so that the message stays readable in logs and responses.
        let input = input.chars().take(64).collect();
        Self {
            input,
            allow_millis,
        }
    }
}

/// A number of 1 to 20 ASCII digits that fits a `u64`.
fn parse_digits(part: &[u8]) -> Option<u64> {
    if part.is_empty() || part.len() > 20 {
        return None;
    }
    part.iter().try_fold(0_u64, |number, &byte| {
        let digit = byte.checked_sub(b'0').filter(|digit| *digit <= 9)?;
        number.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

impl Cursor {
    /// A stream id as Redis writes it, `<ms>-<seq>`, from bytes (a reply's text).
    pub(crate) fn from_ascii(text: &[u8]) -> Option<Self> {
        let dash = text.iter().position(|&byte| byte == b'-')?;
        Some(Cursor::new(
            parse_digits(&text[..dash])?,
            parse_digits(&text[dash + 1..])?,
        ))
    }
}

impl FromStr for Cursor {
    type Err = CursorParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Cursor::from_ascii(input.as_bytes()).ok_or_else(|| CursorParseError::new(input, false))
    }
}

impl PartialEq<u64> for Cursor {
    fn eq(&self, ms: &u64) -> bool {
        *self == Cursor::new(*ms, 0)
    }
}

impl PartialOrd<u64> for Cursor {
    fn partial_cmp(&self, ms: &u64) -> Option<Ordering> {
        Some(self.cmp(&Cursor::new(*ms, 0)))
    }
}

impl Serialize for Cursor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A place in a channel's history as clients name it: a stream id, or a bare millisecond
/// timestamp (the browser client sends `Date.now()` before it has seen any id).
///
/// As the start of a range a bare `m` means `m-0`; as the end it means the whole
/// millisecond, `m-<max>` (the reading of incomplete ids in Redis `XRANGE`).
///
/// ```
/// use realtime_core::{Cursor, Position};
///
/// let from_client: Position = "1732712345678".parse()?;
/// assert_eq!(from_client.as_start(), Cursor::new(1732712345678, 0));
/// let seen: Position = "1732712345678-3".parse()?;
/// assert_eq!(seen, Position::Cursor(Cursor::new(1732712345678, 3)));
/// # Ok::<(), realtime_core::CursorParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Position {
    /// An exact stream id.
    Cursor(Cursor),
    /// A bare millisecond timestamp.
    Millis(u64),
}

impl Position {
    /// The smallest cursor this position covers: the cursor itself, or `m-0`.
    pub const fn as_start(self) -> Cursor {
        match self {
            Position::Cursor(cursor) => cursor,
            Position::Millis(ms) => Cursor::new(ms, 0),
        }
    }

    /// The largest cursor this position covers: the cursor itself, or `m-<max>`.
    pub const fn as_end(self) -> Cursor {
        match self {
            Position::Cursor(cursor) => cursor,
            Position::Millis(ms) => Cursor::new(ms, u64::MAX),
        }
    }
}

impl From<Cursor> for Position {
    fn from(cursor: Cursor) -> Self {
        Position::Cursor(cursor)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Cursor(cursor) => cursor.fmt(f),
            Position::Millis(ms) => ms.fmt(f),
        }
    }
}

impl FromStr for Position {
    type Err = CursorParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if input.contains('-') {
            input
                .parse()
                .map(Position::Cursor)
                .map_err(|_| CursorParseError::new(input, true))
        } else {
            parse_digits(input.as_bytes())
                .map(Position::Millis)
                .ok_or_else(|| CursorParseError::new(input, true))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn malformed_cursors_are_refused_with_the_expected_form() {
        for input in [
            "", "-", "1-", "-1", "1-2-3", "a-1", "1-b", " 1-2", "+1-2", "1.5-0",
        ] {
            let error = input.parse::<Cursor>().unwrap_err();
            assert!(
                error.to_string().contains("expected `<ms>-<seq>`"),
                "{input}"
            );
        }
        assert!("99999999999999999999999-0".parse::<Cursor>().is_err());
    }

    #[test]
    fn bare_millis_compare_as_the_first_id_of_that_millisecond() {
        let cursor = Cursor::new(5, 0);
        assert!(cursor == 5);
        assert!(Cursor::new(5, 1) > 5);
        assert!(Cursor::new(4, u64::MAX) < 5);
    }

    #[test]
    fn next_is_monotonic_when_the_clock_steps_back() {
        let first = Cursor::next(None, 1_000);
        let same_ms = Cursor::next(Some(first), 1_000);
        let clock_back = Cursor::next(Some(same_ms), 900);
        let saturated = Cursor::next(Some(Cursor::new(7, u64::MAX)), 7);
        assert_eq!(first, Cursor::new(1_000, 0));
        assert_eq!(same_ms, Cursor::new(1_000, 1));
        assert_eq!(clock_back, Cursor::new(1_000, 2));
        assert_eq!(saturated, Cursor::new(8, 0));
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(ms: u64, seq: u64) {
            let cursor = Cursor::new(ms, seq);
            prop_assert_eq!(cursor.to_string().parse::<Cursor>(), Ok(cursor));
            let position = Position::Cursor(cursor);
            prop_assert_eq!(position.to_string().parse::<Position>(), Ok(position));
        }

        #[test]
        fn ordering_matches_the_numeric_pair(a: (u64, u64), b: (u64, u64)) {
            prop_assert_eq!(Cursor::new(a.0, a.1).cmp(&Cursor::new(b.0, b.1)), a.cmp(&b));
        }

        #[test]
        fn ordering_agrees_with_redis_string_ids(a: (u64, u64), b: (u64, u64)) {
            // Parsing what Display wrote keeps the order that the numbers had.
            let left: Cursor = format!("{}-{}", a.0, a.1).parse().unwrap();
            let right: Cursor = format!("{}-{}", b.0, b.1).parse().unwrap();
            prop_assert_eq!(left.cmp(&right), a.cmp(&b));
        }

        #[test]
        fn next_always_grows(last: Option<(u64, u64)>, now in 0u64..u64::MAX) {
            let last = last.map(|(ms, seq)| Cursor::new(ms.min(u64::MAX - 1), seq));
            let next = Cursor::next(last, now);
            if let Some(last) = last {
                prop_assert!(next > last);
            }
            prop_assert!(next >= now);
        }

        #[test]
        fn predecessor_is_the_largest_smaller_cursor(ms: u64, seq: u64) {
            let cursor = Cursor::new(ms, seq);
            match cursor.predecessor() {
                None => prop_assert_eq!(cursor, Cursor::MIN),
                Some(before) => {
                    prop_assert!(before < cursor);
                    // Nothing lies between: the successor of `before` is `cursor`.
                    let successor = if before.seq() == u64::MAX {
                        Cursor::new(before.ms() + 1, 0)
                    } else {
                        Cursor::new(before.ms(), before.seq() + 1)
                    };
                    prop_assert_eq!(successor, cursor);
                }
            }
        }

        #[test]
        fn millis_positions_round_trip(ms: u64) {
            prop_assert_eq!(ms.to_string().parse::<Position>(), Ok(Position::Millis(ms)));
            prop_assert!(Position::Millis(ms).as_start() <= Position::Millis(ms).as_end());
        }

        #[test]
        fn arbitrary_strings_never_panic(input in ".{0,40}") {
            let _ = input.parse::<Cursor>();
            let _ = input.parse::<Position>();
        }
    }
}
