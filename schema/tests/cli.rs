//! The `realtime-schema` binary on bad input: a clear error naming the JSON pointer, a
//! non-zero exit, and no partial output file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("realtime-schema-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cli(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_realtime-schema"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn minimal(data: Value) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "AppEvent",
        "oneOf": [{
            "type": "object",
            "properties": { "event": { "type": "string", "const": "chat.message" }, "data": data },
            "required": ["event", "data"]
        }],
        "x-realtime": { "version": 1, "events": ["chat.message"], "namespaces": {} }
    })
}

/// Runs `ts` on `input` with an existing output file, and checks that it fails with
/// `expected` in the message and leaves the output file and directory as they were.
fn assert_ts_fails(name: &str, input: &str, expected: &[&str]) {
    let scratch = Scratch::new(name);
    let schema = scratch.file("schema.json", input);
    let out = scratch.file("events.ts", "// the previous version\n");
    let output = cli(&[Path::new("ts"), &schema, Path::new("-o"), &out]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    for part in expected {
        assert!(message.contains(part), "`{part}` not in: {message}");
    }
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "// the previous version\n"
    );
    assert_eq!(scratch.entries(), ["events.ts", "schema.json"]);
}

#[test]
fn not_json_is_refused_with_the_position() {
    assert_ts_fails("not-json", "{ \"oneOf\": [", &["not JSON", "line 1"]);
}

#[test]
fn a_json_file_that_is_not_a_schema_document_is_refused() {
    assert_ts_fails(
        "not-document",
        r#"{ "type": "object" }"#,
        &["not a realtime schema document", "x-realtime"],
    );
    let mut no_name = minimal(json!({ "type": "string" }));
    no_name["oneOf"][0]["properties"]["event"] = json!({ "type": "string" });
    assert_ts_fails(
        "no-event-name",
        &no_name.to_string(),
        &["/oneOf/0/properties/event/const"],
    );
}

#[test]
fn an_unsupported_keyword_is_refused_with_its_pointer() {
    let document = minimal(json!({
        "type": "object",
        "properties": { "tags": { "type": "array", "contains": { "type": "string" } } }
    }));
    assert_ts_fails(
        "unsupported-keyword",
        &document.to_string(),
        &[
            "unsupported",
            "/oneOf/0/properties/data/properties/tags/contains",
            "`contains`",
        ],
    );
}

#[test]
fn an_unsupported_string_format_is_refused_rather_than_ignored() {
    let document = minimal(json!({ "type": "string", "format": "hostname" }));
    assert_ts_fails(
        "unsupported-format",
        &document.to_string(),
        &["/oneOf/0/properties/data/format", "hostname"],
    );
}

#[test]
fn a_dangling_ref_is_refused() {
    let document = minimal(json!({ "$ref": "#/$defs/Missing" }));
    assert_ts_fails(
        "dangling-ref",
        &document.to_string(),
        &["/oneOf/0/properties/data", "Missing"],
    );
}

#[test]
fn a_missing_input_file_is_an_error_and_writes_nothing() {
    let scratch = Scratch::new("missing");
    let out = scratch.0.join("events.ts");
    let output = cli(&[
        Path::new("ts"),
        &scratch.0.join("nope.json"),
        Path::new("-o"),
        &out,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("nope.json"));
    assert!(scratch.entries().is_empty());
}

#[test]
fn ts_writes_the_module_and_warns_about_64_bit_integers_on_stderr() {
    let scratch = Scratch::new("ok");
    let schema = scratch.file(
        "schema.json",
        &minimal(json!({ "type": "integer", "format": "uint64", "minimum": 0 })).to_string(),
    );
    let out = scratch.0.join("events.ts");
    let output = cli(&[
        Path::new("ts"),
        &schema,
        Path::new("-o"),
        &out,
        Path::new("--hook"),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("warning: /oneOf/0/properties/data: uint64"));
    let code = std::fs::read_to_string(&out).unwrap();
    assert!(
        code.contains("message: z.number().gte(0).refine(Number.isInteger"),
        "{code}"
    );
    assert!(code.contains("export const { useRealtime } = createRealtime<RealtimeEvents>();"));
    assert_eq!(scratch.entries(), ["events.ts", "schema.json"]);
}

#[test]
fn a_definition_named_like_a_global_the_module_uses_is_refused() {
    let mut document = minimal(json!({ "$ref": "#/$defs/Set" }));
    document["$defs"] = json!({ "Set": { "type": "string" } });
    assert_ts_fails(
        "reserved-name",
        &document.to_string(),
        &["/$defs/Set", "not usable as a TypeScript name"],
    );
}

#[test]
fn a_pattern_that_is_not_an_ecmascript_regex_is_refused_at_generation() {
    let document = minimal(json!({ "type": "string", "pattern": "(?i)^ada$" }));
    assert_ts_fails(
        "rust-only-pattern",
        &document.to_string(),
        &[
            "/oneOf/0/properties/data/pattern",
            "not an ECMAScript regular expression",
        ],
    );
}
