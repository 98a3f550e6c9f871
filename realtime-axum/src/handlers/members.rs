//! `GET <path>/presence?channel=<c>`: the members of a channel's presence now, as JSON
//! `[{"member": "<id>", "info": <info>}, ...]` sorted by id. Served when the event set
//! declares presence; authorized by the stream's hook (for the one channel), so a client
//! that may not read a channel may not list who is in it either.
//!
//! | outcome | status | body |
//! |---|---|---|
//! | the members | 200 | `[{ "member", "info" }]` |
//! | no `channel`, several, or a bad name | 400 | `{ "error" }` |
//! | refused by the authorization hook | its response (e.g. 401, 403) | |
//! | storage unreachable | 503 + `Retry-After` | `{ "error" }` |

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use realtime_core::Events;
use realtime_core::channel::ChannelName;

use crate::endpoint::RealtimeSse;
use crate::error::RequestError;

pub(crate) async fn members_handler<E: Events>(
    State(sse): State<RealtimeSse<E>>,
    request: Request,
) -> Response {
    let cors = sse.cors_headers(request.headers());
    let mut response = match members(&sse, request).await {
        Ok(response) | Err(response) => response,
    };
    response.headers_mut().extend(cors);
    response
}

async fn members<E: Events>(sse: &RealtimeSse<E>, request: Request) -> Result<Response, Response> {
    let shared = sse.shared();
    let channel = channel_of(request.uri().query().unwrap_or_default())
        .map_err(IntoResponse::into_response)?;
    let (parts, _body) = request.into_parts();
    let _allowed = sse
        .authorize(shared.authorize.as_deref(), parts, vec![channel.clone()])
        .await?;
    match shared.realtime.channel(channel).presence().members().await {
        Ok(members) => Ok(Json(members).into_response()),
        Err(error) => {
            tracing::warn!(%error, "members refused: storage failed");
            Err(RequestError::from(&error).into_response())
        }
    }
}

/// The one `channel` of the query.
fn channel_of(query: &str) -> Result<ChannelName, RequestError> {
    let mut names = form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key == "channel")
        .map(|(_, value)| value);
    let expected = "expected `?channel=<name>`, one channel per request";
    let (Some(name), None) = (names.next(), names.next()) else {
        return Err(RequestError::bad_request(expected));
    };
    ChannelName::new(name.as_ref()).map_err(|error| RequestError::bad_request(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_names_exactly_one_valid_channel() {
        assert_eq!(channel_of("channel=room-1").unwrap().as_str(), "room-1");
        assert_eq!(channel_of("x=1&channel=a%3Ab").unwrap().as_str(), "a:b");
        for query in ["", "channel=a&channel=b", "chan=a"] {
            assert_eq!(
                channel_of(query).unwrap_err().message(),
                "expected `?channel=<name>`, one channel per request",
                "{query}"
            );
        }
        assert!(
            channel_of("channel=a%20b")
                .unwrap_err()
                .message()
                .starts_with("invalid channel name `a b`")
        );
    }
}
