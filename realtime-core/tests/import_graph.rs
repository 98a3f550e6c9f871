//! The crate's files import each other without circles: every `crate::` and `super::`
//! path outside test modules is resolved to the file that defines it, and the graph of
//! those imports must have no cycle. A circle makes modules that cannot be read, tested
//! or moved on their own (issue 22 found 11 files in one, through presence's leaf types).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failing test panics

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crate's source files by module path (`presence::leases` -> its file).
fn source_files() -> BTreeMap<Vec<String>, PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&root).unwrap().with_extension("");
            let mut module: Vec<String> = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            files.insert(module, path);
        }
    }
    files
}

/// The code of a file without its test module, comments and string contents.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module paths a file names: `crate::a::b::{c, d}` gives `a::b::c` and `a::b::d`,
/// `super::x` is taken from the file's parent module.
fn named_paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for (start, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        // `$crate::` (in macros) is the user's view of this crate: skip it, as any other
        // identifier ending in `crate`.
        let before = code[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[start..];
        let (base, rest) = if let Some(rest) = rest.strip_prefix("crate::") {
            (Vec::new(), rest)
        } else {
            let mut parent = module.to_vec();
            parent.pop();
            (parent, &rest["super::".len()..])
        };
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let mut path = base;
        path.extend(
            rest[..end]
                .split("::")
                .filter(|part| !part.is_empty())
                .map(str::to_owned),
        );
        // A group: `a::{b, c::d}` names `a::b` and `a::c::d` (enough for one level).
        if rest[end..].starts_with('{') {
            let group_end = rest[end..].find('}').map_or(rest.len(), |at| end + at);
            for item in rest[end + 1..group_end].split(',') {
                let mut member = path.clone();
                member.extend(
                    item.trim()
                        .split("::")
                        .map(|part| part.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_')))
                        .filter(|part| !part.is_empty())
                        .map(str::to_owned),
                );
                paths.push(member);
            }
        } else {
            paths.push(path);
        }
    }
    paths
}

/// The file that defines what `path` names: its longest prefix that is a file's module.
fn file_of(files: &BTreeMap<Vec<String>, PathBuf>, path: &[String]) -> Vec<String> {
    (0..=path.len())
        .rev()
        .map(|len| path[..len].to_vec())
        .find(|prefix| files.contains_key(prefix))
        .unwrap_or_default()
}

/// The strongly connected components of more than one file (Tarjan).
fn circles(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'g Vec<String>, usize>,
        low: BTreeMap<&'g Vec<String>, usize>,
        stack: Vec<&'g Vec<String>>,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(state: &mut State<'g>, node: &'g Vec<String>) {
        let n = state.index.len();
        state.index.insert(node, n);
        state.low.insert(node, n);
        state.stack.push(node);
        for next in state.graph.get(node).into_iter().flatten() {
            if !state.index.contains_key(next) {
                visit(state, next);
                let low = state.low[node].min(state.low[next]);
                state.low.insert(node, low);
            } else if state.stack.contains(&next) {
                let low = state.low[node].min(state.index[next]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(member) = state.stack.pop() {
                component.push(member.join("::"));
                if member == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                state.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node) {
            visit(&mut state, node);
        }
    }
    state.found
}

#[test]
fn no_file_imports_one_that_imports_it_back() {
    let files = source_files();
    assert!(files.len() > 20, "found the sources: {files:?}");
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, path) in &files {
        let imports = graph.entry(module.clone()).or_default();
        for named in named_paths(module, &code_of(path)) {
            let file = file_of(&files, &named);
            // The crate root declares the modules; naming it says nothing about a circle.
            if &file != module && !file.is_empty() {
                imports.insert(file);
            }
        }
    }
    let found = circles(&graph);
    assert!(
        found.is_empty(),
        "files in import circles (each line one circle):\n{}",
        found
            .iter()
            .map(|circle| circle.join(", "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
