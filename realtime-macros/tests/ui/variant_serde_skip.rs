use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("user.joined")]
    #[serde(skip)]
    Joined { id: String },
}

fn main() {}
