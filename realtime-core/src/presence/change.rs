//! Presence as events: [`PresenceChange`] (the `presence.joined` and `presence.left`
//! events an app includes with `#[event(presence)]`, defined in [`crate::member`]) as an
//! event set of its own, and its kind [`PresenceKind`].

use std::fmt;
use std::str::FromStr;

use schemars::SchemaGenerator;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::{DecodeError, UnknownEvent};
use crate::events::{EventKind, Events};
use crate::member::{JOINED_EVENT, LEFT_EVENT, Member, NoPresence, PresenceChange, PresenceInfo};
use crate::private::codec::decode_data;
use crate::private::names::unknown_event;
use crate::private::schema::definition_of;
use crate::schema::EventDefinition;

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
    use crate::member::{MAX_MEMBER_ID_LEN, check_member_id};

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
