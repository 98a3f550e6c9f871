//! Compatibility diff of two schema documents.
//!
//! Every change is classified twice: for **consumers** (old clients, e.g. a stale browser
//! tab, reading events written by new code: forward compatibility) and for **readers of
//! history** (new code reading events that old code wrote: backward compatibility).

mod compare;
mod keys;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

pub use compare::diff;

/// Which compatibility a diff must keep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// New code reads old events (replayed history).
    Backward,
    /// Old clients read new events (stale browser tabs).
    Forward,
    /// Both (the default).
    #[default]
    Full,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Backward => "backward",
            Mode::Forward => "forward",
            Mode::Full => "full",
        })
    }
}

/// Whether a change breaks one audience.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impact {
    /// Every message stays readable.
    Safe,
    /// Some message may be refused or misread.
    Breaking,
}

use Impact::{Breaking, Safe};

/// What changed.
#[derive(Clone, Debug, PartialEq)]
pub enum ChangeKind {
    /// A new event.
    EventAdded,
    /// An event is gone.
    EventRemoved,
    /// A property was added.
    FieldAdded {
        /// Whether it is required.
        required: bool,
    },
    /// A property was removed.
    FieldRemoved {
        /// Whether it was required.
        required: bool,
    },
    /// An optional property became required.
    FieldBecameRequired,
    /// A required property became optional.
    FieldBecameOptional,
    /// The type changed, e.g. `string` to `integer`.
    TypeChanged {
        /// The old type.
        from: String,
        /// The new type.
        to: String,
    },
    /// An allowed value was added to an enum (or a const became an enum).
    EnumValueAdded(Value),
    /// An allowed value was removed.
    EnumValueRemoved(Value),
    /// A variant of a union (a serde enum) was added.
    VariantAdded(String),
    /// A variant of a union was removed.
    VariantRemoved(String),
    /// A constraint now accepts fewer values.
    ConstraintTightened {
        /// The keyword, e.g. `maxLength`.
        constraint: String,
        /// Old value (`none` when absent).
        from: String,
        /// New value.
        to: String,
    },
    /// A constraint now accepts more values.
    ConstraintLoosened {
        /// The keyword.
        constraint: String,
        /// Old value.
        from: String,
        /// New value.
        to: String,
    },
    /// A constraint changed in a way that is neither (e.g. another `pattern`).
    ConstraintChanged {
        /// The keyword.
        constraint: String,
        /// Old value.
        from: String,
        /// New value.
        to: String,
    },
    /// `null` is now accepted.
    BecameNullable,
    /// `null` is no longer accepted.
    NoLongerNullable,
}

/// One classified change.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The event it affects.
    pub event: String,
    /// Where in the event's data, e.g. `.items[].qty` (`""` is the data itself).
    pub path: String,
    /// The JSON pointer of the schema in the new document (the old one for removals).
    pub pointer: String,
    /// What changed.
    pub kind: ChangeKind,
    /// For old clients reading new events.
    pub consumers: Impact,
    /// For new code reading old events.
    pub history: Impact,
}

impl Change {
    /// Whether this change breaks compatibility under `mode`.
    pub fn breaks(&self, mode: Mode) -> bool {
        match mode {
            Mode::Forward => self.consumers == Breaking,
            Mode::Backward => self.history == Breaking,
            Mode::Full => self.consumers == Breaking || self.history == Breaking,
        }
    }

    /// A one-line description of the change.
    pub fn summary(&self) -> String {
        let field = self.path.rsplit('.').next().unwrap_or("");
        match &self.kind {
            ChangeKind::EventAdded => "event added".to_owned(),
            ChangeKind::EventRemoved => "event removed".to_owned(),
            ChangeKind::FieldAdded { required } => format!(
                "field `{field}` added ({})",
                if *required { "required" } else { "optional" }
            ),
            ChangeKind::FieldRemoved { required } => format!(
                "field `{field}` removed (was {})",
                if *required { "required" } else { "optional" }
            ),
            ChangeKind::FieldBecameRequired => format!("field `{field}` became required"),
            ChangeKind::FieldBecameOptional => format!("field `{field}` became optional"),
            ChangeKind::TypeChanged { from, to } => format!("type changed: {from} → {to}"),
            ChangeKind::EnumValueAdded(value) => format!("enum value {value} added"),
            ChangeKind::EnumValueRemoved(value) => format!("enum value {value} removed"),
            ChangeKind::VariantAdded(key) => format!("variant {key} added"),
            ChangeKind::VariantRemoved(key) => format!("variant {key} removed"),
            ChangeKind::ConstraintTightened {
                constraint,
                from,
                to,
            } => format!("`{constraint}` tightened: {from} → {to}"),
            ChangeKind::ConstraintLoosened {
                constraint,
                from,
                to,
            } => format!("`{constraint}` loosened: {from} → {to}"),
            ChangeKind::ConstraintChanged {
                constraint,
                from,
                to,
            } => format!("`{constraint}` changed: {from} → {to}"),
            ChangeKind::BecameNullable => "now nullable".to_owned(),
            ChangeKind::NoLongerNullable => "no longer nullable".to_owned(),
        }
    }
}

/// Every change between two documents.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The title of the new document.
    pub title: String,
    /// The changes, grouped by event in the new document's order (removed events last).
    pub changes: Vec<Change>,
}

impl Report {
    /// Whether any change breaks compatibility under `mode`.
    pub fn is_breaking(&self, mode: Mode) -> bool {
        self.changes.iter().any(|change| change.breaks(mode))
    }

    /// The one-line verdict.
    pub fn verdict(&self, mode: Mode) -> String {
        let breaking = self
            .changes
            .iter()
            .filter(|change| change.breaks(mode))
            .count();
        let events: BTreeSet<&str> = self
            .changes
            .iter()
            .map(|change| change.event.as_str())
            .collect();
        let total = format!(
            "{} change{} in {} event{}",
            self.changes.len(),
            plural(self.changes.len()),
            events.len(),
            plural(events.len())
        );
        if self.changes.is_empty() {
            format!("✅ No changes to the events of `{}`.", self.title)
        } else if breaking == 0 {
            format!("✅ Compatible under `{mode}`: {total}, none breaking.")
        } else {
            format!("❌ Breaking under `{mode}`: {breaking} of {total} break compatibility.")
        }
    }

    /// The report as Markdown, for a pull request: the verdict, then a table per event.
    pub fn to_markdown(&self, mode: Mode) -> String {
        let mut out = format!("## Event schema diff: `{}`\n\n", self.title);
        let _ = writeln!(out, "**{}**\n", self.verdict(mode));
        if self.changes.is_empty() {
            return out;
        }
        out.push_str("*Old clients*: clients built from the old schema reading new events (stale browser tabs). *History*: new code reading events written by old code.\n");
        let mut events: Vec<&str> = Vec::new();
        for change in &self.changes {
            if !events.contains(&change.event.as_str()) {
                events.push(&change.event);
            }
        }
        for event in events {
            let _ = writeln!(
                out,
                "\n### `{event}`\n\n| | change | where | old clients | history |\n|---|---|---|---|---|"
            );
            for change in self.changes.iter().filter(|change| change.event == event) {
                let mark = if change.breaks(mode) { "❌" } else { "✅" };
                let path = if change.path.is_empty() {
                    "data".to_owned()
                } else {
                    format!("data{}", change.path)
                };
                let _ = writeln!(
                    out,
                    "| {mark} | {} | `{path}` <br> `{}` | {} | {} |",
                    change.summary().replace('|', "\\|"),
                    change.pointer,
                    impact(change.consumers),
                    impact(change.history),
                );
            }
        }
        out
    }
}

fn impact(impact: Impact) -> &'static str {
    match impact {
        Safe => "safe",
        Breaking => "**breaking**",
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
