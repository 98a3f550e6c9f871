//! TypeScript generation: zod 4 schemas in the nested namespace shape that
//! `@upstash/realtime` accepts, or plain types with `types_only`; optionally bound to a
//! client: `@upstash/realtime`'s hook (`hook`) or our own `@realtime-rs/client`
//! (`client`).

mod formats;
mod support;
mod types;
mod zod;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{Document, Schema};
pub use crate::warning::Warning;

/// How to generate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Plain TypeScript types (event name -> payload), no zod.
    pub types_only: bool,
    /// Also emit `export const { useRealtime } = createRealtime<RealtimeEvents>()`.
    pub hook: bool,
    /// 64-bit integers as `bigint` (parsed with `z.coerce.bigint()`) instead of `number`.
    pub bigint: bool,
    /// Also emit a `createClient` of `@realtime-rs/client` typed (and, with zod,
    /// validating) with these events, and with [`ClientTarget::RealtimeRsReact`] the typed
    /// hooks of `@realtime-rs/react`.
    pub client: Option<ClientTarget>,
}

/// The client the generated module is bound to (`--client <name>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientTarget {
    /// `@realtime-rs/client`: `export function createClient(...)` and `Events`.
    RealtimeRs,
    /// The same, plus `@realtime-rs/react`'s hooks: `export const { useRealtime, ... }`.
    RealtimeRsReact,
}

impl ClientTarget {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ClientTarget::RealtimeRs => "realtime-rs",
            ClientTarget::RealtimeRsReact => "realtime-rs-react",
        }
    }

    /// The target named `name` on the command line.
    pub fn from_name(name: &str) -> Option<Self> {
        [ClientTarget::RealtimeRs, ClientTarget::RealtimeRsReact]
            .into_iter()
            .find(|target| target.name() == name)
    }
}

impl Options {
    /// The command-line flags that select these options, for the generated header.
    pub fn flags(&self) -> String {
        let mut flags = String::new();
        for (set, flag) in [
            (self.types_only, " --types-only"),
            (self.hook, " --hook"),
            (self.bigint, " --bigint"),
        ] {
            if set {
                flags.push_str(flag);
            }
        }
        if let Some(client) = self.client {
            flags.push_str(" --client ");
            flags.push_str(client.name());
        }
        flags
    }
}

/// The generated module and the warnings met on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    /// The TypeScript source.
    pub code: String,
    /// Lossy spots: keywords read as a wider type, string formats not checked, 64-bit
    /// integers beyond the range JavaScript numbers hold exactly.
    pub warnings: Vec<Warning>,
}

/// Generates the TypeScript module for `document`.
///
/// A construct zod cannot check exactly is generated as a wider check and reported in
/// [`Generated::warnings`] with its pointer and events, as are the document's own warnings.
///
/// # Errors
/// [`Error::Unsupported`] with the JSON pointer of a construct that has no wider reading
/// (a definition name that is not a TypeScript name, a pattern that is not an ECMAScript
/// regular expression).
pub fn generate(document: &Document, options: &Options) -> Result<Generated> {
    let mut generator = Generator {
        document,
        options,
        warnings: Vec::new(),
        lazy: BTreeSet::new(),
        helpers: BTreeSet::new(),
        supports: BTreeSet::new(),
    };
    let code = generator.module()?;
    let mut warnings = document.warnings.clone();
    warnings.append(&mut generator.warnings);
    document.attribute(&mut warnings);
    let mut seen = BTreeSet::new();
    warnings.retain(|warning| seen.insert((warning.pointer.clone(), warning.message.clone())));
    Ok(Generated { code, warnings })
}

/// Names the generated module declares itself; a definition may not take them.
const RESERVED: &[&str] = &[
    "z",
    "schema",
    "RealtimeEvents",
    "RealtimeEventName",
    "RealtimeEvent",
    "useRealtime",
    "createRealtime",
    // The client bindings (`--client`).
    "events",
    "Events",
    "createClient",
    "createRealtimeClient",
    "validateWith",
    "ClientOptions",
    "RealtimeClient",
    "createRealtimeHooks",
    "RealtimeProvider",
    "useStatus",
    "usePresence",
    "useEmit",
    "useHistory",
    "useClient",
    // TypeScript reserved words and predefined type names.
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "implements",
    "interface",
    "let",
    "package",
    "private",
    "protected",
    "public",
    "static",
    "yield",
    "any",
    "boolean",
    "number",
    "string",
    "symbol",
    "unknown",
    "never",
    "object",
    "bigint",
    "undefined",
    "type",
    "await",
    // Globals the generated code itself uses (a definition may shadow any other global).
    "Array",
    "Number",
    "Set",
    "JSON",
    "RegExp",
    "BigInt",
    // The format checks (`formats.rs`).
    "isEmailFormat",
    "isUriFormat",
    "isDateTimeFormat",
    "isTimeFormat",
    "isDateFormat",
    "isHostnameFormat",
    "isIpFormat",
    "isIpv4Format",
    "isIpv6Format",
    "isRfc3986Uri",
    "isUrlSerialization",
    "URL",
    // Objects with keys that Object.prototype has (`support.rs`).
    "PROTO_KEY",
    "ownProperties",
    "restoreProto",
    "exactlyOne",
    "canonicalJson",
    "Object",
    "Math",
];

const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

struct Generator<'a> {
    document: &'a Document,
    options: &'a Options,
    warnings: Vec<Warning>,
    /// Definitions that must be referred to through `z.lazy` (the recursive group being
    /// emitted).
    lazy: BTreeSet<String>,
    /// The format checks the zod schemas call, written once before them.
    helpers: BTreeSet<formats::Helper>,
    /// The other functions they call (`support.rs`).
    supports: BTreeSet<support::Support>,
}

/// The imports of the `--client` bindings (`validateWith` when they validate with `events`).
fn client_imports(out: &mut String, client: ClientTarget, validating: bool) {
    out.push_str("import { createClient as createRealtimeClient, type ClientOptions, type RealtimeClient } from \"@realtime-rs/client\";\n");
    if validating {
        out.push_str("import { validateWith } from \"@realtime-rs/client/validate\";\n");
    }
    if client == ClientTarget::RealtimeRsReact {
        out.push_str("import { createRealtimeHooks } from \"@realtime-rs/react\";\n");
    }
}

/// `createClient` (validating with `events` when `validating`) and, for React, the hooks.
fn client_bindings(out: &mut String, client: ClientTarget, validating: bool) {
    if validating {
        out.push_str("\n/** A `@realtime-rs/client` for these events; it validates what it receives and emits with `events`. */\nexport function createClient(options: Omit<ClientOptions<Events>, \"validate\"> = {}): RealtimeClient<Events> {\n  return createRealtimeClient<Events>({ ...options, validate: validateWith(events) });\n}\n");
    } else {
        out.push_str("\n/** A `@realtime-rs/client` for these events (types only: nothing is validated). */\nexport function createClient(options: Omit<ClientOptions<Events>, \"validate\"> = {}): RealtimeClient<Events> {\n  return createRealtimeClient<Events>(options);\n}\n");
    }
    if client == ClientTarget::RealtimeRsReact {
        out.push_str("\n/** The `@realtime-rs/react` hooks, typed with these events: `<RealtimeProvider client={createClient()}>`. */\nexport const { RealtimeProvider, useRealtime, useStatus, usePresence, useEmit, useHistory, useClient } = createRealtimeHooks<Events>();\n");
    }
}

/// A node of the namespace tree: an event (by index) or a namespace of named children.
enum Node {
    Event(usize),
    Namespace(Vec<(String, Node)>),
}

impl Generator<'_> {
    fn module(&mut self) -> Result<String> {
        for name in self.document.definitions.keys() {
            if !is_identifier(name) || RESERVED.contains(&name.as_str()) {
                return Err(Error::unsupported(
                    &format!("/$defs/{}", crate::model::escape(name)),
                    format!(
                        "the definition name `{name}` is not usable as a TypeScript name; rename the Rust type (e.g. #[schemars(rename = \"...\")])"
                    ),
                ));
            }
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "// @generated by realtime-schema ts{} from the schema of `{}` (format version {}).\n// Do not edit: regenerate it, and check it with `realtime-schema check`.",
            self.options.flags(),
            self.document.title,
            self.document.version
        );
        if self.options.types_only {
            self.types_module(&mut out)?;
        } else {
            self.zod_module(&mut out)?;
        }
        Ok(out)
    }

    fn types_module(&mut self, out: &mut String) -> Result<()> {
        if let Some(client) = self.options.client {
            out.push('\n');
            client_imports(out, client, false);
        }
        for (name, schema) in &self.document.definitions {
            out.push('\n');
            out.push_str(&jsdoc(schema.description.as_deref(), 0));
            let _ = writeln!(out, "export type {name} = {};", self.ts(schema, 0)?);
        }
        out.push_str(
            "\n/** Every event name and the type of its data. */\nexport type RealtimeEvents = {\n",
        );
        for event in &self.document.events {
            out.push_str(&jsdoc(event.description.as_deref(), 1));
            let _ = writeln!(
                out,
                "  {}: {};",
                json_string(&event.name),
                self.ts(&event.data, 1)?
            );
        }
        out.push_str(
            "};\n\n/** An event name. */\nexport type RealtimeEventName = keyof RealtimeEvents;\n",
        );
        out.push_str("\n/** An event as it travels: its name and its data. */\nexport type RealtimeEvent = {\n  [E in RealtimeEventName]: { event: E; data: RealtimeEvents[E] };\n}[RealtimeEventName];\n");
        if let Some(client) = self.options.client {
            out.push_str("\n/** Event name -> data type, what `@realtime-rs/client` is typed with. */\nexport type Events = RealtimeEvents;\n");
            client_bindings(out, client, false);
        }
        Ok(())
    }

    fn zod_module(&mut self, module: &mut String) -> Result<()> {
        module.push_str("\nimport { z } from \"zod\";\n");
        if self.options.hook {
            module.push_str("import { createRealtime } from \"@upstash/realtime/client\";\n");
        }
        if let Some(client) = self.options.client {
            client_imports(module, client, true);
        }
        // The schemas first, then the format checks they call are written above them.
        let mut body = String::new();
        let out = &mut body;
        for group in self.definition_groups() {
            let recursive = group.len() > 1
                || group.iter().any(|name| {
                    self.document
                        .definition(name)
                        .is_some_and(|schema| schema.refs().contains(name))
                });
            self.lazy = if recursive {
                group.iter().cloned().collect()
            } else {
                BTreeSet::new()
            };
            for name in &group {
                let Some(schema) = self.document.definition(name) else {
                    continue;
                };
                out.push('\n');
                let doc = jsdoc(schema.description.as_deref(), 0);
                out.push_str(&doc);
                // zod's inferred type of an object with an optional `toString` refuses
                // an object literal (it has Object's `toString`): the type is written out.
                if recursive || support::holds_inherited_key(schema) {
                    let _ = writeln!(out, "export type {name} = {};", self.ts(schema, 0)?);
                    out.push_str(&doc);
                    let _ = writeln!(
                        out,
                        "export const {name}: z.ZodType<{name}> = {};",
                        self.zod(schema, 0)?
                    );
                } else {
                    let _ = writeln!(out, "export const {name} = {};", self.zod(schema, 0)?);
                    out.push_str(&doc);
                    let _ = writeln!(out, "export type {name} = z.infer<typeof {name}>;");
                }
            }
        }
        self.lazy.clear();
        let tree = self.namespace_tree()?;
        out.push_str("\n/** The event schema, nested by namespace: `new Realtime({ schema })`. */\nexport const schema = ");
        self.write_tree(out, &tree, 0)?;
        out.push_str(";\n\n/** The type of `schema`: `createRealtime<RealtimeEvents>()`. */\nexport type RealtimeEvents = typeof schema;\n");
        if self.options.hook {
            out.push_str("\n/** `useRealtime`, typed with these events. */\nexport const { useRealtime } = createRealtime<RealtimeEvents>();\n");
        }
        if let Some(client) = self.options.client {
            out.push_str("\n/** Each event's data schema by name: what `createClient` validates with. */\nexport const events = {\n");
            for event in &self.document.events {
                let path: String = event
                    .name
                    .split('.')
                    .map(|segment| format!("[{}]", json_string(segment)))
                    .collect();
                let _ = writeln!(out, "  {}: schema{path},", json_string(&event.name));
            }
            out.push_str("};\n\n/** Event name -> data type, what `@realtime-rs/client` is typed with. */\nexport type Events = { [E in keyof typeof events]: z.output<(typeof events)[E]> };\n");
            client_bindings(out, client, true);
        }
        module.push_str(&formats::code(&self.helpers));
        module.push_str(&support::code(&self.supports));
        module.push_str(&body);
        Ok(())
    }

    fn namespace_tree(&self) -> Result<Vec<(String, Node)>> {
        let mut root: Vec<(String, Node)> = Vec::new();
        for (index, event) in self.document.events.iter().enumerate() {
            let pointer = format!("/oneOf/{index}/properties/event/const");
            let segments: Vec<&str> = event.name.split('.').collect();
            let mut level = &mut root;
            for (depth, segment) in segments.iter().enumerate() {
                let last = depth + 1 == segments.len();
                let position = level.iter().position(|(name, _)| name == segment);
                let clash = || {
                    Error::not_document(
                        &pointer,
                        format!(
                            "`{}` is both an event and a namespace",
                            segments[..=depth].join(".")
                        ),
                    )
                };
                if segment.is_empty() {
                    return Err(Error::not_document(
                        &pointer,
                        format!("`{}` has an empty segment", event.name),
                    ));
                }
                match (position, last) {
                    (None, true) => {
                        level.push(((*segment).to_owned(), Node::Event(index)));
                        break;
                    }
                    (None, false) => {
                        level.push(((*segment).to_owned(), Node::Namespace(Vec::new())));
                        let Some((_, Node::Namespace(children))) = level.last_mut() else {
                            return Err(clash());
                        };
                        level = children;
                    }
                    (Some(found), false) => match &mut level[found].1 {
                        Node::Namespace(children) => level = children,
                        Node::Event(_) => return Err(clash()),
                    },
                    (Some(_), true) => return Err(clash()),
                }
            }
        }
        Ok(root)
    }

    fn write_tree(
        &mut self,
        out: &mut String,
        nodes: &[(String, Node)],
        depth: usize,
    ) -> Result<()> {
        out.push_str("{\n");
        let pad = "  ".repeat(depth + 1);
        for (name, node) in nodes {
            match node {
                Node::Event(index) => {
                    let event = &self.document.events[*index];
                    out.push_str(&jsdoc(event.description.as_deref(), depth + 1));
                    let value = self.zod(&event.data, depth + 1)?;
                    let _ = writeln!(out, "{pad}{}: {value},", key(name));
                }
                Node::Namespace(children) => {
                    let _ = write!(out, "{pad}{}: ", key(name));
                    self.write_tree(out, children, depth + 1)?;
                    out.push_str(",\n");
                }
            }
        }
        out.push_str(&"  ".repeat(depth));
        out.push('}');
        Ok(())
    }

    /// The definitions in groups of mutually recursive ones, each group after the groups
    /// it refers to (Tarjan's strongly connected components).
    fn definition_groups(&self) -> Vec<Vec<String>> {
        struct State<'d> {
            document: &'d Document,
            index: usize,
            indexes: std::collections::BTreeMap<String, usize>,
            lowlinks: std::collections::BTreeMap<String, usize>,
            stack: Vec<String>,
            groups: Vec<Vec<String>>,
        }
        fn visit(state: &mut State<'_>, name: &str) {
            state.indexes.insert(name.to_owned(), state.index);
            state.lowlinks.insert(name.to_owned(), state.index);
            state.index += 1;
            state.stack.push(name.to_owned());
            let refs = state
                .document
                .definition(name)
                .map(Schema::refs)
                .unwrap_or_default();
            for next in refs {
                if !state.indexes.contains_key(&next) {
                    visit(state, &next);
                    let low = state.lowlinks[&next].min(state.lowlinks[name]);
                    state.lowlinks.insert(name.to_owned(), low);
                } else if state.stack.contains(&next) {
                    let low = state.indexes[&next].min(state.lowlinks[name]);
                    state.lowlinks.insert(name.to_owned(), low);
                }
            }
            if state.lowlinks[name] == state.indexes[name] {
                let mut group = Vec::new();
                while let Some(member) = state.stack.pop() {
                    let done = member == name;
                    group.push(member);
                    if done {
                        break;
                    }
                }
                group.sort();
                state.groups.push(group);
            }
        }
        let mut state = State {
            document: self.document,
            index: 0,
            indexes: Default::default(),
            lowlinks: Default::default(),
            stack: Vec::new(),
            groups: Vec::new(),
        };
        for name in self.document.definitions.keys() {
            if !state.indexes.contains_key(name) {
                visit(&mut state, name);
            }
        }
        state.groups
    }
}

pub(super) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || first == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// An object key: bare when it is an identifier, quoted otherwise.
pub(super) fn key(name: &str) -> String {
    if is_identifier(name) {
        name.to_owned()
    } else {
        json_string(name)
    }
}

pub(super) fn json_string(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// A JSDoc comment for `description` at `depth`, or nothing.
pub(super) fn jsdoc(description: Option<&str>, depth: usize) -> String {
    let Some(description) = description.map(str::trim).filter(|text| !text.is_empty()) else {
        return String::new();
    };
    let pad = "  ".repeat(depth);
    let text = description.replace("*/", "*\\/");
    let lines: Vec<&str> = text.lines().collect();
    if let [line] = lines.as_slice() {
        return format!("{pad}/** {line} */\n");
    }
    let mut out = format!("{pad}/**\n");
    for line in lines {
        if line.is_empty() {
            let _ = writeln!(out, "{pad} *");
        } else {
            let _ = writeln!(out, "{pad} * {line}");
        }
    }
    let _ = writeln!(out, "{pad} */");
    out
}
