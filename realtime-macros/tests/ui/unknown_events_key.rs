use realtime_core::Events;

#[derive(Events, Clone)]
#[events(prefix = "app")]
enum AppEvent {
    Started,
}

fn main() {}
