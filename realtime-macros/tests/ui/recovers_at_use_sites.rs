use realtime_core::{EventKind, Events, KindFilter};

#[derive(Events, Clone)]
#[events(namespace = "billing")]
enum BillingEvent {
    Paid,
}

#[derive(Events, Clone)]
#[events(namespace = "app")]
enum AppEvent {
    Started,
    #[event("app.stopped", unknown)]
    Stopped,
    #[event(flatten)]
    Billing(BillingEvent),
}

fn wants_events<E: Events>() -> usize {
    E::NAMES.len()
}

// One error, at the bad attribute: every use below of the generated items resolves.
fn main() {
    let kind = AppEvent::Started.kind();
    let _ = kind.name();
    let _ = AppEventKind::Stopped.index();
    let _ = AppEventKind::Billing(BillingEventKind::Paid) == kind;
    let _ = "app.started".parse::<AppEventKind>();
    let _ = <AppEventKind as EventKind>::from_name("app.started");
    let _ = KindFilter::of([AppEventKind::Started]);
    let _ = AppEvent::schema();
    let _ = AppEvent::from_data("app.started", serde_json::Value::Null);
    let _ = wants_events::<AppEvent>();
    let _ = format!("{kind} {kind:?}");
}
