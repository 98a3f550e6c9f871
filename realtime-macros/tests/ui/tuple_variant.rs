use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("cursor.moved")]
    Moved(f64, f64),
    #[event("cursor.hidden")]
    Hidden(),
}

fn main() {}
