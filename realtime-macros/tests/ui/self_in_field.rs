use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("app.batch")]
    Batch { events: Vec<Self> },
}

fn main() {}
