use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("user.joined")]
    #[serde(rename = "user.arrived")]
    Joined { id: String },
}

// The derive still generates the kind enum and the impl, so these uses add no errors.
fn main() {
    let _ = AppEventKind::ALL;
    let _ = <AppEvent as Events>::NAMES;
}
