use realtime_core::Events;

#[derive(Events, Clone)]
struct AppEvent {
    text: String,
}

fn main() {}
