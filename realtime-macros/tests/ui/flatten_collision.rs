use realtime_core::Events;

#[derive(Events, Clone)]
#[events(namespace = "billing")]
enum Payments {
    Paid,
}

#[derive(Events, Clone)]
#[events(namespace = "billing")]
enum Invoices {
    Sent,
    Paid,
}

#[derive(Events, Clone)]
enum AppEvent {
    #[event(flatten)]
    Payments(Payments),
    #[event(flatten)]
    Invoices(Invoices),
}

fn main() {}
