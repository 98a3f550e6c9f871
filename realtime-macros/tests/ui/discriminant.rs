use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("app.started")]
    Started = 1,
}

fn main() {}
