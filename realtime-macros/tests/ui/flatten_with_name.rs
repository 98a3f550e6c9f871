use realtime_core::Events;

#[derive(Events, Clone)]
enum Inner {
    #[event("inner.a")]
    A,
}

#[derive(Events, Clone)]
enum AppEvent {
    #[event("billing", flatten)]
    Billing(Inner),
}

// The derive still generates the kind enum and the impl, so these uses add no errors.
fn main() {
    let _ = AppEventKind::ALL;
    let _ = <AppEvent as Events>::NAMES;
}
