//! Compatibility diff of two schema documents.
//!
//! Every change is classified twice: for **consumers** (old clients, e.g. a stale browser
//! tab, reading events written by new code: forward compatibility) and for **readers of
//! history** (new code reading events that old code wrote: backward compatibility).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{Number, Value};

use crate::model::{Additional, Document, Kind, NumberRules, ObjectRules, Schema, StringRules};

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

/// Compares `old` with `new`.
pub fn diff(old: &Document, new: &Document) -> Report {
    let mut differ = Differ {
        old,
        new,
        event: String::new(),
        visited: BTreeSet::new(),
        changes: Vec::new(),
    };
    for (index, event) in new.events.iter().enumerate() {
        differ.event.clone_from(&event.name);
        differ.visited.clear();
        match old.event(&event.name) {
            None => differ.push(
                "",
                &format!("/oneOf/{index}"),
                ChangeKind::EventAdded,
                Safe,
                Safe,
            ),
            Some(before) => differ.compare(&before.data, &event.data, ""),
        }
    }
    for (index, event) in old.events.iter().enumerate() {
        if new.event(&event.name).is_none() {
            differ.event.clone_from(&event.name);
            differ.push(
                "",
                &format!("/oneOf/{index} (old)"),
                ChangeKind::EventRemoved,
                Safe,
                Breaking,
            );
        }
    }
    Report {
        title: new.title.clone(),
        changes: differ.changes,
    }
}

struct Differ<'a> {
    old: &'a Document,
    new: &'a Document,
    event: String,
    /// Pairs of definitions already compared for this event (recursive types).
    visited: BTreeSet<(String, String)>,
    changes: Vec<Change>,
}

impl<'a> Differ<'a> {
    fn push(
        &mut self,
        path: &str,
        pointer: &str,
        kind: ChangeKind,
        consumers: Impact,
        history: Impact,
    ) {
        self.changes.push(Change {
            event: self.event.clone(),
            path: path.to_owned(),
            pointer: pointer.to_owned(),
            kind,
            consumers,
            history,
        });
    }

    /// A change that narrows what is accepted: old clients are fine (new writers send a
    /// subset), old history may not pass.
    fn tightened(&mut self, path: &str, pointer: &str, constraint: &str, from: String, to: String) {
        let kind = ChangeKind::ConstraintTightened {
            constraint: constraint.to_owned(),
            from,
            to,
        };
        self.push(path, pointer, kind, Safe, Breaking);
    }

    fn loosened(&mut self, path: &str, pointer: &str, constraint: &str, from: String, to: String) {
        let kind = ChangeKind::ConstraintLoosened {
            constraint: constraint.to_owned(),
            from,
            to,
        };
        self.push(path, pointer, kind, Breaking, Safe);
    }

    fn resolve(document: &'a Document, mut schema: &'a Schema) -> (&'a Schema, Option<String>) {
        let mut name = None;
        for _ in 0..32 {
            let Kind::Ref(target) = &schema.kind else {
                break;
            };
            match document.definition(target) {
                Some(definition) => {
                    name = Some(target.clone());
                    schema = definition;
                }
                None => break,
            }
        }
        (schema, name)
    }

    fn compare(&mut self, old: &'a Schema, new: &'a Schema, path: &str) {
        let (old, old_name) = Self::resolve(self.old, old);
        let (new, new_name) = Self::resolve(self.new, new);
        if let (Some(old_name), Some(new_name)) = (old_name, new_name) {
            if !self.visited.insert((old_name, new_name)) {
                return;
            }
        }
        let pointer = new.pointer.as_str();
        match (&old.kind, &new.kind) {
            (Kind::Nullable(old), Kind::Nullable(new)) => self.compare(old, new, path),
            (Kind::Nullable(old), _) if !matches!(new.kind, Kind::Any) => {
                self.push(path, pointer, ChangeKind::NoLongerNullable, Safe, Breaking);
                self.compare(old, new, path);
            }
            (_, Kind::Nullable(new)) if !matches!(old.kind, Kind::Any) => {
                self.push(
                    path,
                    &new.pointer,
                    ChangeKind::BecameNullable,
                    Breaking,
                    Safe,
                );
                self.compare(old, new, path);
            }
            (Kind::Any, Kind::Any) | (Kind::Null, Kind::Null) | (Kind::Boolean, Kind::Boolean) => {}
            (Kind::String(old), Kind::String(new)) => self.strings(old, new, path, pointer),
            (Kind::Integer(old), Kind::Integer(new)) | (Kind::Number(old), Kind::Number(new)) => {
                self.numbers(&old.effective(), &new.effective(), path, pointer);
            }
            (Kind::Integer(old_rules), Kind::Number(new_rules)) => {
                self.push(
                    path,
                    pointer,
                    type_change(&old.kind, &new.kind),
                    Breaking,
                    Safe,
                );
                self.numbers(&old_rules.effective(), new_rules, path, pointer);
            }
            (Kind::Number(old_rules), Kind::Integer(new_rules)) => {
                self.push(
                    path,
                    pointer,
                    type_change(&old.kind, &new.kind),
                    Safe,
                    Breaking,
                );
                self.numbers(old_rules, &new_rules.effective(), path, pointer);
            }
            (Kind::Array(old), Kind::Array(new)) => {
                self.compare(&old.items, &new.items, &format!("{path}[]"));
                self.bound(
                    path,
                    pointer,
                    "minItems",
                    old.min_items,
                    new.min_items,
                    true,
                );
                self.bound(
                    path,
                    pointer,
                    "maxItems",
                    old.max_items,
                    new.max_items,
                    false,
                );
                if old.unique != new.unique {
                    let (from, to) = (old.unique.to_string(), new.unique.to_string());
                    if new.unique {
                        self.tightened(path, pointer, "uniqueItems", from, to);
                    } else {
                        self.loosened(path, pointer, "uniqueItems", from, to);
                    }
                }
            }
            (
                Kind::Tuple {
                    items: old_items,
                    rest: old_rest,
                },
                Kind::Tuple {
                    items: new_items,
                    rest: new_rest,
                },
            ) if old_items.len() == new_items.len() && old_rest.is_some() == new_rest.is_some() => {
                for (index, (old, new)) in old_items.iter().zip(new_items).enumerate() {
                    self.compare(old, new, &format!("{path}[{index}]"));
                }
                if let (Some(old), Some(new)) = (old_rest, new_rest) {
                    self.compare(old, new, &format!("{path}[]"));
                }
            }
            (Kind::Object(old), Kind::Object(new)) => self.objects(old, new, path, pointer),
            (Kind::Enum(_) | Kind::Const(_), Kind::Enum(_) | Kind::Const(_)) => {
                self.values(&values(&old.kind), &values(&new.kind), path, pointer);
            }
            (Kind::Enum(_) | Kind::Const(_), Kind::String(_)) if all_strings(&old.kind) => {
                let from = type_name(&old.kind);
                self.loosened(path, pointer, "enum", from, "any string".to_owned());
            }
            (Kind::String(_), Kind::Enum(_) | Kind::Const(_)) if all_strings(&new.kind) => {
                let to = type_name(&new.kind);
                self.tightened(path, pointer, "enum", "any string".to_owned(), to);
            }
            (_, Kind::Any) => {
                self.push(
                    path,
                    pointer,
                    type_change(&old.kind, &new.kind),
                    Breaking,
                    Safe,
                );
            }
            (Kind::Any, _) => {
                self.push(
                    path,
                    pointer,
                    type_change(&old.kind, &new.kind),
                    Safe,
                    Breaking,
                );
            }
            (Kind::Union { variants: old, .. }, Kind::Union { variants: new, .. }) => {
                self.unions(old, new, path);
            }
            (Kind::AllOf(old), Kind::AllOf(new)) if old.len() == new.len() => {
                for (old, new) in old.iter().zip(new) {
                    self.compare(old, new, path);
                }
            }
            _ => self.push(
                path,
                pointer,
                type_change(&old.kind, &new.kind),
                Breaking,
                Breaking,
            ),
        }
    }

    fn strings(&mut self, old: &StringRules, new: &StringRules, path: &str, pointer: &str) {
        self.bound(
            path,
            pointer,
            "minLength",
            old.min_length,
            new.min_length,
            true,
        );
        self.bound(
            path,
            pointer,
            "maxLength",
            old.max_length,
            new.max_length,
            false,
        );
        for (constraint, old, new) in [
            ("pattern", &old.pattern, &new.pattern),
            ("format", &old.format, &new.format),
        ] {
            let show = |value: &Option<String>| {
                value
                    .as_deref()
                    .map_or_else(|| "none".to_owned(), |value| format!("`{value}`"))
            };
            match (old, new) {
                (None, Some(_)) => self.tightened(path, pointer, constraint, show(old), show(new)),
                (Some(_), None) => self.loosened(path, pointer, constraint, show(old), show(new)),
                (Some(a), Some(b)) if a != b => {
                    let kind = ChangeKind::ConstraintChanged {
                        constraint: constraint.to_owned(),
                        from: show(old),
                        to: show(new),
                    };
                    self.push(path, pointer, kind, Breaking, Breaking);
                }
                _ => {}
            }
        }
    }

    fn numbers(&mut self, old: &NumberRules, new: &NumberRules, path: &str, pointer: &str) {
        let lower = |rules: &NumberRules| {
            let inclusive = rules.minimum.as_ref().and_then(Number::as_f64);
            let exclusive = rules.exclusive_minimum.as_ref().and_then(Number::as_f64);
            match (inclusive, exclusive) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            }
        };
        let upper = |rules: &NumberRules| {
            let inclusive = rules.maximum.as_ref().and_then(Number::as_f64);
            let exclusive = rules.exclusive_maximum.as_ref().and_then(Number::as_f64);
            match (inclusive, exclusive) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        self.float_bound(path, pointer, "minimum", lower(old), lower(new), true);
        self.float_bound(path, pointer, "maximum", upper(old), upper(new), false);
        let multiple = |rules: &NumberRules| rules.multiple_of.as_ref().map(ToString::to_string);
        if multiple(old) != multiple(new) {
            let show = |value: Option<String>| value.unwrap_or_else(|| "none".to_owned());
            let (from, to) = (show(multiple(old)), show(multiple(new)));
            if old.multiple_of.is_none() {
                self.tightened(path, pointer, "multipleOf", from, to);
            } else if new.multiple_of.is_none() {
                self.loosened(path, pointer, "multipleOf", from, to);
            } else {
                let kind = ChangeKind::ConstraintChanged {
                    constraint: "multipleOf".to_owned(),
                    from,
                    to,
                };
                self.push(path, pointer, kind, Breaking, Breaking);
            }
        }
    }

    /// A lower (`is_lower`) or upper bound on a count.
    fn bound(
        &mut self,
        path: &str,
        pointer: &str,
        name: &str,
        old: Option<u64>,
        new: Option<u64>,
        is_lower: bool,
    ) {
        self.float_bound(
            path,
            pointer,
            name,
            old.map(|v| v as f64),
            new.map(|v| v as f64),
            is_lower,
        );
    }

    fn float_bound(
        &mut self,
        path: &str,
        pointer: &str,
        name: &str,
        old: Option<f64>,
        new: Option<f64>,
        is_lower: bool,
    ) {
        if old == new {
            return;
        }
        let show =
            |value: Option<f64>| value.map_or_else(|| "none".to_owned(), |value| value.to_string());
        let (from, to) = (show(old), show(new));
        let tighter = match (old, new) {
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(old), Some(new)) => (new > old) == is_lower,
            (None, None) => return,
        };
        if tighter {
            self.tightened(path, pointer, name, from, to);
        } else {
            self.loosened(path, pointer, name, from, to);
        }
    }

    fn values(&mut self, old: &[Value], new: &[Value], path: &str, pointer: &str) {
        for value in new.iter().filter(|value| !old.contains(value)) {
            self.push(
                path,
                pointer,
                ChangeKind::EnumValueAdded(value.clone()),
                Breaking,
                Safe,
            );
        }
        for value in old.iter().filter(|value| !new.contains(value)) {
            self.push(
                path,
                pointer,
                ChangeKind::EnumValueRemoved(value.clone()),
                Safe,
                Breaking,
            );
        }
    }

    fn objects(&mut self, old: &'a ObjectRules, new: &'a ObjectRules, path: &str, pointer: &str) {
        let closed = |rules: &ObjectRules| {
            matches!(
                rules.additional,
                Additional::Forbidden | Additional::Schema(_)
            )
        };
        for property in &new.properties {
            let field_path = format!("{path}.{}", property.name);
            match old.properties.iter().find(|old| old.name == property.name) {
                None => {
                    let consumers = if closed(old) { Breaking } else { Safe };
                    let history = if property.required { Breaking } else { Safe };
                    let kind = ChangeKind::FieldAdded {
                        required: property.required,
                    };
                    self.push(
                        &field_path,
                        &property.schema.pointer,
                        kind,
                        consumers,
                        history,
                    );
                }
                Some(before) => {
                    match (before.required, property.required) {
                        (false, true) => self.push(
                            &field_path,
                            &property.schema.pointer,
                            ChangeKind::FieldBecameRequired,
                            Safe,
                            Breaking,
                        ),
                        (true, false) => self.push(
                            &field_path,
                            &property.schema.pointer,
                            ChangeKind::FieldBecameOptional,
                            Breaking,
                            Safe,
                        ),
                        _ => {}
                    }
                    self.compare(&before.schema, &property.schema, &field_path);
                }
            }
        }
        for before in &old.properties {
            if !new
                .properties
                .iter()
                .any(|property| property.name == before.name)
            {
                let consumers = if before.required { Breaking } else { Safe };
                let history = if closed(new) { Breaking } else { Safe };
                let kind = ChangeKind::FieldRemoved {
                    required: before.required,
                };
                let field_path = format!("{path}.{}", before.name);
                self.push(
                    &field_path,
                    &before.schema.pointer,
                    kind,
                    consumers,
                    history,
                );
            }
        }
        let show = |additional: &Additional| match additional {
            Additional::Unspecified => "unspecified",
            Additional::Allowed => "true",
            Additional::Forbidden => "false",
            Additional::Schema(_) => "a schema",
        };
        match (&old.additional, &new.additional) {
            (Additional::Schema(old), Additional::Schema(new)) => {
                self.compare(old, new, &format!("{path}.*"));
            }
            (a, b)
                if closed(old) == closed(new)
                    && matches!(a, Additional::Forbidden) == matches!(b, Additional::Forbidden) => {
            }
            (a, b) => {
                let tighter = matches!(b, Additional::Forbidden)
                    || (matches!(b, Additional::Schema(_)) && !matches!(a, Additional::Forbidden));
                let (from, to) = (show(a).to_owned(), show(b).to_owned());
                if tighter {
                    self.tightened(path, pointer, "additionalProperties", from, to);
                } else {
                    self.loosened(path, pointer, "additionalProperties", from, to);
                }
            }
        }
    }

    fn unions(&mut self, old: &'a [Schema], new: &'a [Schema], path: &str) {
        let old_keys: Vec<String> = old.iter().map(|v| variant_key(self.old, v)).collect();
        let new_keys: Vec<String> = new.iter().map(|v| variant_key(self.new, v)).collect();
        for (variant, key) in new.iter().zip(&new_keys) {
            let variant_path = format!("{path}<{key}>");
            match old_keys.iter().position(|old_key| old_key == key) {
                Some(index) => self.compare(&old[index], variant, &variant_path),
                None => self.push(
                    &variant_path,
                    &variant.pointer,
                    ChangeKind::VariantAdded(key.clone()),
                    Breaking,
                    Safe,
                ),
            }
        }
        for (variant, key) in old.iter().zip(&old_keys) {
            if !new_keys.contains(key) {
                self.push(
                    &format!("{path}<{key}>"),
                    &variant.pointer,
                    ChangeKind::VariantRemoved(key.clone()),
                    Safe,
                    Breaking,
                );
            }
        }
    }
}

/// The identity of a union variant across versions: its tag value for internally and
/// adjacently tagged enums, its single key for externally tagged ones, `values` for the
/// unit variants (compared value by value), or its type for untagged ones.
fn variant_key(document: &Document, schema: &Schema) -> String {
    match &schema.kind {
        Kind::Ref(name) => match document.definition(name) {
            Some(target) if !matches!(target.kind, Kind::Ref(_)) => {
                let key = variant_key(document, target);
                if matches!(target.kind, Kind::Object(_) | Kind::AllOf(_))
                    && !key.contains(['=', '{'])
                {
                    name.clone()
                } else {
                    key
                }
            }
            _ => name.clone(),
        },
        Kind::Object(rules) => {
            for property in &rules.properties {
                if let Kind::Const(value) = &property.schema.kind {
                    return format!("{}={value}", property.name);
                }
            }
            match rules.properties.as_slice() {
                [only] if only.required && rules.additional == Additional::Forbidden => {
                    format!("{{{}}}", only.name)
                }
                _ => "object".to_owned(),
            }
        }
        Kind::AllOf(parts) => parts
            .iter()
            .map(|part| variant_key(document, part))
            .find(|key| key.contains(['=', '{']))
            .unwrap_or_else(|| "allOf".to_owned()),
        Kind::Enum(_) => "values".to_owned(),
        Kind::Const(value) => format!("={value}"),
        other => kind_name(other),
    }
}

fn values(kind: &Kind) -> Vec<Value> {
    match kind {
        Kind::Enum(values) => values.clone(),
        Kind::Const(value) => vec![value.clone()],
        _ => Vec::new(),
    }
}

fn all_strings(kind: &Kind) -> bool {
    values(kind).iter().all(Value::is_string)
}

fn type_change(from: &Kind, to: &Kind) -> ChangeKind {
    ChangeKind::TypeChanged {
        from: type_name(from),
        to: type_name(to),
    }
}

fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Any => "any",
        Kind::Null => "null",
        Kind::Boolean => "boolean",
        Kind::String(_) => "string",
        Kind::Integer(_) => "integer",
        Kind::Number(_) => "number",
        Kind::Array(_) => "array",
        Kind::Tuple { .. } => "tuple",
        Kind::Object(_) => "object",
        Kind::Enum(_) => "enum",
        Kind::Const(_) => "const",
        Kind::Ref(_) => "ref",
        Kind::Nullable(_) => "nullable",
        Kind::Union { .. } => "union",
        Kind::AllOf(_) => "allOf",
    }
    .to_owned()
}

fn type_name(kind: &Kind) -> String {
    match kind {
        Kind::Enum(values) => values
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(" | "),
        Kind::Const(value) => value.to_string(),
        Kind::Tuple { items, .. } => format!("tuple of {}", items.len()),
        Kind::Ref(name) => name.clone(),
        other => kind_name(other),
    }
}
