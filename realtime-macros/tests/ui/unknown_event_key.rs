use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event(name = "app.started")]
    Started,
}

fn main() {}
