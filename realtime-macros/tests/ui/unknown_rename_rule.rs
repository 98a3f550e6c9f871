use realtime_core::Events;

#[derive(Events, Clone)]
#[events(namespace = "app", rename_all = "dotted.case")]
enum AppEvent {
    Started,
}

fn main() {}
