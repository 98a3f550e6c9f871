//! The query of an SSE request: `?channel=<c1>&channel=<c2>&last_ack_<c1>=<v1>...`.

use realtime_core::channel::ChannelName;
use realtime_core::{DEFAULT_CHANNEL, Position};

use crate::error::RequestError;

/// One requested channel and where its client left off.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelRequest {
    /// The channel name (decoded and checked).
    pub name: ChannelName,
    /// The client's `last_ack_<channel>`: replay strictly after it. `None`: live only.
    pub last_ack: Option<Position>,
}

/// Reads the channels and cursors of an SSE request.
///
/// No `channel` parameter means `default`; repeated channels count once, in first-seen
/// order; `last_ack_` keys of channels that were not requested are ignored.
///
/// # Errors
/// A [`RequestError`] (a 400) for a malformed channel name, too many channels or a
/// malformed `last_ack_` value, saying which and what is expected.
pub(crate) fn parse_query(
    query: &str,
    max_channels: usize,
) -> Result<Vec<ChannelRequest>, RequestError> {
    let mut names: Vec<String> = Vec::new();
    let mut acks: Vec<(String, String)> = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == "channel" {
            if !names.iter().any(|name| *name == value) {
                if names.len() == max_channels {
                    return Err(RequestError::bad_request(format!(
                        "too many channels: at most {max_channels} per connection"
                    )));
                }
                names.push(value.into_owned());
            }
        } else if let Some(channel) = key.strip_prefix("last_ack_") {
            acks.push((channel.to_owned(), value.into_owned()));
        }
    }
    if names.is_empty() {
        names.push(DEFAULT_CHANNEL.to_owned());
    }
    names
        .into_iter()
        .map(|name| {
            let name = ChannelName::new(&name)
                .map_err(|error| RequestError::bad_request(error.to_string()))?;
            let last_ack = acks
                .iter()
                .rev()
                .find(|(channel, _)| name == channel.as_str())
                .map(|(_, value)| {
                    value.parse::<Position>().map_err(|error| {
                        RequestError::bad_request(format!("`last_ack_{name}`: {error}"))
                    })
                })
                .transpose()?;
            Ok(ChannelRequest { name, last_ack })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use realtime_core::channel::check_channel_name;

    fn channel(name: &str) -> ChannelName {
        ChannelName::new(name).expect("a valid name")
    }
    use realtime_core::Cursor;

    #[test]
    fn no_channel_means_default_live() {
        assert_eq!(
            parse_query("", 8).unwrap(),
            [ChannelRequest {
                name: channel("default"),
                last_ack: None
            }]
        );
    }

    #[test]
    fn channels_are_decoded_deduplicated_and_paired_with_their_cursor() {
        let query = "channel=room%3A1&channel=b&channel=room%3A1&last_ack_room%3A1=5-1&last_ack_b=1700&last_ack_zzz=bad";
        assert_eq!(
            parse_query(query, 8).unwrap(),
            [
                ChannelRequest {
                    name: channel("room:1"),
                    last_ack: Some(Position::Cursor(Cursor::new(5, 1)))
                },
                ChannelRequest {
                    name: channel("b"),
                    last_ack: Some(Position::Millis(1700))
                },
            ]
        );
    }

    #[test]
    fn bad_input_is_refused_with_what_was_expected() {
        let error = parse_query("channel=a%20b", 8).unwrap_err();
        assert_eq!(
            error.message(),
            "invalid channel name `a b`: expected only ASCII letters, digits and `-_.:@/`"
        );
        let error = parse_query("channel=a&channel=b&channel=c", 2).unwrap_err();
        assert_eq!(
            error.message(),
            "too many channels: at most 2 per connection"
        );
        let error = parse_query("channel=a&last_ack_a=12-x", 8).unwrap_err();
        assert!(
            error
                .message()
                .starts_with("`last_ack_a`: malformed cursor `12-x`"),
            "{}",
            error.message()
        );
        assert!(parse_query("channel=", 8).is_err());
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        /// A channel name the endpoint accepts.
        fn channel() -> impl Strategy<Value = String> {
            "[a-zA-Z0-9_.:@/-]{1,24}"
        }

        fn position() -> impl Strategy<Value = Position> {
            prop_oneof![
                (any::<u64>(), any::<u64>())
                    .prop_map(|(ms, seq)| Position::Cursor(Cursor::new(ms, seq))),
                any::<u64>().prop_map(Position::Millis),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1_000))]

            #[test]
            fn any_query_is_read_without_panic_into_valid_distinct_channels(
                query in "([a-z_]{0,12}(=[ -~]{0,20})?&?){0,8}|[ -~]{0,200}|\\PC{0,100}",
                max in 1..8usize,
            ) {
                if let Ok(channels) = parse_query(&query, max) {
                    prop_assert!(!channels.is_empty() && channels.len() <= max);
                    for (at, channel) in channels.iter().enumerate() {
                        prop_assert!(check_channel_name(channel.name.as_str()).is_ok());
                        prop_assert!(channels[..at].iter().all(|other| other.name != channel.name));
                    }
                }
            }

            #[test]
            fn channels_and_their_last_acks_round_trip(
                requested in prop::collection::vec(channel(), 1..6),
                acks in prop::collection::vec((any::<prop::sample::Index>(), position()), 0..8),
                noise in prop::collection::vec(("[a-z_]{1,10}", "[ -~]{0,10}"), 0..4),
            ) {
                let mut query = form_urlencoded::Serializer::new(String::new());
                for name in &requested {
                    query.append_pair("channel", name);
                }
                for (key, value) in &noise {
                    if key != "channel" && !key.starts_with("last_ack_") {
                        query.append_pair(key, value);
                    }
                }
                let acks: Vec<(&String, Position)> = acks
                    .iter()
                    .map(|(at, position)| (&requested[at.index(requested.len())], *position))
                    .collect();
                for (name, position) in &acks {
                    query.append_pair(&format!("last_ack_{name}"), &position.to_string());
                }
                let parsed = parse_query(&query.finish(), 8).unwrap();

                let mut expected: Vec<ChannelRequest> = Vec::new();
                for name in &requested {
                    if expected.iter().all(|channel| channel.name != *name) {
                        let last_ack = acks
                            .iter()
                            .rev()
                            .find(|(acked, _)| *acked == name)
                            .map(|(_, position)| *position);
                        expected.push(ChannelRequest { name: super::channel(name), last_ack });
                    }
                }
                prop_assert_eq!(parsed, expected);
            }
        }
    }
}
