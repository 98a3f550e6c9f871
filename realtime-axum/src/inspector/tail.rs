//! A live tail as Server-Sent Events: each entry appended to the channel, checked against
//! the schema, at most `per_second` a second; past that, the rest of the second is counted
//! and sent as one `{"type":"skipped","count":n}` (they are in the history).
//!
//! One task per tail forwards the channel's feed into a queue of [`QUEUED`] messages that
//! the response reads: a page that reads slowly holds the task back, and the feed behind it
//! resyncs as any slow feed does. The task ends when the page goes (the queue's reader is
//! dropped), when the backend stops, or on the server's shutdown; it holds one of the
//! inspector's tail permits until then.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{BoxStream, Stream, StreamExt};
use realtime_core::inspect::TailItem;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::time::Instant;

/// Messages queued for one page.
const QUEUED: usize = 64;
/// A comment line this often keeps proxies from closing an idle tail.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub(super) fn respond(
    items: BoxStream<'static, TailItem>,
    per_second: u32,
    permit: OwnedSemaphorePermit,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (sender, receiver) = mpsc::channel::<String>(QUEUED);
    tokio::spawn(forward(items, per_second, sender, permit));
    let events = futures::stream::unfold(receiver, |mut receiver| async move {
        let message = receiver.recv().await?;
        Some((Ok(Event::default().data(message)), receiver))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

async fn forward(
    mut items: BoxStream<'static, TailItem>,
    per_second: u32,
    sender: mpsc::Sender<String>,
    _permit: OwnedSemaphorePermit,
) {
    let mut window = Instant::now();
    let mut sent_in_window = 0_u32;
    let mut skipped = 0_u64;
    loop {
        let flush_at = window + Duration::from_secs(1);
        let item = tokio::select! {
            () = sender.closed() => return,
            item = items.next() => item,
            () = tokio::time::sleep_until(flush_at), if skipped > 0 => {
                let note = json!({ "type": "skipped", "count": skipped }).to_string();
                if sender.send(note).await.is_err() {
                    return;
                }
                skipped = 0;
                window = Instant::now();
                sent_in_window = 0;
                continue;
            }
        };
        let Some(item) = item else {
            let note = json!({ "type": "ended", "message": "the backend stopped" }).to_string();
            let _gone = sender.send(note).await;
            return;
        };
        if window.elapsed() >= Duration::from_secs(1) && skipped == 0 {
            window = Instant::now();
            sent_in_window = 0;
        }
        if sent_in_window >= per_second {
            skipped += 1;
            continue;
        }
        sent_in_window += 1;
        let Ok(message) = serde_json::to_string(&item) else {
            continue;
        };
        if sender.send(message).await.is_err() {
            return;
        }
    }
}
