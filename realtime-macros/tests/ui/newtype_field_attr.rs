use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("chat.message")]
    Message(#[schemars(length(max = 280))] String),
}

fn main() {}
