//! The `realtime-schema` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use realtime_schema::{Document, ts, write_atomic};

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
        /// Also export the typed `useRealtime` hook.
        #[arg(long)]
        hook: bool,
        /// 64-bit integers as `bigint` instead of `number`.
        #[arg(long)]
        bigint: bool,
    },
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
        } => {
            let document = Document::read(&schema)?;
            let options = ts::Options {
                types_only,
                hook,
                bigint,
            };
            let generated = ts::generate(&document, &options)?;
            for warning in &generated.warnings {
                eprintln!("warning: {warning}");
            }
            write_atomic(&output, &generated.code)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
