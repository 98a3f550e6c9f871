use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {}

fn main() {}
