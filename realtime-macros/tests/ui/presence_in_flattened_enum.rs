use realtime_core::{Events, PresenceChange};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone)]
struct UserInfo {
    name: String,
}

#[derive(Events, Clone)]
enum RoomEvent {
    #[event(presence)]
    Presence(PresenceChange<UserInfo>),
}

// Presence belongs to the enum the app uses, not to one it includes.
#[derive(Events, Clone)]
enum AppEvent {
    #[event(flatten)]
    Room(RoomEvent),
}

fn main() {}
