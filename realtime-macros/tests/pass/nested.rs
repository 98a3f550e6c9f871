//! What the errors for `Self` and the enum's own name in its data advise: `Nested`.
#![deny(warnings)]

use realtime_core::{Events, Nested};

#[derive(Events, Clone, Debug, PartialEq)]
enum AppEvent {
    #[event("app.batch")]
    Batch { events: Vec<Nested<AppEvent>> },
    #[event("app.undo")]
    Undo(Box<Nested<AppEvent>>),
    #[event("app.ping")]
    Ping,
}

fn main() {
    let batch = AppEvent::Batch {
        events: vec![Nested(AppEvent::Ping)],
    };
    let data = batch.to_data().unwrap();
    assert_eq!(AppEvent::from_data("app.batch", data).unwrap(), batch);
    assert!(AppEvent::schema().definitions.contains_key("NestedAppEvent"));
}
