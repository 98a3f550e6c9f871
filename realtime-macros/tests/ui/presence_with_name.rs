use realtime_core::{Events, PresenceChange};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone)]
struct UserInfo {
    name: String,
}

#[derive(Events, Clone)]
enum AppEvent {
    // The names are the framework's: presence.joined, presence.left.
    #[event(presence, "room.here")]
    Presence(PresenceChange<UserInfo>),
}

fn main() {}
