use realtime_core::{Events, PresenceChange};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone)]
struct UserInfo {
    name: String,
}

#[derive(Events, Clone)]
enum AppEvent {
    #[event(presence)]
    Presence(PresenceChange<UserInfo>),
    #[event(presence)]
    Again(PresenceChange<UserInfo>),
}

fn main() {}
