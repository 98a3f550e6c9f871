use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("chat.message")]
    Message(String),
    #[event("chat.message.deleted")]
    Deleted,
    #[event("user.joined.late")]
    JoinedLate,
    #[event("user.joined")]
    Joined,
}

fn main() {}
