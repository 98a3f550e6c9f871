use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event(flatten)]
    Billing { amount: u64 },
    #[event(flatten)]
    Reset,
}

fn main() {}
