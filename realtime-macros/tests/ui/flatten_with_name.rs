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

fn main() {}
