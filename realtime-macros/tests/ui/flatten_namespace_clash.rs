use realtime_core::Events;

#[derive(Events, Clone)]
#[events(namespace = "billing")]
enum Billing {
    Paid,
}

#[derive(Events, Clone)]
enum AppEvent {
    #[event("billing")]
    Billing,
    #[event(flatten)]
    Details(Billing),
}

fn main() {}
