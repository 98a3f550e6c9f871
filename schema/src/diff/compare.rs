//! The comparison: both documents walked together, `$ref`s followed, each change
//! classified for old clients and for readers of history.

use std::collections::BTreeSet;

use serde_json::{Number, Value};

use super::Impact::{Breaking, Safe};
use super::{Change, ChangeKind, Impact, Report, keys};
use crate::model::{Additional, Document, Kind, NumberRules, ObjectRules, Schema, StringRules};

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
        let Some(reader) = &new.accepts else {
            self.compare_resolved(old, new, path);
            return;
        };
        if old
            .accepts
            .as_deref()
            .is_some_and(|before| self.same_wire(before, reader))
        {
            // The same reader: what it writes is compared as for any type.
            self.compare_resolved(old, new, path);
            return;
        }
        // The new type reads more than it writes (`u32` to `rust_decimal::Decimal`, which
        // reads the numbers history holds): old clients get what it writes, readers of
        // history are asked of what it reads.
        let start = self.changes.len();
        self.compare_resolved(old, new, path);
        let written = self.changes.split_off(start);
        self.compare(old, reader, path);
        let read = self.changes.split_off(start);
        // What concerns old clients, from the written side; what concerns history, from
        // the read side.
        for mut change in written {
            if change.consumers == Breaking || change.history == Safe {
                change.history = Safe;
                self.changes.push(change);
            }
        }
        for mut change in read {
            if change.history == Breaking {
                change.consumers = Safe;
                self.changes.push(change);
            }
        }
    }

    fn compare_resolved(&mut self, old: &'a Schema, new: &'a Schema, path: &str) {
        let pointer = new.pointer.as_str();
        // A string enum is an `enum`, or a `oneOf` of `const`s once its variants have doc
        // comments: the same values on the wire.
        if let (Some(old_values), Some(new_values)) = (literals(old), literals(new)) {
            self.values(&old_values, &new_values, path, pointer);
            return;
        }
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
            (Kind::String(old), Kind::String(new)) => {
                self.strings(old, new, path, pointer);
                self.urls(old, new, path, pointer);
            }
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
            (_, Kind::String(_)) if literals(old).is_some_and(|values| all_strings(&values)) => {
                let from = type_name(&old.kind);
                self.loosened(path, pointer, "enum", from, "any string".to_owned());
            }
            (Kind::String(_), _) if literals(new).is_some_and(|values| all_strings(&values)) => {
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
                self.unions(old, new, path, pointer);
            }
            // One variant became several, or several one: compared as unions.
            (Kind::Union { variants, .. }, _) if !matches!(new.kind, Kind::AllOf(_)) => {
                self.unions(variants, std::slice::from_ref(new), path, pointer);
            }
            (_, Kind::Union { variants, .. }) if !matches!(old.kind, Kind::AllOf(_)) => {
                self.unions(std::slice::from_ref(old), variants, path, pointer);
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

    /// `x-whatwg-url`: a `String` with `format: uri` becoming a `url::Url` refuses stored
    /// URIs that are no URLs (`http://`).
    fn urls(&mut self, old: &StringRules, new: &StringRules, path: &str, pointer: &str) {
        let show = |url: bool| if url { "a URL" } else { "any URI" }.to_owned();
        match (old.whatwg_url, new.whatwg_url) {
            (false, true) => self.tightened(path, pointer, "x-whatwg-url", show(false), show(true)),
            (true, false) => self.loosened(path, pointer, "x-whatwg-url", show(true), show(false)),
            _ => {}
        }
    }

    fn numbers(&mut self, old: &NumberRules, new: &NumberRules, path: &str, pointer: &str) {
        let lower = |rules: &NumberRules| {
            Limit::tighter(
                Limit::of(rules.minimum.as_ref(), false),
                Limit::of(rules.exclusive_minimum.as_ref(), true),
                true,
            )
        };
        let upper = |rules: &NumberRules| {
            Limit::tighter(
                Limit::of(rules.maximum.as_ref(), false),
                Limit::of(rules.exclusive_maximum.as_ref(), true),
                false,
            )
        };
        self.limit(path, pointer, "minimum", lower(old), lower(new), true);
        self.limit(path, pointer, "maximum", upper(old), upper(new), false);
        for value in new
            .excluded
            .iter()
            .filter(|value| !old.excluded.contains(value))
        {
            self.tightened(path, pointer, "not", "none".to_owned(), value.to_string());
        }
        for value in old
            .excluded
            .iter()
            .filter(|value| !new.excluded.contains(value))
        {
            self.loosened(path, pointer, "not", value.to_string(), "none".to_owned());
        }
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

    /// A lower (`is_lower`) or upper limit on a number, inclusive or exclusive: `> 0` is
    /// tighter than `>= 0` (the stored `0.0` no longer passes).
    fn limit(
        &mut self,
        path: &str,
        pointer: &str,
        name: &str,
        old: Option<Limit>,
        new: Option<Limit>,
        is_lower: bool,
    ) {
        if old == new {
            return;
        }
        let (from, to) = (Limit::show(old, is_lower), Limit::show(new, is_lower));
        let tighter = match (old, new) {
            (None, Some(_)) => true,
            (Some(_), None) | (None, None) => false,
            (Some(old), Some(new)) => Limit::tighter(Some(old), Some(new), is_lower) == Some(new),
        };
        if tighter {
            self.tightened(path, pointer, name, from, to);
        } else {
            self.loosened(path, pointer, name, from, to);
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
        self.patterns(old, new, path, pointer);
        self.keys(old.keys.as_ref(), new.keys.as_ref(), path, pointer);
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

    /// `propertyNames`: the keys a map admits (`HashMap<String, _>` to `HashMap<Uuid, _>`
    /// refuses the keys history holds). Integer ranges are compared as ranges (`u8` to
    /// `u16` keys widen), other key rules as strings are.
    fn keys(
        &mut self,
        old: Option<&StringRules>,
        new: Option<&StringRules>,
        path: &str,
        pointer: &str,
    ) {
        let pointer = format!("{pointer}/propertyNames");
        let (from, to) = (keys::describe(old), keys::describe(new));
        match (old, new) {
            (None, None) => {}
            (None, Some(_)) => self.tightened(path, &pointer, "propertyNames", from, to),
            (Some(_), None) => self.loosened(path, &pointer, "propertyNames", from, to),
            (Some(old), Some(new)) => match (keys::integer_range(old), keys::integer_range(new)) {
                (Some((_, old_min, old_max)), Some((_, new_min, new_max))) => {
                    let wider = new_min <= old_min && new_max >= old_max;
                    let narrower = new_min >= old_min && new_max <= old_max;
                    match (wider, narrower) {
                        (true, true) => {}
                        (true, false) => self.loosened(path, &pointer, "propertyNames", from, to),
                        (false, true) => self.tightened(path, &pointer, "propertyNames", from, to),
                        (false, false) => {
                            let kind = ChangeKind::ConstraintChanged {
                                constraint: "propertyNames".to_owned(),
                                from,
                                to,
                            };
                            self.push(path, &pointer, kind, Breaking, Breaking);
                        }
                    }
                }
                _ => self.strings(old, new, &format!("{path}.<keys>"), &pointer),
            },
        }
    }

    /// The keys matching a pattern: where the other side has a pattern covering them, or
    /// takes other keys, their values are compared; otherwise they are keys one side
    /// accepts and the other refuses (`BTreeMap<u32, _>` to `BTreeMap<String, _>` widens
    /// the keys, which only old clients mind).
    fn patterns(&mut self, old: &'a ObjectRules, new: &'a ObjectRules, path: &str, pointer: &str) {
        for pattern in &new.patterns {
            let at = format!("{path}./{}/", pattern.pattern);
            let covering = old
                .patterns
                .iter()
                .find(|before| covers(&pattern.pattern, &before.pattern));
            if let Some(before) = covering.filter(|before| before.pattern == pattern.pattern) {
                self.compare(&before.schema, &pattern.schema, &at);
                continue;
            }
            match &old.additional {
                // The keys were taken before, by the other keys' schema: only their values
                // may now be held to another schema.
                Additional::Schema(before) => self.compare(before, &pattern.schema, &at),
                Additional::Allowed | Additional::Unspecified => {}
                Additional::Forbidden if covering.is_none() => {
                    let shown = format!("`{}`", pattern.pattern);
                    self.loosened(path, pointer, "patternProperties", "none".to_owned(), shown);
                }
                Additional::Forbidden => {}
            }
        }
        for before in &old.patterns {
            let at = format!("{path}./{}/", before.pattern);
            if new
                .patterns
                .iter()
                .any(|pattern| pattern.pattern == before.pattern)
            {
                continue;
            }
            if let Some(pattern) = new
                .patterns
                .iter()
                .find(|pattern| covers(&pattern.pattern, &before.pattern))
            {
                let shown = format!("`{}`", pattern.pattern);
                self.loosened(
                    path,
                    pointer,
                    "patternProperties",
                    format!("`{}`", before.pattern),
                    shown,
                );
                self.compare(&before.schema, &pattern.schema, &at);
                continue;
            }
            match &new.additional {
                Additional::Schema(after) => self.compare(&before.schema, after, &at),
                Additional::Allowed | Additional::Unspecified => {}
                Additional::Forbidden => {
                    let shown = format!("`{}`", before.pattern);
                    self.tightened(path, pointer, "patternProperties", shown, "none".to_owned());
                }
            }
        }
    }

    /// The variants of two unions: unit variants (values) compared value by value, the
    /// others paired by their key (tag, single key, definition name), then with a variant
    /// that accepts exactly the same JSON (a renamed struct in an untagged enum).
    fn unions(&mut self, old: &'a [Schema], new: &'a [Schema], path: &str, pointer: &str) {
        let (old_values, old): (Vec<Value>, Vec<&'a Schema>) = split_literals(old);
        let (new_values, new): (Vec<Value>, Vec<&'a Schema>) = split_literals(new);
        self.values(&old_values, &new_values, path, pointer);
        let old_keys: Vec<String> = old.iter().map(|v| variant_key(self.old, v)).collect();
        let new_keys: Vec<String> = new.iter().map(|v| variant_key(self.new, v)).collect();
        let mut old_paired = vec![false; old.len()];
        let mut new_paired: Vec<Option<usize>> = vec![None; new.len()];
        for (index, key) in new_keys.iter().enumerate() {
            if let Some(before) = (0..old.len()).find(|&at| !old_paired[at] && old_keys[at] == *key)
            {
                old_paired[before] = true;
                new_paired[index] = Some(before);
            }
        }
        for index in 0..new.len() {
            if new_paired[index].is_none() {
                if let Some(before) = (0..old.len())
                    .find(|&at| !old_paired[at] && self.same_wire(old[at], new[index]))
                {
                    old_paired[before] = true;
                    new_paired[index] = Some(before);
                }
            }
        }
        // An integer that became a number is compared as such (a widening).
        for index in 0..new.len() {
            if new_paired[index].is_none() && new_keys[index] == "number" {
                if let Some(before) =
                    (0..old.len()).find(|&at| !old_paired[at] && old_keys[at] == "integer")
                {
                    old_paired[before] = true;
                    new_paired[index] = Some(before);
                }
            }
        }
        for (index, variant) in new.iter().enumerate() {
            let key = &new_keys[index];
            let variant_path = format!("{path}<{key}>");
            match new_paired[index] {
                Some(before) => self.compare(old[before], variant, &variant_path),
                None => self.push(
                    &variant_path,
                    &variant.pointer,
                    ChangeKind::VariantAdded(key.clone()),
                    Breaking,
                    Safe,
                ),
            }
        }
        for (index, variant) in old.iter().enumerate() {
            if !old_paired[index] {
                let key = &old_keys[index];
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

    /// Whether `old` and `new` accept the same JSON: their comparison finds no change.
    fn same_wire(&self, old: &'a Schema, new: &'a Schema) -> bool {
        let mut trial = Differ {
            old: self.old,
            new: self.new,
            event: self.event.clone(),
            visited: BTreeSet::new(),
            changes: Vec::new(),
        };
        trial.compare(old, new, "");
        trial.changes.is_empty()
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

/// The values a schema allows when it allows only listed values: an `enum`, a `const`, or
/// a union of those (a string enum with documented variants).
fn literals(schema: &Schema) -> Option<Vec<Value>> {
    literal_values(&schema.kind)
}

fn literal_values(kind: &Kind) -> Option<Vec<Value>> {
    match kind {
        Kind::Enum(values) => Some(values.clone()),
        Kind::Const(value) => Some(vec![value.clone()]),
        Kind::Union { variants, .. } => {
            let mut all = Vec::new();
            for variant in variants {
                for value in literals(variant)? {
                    if !all.contains(&value) {
                        all.push(value);
                    }
                }
            }
            Some(all)
        }
        _ => None,
    }
}

/// The values of the variants that are listed values, and the other variants.
fn split_literals(variants: &[Schema]) -> (Vec<Value>, Vec<&Schema>) {
    let mut values: Vec<Value> = Vec::new();
    let mut others = Vec::new();
    for variant in variants {
        match literals(variant) {
            Some(listed) => {
                for value in listed {
                    if !values.contains(&value) {
                        values.push(value);
                    }
                }
            }
            None => others.push(variant),
        }
    }
    (values, others)
}

fn all_strings(values: &[Value]) -> bool {
    values.iter().all(Value::is_string)
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
    if let (Kind::Union { .. }, Some(values)) = (kind, literal_values(kind)) {
        return type_name(&Kind::Enum(values));
    }
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

/// A limit on a number: its value, and whether the value itself is excluded.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Limit {
    value: f64,
    exclusive: bool,
}

impl Limit {
    fn of(number: Option<&Number>, exclusive: bool) -> Option<Limit> {
        number
            .and_then(Number::as_f64)
            .map(|value| Limit { value, exclusive })
    }

    /// The tighter of two lower (`is_lower`) or upper limits; at the same value, the
    /// exclusive one.
    fn tighter(a: Option<Limit>, b: Option<Limit>, is_lower: bool) -> Option<Limit> {
        match (a, b) {
            (Some(a), Some(b)) => {
                let beyond = if is_lower {
                    b.value > a.value
                } else {
                    b.value < a.value
                };
                Some(if beyond || (b.value == a.value && b.exclusive) {
                    b
                } else {
                    a
                })
            }
            (a, b) => a.or(b),
        }
    }

    fn show(limit: Option<Limit>, is_lower: bool) -> String {
        match limit {
            None => "none".to_owned(),
            Some(Limit {
                value,
                exclusive: false,
            }) => value.to_string(),
            Some(Limit { value, .. }) => format!("{} {value}", if is_lower { ">" } else { "<" }),
        }
    }
}

/// Whether every key `inner` matches also matches `outer`: the same pattern, or the
/// integer-key patterns schemars writes (`^\d+$` within `^-?\d+$`). Other patterns are
/// not compared for inclusion.
fn covers(outer: &str, inner: &str) -> bool {
    outer == inner || (outer == r"^-?\d+$" && inner == r"^\d+$")
}
