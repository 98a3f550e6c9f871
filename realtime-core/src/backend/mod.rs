//! The storage boundary: what a backend (memory, Redis) must provide.

/// A failure of the storage backend.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct BackendError {
    message: String,
}
