use std::collections::BTreeMap;

use realtime_core::Events;

/// An app's own type that is only called `Option`.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Debug)]
struct Option<T>(Vec<T>);

#[derive(Events, Clone, Debug)]
enum AppEvent {
    #[event("scores.set")]
    Scores { by_level: Option<BTreeMap<u8, u32>> },
}

fn main() {}
