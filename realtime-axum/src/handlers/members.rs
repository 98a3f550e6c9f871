//! `GET <path>/members?channel=<name>`: the members of a channel's presence now, as
//! JSON `{"channel": "<name>", "members": [{"member": "<id>", "info": ...}, ...]}`
//! (sorted by id), authorized by the same hook as the stream.

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use realtime_core::{Events, Member};
use serde::Serialize;

use crate::endpoint::RealtimeSse;
use crate::error::RequestError;
use crate::query::parse_query;

#[derive(Serialize)]
struct Members<'a, I> {
    channel: &'a str,
    members: Vec<Member<I>>,
}

/// `GET`: the members of one channel.
pub(crate) async fn members_handler<E: Events>(
    State(sse): State<RealtimeSse<E>>,
    request: Request,
) -> Response {
    let cors = sse.cors_headers(request.headers());
    let mut response = match members(&sse, request).await {
        Ok(response) => response,
        Err(response) => response,
    };
    response.headers_mut().extend(cors);
    response
}

async fn members<E: Events>(sse: &RealtimeSse<E>, request: Request) -> Result<Response, Response> {
    let shared = sse.shared();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let mut channels = parse_query(&query, 1).map_err(IntoResponse::into_response)?;
    let Some(channel) = channels.pop() else {
        return Err(RequestError::bad_request("name one `channel`").into_response());
    };
    let (parts, _body) = request.into_parts();
    sse.authorize(
        shared.authorize.as_deref(),
        parts,
        vec![channel.name.clone()],
    )
    .await?;
    let members = shared
        .realtime
        .channel(channel.name.clone())
        .presence()
        .members()
        .await
        .map_err(|error| RequestError::from(&error).into_response())?;
    Ok(Json(Members {
        channel: &channel.name,
        members,
    })
    .into_response())
}
