use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("chat..message")]
    Message(String),
    #[event("chat.typing.")]
    Typing,
    #[event("chat/left")]
    Left,
}

fn main() {}
