//! The notification events.

use realtime_core::Events;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How serious a notification is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// For information.
    Info,
    /// Something to look at.
    Warning,
    /// Something went wrong.
    Error,
}

/// A notification for one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// A short title: 1 to 80 characters.
    #[schemars(length(min = 1, max = 80))]
    pub title: String,
    /// The text: at most 500 characters.
    #[schemars(length(max = 500))]
    pub body: String,
    /// How serious it is.
    pub level: Level,
}

/// Every realtime event of the example.
#[derive(Events, Clone, Debug, PartialEq)]
pub enum NotificationEvent {
    /// A notification (on the channel `user-<id>`).
    #[event("notification.alert")]
    Alert(Alert),
}
