//! The SSE frames of the wire protocol: `data: <one line of JSON>\n\n`. The only other
//! bytes of a stream are the `id: <ms>` block it starts with (`handlers/subscribe.rs`,
//! `SseConfig::refuse_stale_reconnects`).
//!
//! User events are encoded once per process (the bytes are cached in the shared
//! [`Delivery`]); system frames are small and built per connection.

use bytes::Bytes;
use realtime_core::{Cursor, Delivery, Events, FrameFormat};
use serde_json::Value;

/// A frame of the stream, as `@upstash/realtime`'s browser client reads it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SseFrame<'a> {
    /// The channel's subscription is live; sent before its replay. `cursor` is where
    /// the stream resumes, so the client can send it back on its next connect.
    Connected {
        /// The channel.
        channel: &'a str,
        /// The id everything up to which is accounted for, if any.
        cursor: Option<Cursor>,
    },
    /// Keepalive; resets the client's 75 s watchdog.
    Ping {
        /// Milliseconds since the Unix epoch.
        timestamp: u64,
    },
    /// The server is about to end the stream: reconnect now.
    Reconnect {
        /// Milliseconds since the Unix epoch; the client replays from it.
        timestamp: u64,
    },
    /// Something went wrong on the server side of this stream.
    Error {
        /// What happened.
        error: &'a str,
    },
}

impl SseFrame<'_> {
    /// The JSON of the frame, keys in the reference's order.
    pub(crate) fn to_json(&self) -> String {
        let value = match self {
            SseFrame::Connected {
                channel,
                cursor: Some(cursor),
            } => {
                serde_json::json!({ "type": "connected", "channel": channel, "cursor": cursor.to_string() })
            }
            SseFrame::Connected {
                channel,
                cursor: None,
            } => serde_json::json!({ "type": "connected", "channel": channel }),
            SseFrame::Ping { timestamp } => {
                serde_json::json!({ "type": "ping", "timestamp": timestamp })
            }
            SseFrame::Reconnect { timestamp } => {
                serde_json::json!({ "type": "reconnect", "timestamp": timestamp })
            }
            SseFrame::Error { error } => serde_json::json!({ "type": "error", "error": error }),
        };
        ordered(&value)
    }

    /// The frame's bytes on the wire.
    pub(crate) fn to_bytes(&self) -> Bytes {
        Bytes::from(format!("data: {}\n\n", self.to_json()))
    }
}

/// Writes a flat JSON object with `type` first, whatever map order serde_json uses.
fn ordered(value: &Value) -> String {
    let Value::Object(object) = value else {
        return value.to_string();
    };
    let order = ["type", "channel", "cursor", "timestamp", "error"];
    let fields: Vec<String> = order
        .iter()
        .filter_map(|key| object.get(*key).map(|value| format!("\"{key}\":{value}")))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// The wire bytes of a user event: `data: {"id":..,"data":..,"event":..,"channel":..}`,
/// the reference's key order (cached per delivery: see [`FrameFormat`]).
pub(crate) fn event_frame<E: Events>(delivery: &Delivery<E>) -> Bytes {
    delivery.frame::<UpstashSse>()
}

/// The SSE frame format of `@upstash/realtime` 1.1.0.
struct UpstashSse;

impl FrameFormat for UpstashSse {
    fn encode<E: Events>(delivery: &Delivery<E>) -> Bytes {
        let envelope = delivery.envelope();
        let channel = Value::from(&*envelope.channel);
        Bytes::from(format!(
            "data: {{\"id\":\"{}\",\"data\":{},\"event\":\"{}\",\"channel\":{channel}}}\n\n",
            envelope.id,
            delivery.data_json(),
            delivery.event_name(),
        ))
    }
}

/// Milliseconds since the Unix epoch, as the reference's `Date.now()`.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_frames_match_the_reference_bytes() {
        let connected = SseFrame::Connected {
            channel: "room-1",
            cursor: Some(Cursor::new(1_732_712_345_678, 0)),
        };
        assert_eq!(
            connected.to_bytes(),
            "data: {\"type\":\"connected\",\"channel\":\"room-1\",\"cursor\":\"1732712345678-0\"}\n\n"
        );
        assert_eq!(
            SseFrame::Connected {
                channel: "a\"b",
                cursor: None
            }
            .to_json(),
            r#"{"type":"connected","channel":"a\"b"}"#
        );
        assert_eq!(
            SseFrame::Ping { timestamp: 5 }.to_bytes(),
            "data: {\"type\":\"ping\",\"timestamp\":5}\n\n"
        );
        assert_eq!(
            SseFrame::Reconnect { timestamp: 7 }.to_json(),
            r#"{"type":"reconnect","timestamp":7}"#
        );
        assert_eq!(
            SseFrame::Error {
                error: "bad \n thing"
            }
            .to_json(),
            r#"{"type":"error","error":"bad \n thing"}"#
        );
    }
}
