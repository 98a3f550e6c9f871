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

/// A document with an unknown keyword, an unchecked string format and the constructs that
/// used to refuse the whole file (integer-keyed map, `not`, chrono and `ip` formats).
fn document_with_keywords_read_as_wider() -> Value {
    minimal(json!({
        "type": "object",
        "properties": {
            "tags": { "type": "array", "contains": { "type": "string" } },
            "host": { "type": "string", "format": "hostname" },
            "by_id": { "type": "object", "additionalProperties": false, "patternProperties": { "^\\d+$": { "type": "string" } } },
            "step": { "type": "integer", "format": "int32", "not": { "const": 0 } },
            "at": { "type": "string", "format": "partial-time" },
            "local": { "type": "string", "format": "partial-date-time" },
            "ip": { "type": "string", "format": "ip" }
        },
        "required": ["tags", "host", "by_id", "step", "at", "local", "ip"]
    }))
}

#[test]
fn every_command_reads_an_unknown_keyword_as_a_wider_type_with_a_warning() {
    let scratch = Scratch::new("wider");
    let schema = scratch.file(
        "schema.json",
        &document_with_keywords_read_as_wider().to_string(),
    );
    let out = scratch.0.join("out");
    for command in ["ts", "rust", "asyncapi"] {
        let output = cli(&[Path::new(command), &schema, Path::new("-o"), &out]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{command}: {message}");
        assert!(
            message.contains(
                "warning: /oneOf/0/properties/data/properties/tags/contains: the keyword `contains` is not supported; read as if absent (a wider type) (event `chat.message`)"
            ),
            "{command}: {message}"
        );
    }
    let output = cli(&[Path::new("diff"), &schema, &schema]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{message}");
    assert!(message.contains("/tags/contains"), "{message}");
}

#[test]
fn an_unchecked_string_format_is_a_plain_string_with_a_warning() {
    let scratch = Scratch::new("format");
    let schema = scratch.file(
        "schema.json",
        &document_with_keywords_read_as_wider().to_string(),
    );
    let out = scratch.0.join("events.ts");
    let output = cli(&[Path::new("ts"), &schema, Path::new("-o"), &out]);
    let message = stderr(&output);
    assert!(output.status.success(), "{message}");
    assert!(
        message.contains(
            "warning: /oneOf/0/properties/data/properties/host/format: the string format `hostname` is not checked here"
        ),
        "{message}"
    );
    let code = std::fs::read_to_string(&out).unwrap();
    for expected in [
        "host: z.string(),",
        "by_id: z.record(z.string().regex(new RegExp(\"^\\\\d+$\", \"u\")), z.string()),",
        "step: z.int().gte(-2147483648).lte(2147483647).refine((value) => value !== 0",
        "at: z.iso.time(),",
        "local: z.iso.datetime({ local: true })",
        "ip: z.stringFormat(\"ip\", isIpFormat),",
    ] {
        assert!(code.contains(expected), "`{expected}` not in:\n{code}");
    }
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

#[test]
fn rust_types_what_typify_panics_on_as_a_value_naming_the_event_and_pointer() {
    let scratch = Scratch::new("typify-panic");
    let mut document = minimal(json!({ "$ref": "#/$defs/Mixed" }));
    // typify panics on an enum of values of several types.
    document["$defs"] = json!({ "Mixed": { "enum": [1, "a", null] } });
    let schema = scratch.file("schema.json", &document.to_string());
    let out = scratch.file("events.rs", "// the previous version\n");
    let output = Command::new(env!("CARGO_BIN_EXE_realtime-schema"))
        .args([Path::new("rust"), &schema, Path::new("-o"), &out])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{message}");
    assert!(!message.contains("stack backtrace"), "{message}");
    let generated = std::fs::read_to_string(&out).unwrap();
    assert!(
        generated.contains(
            "// - /$defs/Mixed: typify cannot generate the type `Mixed` that event `chat.message` uses: typify panicked: "
        ),
        "{generated}"
    );
    assert!(generated.contains("serde_json::Value"), "{generated}");
}

#[test]
fn rust_generates_a_char_event() {
    let scratch = Scratch::new("char");
    let schema = scratch.file(
        "schema.json",
        &minimal(json!({ "type": "string", "minLength": 1, "maxLength": 1 })).to_string(),
    );
    let out = scratch.0.join("events.rs");
    let output = cli(&[Path::new("rust"), &schema, Path::new("-o"), &out]);
    assert!(output.status.success(), "{}", stderr(&output));
    let code = std::fs::read_to_string(&out).unwrap();
    assert!(code.contains("ChatMessage(char),"), "{code}");
}
