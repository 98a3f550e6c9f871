//! Errors of the typed API. Each message says what was wrong and what was expected.

use crate::backend::BackendError;
use crate::channel_name::InvalidChannelName;
use crate::cursor::{Cursor, CursorParseError};
use crate::idempotency::InvalidIdempotencyKey;
use crate::member::InvalidMemberId;

/// An event name that is not part of the event set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown event `{name}`; expected one of: {}", expected.join(", "))]
pub struct UnknownEvent {
    /// The name that was given.
    pub name: String,
    /// The names of the event set.
    pub expected: &'static [&'static str],
}

/// Why event data could not be turned into a typed event.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The event name is not part of the event set.
    #[error(transparent)]
    UnknownEvent(#[from] UnknownEvent),
    /// The data does not deserialize into the event's type.
    #[error("data of event `{event}` is invalid at `{path}`: {message}")]
    InvalidData {
        /// The event name.
        event: &'static str,
        /// The JSON path of the offending value (`.` for the data itself).
        path: String,
        /// What serde reported.
        message: String,
    },
}

/// An event whose data breaks its JSON Schema (a length, a range, a pattern, a format, ...).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("event `{event}` is invalid at `{path}` (rule `{rule}`): {message}")]
pub struct SchemaViolation {
    /// The event name.
    pub event: &'static str,
    /// The JSON pointer of the offending value inside the data (`""` for the data itself).
    pub path: String,
    /// The JSON Schema keyword that failed, e.g. `maxLength`.
    pub rule: String,
    /// A human-readable description of the failure.
    pub message: String,
}

/// Everything the typed API can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The event name is not part of the event set (untyped input).
    #[error(transparent)]
    UnknownEvent(#[from] UnknownEvent),
    /// The data does not deserialize into the event's type (untyped input or storage).
    /// An unknown event name is always [`Error::UnknownEvent`], never this.
    #[error(transparent)]
    Decode(DecodeError),
    /// The data breaks the event's JSON Schema; nothing was stored or published.
    #[error(transparent)]
    Invalid(#[from] SchemaViolation),
    /// The event could not be serialized to JSON.
    #[error("event `{event}` could not be serialized to JSON: {source}")]
    Encode {
        /// The event name.
        event: &'static str,
        /// What serde_json reported.
        source: serde_json::Error,
    },
    /// The schema of an event could not be compiled into a validator.
    #[error("the JSON Schema of event `{event}` does not compile: {message}")]
    Schema {
        /// The event name.
        event: &'static str,
        /// What the validator reported.
        message: String,
    },
    /// A channel name breaks the naming rules.
    #[error(transparent)]
    InvalidChannel(#[from] InvalidChannelName),
    /// A cursor string is malformed.
    #[error(transparent)]
    InvalidCursor(#[from] CursorParseError),
    /// `after(cursor)` names an entry that is no longer stored (trimmed, expired or never
    /// written).
    #[error(
        "cursor `{cursor}` is not stored in channel `{channel}` any more (trimmed, expired or never written)"
    )]
    CursorUnavailable {
        /// The channel.
        channel: String,
        /// The cursor that was asked for.
        cursor: Cursor,
    },
    /// A history query asked for an unsupported number of entries.
    #[error("history limit {limit} is out of range; expected 1 to {max}")]
    InvalidLimit {
        /// The limit that was asked for.
        limit: usize,
        /// The largest limit allowed.
        max: usize,
    },
    /// An idempotency key breaks the rules.
    #[error(transparent)]
    InvalidIdempotencyKey(#[from] InvalidIdempotencyKey),
    /// The idempotency key was used on the channel within the window for a different
    /// event or data: nothing was stored. The same key with the same event and data
    /// returns the original id; a new event needs a new key.
    #[error(
        "idempotency key `{key}` was already used on channel `{channel}` for a different event or data; nothing was stored (a retry must send the same event and data; a new event needs a new key): {source}"
    )]
    IdempotencyKeyReused {
        /// The channel written to.
        channel: String,
        /// The key.
        key: String,
        /// What the backend reported (with the original entry's id).
        source: BackendError,
    },
    /// The emit was sent to storage but no answer came (a timeout, a connection lost with
    /// the emit in flight): it may have been stored and delivered, or not. Retry it with
    /// an idempotency key to be sure it is stored exactly once.
    #[error(
        "the outcome of the emit to channel `{channel}` is unknown (it may have been stored): {source}"
    )]
    OutcomeUnknown {
        /// The channel written to.
        channel: String,
        /// What the backend reported.
        source: BackendError,
    },
    /// The event is `presence.joined` or `presence.left`, which only the framework
    /// writes (when members join and leave); nothing was stored.
    #[error(
        "event `{event}` is written by the framework when members join and leave, it cannot be emitted; use `channel.presence().join(..)`"
    )]
    ReservedEvent {
        /// The event name.
        event: &'static str,
    },
    /// A presence operation on an event set without an `#[event(presence)]` variant.
    #[error(
        "`{events}` declares no presence; add a variant `#[event(presence)] Presence(realtime_core::PresenceChange<YourInfo>)` to it"
    )]
    PresenceNotDeclared {
        /// The Rust name of the event enum.
        events: &'static str,
    },
    /// A presence member id breaks the rules.
    #[error(transparent)]
    InvalidMember(#[from] InvalidMemberId),
    /// A presence info larger than the handle accepts
    /// ([`RealtimeBuilder::max_presence_info`](crate::RealtimeBuilder::max_presence_info));
    /// nothing was stored.
    #[error(
        "the presence info of member `{member}` is {size} bytes of JSON; at most {max} are accepted (RealtimeBuilder::max_presence_info)"
    )]
    PresenceInfoTooLarge {
        /// The member id.
        member: String,
        /// The info's size, in bytes of JSON.
        size: usize,
        /// The largest size accepted.
        max: usize,
    },
    /// A presence TTL out of range.
    #[error("presence TTL {ttl:?} is out of range; expected 1 s to 1 h")]
    InvalidPresenceTtl {
        /// The TTL that was given.
        ttl: std::time::Duration,
    },
    /// The storage backend failed; see
    /// [`BackendError::failure_kind`](crate::backend::BackendError::failure_kind) for
    /// whether a retry can help.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// An unknown name becomes [`Error::UnknownEvent`] whichever layer found it, so callers
/// match one shape.
impl From<DecodeError> for Error {
    fn from(error: DecodeError) -> Self {
        match error {
            DecodeError::UnknownEvent(unknown) => Error::UnknownEvent(unknown),
            invalid @ DecodeError::InvalidData { .. } => Error::Decode(invalid),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
