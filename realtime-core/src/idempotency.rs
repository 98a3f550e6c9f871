//! Idempotent emits: an emit that carries a key is stored once per channel within a window;
//! a retry with the same key returns the original id instead of appending again, so a
//! caller that could not learn the outcome of an emit (a timeout, a dropped connection)
//! can safely send it again. As Stripe's `Idempotency-Key` and Centrifugo's
//! `idempotency_key` do.

use std::time::Duration;

/// How long a key is remembered unless set with
/// [`RealtimeBuilder::idempotency_window`](crate::RealtimeBuilder::idempotency_window).
pub const DEFAULT_IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(5 * 60);

/// The longest idempotency key accepted, in bytes.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// An idempotency key that breaks the rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid idempotency key: {reason}")]
pub struct InvalidIdempotencyKey {
    /// What rule it breaks and what is expected.
    pub reason: &'static str,
}

/// Checks an idempotency key: 1 to [`MAX_IDEMPOTENCY_KEY_LEN`] bytes of visible ASCII
/// (`!` to `~`; a UUID is a good key).
///
/// ```
/// use realtime_core::idempotency::check_idempotency_key;
///
/// assert!(check_idempotency_key("order-42:shipped").is_ok());
/// assert!(check_idempotency_key("").is_err());
/// assert!(check_idempotency_key("two words").is_err());
/// ```
///
/// # Errors
/// [`InvalidIdempotencyKey`] saying which rule the key breaks.
pub fn check_idempotency_key(key: &str) -> Result<(), InvalidIdempotencyKey> {
    let reason = if key.is_empty() {
        Some("it is empty; expected 1 to 255 visible ASCII characters")
    } else if key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        Some("it is longer than 255 bytes")
    } else if !key.bytes().all(|byte| byte.is_ascii_graphic()) {
        Some("expected only visible ASCII characters (`!` to `~`, no spaces)")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(InvalidIdempotencyKey { reason }),
    }
}
