use realtime_core::Events;

#[derive(Events, Clone)]
#[events(namespace = "chat")]
enum AppEvent {
    #[event("chat.message")]
    Message(String),
    // Derived: "chat.message" again.
    Message2,
    #[event("chat.message")]
    Posted(String),
}

fn main() {}
