//! Snapshot files: text a test generates (a JSON Schema, TypeScript, Rust, AsyncAPI) is
//! compared with the file committed in the repository, so that a change is a visible diff
//! in review. One switch rewrites them all: run the tests with `REALTIME_BLESS=1`.
//!
//! ```no_run
//! use realtime_snapshot::Snapshot;
//!
//! let generated = "export const events = [];\n";
//! Snapshot::new("tests/snapshots/events.ts")
//!     .regenerated_by("realtime-schema ts schema/app.json -o tests/snapshots/events.ts")
//!     .assert_matches(generated);
//! ```
//!
//! The crate has no dependencies, so every crate of the workspace can use it: realtime-core
//! for `EventSchema::assert_matches_file`, realtime-schema for
//! `check::assert_generated_file`, and their tests.

use std::path::{Path, PathBuf};

/// The environment variable that makes every snapshot assertion rewrite its file instead
/// of comparing; set it to `1`.
pub const OVERWRITE_VAR: &str = "REALTIME_BLESS";

/// Whether this test run rewrites snapshots (`REALTIME_BLESS=1`).
pub fn overwriting() -> bool {
    std::env::var_os(OVERWRITE_VAR).is_some_and(|value| value == "1")
}

/// A committed file that a test compares generated text with.
#[derive(Clone, Debug)]
#[must_use]
pub struct Snapshot {
    path: PathBuf,
    command: Option<String>,
}

impl Snapshot {
    /// The snapshot at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            command: None,
        }
    }

    /// A command that regenerates the file outside the tests; failures offer it too.
    pub fn regenerated_by(mut self, command: impl Into<String>) -> Self {
        self.command = Some(command.into());
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Passes when the file holds exactly `actual`; under `REALTIME_BLESS=1` writes
    /// `actual` to it instead.
    ///
    /// # Panics
    /// When the file cannot be read or written, or differs; the message says how to update it.
    #[track_caller]
    pub fn assert_matches(&self, actual: &str) {
        if let Err(problem) = self.compare(actual, overwriting()) {
            panic!("{problem}");
        }
    }

    /// [`assert_matches`](Self::assert_matches) without the environment: `overwrite`
    /// writes the file; `Err` says what is wrong and how to fix it.
    ///
    /// # Errors
    /// When the file cannot be read or written, or differs from `actual`.
    pub fn compare(&self, actual: &str, overwrite: bool) -> Result<(), String> {
        if overwrite {
            return std::fs::write(&self.path, actual)
                .map_err(|error| format!("cannot write {}: {error}", self.path.display()));
        }
        let committed = std::fs::read_to_string(&self.path)
            .map_err(|error| self.problem(&format!("cannot be read ({error})")))?;
        if committed == actual {
            return Ok(());
        }
        Err(self.problem(&format!(
            "is stale (not what the code generates today); {}",
            first_difference(&committed, actual)
        )))
    }

    /// The failure message for this snapshot: `{path} {what}; ` and how to update it.
    pub fn problem(&self, what: &str) -> String {
        let regenerate = self
            .command
            .as_ref()
            .map(|command| format!(", or run `{command}`"))
            .unwrap_or_default();
        format!(
            "{} {what}; review the change and rerun the test with {OVERWRITE_VAR}=1 to rewrite it{regenerate}",
            self.path.display()
        )
    }
}

/// Where two texts first differ, by line, for the failure message.
fn first_difference(committed: &str, actual: &str) -> String {
    let mut committed_lines = committed.lines();
    let mut actual_lines = actual.lines();
    let mut number = 1;
    loop {
        match (committed_lines.next(), actual_lines.next()) {
            (Some(old), Some(new)) if old == new => number += 1,
            (None, None) => return "they differ only in line endings".to_owned(),
            (old, new) => {
                return format!(
                    "line {number} is {:?} in the file, {:?} now",
                    old.unwrap_or("<end of file>"),
                    new.unwrap_or("<end of file>")
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("realtime-snapshot-{}-{name}", std::process::id()))
    }

    #[test]
    fn a_missing_file_fails_then_is_written_then_matches() {
        let path = scratch("missing");
        let _ = std::fs::remove_file(&path);
        let snapshot = Snapshot::new(&path).regenerated_by("make it");
        let missing = snapshot.compare("a\n", false).unwrap_err();
        assert!(missing.contains("cannot be read"), "{missing}");
        assert!(missing.contains("REALTIME_BLESS=1"), "{missing}");
        assert!(missing.ends_with(", or run `make it`"), "{missing}");
        assert_eq!(snapshot.compare("a\n", true), Ok(()));
        assert_eq!(snapshot.compare("a\n", false), Ok(()));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_changed_text_is_stale_and_names_the_first_different_line() {
        let path = scratch("stale");
        std::fs::write(&path, "same\nold\n").unwrap_or_else(|error| panic!("{error}"));
        let stale = Snapshot::new(&path)
            .compare("same\nnew\n", false)
            .unwrap_err();
        assert!(stale.contains("is stale"), "{stale}");
        assert!(
            stale.contains(r#"line 2 is "old" in the file, "new" now"#),
            "{stale}"
        );
        let shorter = Snapshot::new(&path).compare("same\n", false).unwrap_err();
        assert!(shorter.contains(r#""<end of file>" now"#), "{shorter}");
        let _ = std::fs::remove_file(&path);
    }
}
