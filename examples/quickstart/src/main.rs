//! The two-minute tour: declare events, emit them, read history, subscribe, and see
//! validation refuse a bad event. Runs on the embedded backend; no Redis needed.
//!
//! ```sh
//! cargo run -p quickstart
//! ```

use futures::StreamExt;
use realtime_core::{Events, History, Realtime};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A message in a chat room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
struct ChatMessage {
    author: String,
    /// What was said: 1 to 280 characters.
    #[schemars(length(min = 1, max = 280))]
    text: String,
}

/// Every realtime event of the app.
#[derive(Events, Clone, Debug, PartialEq)]
enum AppEvent {
    /// A notice shown to everyone.
    #[event("notification.alert")]
    Alert(String),
    /// A message in a room.
    #[event("chat.message")]
    Message(ChatMessage),
    /// Someone entered a room.
    #[event("user.joined")]
    Joined { id: String, name: String },
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();

    let rt = Realtime::<AppEvent>::memory();
    let room = rt.channel("room-42");

    println!("events: {}", AppEvent::NAMES.join(", "));

    // Subscribe first: every event emitted afterwards arrives, in order.
    let mut live = room
        .subscribe([AppEventKind::Message, AppEventKind::Joined])
        .await?;

    room.emit(&AppEvent::Joined {
        id: "u1".into(),
        name: "Ada".into(),
    })
    .await?;
    for text in ["hello", "is anyone here?"] {
        let message = ChatMessage {
            author: "Ada".into(),
            text: text.into(),
        };
        let id = room.emit(&AppEvent::Message(message)).await?;
        println!("emitted  {id}  chat.message {text:?}");
    }
    rt.emit(&AppEvent::Alert("maintenance at noon".into()))
        .await?;

    // Validation happens before anything is stored.
    let empty = AppEvent::Message(ChatMessage {
        author: "Ada".into(),
        text: String::new(),
    });
    match room.emit(&empty).await {
        Err(error) => println!("refused  {error}"),
        Ok(id) => println!("unexpectedly stored as {id}"),
    }

    for _ in 0..3 {
        if let Some(envelope) = live.next().await {
            println!(
                "received {}  {} on {}: {:?}",
                envelope.id,
                envelope.event.name(),
                envelope.channel,
                envelope.event
            );
        }
    }

    let history = room.history(History::last(50)).await?;
    println!("history of room-42: {} events", history.len());

    // A late subscriber resumes after a cursor it saw before.
    let mut resumed = room.subscribe_all().after(history[0].id).await?;
    let replayed = resumed.next().await.map(|envelope| envelope.event);
    println!("resumed after {}: {replayed:?}", history[0].id);

    println!("schema:\n{}", AppEvent::schema().to_pretty_json());
    Ok(())
}
