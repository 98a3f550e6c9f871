//! History queries: which stored events of a channel to read.

use std::ops::Bound;

use crate::backend::ReadRange;
use crate::cursor::Position;
use crate::error::{Error, Result};

/// The number of events a history query returns unless told otherwise.
pub const DEFAULT_HISTORY_LIMIT: usize = 100;

/// The most events one history query may return (as in the reference implementation).
pub const MAX_HISTORY_LIMIT: usize = 1_000;

/// A history query: bounds (inclusive, as in Redis `XRANGE`), a limit, and whether to take
/// the oldest or the newest events of the range. Results are always in id order.
///
/// ```
/// use realtime_core::{Cursor, History};
///
/// let recent = History::last(50);                          // the newest 50
/// let page = History::new().start(Cursor::new(1_700_000_000_000, 0)).limit(200);
/// let window = History::new().start(1_700_000_000_000).end(1_700_000_060_000);
/// # let _ = (recent, page, window);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct History {
    start: Option<Position>,
    end: Option<Position>,
    limit: usize,
    newest: bool,
}

impl Default for History {
    fn default() -> Self {
        Self::new()
    }
}

impl History {
    /// The oldest [`DEFAULT_HISTORY_LIMIT`] stored events.
    pub fn new() -> Self {
        Self {
            start: None,
            end: None,
            limit: DEFAULT_HISTORY_LIMIT,
            newest: false,
        }
    }

    /// The newest `limit` stored events.
    pub fn last(limit: usize) -> Self {
        Self {
            limit,
            newest: true,
            ..Self::new()
        }
    }

    /// Only events at or after `start` (a bare millisecond means its first id).
    pub fn start(mut self, start: impl Into<Position>) -> Self {
        self.start = Some(start.into());
        self
    }

    /// Only events at or before `end` (a bare millisecond covers the whole millisecond).
    pub fn end(mut self, end: impl Into<Position>) -> Self {
        self.end = Some(end.into());
        self
    }

    /// At most `limit` events, 1 to [`MAX_HISTORY_LIMIT`].
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    pub(crate) fn to_range(self) -> Result<ReadRange> {
        if self.limit == 0 || self.limit > MAX_HISTORY_LIMIT {
            return Err(Error::InvalidLimit {
                limit: self.limit,
                max: MAX_HISTORY_LIMIT,
            });
        }
        Ok(ReadRange {
            start: self
                .start
                .map_or(Bound::Unbounded, |start| Bound::Included(start.as_start())),
            end: self
                .end
                .map_or(Bound::Unbounded, |end| Bound::Included(end.as_end())),
            limit: self.limit,
            newest_first: self.newest,
        })
    }
}

impl From<u64> for Position {
    fn from(ms: u64) -> Self {
        Position::Millis(ms)
    }
}
