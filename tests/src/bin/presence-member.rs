//! A process that holds presence members and can be killed: the subject of the SIGKILL
//! test in `tests/presence.rs`.
//!
//! ```text
//! presence-member --redis URL --prefix PFX --channel C --members N --ttl-ms T
//! ```
//!
//! Joins `N` members (`member-0` ...) to channel `C` with TTL `T`, prints `joined N` once
//! they all are, then keeps them alive with its heartbeats until it is killed, or until its
//! stdin closes (the test died), when it exits. Bad arguments or failures: a message on
//! stderr and a non-zero exit.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use realtime_core::Realtime;
use realtime_core::backend::conformance::{RoomEvent, Visitor};
use realtime_core::backend::redis::{RedisBackend, RedisOptions};
use tokio::io::AsyncReadExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("presence-member: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flags: HashMap<&str, &str> = args
        .chunks(2)
        .filter_map(|pair| Some((pair.first()?.strip_prefix("--")?, pair.get(1)?.as_str())))
        .collect();
    let flag = |name: &str| {
        flags
            .get(name)
            .copied()
            .ok_or_else(|| format!("missing --{name}"))
    };
    let members: usize = flag("members")?
        .parse()
        .map_err(|error| format!("--members: {error}"))?;
    let ttl = Duration::from_millis(
        flag("ttl-ms")?
            .parse()
            .map_err(|error| format!("--ttl-ms: {error}"))?,
    );
    let options = RedisOptions::default().key_prefix(flag("prefix")?);
    let backend = RedisBackend::connect_with(flag("redis")?, options)
        .await
        .map_err(|error| error.to_string())?;
    let rt = Realtime::<RoomEvent>::with_backend(backend);
    let presence = rt.channel(flag("channel")?).presence();
    let mut guards = Vec::with_capacity(members);
    for n in 0..members {
        let info = Visitor {
            name: format!("Member {n}"),
        };
        let guard = presence
            .join(format!("member-{n}"), info, ttl)
            .await
            .map_err(|error| error.to_string())?;
        guards.push(guard);
    }
    let mut stdout = std::io::stdout();
    writeln!(stdout, "joined {members}").map_err(|error| error.to_string())?;
    stdout.flush().map_err(|error| error.to_string())?;
    // Until killed, or until the test's end of the pipe closes.
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0u8; 64];
    while stdin
        .read(&mut buffer)
        .await
        .map_err(|error| error.to_string())?
        > 0
    {}
    drop(guards);
    Ok(())
}
