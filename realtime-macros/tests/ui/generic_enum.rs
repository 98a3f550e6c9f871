use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent<T> {
    #[event("app.data")]
    Data(T),
}

fn main() {}
