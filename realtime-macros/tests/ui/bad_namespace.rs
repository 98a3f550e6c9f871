use realtime_core::Events;

#[derive(Events, Clone)]
#[events(namespace = "chat room")]
enum AppEvent {
    Message(String),
}

fn main() {}
