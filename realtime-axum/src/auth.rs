//! Authorization: an async hook that sees the request and the channels it asks for, and
//! allows it or answers with a response of its own (401, 403, ...). It runs before any
//! storage work.

use realtime_core::channel::ChannelName;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

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
pub type AuthFuture = Pin<Box<dyn Future<Output = Result<(), Response>> + Send>>;

/// Decides whether a request may read (or write) its channels.
///
/// Any `Fn(AuthRequest) -> impl Future<Output = Result<(), Response>>` is one:
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
pub trait Authorize: Send + Sync + 'static {
    /// `Ok(())` to allow; `Err(response)` to answer with that response instead.
    fn authorize(&self, request: AuthRequest) -> AuthFuture;
}

impl<F, Fut> Authorize for F
where
    F: Fn(AuthRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Response>> + Send + 'static,
{
    fn authorize(&self, request: AuthRequest) -> AuthFuture {
        Box::pin(self(request))
    }
}

/// The common case: a layer puts the signed-in user (`U`) in the request extensions, and
/// a request is allowed when every channel passes `allowed(user, channel)`.
///
/// No user: 401. A channel the user may not read: 403 naming it.
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
pub fn allow_channels<U, P>(allowed: P) -> impl Authorize
where
    U: Send + Sync + 'static,
    P: Fn(&U, &str) -> bool + Send + Sync + 'static,
{
    let allowed = Arc::new(allowed);
    move |request: AuthRequest| {
        let verdict = match request.extension::<U>() {
            None => Err(RequestError::new(
                StatusCode::UNAUTHORIZED,
                "sign in first: this endpoint needs an authenticated user",
            )),
            Some(user) => match request
                .channels
                .iter()
                .find(|channel| !allowed(user, channel))
            {
                Some(channel) => Err(RequestError::new(
                    StatusCode::FORBIDDEN,
                    format!("not allowed to access channel `{channel}`"),
                )),
                None => Ok(()),
            },
        };
        async move { verdict.map_err(IntoResponse::into_response) }
    }
}
