//! A look inside a [`Realtime`] handle for tools that show it to people (the inspector page
//! of `realtime-axum`, feature `inspector`): the channels this process serves, stored
//! entries as they are, each checked against the schema but never hidden when it breaks it,
//! a live tail of a channel, the backend's health.
//!
//! ```
//! use realtime_core::backend::ReadRange;
//! use realtime_core::{Events, Realtime};
//!
//! #[derive(Events, Clone, Debug, PartialEq)]
//! enum AppEvent {
//!     #[event("notification.alert")]
//!     Alert(String),
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> realtime_core::Result<()> {
//! let rt = Realtime::<AppEvent>::memory();
//! rt.emit(&AppEvent::Alert("hello".into())).await?;
//! rt.channel("default").emit_json("notification.alert", serde_json::json!(7)).await.unwrap_err();
//!
//! let inspect = rt.inspect();
//! let entries = inspect.read("default", ReadRange::newest(10)).await?;
//! assert_eq!(entries.len(), 1);
//! assert_eq!((entries[0].event.as_str(), &entries[0].data), ("notification.alert", &serde_json::json!("hello")));
//! assert!(entries[0].problem.is_none());
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::Value;

use crate::backend::{BackendHealth, Feed, FeedItem, RawEntry, ReadRange};
use crate::channel::IntoChannelName;
use crate::cursor::Cursor;
use crate::error::{DecodeError, Error, Result};
use crate::events::Events;
use crate::hub::CATCH_UP_PAGE;
use crate::realtime::Realtime;
use crate::shared::Core;

/// A look inside a [`Realtime`] handle; made by [`Realtime::inspect`].
pub struct Inspect<E: Events> {
    core: Arc<Core<E>>,
}

impl<E: Events> std::fmt::Debug for Inspect<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspect")
            .field("backend", &self.core.backend.name())
            .finish()
    }
}

/// A channel with subscribers in this process.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct LiveChannel {
    /// The channel's name.
    pub name: String,
    /// Subscribers in this process now (event streams and [`Subscription`]s).
    ///
    /// [`Subscription`]: crate::Subscription
    pub subscribers: usize,
    /// The id of the last entry it delivered, if any since its feed opened.
    pub last_id: Option<String>,
}

/// A stored entry as it is, with what the schema says of it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CheckedEntry {
    /// The entry's id.
    pub id: String,
    /// The event name as stored (it may be unknown to the event set).
    pub event: String,
    /// The data: its JSON, or the stored text as a string when it is not JSON.
    pub data: Value,
    /// Why the event set would not deliver it, if it would not.
    pub problem: Option<EntryProblem>,
}

/// Why a stored entry breaks the event set: an unknown event, data that breaks the schema,
/// data that does not decode.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct EntryProblem {
    /// The JSON pointer of the offending value inside the data (`""` for the data itself).
    pub path: String,
    /// The JSON Schema keyword that failed (`maxLength`, `required`, ...), `event` for an
    /// unknown event, `decode` for data the event's type does not read.
    pub rule: String,
    /// What is wrong, in words.
    pub message: String,
}

/// One item of a [`tail`](Inspect::tail).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum TailItem {
    /// An entry appended to the channel, in id order.
    Entry(CheckedEntry),
    /// The backend could not read what the feed missed; entries may be missing from the
    /// tail (never from the channel).
    Gap {
        /// What failed.
        message: String,
    },
}

impl<E: Events> Realtime<E> {
    /// A look inside this handle, for tools that show it to people.
    pub fn inspect(&self) -> Inspect<E> {
        Inspect {
            core: Arc::clone(self.core()),
        }
    }
}

impl<E: Events> Inspect<E> {
    /// The backend's name (`"memory"`, `"redis"`).
    pub fn backend_name(&self) -> &'static str {
        self.core.backend.name()
    }

    /// The backend's state now: its nodes, their roles, its pub/sub connections.
    pub async fn health(&self) -> BackendHealth {
        self.core.backend.health().await
    }

    /// The channels with subscribers in this process, by name.
    pub fn live_channels(&self) -> Vec<LiveChannel> {
        let mut channels: Vec<LiveChannel> = self
            .core
            .hub
            .channels()
            .into_iter()
            .map(|(name, subscribers, last)| LiveChannel {
                name: name.to_string(),
                subscribers,
                last_id: last.map(|id| id.to_string()),
            })
            .collect();
        channels.sort_by(|a, b| a.name.cmp(&b.name));
        channels
    }

    /// Stored entries of `channel` in `range`, in ascending id order, each checked.
    ///
    /// # Errors
    /// A bad channel name; a backend failure.
    pub async fn read(
        &self,
        channel: impl IntoChannelName,
        range: ReadRange,
    ) -> Result<Vec<CheckedEntry>> {
        let channel = channel.into_channel_name()?;
        let entries = self.core.backend.read(&channel, range).await?;
        Ok(entries.iter().map(|entry| self.check(entry)).collect())
    }

    /// The entries appended to `channel` from now on, each checked, in id order: a feed of
    /// its own (not the fan-out's, which skips entries that break the schema). When the
    /// feed says it missed entries, they are read from history; when that read fails, a
    /// [`TailItem::Gap`] says so. The stream ends when the backend stops.
    ///
    /// # Errors
    /// A bad channel name; the backend cannot open a feed.
    pub async fn tail(
        &self,
        channel: impl IntoChannelName,
    ) -> Result<BoxStream<'static, TailItem>> {
        let channel = channel.into_channel_name()?;
        let feed = self.core.backend.listen(&channel).await?;
        // Where the tail starts: after the newest entry stored now.
        let newest = self
            .core
            .backend
            .read(&channel, ReadRange::newest(1))
            .await?;
        let state = TailState {
            inspect: self.clone(),
            channel: channel.to_string(),
            feed,
            last: newest.last().map(|entry| entry.id),
            ready: VecDeque::new(),
        };
        Ok(futures::stream::unfold(state, TailState::next).boxed())
    }

    /// What the event set says of `data` as the data of `event`: `None` when an emit of it
    /// would pass validation and decoding.
    pub fn check_data(&self, event: &str, data: &Value) -> Option<EntryProblem> {
        let entry = RawEntry {
            id: Cursor::MIN,
            event: Arc::from(event),
            data: Arc::from(data.to_string()),
            lenient: false,
        };
        self.core.catalog.decode::<E>(&entry).err().map(problem)
    }

    /// Checks one stored entry against the event set.
    pub fn check(&self, entry: &RawEntry) -> CheckedEntry {
        let data = serde_json::from_str(&entry.data)
            .unwrap_or_else(|_| Value::String(entry.data.to_string()));
        let problem = self.core.catalog.decode::<E>(entry).err().map(problem);
        CheckedEntry {
            id: entry.id.to_string(),
            event: entry.event.to_string(),
            data,
            problem,
        }
    }
}

impl<E: Events> Clone for Inspect<E> {
    fn clone(&self) -> Self {
        Self {
            core: Arc::clone(&self.core),
        }
    }
}

fn problem(error: Error) -> EntryProblem {
    let (path, rule, message) = match &error {
        Error::Invalid(violation) => (
            violation.path.clone(),
            violation.rule.clone(),
            violation.message.clone(),
        ),
        Error::UnknownEvent(_) | Error::Decode(DecodeError::UnknownEvent(_)) => {
            (String::new(), "event".to_owned(), error.to_string())
        }
        Error::Decode(DecodeError::InvalidData { path, message, .. }) => (
            path.trim_start_matches('.').to_owned(),
            "decode".to_owned(),
            message.clone(),
        ),
        _ => (String::new(), "decode".to_owned(), error.to_string()),
    };
    EntryProblem {
        path,
        rule,
        message,
    }
}

struct TailState<E: Events> {
    inspect: Inspect<E>,
    channel: String,
    feed: Feed,
    last: Option<Cursor>,
    ready: VecDeque<TailItem>,
}

impl<E: Events> TailState<E> {
    async fn next(mut self) -> Option<(TailItem, Self)> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some((item, self));
            }
            match self.feed.next().await? {
                FeedItem::Entry(entry) => {
                    if self.last.is_some_and(|last| entry.id <= last) {
                        continue;
                    }
                    self.last = Some(entry.id);
                    let checked = self.inspect.check(&entry);
                    return Some((TailItem::Entry(checked), self));
                }
                FeedItem::Resync => self.catch_up().await,
            }
        }
    }

    /// Reads what the feed missed into `ready`: one page at most (a tail is for looking,
    /// not for catching up on a backlog); past it a [`TailItem::Gap`] says the rest is in
    /// the history, and the tail goes on after the newest entry.
    async fn catch_up(&mut self) {
        let backend = &self.inspect.core.backend;
        let range = ReadRange::after(self.last, CATCH_UP_PAGE);
        let entries = match backend.read(&self.channel, range).await {
            Ok(entries) => entries,
            Err(error) => {
                let message = format!("entries the live feed missed could not be read: {error}");
                self.ready.push_back(TailItem::Gap { message });
                return;
            }
        };
        for entry in &entries {
            self.last = Some(entry.id);
            self.ready
                .push_back(TailItem::Entry(self.inspect.check(entry)));
        }
        if entries.len() == CATCH_UP_PAGE {
            if let Ok(newest) = backend.read(&self.channel, ReadRange::newest(1)).await {
                self.last = newest.last().map(|entry| entry.id).or(self.last);
            }
            let message = format!(
                "more than {CATCH_UP_PAGE} entries arrived at once: the rest are in the history"
            );
            self.ready.push_back(TailItem::Gap { message });
        }
    }
}
