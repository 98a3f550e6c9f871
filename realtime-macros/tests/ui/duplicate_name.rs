use realtime_core::Events;

#[derive(Events, Clone)]
#[events(namespace = "chat")]
enum AppEvent {
    #[event("chat.message")]
    Message(String),
    // Derived: "chat.message" again.
    Message2,
    #[event("chat.message")]
    Posted(String),
}

// The derive still generates the kind enum and the impl, so these uses add no errors.
fn main() {
    let _ = AppEventKind::ALL;
    let _ = <AppEvent as Events>::NAMES;
}
