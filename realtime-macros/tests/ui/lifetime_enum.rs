use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent<'a> {
    #[event("app.text")]
    Text(&'a str),
}

// The derive still generates the kind enum and the impl, so these uses add no errors.
fn main() {
    let _ = AppEventKind::ALL;
    let _ = <AppEvent<'static> as Events>::NAMES;
}
