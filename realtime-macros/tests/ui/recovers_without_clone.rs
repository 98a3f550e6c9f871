use realtime_core::Events;

// `Events` needs `Clone`, but while the derive refuses the input its stub impl must not
// add an error of its own about that: the user fixes the attribute first.
#[derive(Events)]
enum AppEvent {
    #[event(name = "app.started")]
    Started,
}

fn main() {
    let _ = AppEventKind::Started;
}
