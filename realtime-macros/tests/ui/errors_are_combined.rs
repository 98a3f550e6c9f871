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

// The derive still generates the kind enum and the impl, so these uses add no errors.
fn main() {
    let _ = AppEventKind::ALL;
    let _ = <AppEvent as Events>::NAMES;
}
