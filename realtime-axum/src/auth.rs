//! Authorization: an async hook that sees the request and the channels it asks for, and
//! allows it (saying, if it likes, who the connection is in the channels' presence) or
//! answers with a response of its own (401, 403, ...). It runs before any storage work.

use realtime_core::NoPresence;
use realtime_core::channel::ChannelName;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, StatusCode};

use crate::error::RequestError;

/// What an authorization hook gets: the request's parts (headers, cookies, and the
/// extensions that axum or tower layers set, such as an authenticated user) and the
/// channels requested (for the emit route, the one channel written to).
#[derive(Debug)]
pub struct AuthRequest {
    /// The request without its body.
    pub parts: Parts,
    /// The channels the request asks for, decoded and checked.
    pub channels: Vec<ChannelName>,
}

impl AuthRequest {
    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The value of the cookie called `name`, if the request carries it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        cookie(&self.parts.headers, name)
    }

    /// An extension set by a layer (e.g. the signed-in user).
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.parts.extensions.get::<T>()
    }
}

/// The value of the cookie called `name` in `headers` (every `Cookie` header is read), if
/// any: what an app's own routes use to find the session an authorization hook checks.
///
/// ```
/// use http::{HeaderMap, HeaderValue, header};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(header::COOKIE, HeaderValue::from_static("theme=dark; user=ada"));
/// assert_eq!(realtime_axum::cookie(&headers, "user"), Some("ada"));
/// assert_eq!(realtime_axum::cookie(&headers, "session"), None);
/// ```
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The boxed future an [`Authorize`] returns.
pub type AuthFuture<P = NoPresence> =
    Pin<Box<dyn Future<Output = Result<Access<P>, Response>> + Send>>;

/// Decides whether a request may read (or write) its channels, and, for a stream, who the
/// connection is in the presence of its channels ([`Access`]).
///
/// Any `Fn(AuthRequest) -> impl Future<Output = Result<A, Response>>` is one, where `A` is
/// `()` (allowed) or an [`Access`]:
///
/// ```
/// use axum::response::IntoResponse;
/// use http::StatusCode;
/// use realtime_axum::{AuthRequest, Authorize};
///
/// let hook = |request: AuthRequest| async move {
///     match request.cookie("session") {
///         Some(_) => Ok(()),
///         None => Err(StatusCode::UNAUTHORIZED.into_response()),
///     }
/// };
/// fn takes(_: impl Authorize) {}
/// takes(hook);
/// ```
///
/// `P` is the presence info of the event set (`Events::Presence`); a hook that returns
/// `()` fits every event set.
pub trait Authorize<P = NoPresence>: Send + Sync + 'static {
    /// `Ok(access)` to allow; `Err(response)` to answer with that response instead.
    fn authorize(&self, request: AuthRequest) -> AuthFuture<P>;
}

impl<F, Fut, A, P> Authorize<P> for F
where
    F: Fn(AuthRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<A, Response>> + Send + 'static,
    A: Into<Access<P>>,
    P: Send + 'static,
{
    fn authorize(&self, request: AuthRequest) -> AuthFuture<P> {
        let verdict = self(request);
        Box::pin(async move { verdict.await.map(Into::into) })
    }
}

/// What an authorization hook allows: the request as it asked, and, when the hook says
/// who the connection is, its place in the presence of some of the channels it opens.
///
/// A stream allowed with [`Access::presence`] joins, as `member` with `info`, the presence
/// of each of its channels listed (channels it does not open are ignored), before its
/// first frame; it leaves when the connection ends (see
/// [`SseConfig::presence_linger`](crate::SseConfig::presence_linger)). Other routes (the
/// members route, the emit route) only allow or refuse.
///
/// ```
/// use realtime_axum::{Access, AuthRequest, RealtimeSse};
/// use realtime_core::{Events, PresenceChange, Realtime};
///
/// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Debug, PartialEq)]
/// struct UserInfo { name: String }
///
/// #[derive(Events, Clone, Debug, PartialEq)]
/// enum AppEvent {
///     #[event("chat.message")]
///     Message(String),
///     #[event(presence)]
///     Presence(PresenceChange<UserInfo>),
/// }
///
/// let sse = RealtimeSse::builder(Realtime::<AppEvent>::memory())
///     .authorize(|request: AuthRequest| async move {
///         let Some(user) = request.cookie("user").map(str::to_owned) else {
///             return Ok(Access::allow()); // anonymous readers are not listed
///         };
///         // Listed in the rooms it opens, not in its private channels.
///         let rooms: Vec<_> = request
///             .channels
///             .iter()
///             .filter(|channel| channel.starts_with("room-"))
///             .cloned()
///             .collect();
///         Ok(Access::presence(user.clone(), UserInfo { name: user }, rooms))
///     })
///     .build();
/// # let _ = sse;
/// ```
pub struct Access<P = NoPresence> {
    presence: Option<PresenceAs<P>>,
}

/// Who a connection is in the presence of the channels listed.
struct PresenceAs<P> {
    member: String,
    info: P,
    channels: Vec<String>,
}

impl<P> Access<P> {
    /// Allows the request; the connection joins no presence.
    pub fn allow() -> Self {
        Self { presence: None }
    }

    /// Allows the request, and makes the stream a connection of `member` (with `info`) in
    /// the presence of those of its channels that `channels` lists.
    pub fn presence<C: AsRef<str>>(
        member: impl Into<String>,
        info: P,
        channels: impl IntoIterator<Item = C>,
    ) -> Self {
        Self {
            presence: Some(PresenceAs {
                member: member.into(),
                info,
                channels: channels
                    .into_iter()
                    .map(|channel| channel.as_ref().to_owned())
                    .collect(),
            }),
        }
    }

    /// The member id, when the access carries one.
    pub fn member(&self) -> Option<&str> {
        self.presence
            .as_ref()
            .map(|presence| presence.member.as_str())
    }

    /// The channels whose presence the connection joins (empty without a member).
    pub fn presence_channels(&self) -> &[String] {
        self.presence
            .as_ref()
            .map_or(&[], |presence| presence.channels.as_slice())
    }

    /// The member, its info and the channels, when the access carries a member.
    pub(crate) fn into_presence(self) -> Option<(String, P, Vec<String>)> {
        self.presence
            .map(|presence| (presence.member, presence.info, presence.channels))
    }
}

impl<P> From<()> for Access<P> {
    fn from((): ()) -> Self {
        Self::allow()
    }
}

impl<P> std::fmt::Debug for Access<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("member", &self.member())
            .field("presence_channels", &self.presence_channels())
            .finish()
    }
}

/// The common case: a layer puts the signed-in user (`U`) in the request extensions, and
/// a request is allowed when every channel passes `allowed(user, channel)`.
///
/// No user: 401. A channel the user may not read: 403 naming it. The hook fits every
/// event set; it joins no presence (write a hook returning [`Access::presence`] for that).
///
/// ```
/// use realtime_axum::allow_channels;
///
/// #[derive(Clone)]
/// struct User { id: String }
///
/// // `user-<id>` only for that user; `lobby` for everyone signed in.
/// let hook = allow_channels(|user: &User, channel: &str| {
///     channel == "lobby" || channel == format!("user-{}", user.id)
/// });
/// # let _ = hook;
/// ```
pub fn allow_channels<U, F>(allowed: F) -> AllowChannels<U, F>
where
    U: Send + Sync + 'static,
    F: Fn(&U, &str) -> bool + Send + Sync + 'static,
{
    AllowChannels {
        allowed,
        user: PhantomData,
    }
}

/// The hook [`allow_channels`] makes.
pub struct AllowChannels<U, F> {
    allowed: F,
    user: PhantomData<fn(&U)>,
}

impl<U, F> std::fmt::Debug for AllowChannels<U, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AllowChannels")
            .field("user", &std::any::type_name::<U>())
            .finish_non_exhaustive()
    }
}

impl<U, F, P> Authorize<P> for AllowChannels<U, F>
where
    U: Send + Sync + 'static,
    F: Fn(&U, &str) -> bool + Send + Sync + 'static,
    P: Send + 'static,
{
    fn authorize(&self, request: AuthRequest) -> AuthFuture<P> {
        let verdict = match request.extension::<U>() {
            None => Err(RequestError::new(
                StatusCode::UNAUTHORIZED,
                "sign in first: this endpoint needs an authenticated user",
            )),
            Some(user) => match request
                .channels
                .iter()
                .find(|channel| !(self.allowed)(user, channel))
            {
                Some(channel) => Err(RequestError::new(
                    StatusCode::FORBIDDEN,
                    format!("not allowed to access channel `{channel}`"),
                )),
                None => Ok(Access::allow()),
            },
        };
        Box::pin(std::future::ready(
            verdict.map_err(IntoResponse::into_response),
        ))
    }
}
