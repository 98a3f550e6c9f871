//! The one error type of this crate.

use std::path::PathBuf;

/// What went wrong reading a schema document or writing generated code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is not JSON at all.
    #[error("{path}: not JSON: {source}")]
    NotJson {
        /// The file that was read (`-` for standard input).
        path: String,
        /// The parser's error, with line and column.
        source: serde_json::Error,
    },
    /// The JSON is not a realtime schema document (as written by `EventSchema::document()`).
    #[error("not a realtime schema document: at {pointer}: {reason}")]
    NotDocument {
        /// The JSON pointer of the offending value (`""` is the whole document).
        pointer: String,
        /// What was expected there.
        reason: String,
    },
    /// A JSON Schema construct that the generators do not support.
    #[error("unsupported schema at {pointer}: {what}")]
    Unsupported {
        /// The JSON pointer of the offending schema or keyword.
        pointer: String,
        /// The construct, and what is supported instead.
        what: String,
    },
    /// A schema keyword with a value of the wrong shape.
    #[error("malformed schema at {pointer}: {reason}")]
    Malformed {
        /// The JSON pointer of the offending value.
        pointer: String,
        /// What was expected there.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn unsupported(pointer: &str, what: impl Into<String>) -> Self {
        Self::Unsupported {
            pointer: pointer.to_owned(),
            what: what.into(),
        }
    }

    pub(crate) fn malformed(pointer: &str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            pointer: pointer.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn not_document(pointer: &str, reason: impl Into<String>) -> Self {
        Self::NotDocument {
            pointer: pointer.to_owned(),
            reason: reason.into(),
        }
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
