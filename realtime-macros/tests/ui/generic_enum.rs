use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent<T> {
    #[event("app.data")]
    Data(T),
}

// The derive still generates the kind enum and the impl, so these uses add no errors.
fn main() {
    let _ = AppEventKind::ALL;
    let _ = <AppEvent<u8> as Events>::NAMES;
}
