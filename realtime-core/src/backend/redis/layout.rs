//! Where channels live in Redis and how entries and live messages are encoded.
//!
//! Stream entries have the fields `data`, `event`, `channel` (in that order) and live
//! messages are the JSON `{"data":<data>,"event":"..","channel":"..","id":".."}`: the
//! formats of `@upstash/realtime` 1.1.0, so a server of either kind reads the other's.
//! Under [`KeyLayout::Prefixed`], which only our servers read, the emit script leaves the
//! channel out of live messages (the subscriber knows the pub/sub channel it heard) and
//! publishes a channel's messages of one script call together, as JSON arrays.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::backend::{FeedItem, RawEntry};
use crate::cursor::Cursor;

/// The key prefix of [`KeyLayout::default`].
pub const DEFAULT_KEY_PREFIX: &str = "realtime:";

/// How channel names map to Redis stream keys and pub/sub channels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyLayout {
    /// Streams and pub/sub channels are named `<prefix><channel>`, so a channel name chosen
    /// by a client can never address another key. The default, with prefix `realtime:`.
    ///
    /// The prefix is empty or ends with `:`, and a `:` inside a channel name is written as
    /// `%3A` (`team:42` is stored at `realtime:team%3A42`), so two apps whose prefixes nest
    /// (`app:` and `app:b:`) can never address each other's keys: below the shorter
    /// prefix, a key of the longer one has a `:` where no channel of the shorter one can.
    Prefixed(String),
    /// The channel name itself is the stream key and the pub/sub channel, as
    /// `@upstash/realtime` does: choose it to share a database with a server of the
    /// reference implementation. Any key of the database becomes readable as a channel
    /// unless the app's authorization forbids it.
    ///
    /// On a Redis Cluster the streams are still at the channel names (each its own slot),
    /// but live messages go over sharded pub/sub (`SPUBLISH`), which a reference server
    /// (global `SUBSCRIBE`) does not hear: the two share history, not live delivery.
    Reference,
}

impl Default for KeyLayout {
    fn default() -> Self {
        KeyLayout::Prefixed(DEFAULT_KEY_PREFIX.to_owned())
    }
}

impl KeyLayout {
    /// Checks that the layout keeps apps apart: a prefix must be empty or end with `:`.
    ///
    /// # Errors
    /// A message saying what is wrong and what is expected.
    pub fn check(&self) -> Result<(), String> {
        match self {
            KeyLayout::Prefixed(prefix) if !prefix.is_empty() && !prefix.ends_with(':') => {
                Err(format!(
                    "key prefix `{prefix}` must end with `:` (e.g. `{prefix}:`), so that no \
                     other app's prefix can extend it into this app's keys"
                ))
            }
            _ => Ok(()),
        }
    }

    /// The stream key of `channel`.
    pub fn stream_key(&self, channel: &str) -> String {
        match self {
            KeyLayout::Prefixed(prefix) => {
                let mut key = String::with_capacity(prefix.len() + channel.len() + 4);
                key.push_str(prefix);
                for (index, part) in channel.split(':').enumerate() {
                    if index > 0 {
                        key.push_str("%3A");
                    }
                    key.push_str(part);
                }
                key
            }
            KeyLayout::Reference => channel.to_owned(),
        }
    }

    /// The key that remembers an idempotency key of `channel` (see
    /// [`Channel::emit_with_key`](crate::Channel::emit_with_key)): the stream key, `#`
    /// (which no channel name contains), `idem:` and the key.
    pub fn idempotency_key(&self, channel: &str, key: &str) -> String {
        format!("{}#idem:{key}", self.stream_key(channel))
    }

    /// The stream key of `channel` on a Redis Cluster. Prefixed: the single-node key in a
    /// hash tag (`{realtime:room-42}`), so that the stream, its pub/sub channel and its
    /// idempotency keys hash to one slot and the emit stays one script call on one master.
    /// Reference: the channel name itself, as the reference writes it (a channel name has
    /// no braces, so it is its own slot).
    pub fn cluster_stream_key(&self, channel: &str) -> String {
        match self {
            KeyLayout::Prefixed(_) => format!("{{{}}}", self.stream_key(channel)),
            KeyLayout::Reference => channel.to_owned(),
        }
    }

    /// [`idempotency_key`](Self::idempotency_key) on a Redis Cluster: in the slot of the
    /// channel's stream.
    pub fn cluster_idempotency_key(&self, channel: &str, key: &str) -> String {
        match self {
            KeyLayout::Prefixed(_) => format!("{}#idem:{key}", self.cluster_stream_key(channel)),
            KeyLayout::Reference => format!("{{{channel}}}#idem:{key}"),
        }
    }

    /// The key of one part of `channel`'s presence (`connections`, `counts`, `records`):
    /// the stream key, `#presence:` and the part.
    pub fn presence_key(&self, channel: &str, part: &str) -> String {
        format!("{}#presence:{part}", self.stream_key(channel))
    }

    /// [`presence_key`](Self::presence_key) on a Redis Cluster: in the slot of the
    /// channel's stream, so that a presence change and its entry are one script call.
    pub fn cluster_presence_key(&self, channel: &str, part: &str) -> String {
        match self {
            KeyLayout::Prefixed(_) => {
                format!("{}#presence:{part}", self.cluster_stream_key(channel))
            }
            KeyLayout::Reference => format!("{{{channel}}}#presence:{part}"),
        }
    }

    /// The pub/sub channel of `channel`.
    pub fn pubsub_channel(&self, channel: &str) -> String {
        self.stream_key(channel)
    }

    /// Whether entries may hold data written by the reference implementation, which
    /// stores strings, numbers and booleans as bare text.
    pub fn is_lenient(&self) -> bool {
        matches!(self, KeyLayout::Reference)
    }
}

/// The part of a live message between its data and its id, for scripts that write
/// `{"data":` + data + this + id + `"}` (the presence script): the data is sent to Redis
/// once.
pub(crate) fn message_tail(channel: &str, event: &str) -> String {
    let event = serde_json::Value::from(event).to_string();
    let channel = serde_json::Value::from(channel).to_string();
    format!(r#","event":{event},"channel":{channel},"id":""#)
}

/// A live message as read from pub/sub. System frames (`{"type":"ping",...}`) carry a
/// `type` and no id.
#[derive(Deserialize)]
struct Published<'a> {
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    event: Option<String>,
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// What a pub/sub payload means for a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A user event.
    Entry(RawEntry),
    /// A system frame of the reference (a keepalive ping): not an event, ignored.
    System,
    /// Something unreadable: the entry, if any, is in the stream; the feed resyncs.
    Malformed(String),
}

impl Incoming {
    pub(crate) fn into_feed_item(self) -> Option<FeedItem> {
        match self {
            Incoming::Entry(entry) => Some(FeedItem::Entry(entry)),
            Incoming::System => None,
            Incoming::Malformed(_) => Some(FeedItem::Resync),
        }
    }
}

/// Reads a pub/sub payload: one live message, or (from group commit, in the prefixed
/// layout) a JSON array of the live messages one script call published to the channel,
/// in stream order.
pub(crate) fn parse_published_all(payload: &[u8]) -> Vec<Incoming> {
    let starts_array = payload
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| *byte == b'[');
    if !starts_array {
        return vec![parse_published(payload)];
    }
    match serde_json::from_slice::<Vec<&RawValue>>(payload) {
        Ok(messages) => messages
            .into_iter()
            .map(|message| parse_published(message.get().as_bytes()))
            .collect(),
        Err(error) => vec![Incoming::Malformed(format!(
            "not a JSON array of messages: {error}"
        ))],
    }
}

/// Reads a pub/sub payload.
pub(crate) fn parse_published(payload: &[u8]) -> Incoming {
    let message: Published<'_> = match serde_json::from_slice(payload) {
        Ok(message) => message,
        Err(error) => return Incoming::Malformed(format!("not a JSON message: {error}")),
    };
    match message {
        Published {
            id: Some(id),
            event: Some(event),
            data,
            ..
        } => match id.parse::<Cursor>() {
            Ok(id) => Incoming::Entry(RawEntry {
                id,
                event: Arc::from(event),
                data: Arc::from(data.map_or("null", RawValue::get)),
                lenient: false,
            }),
            Err(error) => Incoming::Malformed(error.to_string()),
        },
        Published { kind: Some(_), .. } => Incoming::System,
        _ => Incoming::Malformed("a message without `id` and `event`".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_prefixes_cannot_address_each_others_keys() {
        let outer = KeyLayout::Prefixed("app:".to_owned());
        let inner = KeyLayout::Prefixed("app:b:".to_owned());
        assert_eq!(outer.stream_key("b:c"), "app:b%3Ac");
        assert_ne!(outer.stream_key("b:c"), inner.stream_key("c"));
        assert!(outer.check().is_ok() && inner.check().is_ok());
        assert!(KeyLayout::Prefixed(String::new()).check().is_ok());
        let error = KeyLayout::Prefixed("app".to_owned()).check().unwrap_err();
        assert!(error.contains("must end with `:`"), "{error}");
        assert_eq!(
            outer.idempotency_key("b:c", "k-1"),
            "app:b%3Ac#idem:k-1".to_owned()
        );
    }

    #[test]
    fn on_a_cluster_a_channels_keys_share_one_slot() {
        use crate::backend::redis::cluster::key_slot;
        let layout = KeyLayout::default();
        let stream = layout.cluster_stream_key("team:42");
        assert_eq!(stream, "{realtime:team%3A42}");
        let idempotency = layout.cluster_idempotency_key("team:42", "k-1");
        assert_eq!(idempotency, "{realtime:team%3A42}#idem:k-1");
        assert_eq!(
            key_slot(stream.as_bytes()),
            key_slot(idempotency.as_bytes())
        );
        let reference = KeyLayout::Reference;
        assert_eq!(reference.cluster_stream_key("room-1"), "room-1");
        assert_eq!(
            key_slot(b"room-1"),
            key_slot(reference.cluster_idempotency_key("room-1", "k").as_bytes())
        );
    }

    #[test]
    fn prefixed_layout_keeps_client_names_under_the_prefix() {
        let layout = KeyLayout::default();
        assert_eq!(layout.stream_key("room-1"), "realtime:room-1");
        assert_eq!(layout.pubsub_channel("room-1"), "realtime:room-1");
        assert_eq!(KeyLayout::Reference.stream_key("room-1"), "room-1");
    }

    #[test]
    fn a_message_in_the_reference_bytes_is_read() {
        let message = r#"{"data":{"text":"hi / \"you\""},"event":"chat.message","channel":"room-1","id":"1732712345678-0"}"#;
        let Incoming::Entry(entry) = parse_published(message.as_bytes()) else {
            panic!("expected an entry");
        };
        assert_eq!(entry.id, Cursor::new(1_732_712_345_678, 0));
        assert_eq!(&*entry.event, "chat.message");
        assert_eq!(&*entry.data, r#"{"text":"hi / \"you\""}"#);
    }

    #[test]
    fn a_batch_of_messages_is_read_in_order() {
        let one = r#"{"data":1,"event":"a.b","id":"1-0"}"#;
        let two = r#"{"data":{"k":2},"event":"a.b","channel":"c","id":"1-1"}"#;
        let batch = format!("[{one},{two}]");
        let read = parse_published_all(batch.as_bytes());
        let ids: Vec<Cursor> = read
            .iter()
            .map(|incoming| match incoming {
                Incoming::Entry(entry) => entry.id,
                other => panic!("expected entries, got {other:?}"),
            })
            .collect();
        assert_eq!(ids, [Cursor::new(1, 0), Cursor::new(1, 1)]);
        assert_eq!(parse_published_all(one.as_bytes()).len(), 1);
        assert!(matches!(
            parse_published_all(b"[1, oops").as_slice(),
            [Incoming::Malformed(_)]
        ));
    }

    #[test]
    fn pings_are_system_frames_and_garbage_is_malformed() {
        assert_eq!(
            parse_published(br#"{"type":"ping","timestamp":1732712345678}"#),
            Incoming::System
        );
        assert!(matches!(
            parse_published(b"not json"),
            Incoming::Malformed(_)
        ));
        assert!(matches!(
            parse_published(br#"{"event":"a"}"#),
            Incoming::Malformed(_)
        ));
        assert!(matches!(
            parse_published(br#"{"id":"x","event":"a","data":1}"#),
            Incoming::Malformed(_)
        ));
    }
}
