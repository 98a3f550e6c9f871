use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("app.started")]
    #[event("app.booted")]
    Started,
}

fn main() {}
