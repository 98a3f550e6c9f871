use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("app.started")]
    #[serde(rename_all = "camelCase")]
    Started,
}

fn main() {}
