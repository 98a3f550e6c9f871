use realtime_core::{Events, PresenceChange};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone)]
struct UserInfo {
    name: String,
}

#[derive(Events, Clone)]
enum AppEvent {
    #[event(presence)]
    Presence(PresenceChange<UserInfo>),
    // The framework's namespace once presence is declared.
    #[event("presence.online")]
    Online(String),
}

fn main() {}
