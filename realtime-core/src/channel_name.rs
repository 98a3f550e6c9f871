//! Channel names: the rule every name follows, and [`ChannelName`], a name checked once
//! at the boundary (an HTTP query, an emit route, [`Realtime::channel`]) and carried from
//! there to the storage key, so no layer checks a string again.
//!
//! [`Realtime::channel`]: crate::Realtime::channel

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;
use std::sync::Arc;

/// The channel that [`Realtime::emit`](crate::Realtime::emit) and
/// [`Realtime::subscribe`](crate::Realtime::subscribe) use.
pub const DEFAULT_CHANNEL: &str = "default";

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

/// Checks a channel name: 1 to [`MAX_CHANNEL_NAME_LEN`] bytes of ASCII letters, digits and
/// `- _ . : @ /`. Names reach storage keys and URLs, so nothing else is accepted.
///
/// ```
/// use realtime_core::channel::check_channel_name;
///
/// assert!(check_channel_name("user-123").is_ok());
/// assert!(check_channel_name("team:42/general").is_ok());
/// assert!(check_channel_name("room 1").is_err());
/// assert!(check_channel_name("").is_err());
/// ```
///
/// # Errors
/// [`InvalidChannelName`] saying which rule the name breaks.
pub fn check_channel_name(name: &str) -> Result<(), InvalidChannelName> {
    let reason = if name.is_empty() {
        Some("it is empty; expected 1 to 128 characters")
    } else if name.len() > MAX_CHANNEL_NAME_LEN {
        Some("it is longer than 128 bytes")
    } else if !name.bytes().all(is_channel_byte) {
        Some("expected only ASCII letters, digits and `-_.:@/`")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(InvalidChannelName {
            name: name.chars().take(64).collect(),
            reason,
        }),
    }
}

fn is_channel_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b':' | b'@' | b'/')
}

/// A channel name that follows the rule of [`check_channel_name`].
///
/// ```
/// use realtime_core::channel::ChannelName;
///
/// let room: ChannelName = "room-42".parse()?;
/// assert_eq!(room, "room-42");
/// assert!(room.starts_with("room-"));
/// assert!(ChannelName::new("room 42").is_err());
/// # Ok::<(), realtime_core::channel::InvalidChannelName>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelName(Arc<str>);

impl ChannelName {
    /// Checks `name` and keeps it.
    ///
    /// # Errors
    /// [`InvalidChannelName`] saying which rule the name breaks.
    pub fn new(name: impl AsRef<str>) -> Result<Self, InvalidChannelName> {
        let name = name.as_ref();
        check_channel_name(name)?;
        Ok(Self(Arc::from(name)))
    }

    /// The channel [`DEFAULT_CHANNEL`] (`default`).
    pub fn default_channel() -> Self {
        Self(Arc::from(DEFAULT_CHANNEL))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as a shared string.
    pub(crate) fn shared(&self) -> &Arc<str> {
        &self.0
    }
}

impl Deref for ChannelName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ChannelName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl FromStr for ChannelName {
    type Err = InvalidChannelName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::new(name)
    }
}

impl TryFrom<&str> for ChannelName {
    type Error = InvalidChannelName;

    fn try_from(name: &str) -> Result<Self, Self::Error> {
        Self::new(name)
    }
}

impl TryFrom<String> for ChannelName {
    type Error = InvalidChannelName;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        Self::new(name)
    }
}

impl PartialEq<str> for ChannelName {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<String> for ChannelName {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<&str> for ChannelName {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

/// What [`Realtime::channel`](crate::Realtime::channel) takes: a [`ChannelName`] (checked
/// already), or a string, checked once when the handle is made.
pub trait IntoChannelName {
    /// The checked name.
    ///
    /// # Errors
    /// [`InvalidChannelName`] for a string that breaks the rule.
    fn into_channel_name(self) -> Result<ChannelName, InvalidChannelName>;
}

impl IntoChannelName for ChannelName {
    fn into_channel_name(self) -> Result<ChannelName, InvalidChannelName> {
        Ok(self)
    }
}

impl IntoChannelName for &ChannelName {
    fn into_channel_name(self) -> Result<ChannelName, InvalidChannelName> {
        Ok(self.clone())
    }
}

impl IntoChannelName for &str {
    fn into_channel_name(self) -> Result<ChannelName, InvalidChannelName> {
        ChannelName::new(self)
    }
}

impl IntoChannelName for String {
    fn into_channel_name(self) -> Result<ChannelName, InvalidChannelName> {
        ChannelName::new(self)
    }
}

impl IntoChannelName for &String {
    fn into_channel_name(self) -> Result<ChannelName, InvalidChannelName> {
        ChannelName::new(self)
    }
}
