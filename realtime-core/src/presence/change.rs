//! Presence as events: [`Member`], [`PresenceChange`] (the `presence.joined` and
//! `presence.left` events an app includes with `#[event(presence)]`), its kind
//! [`PresenceKind`], and [`NoPresence`] for event sets that declare none.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::{DecodeError, UnknownEvent};
use crate::events::{EventKind, Events};
use crate::private::codec::decode_data;
use crate::private::names::unknown_event;
use crate::private::schema::definition_of;
use crate::schema::EventDefinition;

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

/// The kind of a [`PresenceChange`]: `presence.joined` or `presence.left`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PresenceKind {
    /// `presence.joined`.
    Joined,
    /// `presence.left`.
    Left,
}

const PRESENCE_NAMES: &[&str] = &[JOINED_EVENT, LEFT_EVENT];

impl fmt::Display for PresenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PresenceKind {
    type Err = UnknownEvent;

    fn from_str(name: &str) -> Result<Self, UnknownEvent> {
        Self::from_name(name).ok_or_else(|| unknown_event(name, PRESENCE_NAMES))
    }
}

impl Serialize for PresenceKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for PresenceKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::private::codec::deserialize_kind(deserializer)
    }
}

impl EventKind for PresenceKind {
    const ALL: &'static [Self] = &[Self::Joined, Self::Left];

    fn name(self) -> &'static str {
        match self {
            Self::Joined => JOINED_EVENT,
            Self::Left => LEFT_EVENT,
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Joined => 0,
            Self::Left => 1,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            JOINED_EVENT => Some(Self::Joined),
            LEFT_EVENT => Some(Self::Left),
            _ => None,
        }
    }
}

impl<I: PresenceInfo> Events for PresenceChange<I> {
    type Kind = PresenceKind;
    type Presence = NoPresence;

    const TYPE_NAME: &'static str = "PresenceChange";

    const NAMES: &'static [&'static str] = PRESENCE_NAMES;

    fn kind(&self) -> PresenceKind {
        match self {
            Self::Joined(_) => PresenceKind::Joined,
            Self::Left(_) => PresenceKind::Left,
        }
    }

    fn serialize_data<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.member().serialize(serializer)
    }

    fn from_data(event: &str, data: Value) -> Result<Self, DecodeError> {
        let kind =
            PresenceKind::from_name(event).ok_or_else(|| unknown_event(event, PRESENCE_NAMES))?;
        let member = decode_data::<Member<I>>(kind.name(), data)?;
        Ok(match kind {
            PresenceKind::Joined => Self::Joined(member),
            PresenceKind::Left => Self::Left(member),
        })
    }

    fn describe(generator: &mut SchemaGenerator, out: &mut Vec<EventDefinition>) {
        out.push(definition_of::<Member<I>>(
            generator,
            JOINED_EVENT,
            Some("A member joined the channel: its first connection opened."),
        ));
        out.push(definition_of::<Member<I>>(
            generator,
            LEFT_EVENT,
            Some("A member left the channel: its last connection closed or expired."),
        ));
    }
}

/// The variant type `#[event(presence)]` accepts: `PresenceChange<Info>`. The derive
/// reads the info type through it.
#[diagnostic::on_unimplemented(
    message = "#[event(presence)] needs a variant of type `realtime_core::PresenceChange<Info>`, not `{Self}`",
    label = "write `Presence(realtime_core::PresenceChange<YourInfo>)`"
)]
pub trait PresenceVariant {
    /// The members' info.
    type Info: PresenceInfo;

    /// The change itself.
    fn as_change(&self) -> &PresenceChange<Self::Info>;
}

impl<I: PresenceInfo> PresenceVariant for PresenceChange<I> {
    type Info = I;

    fn as_change(&self) -> &Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_ids_are_checked() {
        assert!(check_member_id("user-1").is_ok());
        assert!(check_member_id(&"a".repeat(MAX_MEMBER_ID_LEN)).is_ok());
        assert_eq!(check_member_id("").unwrap_err().problem, "it is empty");
        assert_eq!(
            check_member_id(&"a".repeat(MAX_MEMBER_ID_LEN + 1))
                .unwrap_err()
                .problem,
            "it is too long"
        );
        assert_eq!(
            check_member_id("a\nb").unwrap_err().problem,
            "it contains a control character"
        );
    }

    #[test]
    fn a_change_is_its_member_on_the_wire() {
        let change = PresenceChange::Joined(Member {
            id: "u1".to_owned(),
            info: serde_json::json!({"name": "Ada"}),
        });
        assert_eq!(
            change.to_data_json().unwrap(),
            r#"{"member":"u1","info":{"name":"Ada"}}"#
        );
        let back = PresenceChange::<Value>::from_data(
            LEFT_EVENT,
            serde_json::json!({"member": "u1", "info": {"name": "Ada"}}),
        )
        .unwrap();
        assert_eq!(back, PresenceChange::Left(change.member().clone()));
        assert!(PresenceChange::<Value>::from_data("presence.moved", Value::Null).is_err());
    }
}
