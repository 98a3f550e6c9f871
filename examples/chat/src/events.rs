//! The chat's events: one enum, exported as `schema/chat-events.json` and generated into
//! `web/src/events.ts` for the browser.

use realtime_core::{Events, PresenceChange};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// A message somebody posted in a room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChatMessage {
    /// The room's name (its channel is `room-<room>`).
    pub room: String,
    /// The name of whoever wrote it.
    pub author: String,
    /// What was said: 1 to 500 characters.
    #[schemars(length(min = 1, max = 500))]
    pub text: String,
}

/// Somebody is typing in a room (sent at most every few seconds while they type).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Typing {
    /// The room's name.
    pub room: String,
    /// Who is typing.
    pub author: String,
}

/// What a room shows about somebody online in it (the member id is the same name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Online {
    /// The name they chose.
    #[schemars(length(min = 1, max = 24))]
    pub name: String,
}

/// A room was created (announced on the `lobby` channel).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RoomCreated {
    /// The room's name: 1 to 32 letters, digits, `-` or `_`.
    #[schemars(length(min = 1, max = 32), regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    pub room: String,
    /// Who created it.
    pub by: String,
    /// Private rooms are readable only by the names in `members`.
    pub private: bool,
    /// The invited names (empty for a public room): at most 50, the creator included.
    #[schemars(length(max = 50))]
    pub members: Vec<String>,
}

/// Every realtime event of the chat.
#[derive(Events, Clone, Debug, PartialEq)]
pub enum ChatEvent {
    /// A message in a room.
    #[event("chat.message")]
    Message(ChatMessage),
    /// Somebody is typing.
    #[event("chat.typing")]
    Typing(Typing),
    /// Who is online in a room: `presence.joined` when somebody's first page opens the
    /// room, `presence.left` when their last one closes it (or their server died).
    #[event(presence)]
    Presence(PresenceChange<Online>),
    /// A new room (on the `lobby` channel).
    #[event("room.created")]
    Created(RoomCreated),
}
