use realtime_core::Events;

#[derive(Events, Clone)]
enum AppEvent {
    #[event("user.joined")]
    #[serde(rename = "user.arrived")]
    Joined { id: String },
}

fn main() {}
