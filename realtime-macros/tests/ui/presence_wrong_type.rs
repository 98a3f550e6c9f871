use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("chat.message")]
    Message(String),
    // Presence needs `PresenceChange<Info>`.
    #[event(presence)]
    Presence(String),
}

fn main() {}
