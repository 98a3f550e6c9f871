//! The event set of the TypeScript client's tests (`client-test-server`, `client/test`):
//! its schema is committed as `client/test/types/client-test-events.json` and generated into
//! `client/test/types/events.ts` (`realtime-schema ts --client realtime-rs-react`).

use realtime_core::{Events, PresenceChange};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The events of the client's tests.
#[derive(Events, Clone, Debug, PartialEq)]
pub enum ClientTestEvent {
    /// A chat message; its text must be 1 to 280 characters.
    #[event("chat.message")]
    Message {
        /// Who wrote it.
        author: String,
        /// What they wrote.
        #[schemars(length(min = 1, max = 280))]
        text: String,
    },
    /// A numbered tick, to check order.
    #[event("counter.tick")]
    Tick(u32),
    /// Who is in a room.
    #[event(presence)]
    Presence(PresenceChange<Visitor>),
}

/// What a room shows about a member.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct Visitor {
    /// The member's display name.
    pub name: String,
}
