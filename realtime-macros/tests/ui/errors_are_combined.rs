use realtime_core::Events;

#[derive(Events, Clone)]
#[events(rename_all = "camelCase")]
enum AppEvent {
    #[event("app started")]
    Started,
    Stopped,
    #[event("app.failed", name = "x")]
    Failed(String),
}

fn main() {}
