//! The `realtime-schema` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use realtime_schema::{Document, diff, ts, write_atomic};

/// Generate code from, and compare, realtime event schema documents.
#[derive(Debug, Parser)]
#[command(name = "realtime-schema", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A TypeScript module: zod schemas nested by namespace, or plain types.
    Ts {
        /// The schema document (`EventSchema::document()`).
        schema: PathBuf,
        /// The file to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Plain TypeScript types (event name -> payload), no zod.
        #[arg(long, conflicts_with_all = ["hook"])]
        types_only: bool,
        /// Also export the typed `useRealtime` hook of `@upstash/realtime`.
        #[arg(long, conflicts_with_all = ["client"])]
        hook: bool,
        /// Also export a typed `createClient` of our own client: `realtime-rs`
        /// (`@realtime-rs/client`) or `realtime-rs-react` (also `@realtime-rs/react`'s hooks).
        #[arg(long, value_enum)]
        client: Option<ClientArg>,
        /// 64-bit integers as `bigint` instead of `number`.
        #[arg(long)]
        bigint: bool,
    },
    /// Rust types (typify) that deserialize the events' JSON.
    Rust {
        /// The schema document.
        schema: PathBuf,
        /// The file to write.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// An AsyncAPI 3.0 document: a channel per channel name, one message per event.
    Asyncapi {
        /// The schema document.
        schema: PathBuf,
        /// The file to write (standard output if absent).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Exits with 1 when a generated file is stale: each is regenerated in memory, the way
    /// its header says it was generated, and compared.
    Check {
        /// The schema document.
        schema: PathBuf,
        /// Files written by `ts`, `rust` or `asyncapi`.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Every change between two schema documents, classified for old clients reading new
    /// events and for new code reading old events. Exits with 1 on a breaking change.
    Diff {
        /// The schema document before the change.
        old: PathBuf,
        /// The schema document after the change.
        new: PathBuf,
        /// Which compatibility must hold.
        #[arg(long, value_enum, default_value_t = ModeArg::Full)]
        mode: ModeArg,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ClientArg {
    /// `@realtime-rs/client`.
    RealtimeRs,
    /// `@realtime-rs/client` and the hooks of `@realtime-rs/react`.
    RealtimeRsReact,
}

impl From<ClientArg> for ts::ClientTarget {
    fn from(client: ClientArg) -> Self {
        match client {
            ClientArg::RealtimeRs => ts::ClientTarget::RealtimeRs,
            ClientArg::RealtimeRsReact => ts::ClientTarget::RealtimeRsReact,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModeArg {
    /// New code reads old events (history).
    Backward,
    /// Old clients read new events (stale browser tabs).
    Forward,
    /// Both.
    Full,
}

impl From<ModeArg> for diff::Mode {
    fn from(mode: ModeArg) -> Self {
        match mode {
            ModeArg::Backward => diff::Mode::Backward,
            ModeArg::Forward => diff::Mode::Forward,
            ModeArg::Full => diff::Mode::Full,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> realtime_schema::Result<ExitCode> {
    match command {
        Command::Ts {
            schema,
            output,
            types_only,
            hook,
            bigint,
            client,
        } => {
            let document = Document::read(&schema)?;
            let options = ts::Options {
                types_only,
                hook,
                bigint,
                client: client.map(Into::into),
            };
            let generated = ts::generate(&document, &options)?;
            warn(&generated.warnings);
            write_atomic(&output, &generated.code)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rust { schema, output } => {
            let value = read_json(&schema)?;
            warn(&Document::from_value(&value)?.warnings);
            let code = realtime_schema::rust::generate(&value)?;
            write_atomic(&output, &code)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Asyncapi { schema, output } => {
            let value = read_json(&schema)?;
            warn(&Document::from_value(&value)?.warnings);
            let text = realtime_schema::asyncapi::generate_text(&value)?;
            match output {
                Some(output) => write_atomic(&output, &text)?,
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { schema, files } => {
            let value = read_json(&schema)?;
            let mut stale = 0;
            for file in &files {
                match realtime_schema::check::check_file(&schema, &value, file)? {
                    None => println!("fresh: {}", file.display()),
                    Some(command) => {
                        stale += 1;
                        println!("STALE: {} (regenerate: {command})", file.display());
                    }
                }
            }
            Ok(if stale == 0 {
                ExitCode::SUCCESS
            } else {
                eprintln!("{stale} of {} generated files are stale", files.len());
                ExitCode::FAILURE
            })
        }
        Command::Diff { old, new, mode } => {
            let (old, new) = (Document::read(&old)?, Document::read(&new)?);
            // A keyword read as if absent is not compared either.
            warn(&old.warnings);
            warn(&new.warnings);
            let report = diff::diff(&old, &new);
            let mode = mode.into();
            print!("{}", report.to_markdown(mode));
            Ok(if report.is_breaking(mode) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

fn warn(warnings: &[realtime_schema::Warning]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

fn read_json(path: &std::path::Path) -> realtime_schema::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|source| realtime_schema::Error::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| realtime_schema::Error::NotJson {
        path: path.display().to_string(),
        source,
    })
}
