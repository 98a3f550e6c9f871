//! A channel's presence as data: members, their ids and the rules for them, the info they
//! carry, and the changes that announce them (`presence.joined`, `presence.left`).
//!
//! A leaf: it imports nothing of this crate, so [`error`](crate::error) and
//! [`events`](crate::events) name these types without an import circle through
//! [`presence`](crate::presence), which builds on both.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The event announcing a member's first connection to a channel.
pub const JOINED_EVENT: &str = "presence.joined";

/// The event announcing that a member's last connection to a channel closed or expired.
pub const LEFT_EVENT: &str = "presence.left";

/// The longest member id, in bytes.
pub const MAX_MEMBER_ID_LEN: usize = 256;

/// What a member of a channel's presence carries: any serde type with a JSON Schema
/// (`#[derive(Serialize, Deserialize, JsonSchema, Clone)]`). It is validated against its
/// schema when a member joins, like event data.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the info of a presence member",
    note = "derive `Serialize`, `Deserialize`, `JsonSchema` and `Clone` for it"
)]
pub trait PresenceInfo:
    Serialize + DeserializeOwned + JsonSchema + Clone + Send + Sync + 'static
{
}

impl<T> PresenceInfo for T where
    T: Serialize + DeserializeOwned + JsonSchema + Clone + Send + Sync + 'static
{
}

/// The presence info of an event set that declares no presence (no `#[event(presence)]`
/// variant): it has no value, so nobody can join, and every presence operation fails with
/// [`Error::PresenceNotDeclared`](crate::Error::PresenceNotDeclared).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoPresence {}

impl Serialize for NoPresence {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        match *self {}
    }
}

impl<'de> Deserialize<'de> for NoPresence {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom(
            "this event set declares no presence",
        ))
    }
}

/// A member of a channel's presence: its id and the info it joined with.
///
/// On the wire (the data of `presence.joined` and `presence.left`, and the members
/// route) it is `{"member": "<id>", "info": <info>}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Member<I> {
    /// Who this is: 1 to [`MAX_MEMBER_ID_LEN`] bytes without control characters, e.g. a
    /// user id. Two connections with the same id are one member.
    #[serde(rename = "member")]
    pub id: String,
    /// What the app tells others about the member (a display name, an avatar, a status).
    pub info: I,
}

impl<I: JsonSchema> JsonSchema for Member<I> {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("PresenceMember")
    }

    fn schema_id() -> Cow<'static, str> {
        Cow::Owned(format!("realtime_core::Member<{}>", I::schema_id()))
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let info = generator.subschema_for::<I>();
        json_schema!({
            "type": "object",
            "description": "A member of a channel's presence: its id and the info it joined with.",
            "properties": {
                "member": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_MEMBER_ID_LEN,
                    "description": "Who this is (e.g. a user id); two connections with the same id are one member."
                },
                "info": info,
            },
            "required": ["member", "info"],
        })
    }
}

/// Why a member id is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid presence member id `{shown}`: {problem}; expected 1 to {MAX_MEMBER_ID_LEN} bytes without control characters"
)]
pub struct InvalidMemberId {
    /// The id, cut to 64 characters.
    pub shown: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

/// Checks a member id: 1 to [`MAX_MEMBER_ID_LEN`] bytes, no control characters.
///
/// # Errors
/// [`InvalidMemberId`] saying what is wrong.
pub fn check_member_id(id: &str) -> Result<(), InvalidMemberId> {
    let problem = if id.is_empty() {
        Some("it is empty")
    } else if id.len() > MAX_MEMBER_ID_LEN {
        Some("it is too long")
    } else if id.chars().any(char::is_control) {
        Some("it contains a control character")
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(InvalidMemberId {
            shown: id.chars().take(64).collect(),
            problem,
        }),
    }
}

/// A change of a channel's presence, as subscribers and browsers receive it: the events
/// `presence.joined` and `presence.left`, with the [`Member`] as their data.
///
/// An app takes these events into its event set with one variant, which also declares the
/// type of the members' info:
///
/// ```
/// use realtime_core::{Events, PresenceChange};
///
/// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Debug, PartialEq)]
/// struct UserInfo {
///     name: String,
/// }
///
/// #[derive(Events, Clone, Debug, PartialEq)]
/// enum AppEvent {
///     #[event("chat.message")]
///     Message { text: String },
///     /// Who joined and left.
///     #[event(presence)]
///     Presence(PresenceChange<UserInfo>),
/// }
///
/// assert_eq!(AppEvent::NAMES, ["chat.message", "presence.joined", "presence.left"]);
/// ```
///
/// Only the framework writes them (when members join and leave, see
/// [`Presence`](crate::Presence)); emitting one is refused with
/// [`Error::ReservedEvent`](crate::Error::ReservedEvent).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PresenceChange<I> {
    /// `presence.joined`: the member's first connection to the channel.
    Joined(Member<I>),
    /// `presence.left`: the member's last connection closed or expired.
    Left(Member<I>),
}

impl<I> PresenceChange<I> {
    /// The member who joined or left.
    pub fn member(&self) -> &Member<I> {
        match self {
            Self::Joined(member) | Self::Left(member) => member,
        }
    }

    /// Whether this is `presence.joined`.
    pub fn is_joined(&self) -> bool {
        matches!(self, Self::Joined(_))
    }
}
