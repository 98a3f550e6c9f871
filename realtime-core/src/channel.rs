//! Channel names and the per-channel handle.

/// The longest channel name accepted, in bytes.
pub const MAX_CHANNEL_NAME_LEN: usize = 128;

/// A channel name that breaks the naming rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid channel name `{name}`: {reason}")]
pub struct InvalidChannelName {
    /// The name (cut to 64 characters).
    pub name: String,
    /// What rule it breaks and what is expected.
    pub reason: &'static str,
}
