//! The TypeScript generator on the corpus: snapshots of the generated modules, `tsc --strict`
//! against the real `@upstash/realtime@1.1.0` and `zod`, and a node run of the zod schemas
//! on the JSON that Rust produces. Regenerate snapshots with `REALTIME_BLESS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus;

use std::path::{Path, PathBuf};
use std::process::Command;

use realtime_core::Events;
use realtime_schema::{Document, ts};
use realtime_snapshot::Snapshot;
use serde_json::json;

fn dir(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn corpus_document() -> Document {
    let schema = corpus::Corpus::schema();
    schema.assert_matches_file(dir("tests/snapshots/corpus.json"));
    Document::from_value(&schema.document()).unwrap()
}

/// The generated modules: (file under tests/ts/generated, options).
fn variants() -> Vec<(&'static str, ts::Options)> {
    vec![
        (
            "corpus.ts",
            ts::Options {
                hook: true,
                ..ts::Options::default()
            },
        ),
        (
            "corpus.types.ts",
            ts::Options {
                types_only: true,
                ..ts::Options::default()
            },
        ),
        (
            "corpus.bigint.ts",
            ts::Options {
                bigint: true,
                ..ts::Options::default()
            },
        ),
    ]
}

fn generate_all() -> Vec<(PathBuf, ts::Generated)> {
    let document = corpus_document();
    variants()
        .into_iter()
        .map(|(file, options)| {
            let generated = ts::generate(&document, &options).unwrap();
            (dir("tests/ts/generated").join(file), generated)
        })
        .collect()
}

#[test]
fn generated_typescript_matches_snapshots() {
    for (path, generated) in generate_all() {
        Snapshot::new(&path).assert_matches(&generated.code);
    }
}

#[test]
fn sixty_four_bit_integers_are_reported_with_their_pointer() {
    let document = corpus_document();
    let generated = ts::generate(&document, &ts::Options::default()).unwrap();
    // In the order the definitions are reached, which is no promise: compared sorted.
    let mut pointers: Vec<&str> = generated
        .warnings
        .iter()
        .map(|warning| warning.pointer.as_str())
        .collect();
    pointers.sort_unstable();
    assert_eq!(
        pointers,
        [
            "/$defs/CorpusSample/properties/delta",
            "/$defs/CorpusSample/properties/total",
            "/$defs/CorpusSizes/properties/len",
            "/$defs/CorpusSizes/properties/offset",
            "/$defs/CorpusWide/properties/id",
            "/$defs/CorpusWide/properties/offset",
            "/$defs/Scalar/anyOf/1",
        ]
    );
    assert!(generated.warnings[1].message.contains("--bigint"));
    // Each names the events whose data holds it (`batch.replayed` holds every event).
    assert_eq!(
        generated.warnings[0].events,
        ["metrics.sample", "batch.replayed"]
    );
    let scalar = generated
        .warnings
        .iter()
        .find(|warning| warning.pointer == "/$defs/Scalar/anyOf/1")
        .unwrap();
    assert_eq!(scalar.events, ["scalar.seen", "batch.replayed"]);
    // Bounded or 32-bit integers are exact in JavaScript: no warning for them.
    assert!(!pointers.iter().any(|pointer| pointer.contains("count")));
}

#[test]
fn every_definition_gets_a_named_schema_and_type() {
    let document = corpus_document();
    let code = ts::generate(&document, &ts::Options::default())
        .unwrap()
        .code;
    for name in document.definitions.keys() {
        assert!(
            code.contains(&format!("export const {name}")),
            "{name} has no schema"
        );
        assert!(
            code.contains(&format!("export type {name} =")),
            "{name} has no type"
        );
    }
    assert!(code.contains(
        "export const schema = {\n  notification: {\n    /** A notification shown to every user. */\n    alert: z.string(),"
    ));
    assert!(!code.contains("useRealtime"), "the hook is opt-in");
}

// ---------------------------------------------------------------------------------------
// TypeScript compiler and node

fn npm_dir() -> PathBuf {
    dir("tests/ts")
}

fn run(command: &mut Command, what: &str) -> String {
    let output = command.output().unwrap_or_else(|error| {
        panic!("cannot run {what}: {error}; install Node.js (node and npm) to run this test")
    });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout
}

/// Installs the pinned packages with `npm ci` when `node_modules` is missing.
fn ensure_node_modules() {
    let root = npm_dir();
    if root.join("node_modules/typescript/bin/tsc").exists()
        && root.join("node_modules/@upstash/realtime").exists()
    {
        return;
    }
    run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&root),
        "npm ci in schema/tests/ts (npm is required)",
    );
}

fn tsc(project: &str) -> String {
    let root = npm_dir();
    run(
        Command::new("node")
            .arg(root.join("node_modules/typescript/bin/tsc"))
            .args(["-p", project, "--pretty", "false"])
            .current_dir(&root),
        &format!("tsc -p {project}"),
    )
}

/// The samples for the run-time check, each checked against the server first: the valid
/// ones are what Rust sends, the invalid ones are refused by the server, and each format
/// probe is accepted or refused as its table says.
fn samples_checked_against_the_server() -> serde_json::Value {
    let valid: Vec<_> = corpus::samples()
        .iter()
        .map(|event| {
            let data = event.to_data().unwrap();
            if let Err(error) = corpus::server_accepts(event.name(), &data) {
                panic!("the server refuses the sample {data} it produced: {error}");
            }
            json!({ "event": event.name(), "data": data })
        })
        .collect();
    let invalid: Vec<_> = corpus::invalid_samples()
        .into_iter()
        .map(|(event, data, reason)| {
            assert!(
                corpus::server_accepts(event, &data).is_err(),
                "the server accepts the invalid sample ({reason}) {data}"
            );
            json!({ "event": event, "data": data, "reason": reason })
        })
        .collect();
    let probes: Vec<_> = corpus::format_probes()
        .into_iter()
        .map(|(field, text, accepted)| {
            let data = json!({ field: text });
            let verdict = corpus::server_accepts("format.probe", &data);
            assert_eq!(
                verdict.is_ok(),
                accepted,
                "the server's verdict on {data} is not the table's: {verdict:?}"
            );
            json!({ "event": "format.probe", "data": data, "accepted": accepted })
        })
        .collect();
    json!({ "valid": valid, "invalid": invalid, "probes": probes })
}

#[test]
fn the_samples_are_what_the_server_accepts_and_refuses() {
    samples_checked_against_the_server();
}

#[test]
fn generated_typescript_compiles_strictly_and_validates_rust_samples() {
    for (path, generated) in generate_all() {
        Snapshot::new(&path).assert_matches(&generated.code);
    }
    ensure_node_modules();
    // `strict`, `noEmit`: the generated modules and the type-level tests (each
    // `@ts-expect-error` must meet an error).
    tsc("tsconfig.json");
    // Emit the run-time check and run it, on each zod module, on the data Rust produced.
    tsc("tsconfig.run.json");
    let samples = npm_dir().join("build/samples.json");
    std::fs::write(
        &samples,
        serde_json::to_string_pretty(&samples_checked_against_the_server()).unwrap(),
    )
    .unwrap();
    for module in ["corpus.js", "corpus.bigint.js"] {
        let report = run(
            Command::new("node")
                .arg(npm_dir().join("build/runtime.test.js"))
                .arg(&samples)
                .arg(module),
            &format!("node build/runtime.test.js on {module}"),
        );
        assert!(report.contains(", 0 failures"), "{module}: {report}");
    }
}
