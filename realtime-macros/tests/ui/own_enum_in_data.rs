use realtime_core::Events;

// The enum's own name in its events' data: it has no serde or JSON Schema form; the error
// says to write `Nested<AppEvent>`, which works (tests/pass/nested.rs).
#[derive(Events, Clone)]
enum AppEvent {
    #[event("app.batch")]
    Batch { events: Vec<AppEvent> },
    #[event("app.undo")]
    Undo(Box<AppEvent>),
}

fn main() {
    let _ = AppEventKind::ALL;
}
