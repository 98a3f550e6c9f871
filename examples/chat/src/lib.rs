//! The chat demo: rooms are channels (`room-<name>`), the browser reads them over the SSE
//! endpoint with the repository's own client (`@realtime-rs/react`), and writes through the app's
//! own routes, which check who is asking, validate and emit.
//!
//! | route | what |
//! |---|---|
//! | `POST /api/name` `{name}` | sets the `chat_name` cookie |
//! | `GET /api/me` | `{name}` or 401 |
//! | `GET /api/rooms` | every room: `{room, private, members, canRead}` |
//! | `POST /api/rooms` `{room, private, members}` | creates a room, announced on `lobby` |
//! | `GET /api/rooms/{room}` | the room, or 403/404 saying why it may not be read |
//! | `GET /api/rooms/{room}/history[?before=<ms>]` | the last 50 events of the room (up to `before`) |
//! | `POST /api/rooms/{room}/messages` `{text}` | validated `chat.message`; 422 when refused |
//! | `POST /api/rooms/{room}/typing` | `chat.typing` |
//! | `GET /api/realtime?channel=room-<room>&channel=typing-<room>` | the event stream (authorized by the cookie); the page is online in each `room-*` channel it opens |
//! | `GET /api/realtime/presence?channel=room-<room>` | who is online in the room: `[{member, info: {name}}]` |
//! | `GET /metrics` | the framework's metrics, Prometheus text (`example_support::metrics`) |
//!
//! Who is online is the framework's presence: the stream's authorization hook names the
//! caller as a member of the rooms it opens, so a page is listed while it is open
//! (two tabs: one member), and `presence.joined` / `presence.left` reach every page in the
//! room as ordinary events. A server that dies takes its members with it within the
//! presence TTL ([`ChatConfig::presence_ttl`]).

pub mod admin;
pub mod events;
mod rooms;

use std::path::PathBuf;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{HeaderMap, StatusCode, header};
use realtime_axum::{
    Access, AuthRequest, ChannelRequest, DEFAULT_PRESENCE_LINGER, RealtimeSse, RequestError, cookie,
};
use realtime_core::{DEFAULT_PRESENCE_TTL, Error, History, Position, Realtime, SubscribeBuilder};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

pub use events::{ChatEvent, ChatEventKind, ChatMessage, Online, RoomCreated, Typing};
pub use rooms::{LOBBY, MAX_MEMBERS, MAX_ROOMS, Room, Rooms, channel_of, typing_channel_of};

/// The cookie that holds the name chosen at first visit.
pub const NAME_COOKIE: &str = "chat_name";

/// How many messages a room shows on join (with the join/leave notices among them).
pub const HISTORY_ON_JOIN: usize = 50;

/// How many events the history route reads to find the last 50 messages.
const HISTORY_READ: usize = 200;

/// What the routes share.
#[derive(Clone, Debug)]
pub struct Chat {
    realtime: Realtime<ChatEvent>,
    rooms: Rooms,
}

/// The app: its router and the SSE endpoint (call [`RealtimeSse::shutdown`] on shutdown).
#[derive(Debug)]
pub struct App {
    /// Every route, the SSE endpoint and the built frontend.
    pub router: Router,
    /// The SSE endpoint, for `shutdown()`.
    pub sse: RealtimeSse<ChatEvent>,
}

/// The settings of the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatConfig {
    /// The built frontend (`web/dist`), if any.
    pub web_dist: Option<PathBuf>,
    /// How long the members of a server that died stay listed (1 s to 1 h; default 30 s;
    /// `PRESENCE_TTL_SECS` for the server binary).
    pub presence_ttl: Duration,
    /// How long a closed page stays online, so that the reconnects of the browser client
    /// are not announced (default 5 s).
    pub presence_linger: Duration,
    /// The token that opens the inspector at `/_realtime` (sent as `Authorization: Bearer
    /// <token>`; the page asks for it). `None`: no inspector is mounted.
    /// `CHAT_ADMIN_TOKEN` for the server binary.
    pub admin_token: Option<String>,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            web_dist: None,
            presence_ttl: DEFAULT_PRESENCE_TTL,
            presence_linger: DEFAULT_PRESENCE_LINGER,
            admin_token: None,
        }
    }
}

impl ChatConfig {
    /// The defaults, with `PRESENCE_TTL_SECS` (whole seconds, 1 to 3600) and
    /// `CHAT_ADMIN_TOKEN` (at least 16 characters) if set.
    ///
    /// # Errors
    /// When `PRESENCE_TTL_SECS` is not a number of seconds in that range, or
    /// `CHAT_ADMIN_TOKEN` is shorter than 16 characters.
    pub fn from_env() -> Result<Self, String> {
        let mut config = Self::default();
        if let Ok(token) = std::env::var("CHAT_ADMIN_TOKEN") {
            if token.chars().count() < 16 {
                return Err("CHAT_ADMIN_TOKEN: expected at least 16 characters".to_owned());
            }
            config.admin_token = Some(token);
        }
        if let Ok(secs) = std::env::var("PRESENCE_TTL_SECS") {
            config.presence_ttl = secs
                .parse::<u64>()
                .ok()
                .filter(|secs| (1..=3_600).contains(secs))
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    format!("PRESENCE_TTL_SECS=`{secs}`: expected whole seconds, 1 to 3600")
                })?;
        }
        Ok(config)
    }
}

/// Builds the app on `realtime`; `web_dist` is the built frontend (`web/dist`), if any.
pub fn app(realtime: Realtime<ChatEvent>, web_dist: Option<PathBuf>) -> App {
    app_with(
        realtime,
        ChatConfig {
            web_dist,
            ..ChatConfig::default()
        },
    )
}

/// Builds the app on `realtime` with `config`.
pub fn app_with(realtime: Realtime<ChatEvent>, config: ChatConfig) -> App {
    let chat = Chat {
        rooms: Rooms::new(realtime.clone()),
        realtime: realtime.clone(),
    };
    let rooms = chat.rooms.clone();
    let sse = RealtimeSse::builder(realtime)
        .authorize(move |request: AuthRequest| {
            let rooms = rooms.clone();
            async move { authorize_stream(&rooms, request).await }
        })
        .first_replay(history_on_join)
        .presence_ttl(config.presence_ttl)
        .presence_linger(config.presence_linger)
        .build();
    let api = Router::new()
        .route("/api/name", post(set_name))
        .route("/api/me", get(me))
        .route("/api/rooms", get(list_rooms).post(create_room))
        .route("/api/rooms/{room}", get(room_info))
        .route("/api/rooms/{room}/history", get(history))
        .route("/api/rooms/{room}/messages", post(post_message))
        .route("/api/rooms/{room}/typing", post(typing))
        .with_state(chat.clone());
    let mut router = api;
    if let Some(token) = config.admin_token {
        router = router.nest("/_realtime", admin::inspector(chat.realtime.clone(), token));
    }
    App {
        router: router
            .merge(sse.router("/api/realtime"))
            .merge(example_support::metrics::routes())
            .merge(example_support::frontend::routes("chat", config.web_dist)),
        sse,
    }
}

/// The SSE endpoint's authorization (and its members route's): a name is needed, `lobby`
/// is open to everyone, a private room only to the names invited. The caller is online,
/// under their name, in the rooms the stream opens.
async fn authorize_stream(rooms: &Rooms, request: AuthRequest) -> Result<Access<Online>, Response> {
    let name = request
        .cookie(NAME_COOKIE)
        .filter(|name| valid_name(name))
        .map(str::to_owned)
        .ok_or_else(|| no_name().into_response())?;
    for channel in &request.channels {
        if channel == LOBBY {
            continue;
        }
        let Some(room) = channel
            .strip_prefix("room-")
            .or_else(|| channel.strip_prefix("typing-"))
        else {
            return Err(RequestError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "`{channel}` is not a chat channel; expected `lobby`, `room-<name>` or `typing-<name>`"
                ),
            )
            .into_response());
        };
        rooms
            .readable(room, &name)
            .await
            .map_err(IntoResponse::into_response)?;
    }
    let room_channels: Vec<_> = request
        .channels
        .iter()
        .filter(|channel| channel.starts_with(&channel_of("")))
        .cloned()
        .collect();
    Ok(Access::presence(
        name.clone(),
        Online { name },
        room_channels,
    ))
}

fn no_name() -> RequestError {
    RequestError::new(
        StatusCode::UNAUTHORIZED,
        "choose a name first (POST /api/name sets the `chat_name` cookie)",
    )
}

/// Names: 1 to 24 ASCII letters, digits, `-` or `_` (they travel in a cookie).
pub fn valid_name(name: &str) -> bool {
    (1..=24).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// The caller's name from the cookie, or 401.
fn caller(headers: &HeaderMap) -> Result<String, RequestError> {
    cookie(headers, NAME_COOKIE)
        .filter(|name| valid_name(name))
        .map(str::to_owned)
        .ok_or_else(no_name)
}

#[derive(Deserialize)]
struct NameBody {
    name: String,
}

async fn set_name(Json(body): Json<NameBody>) -> Result<Response, RequestError> {
    let name = body.name.trim();
    if !valid_name(name) {
        return Err(RequestError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a name is 1 to 24 letters, digits, `-` or `_`",
        ));
    }
    let cookie = format!("{NAME_COOKIE}={name}; Path=/; SameSite=Lax; Max-Age=31536000");
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "name": name })),
    )
        .into_response())
}

async fn me(headers: HeaderMap) -> Result<Json<Value>, RequestError> {
    Ok(Json(json!({ "name": caller(&headers)? })))
}

async fn list_rooms(
    State(chat): State<Chat>,
    headers: HeaderMap,
) -> Result<Json<Value>, RequestError> {
    let name = caller(&headers)?;
    let rooms = chat.rooms.all().await.map_err(storage_error)?;
    let rooms: Vec<Value> = rooms
        .iter()
        .map(|room| {
            json!({
                "room": room.name,
                "private": room.private,
                "members": room.members,
                "canRead": room.may_read(&name),
            })
        })
        .collect();
    Ok(Json(Value::Array(rooms)))
}

#[derive(Deserialize)]
struct CreateBody {
    room: String,
    #[serde(default)]
    private: bool,
    #[serde(default)]
    members: Vec<String>,
}

async fn create_room(
    State(chat): State<Chat>,
    headers: HeaderMap,
    Json(body): Json<CreateBody>,
) -> Result<Response, RequestError> {
    let name = caller(&headers)?;
    let mut members: Vec<String> = Vec::new();
    if body.private {
        members.push(name.clone());
        for member in body.members {
            let member = member.trim().to_owned();
            if !valid_name(&member) {
                return Err(RequestError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("`{member}` is not a valid name to invite"),
                ));
            }
            if !members.contains(&member) {
                members.push(member);
            }
        }
        if members.len() > MAX_MEMBERS {
            return Err(RequestError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "a private room invites at most {MAX_MEMBERS} names, its creator included; {} given",
                    members.len()
                ),
            ));
        }
    }
    let created = RoomCreated {
        room: body.room,
        by: name,
        private: body.private,
        members,
    };
    chat.rooms.create(created.clone()).await?;
    Ok((StatusCode::CREATED, Json(json!(created))).into_response())
}

async fn room_info(
    State(chat): State<Chat>,
    Path(room): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, RequestError> {
    let name = caller(&headers)?;
    let found = chat.rooms.readable(&room, &name).await?;
    Ok(Json(json!({
        "room": found.name,
        "private": found.private,
        "members": found.members,
        "canRead": true,
    })))
}

/// History on join, through the event stream itself. The browser client asks for a channel
/// it has seen nothing on with `last_ack_<channel>=<the millisecond its page connected>`;
/// a room's stream then starts just before its last 50 messages (or at that millisecond if
/// it is earlier), replays them with the notices among them, and goes live: each event
/// once, no gap, no second request. Typing notices are not replayed. (The authorization
/// hook has already refused rooms the caller may not read.)
fn history_on_join(
    request: &ChannelRequest,
    subscription: SubscribeBuilder<ChatEvent>,
) -> SubscribeBuilder<ChatEvent> {
    if !request.name.starts_with(&channel_of("")) {
        return subscription; // typing notices: live only
    }
    let recent = subscription.with_history_of(HISTORY_ON_JOIN, [ChatEventKind::Message]);
    match request.last_ack {
        Some(position) => recent.since(position),
        None => recent,
    }
}

/// How many entries, from the end, hold the last 50 messages (notices among them).
fn kept_from_end(entries: &[realtime_core::Envelope<ChatEvent>]) -> usize {
    entries
        .iter()
        .rev()
        .scan(0, |messages, envelope| {
            *messages += usize::from(matches!(envelope.event, ChatEvent::Message(_)));
            Some(*messages)
        })
        .take_while(|messages| *messages <= HISTORY_ON_JOIN)
        .count()
}

/// The caller's name after checking they may read `room`.
async fn member_of(chat: &Chat, headers: &HeaderMap, room: &str) -> Result<String, RequestError> {
    let name = caller(headers)?;
    chat.rooms.readable(room, &name).await?;
    Ok(name)
}

#[derive(Deserialize)]
struct HistoryQuery {
    /// Only entries up to this millisecond (inclusive): the page asks for what came before
    /// the moment its event stream started replaying, so nothing arrives twice.
    before: Option<u64>,
}

/// One event of the history route: its data exactly as the event writes it (fields in
/// declaration order), as the event stream carries it.
#[derive(Serialize)]
struct HistoryEntry {
    id: String,
    event: &'static str,
    data: Box<RawValue>,
}

async fn history(
    State(chat): State<Chat>,
    Path(room): Path<String>,
    Query(query): Query<HistoryQuery>,
    headers: HeaderMap,
) -> Result<Json<Vec<HistoryEntry>>, RequestError> {
    member_of(&chat, &headers, &room).await?;
    let mut last = History::last(HISTORY_READ);
    if let Some(before) = query.before {
        last = last.end(Position::Millis(before));
    }
    let entries = chat
        .realtime
        .channel(channel_of(&room))
        .history(last)
        .await
        .map_err(storage_error)?;
    // From the 50th message from the end: notices in between come along.
    let skip = entries.len() - kept_from_end(&entries);
    let entries = entries
        .into_iter()
        .skip(skip)
        .filter_map(|envelope| {
            let data = realtime_core::Events::to_data_json(&envelope.event).ok()?;
            Some(HistoryEntry {
                id: envelope.id.to_string(),
                event: realtime_core::Events::name(&envelope.event),
                data: RawValue::from_string(data).ok()?,
            })
        })
        .collect();
    Ok(Json(entries))
}

#[derive(Deserialize)]
struct MessageBody {
    text: String,
}

async fn post_message(
    State(chat): State<Chat>,
    Path(room): Path<String>,
    headers: HeaderMap,
    Json(body): Json<MessageBody>,
) -> Result<Response, RequestError> {
    let author = member_of(&chat, &headers, &room).await?;
    let event = ChatEvent::Message(ChatMessage {
        room: room.clone(),
        author,
        text: body.text,
    });
    let id = emit(&chat, channel_of(&room), &event).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

async fn typing(
    State(chat): State<Chat>,
    Path(room): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, RequestError> {
    let author = member_of(&chat, &headers, &room).await?;
    let id = emit(
        &chat,
        typing_channel_of(&room),
        &ChatEvent::Typing(Typing {
            room: room.clone(),
            author,
        }),
    )
    .await?;
    Ok(Json(json!({ "id": id })))
}

/// Emits to the room's channel: a schema violation is a 422 naming the path and the rule.
async fn emit(chat: &Chat, channel: String, event: &ChatEvent) -> Result<String, RequestError> {
    match chat.realtime.channel(channel).emit(event).await {
        Ok(id) => Ok(id.to_string()),
        Err(Error::Invalid(violation)) => Err(RequestError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            message_refusal(&violation.rule, &violation.path),
        )
        .with("event", violation.event)
        .with("path", violation.path.clone())
        .with("rule", violation.rule.clone())),
        Err(error) => Err(storage_error(error)),
    }
}

/// What the UI shows when a message is refused.
fn message_refusal(rule: &str, path: &str) -> String {
    match (rule, path) {
        ("minLength", "/text") => "the message is empty".to_owned(),
        ("maxLength", "/text") => format!(
            "the message is too long: at most {} characters",
            events::MAX_MESSAGE_CHARS
        ),
        _ => format!("the event breaks the rule `{rule}` at `{path}`"),
    }
}

fn storage_error(error: Error) -> RequestError {
    tracing::warn!(%error, "storage error");
    RequestError::from(&error)
}

/// The guide's code blocks (`docs/guide/*.md`) compile and run as doctests of this crate.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../../../docs/guide/events.md")]
    struct Events;
    #[doc = include_str!("../../../docs/guide/channels.md")]
    struct Channels;
    #[doc = include_str!("../../../docs/guide/authorization.md")]
    struct Authorization;
    #[doc = include_str!("../../../docs/guide/client.md")]
    struct Client;
    #[doc = include_str!("../../../docs/guide/codegen.md")]
    struct Codegen;
    #[doc = include_str!("../../../docs/guide/deploying.md")]
    struct Deploying;
    #[doc = include_str!("../../../docs/guide/delivery.md")]
    struct Delivery;
    #[doc = include_str!("../../../docs/guide/inspector.md")]
    struct Inspector;
    #[doc = include_str!("../../../docs/guide/operating.md")]
    struct Operating;
    #[doc = include_str!("../../../docs/guide/presence.md")]
    struct Presence;
    #[doc = include_str!("../../../docs/guide/presence-sse.md")]
    struct PresenceSse;
}
