//! Warnings: what a generator could not express exactly, reported but not fatal.

/// Something the output does not check or type exactly (a keyword read as a wider type,
/// a 64-bit integer typed `number`); the output is still usable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// Where in the document.
    pub pointer: String,
    /// The events whose data contains the schema at `pointer` (several for a shared
    /// definition; none for a definition no event uses).
    pub events: Vec<String>,
    /// What, and what the output does instead.
    pub message: String,
}

impl Warning {
    pub(crate) fn new(pointer: &str, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.to_owned(),
            events: Vec::new(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.pointer, self.message)?;
        match self.events.as_slice() {
            [] => Ok(()),
            [event] => write!(f, " (event `{event}`)"),
            events => write!(f, " (events `{}`)", events.join("`, `")),
        }
    }
}
