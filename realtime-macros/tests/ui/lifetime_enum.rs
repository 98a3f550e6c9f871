use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent<'a> {
    #[event("app.text")]
    Text(&'a str),
}

fn main() {}
