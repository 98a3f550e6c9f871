use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("chat.message")]
    Message(#[schemars(length(max = 280))] String),
}

// The derive still generates the kind enum and the impl, so these uses add no errors.
fn main() {
    let _ = AppEventKind::ALL;
    let _ = <AppEvent as Events>::NAMES;
}
