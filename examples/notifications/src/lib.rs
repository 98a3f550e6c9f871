//! Per-user notifications: each user reads the channel `user-<id>`, guarded by the SSE
//! endpoint's authorization; a Rust task emits `notification.alert` to every signed-in user.
//!
//! | route | what |
//! |---|---|
//! | `POST /api/login` `{id}` | sets the `user` cookie |
//! | `GET /api/me` | `{id}` or 401 |
//! | `POST /api/notify/{user}` `{title, body, level}` | emits one alert to `user-<user>`; 422 when invalid |
//! | `GET /api/realtime?channel=user-<id>` | the event stream: only your own channel (401 / 403) |
//! | `GET /metrics` | the framework's metrics, Prometheus text (`example_support::metrics`) |

pub mod events;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{HeaderMap, StatusCode, header};
use realtime_axum::{RealtimeSse, RequestError, allow_channels, cookie};
use realtime_core::{Error, Realtime};
use serde::Deserialize;
use serde_json::{Value, json};

pub use events::{Alert, Level, NotificationEvent};

/// The cookie that holds the signed-in user's id.
pub const USER_COOKIE: &str = "user";

/// The signed-in user, put in the request extensions by a middleware that reads the cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The user's id.
    pub id: String,
}

/// The channel a user reads.
pub fn channel_of(id: &str) -> String {
    format!("user-{id}")
}

/// Ids: 1 to 32 ASCII letters, digits, `-` or `_`.
pub fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// What the routes share.
#[derive(Clone, Debug)]
pub struct Notifications {
    realtime: Realtime<NotificationEvent>,
    users: Arc<Mutex<BTreeSet<String>>>,
}

impl Notifications {
    /// The users who signed in since the server started.
    pub fn users(&self) -> Vec<String> {
        self.users
            .lock()
            .map(|users| users.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Emits `alert` on `user-<id>`; the event id.
    pub async fn notify(&self, id: &str, alert: Alert) -> Result<String, Error> {
        let id = self
            .realtime
            .channel(channel_of(id))
            .emit(&NotificationEvent::Alert(alert))
            .await?;
        Ok(id.to_string())
    }
}

/// The app: its router, the SSE endpoint (call [`RealtimeSse::shutdown`] on shutdown) and
/// the shared state (for [`spawn_alerts`]).
#[derive(Debug)]
pub struct App {
    /// Every route, the SSE endpoint and the built frontend.
    pub router: Router,
    /// The SSE endpoint, for `shutdown()`.
    pub sse: RealtimeSse<NotificationEvent>,
    /// The shared state.
    pub state: Notifications,
}

/// Builds the app on `realtime`; `web_dist` is the built frontend (`web/dist`), if any.
pub fn app(realtime: Realtime<NotificationEvent>, web_dist: Option<PathBuf>) -> App {
    let state = Notifications {
        realtime: realtime.clone(),
        users: Arc::default(),
    };
    let sse = RealtimeSse::builder(realtime)
        .authorize(allow_channels(|user: &User, channel: &str| {
            channel == channel_of(&user.id)
        }))
        .build();
    let api = Router::new()
        .route("/api/login", post(login))
        .route("/api/me", get(me))
        .route("/api/notify/{user}", post(notify))
        .with_state(state.clone());
    let stream = sse
        .router("/api/realtime")
        .layer(middleware::from_fn(user_from_cookie));
    App {
        router: api
            .merge(stream)
            .merge(example_support::metrics::routes())
            .merge(example_support::frontend::routes("notifications", web_dist)),
        sse,
        state,
    }
}

/// Every `period`, one `notification.alert` to each signed-in user.
pub fn spawn_alerts(state: Notifications, period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(period);
        ticker.tick().await;
        let mut count: u64 = 0;
        loop {
            ticker.tick().await;
            for id in state.users() {
                count += 1;
                let level = match count % 3 {
                    0 => Level::Error,
                    1 => Level::Info,
                    _ => Level::Warning,
                };
                let alert = Alert {
                    title: format!("Alert #{count}"),
                    body: format!("A periodic notification for {id}."),
                    level,
                };
                if let Err(error) = state.notify(&id, alert).await {
                    tracing::warn!(%error, user = %id, "could not emit an alert");
                }
            }
        }
    })
}

fn signed_in(headers: &HeaderMap) -> Option<User> {
    cookie(headers, USER_COOKIE)
        .filter(|id| valid_id(id))
        .map(|id| User { id: id.to_owned() })
}

/// Puts the [`User`] from the `user` cookie in the request extensions.
async fn user_from_cookie(mut request: Request, next: Next) -> Response {
    if let Some(user) = signed_in(request.headers()) {
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

#[derive(Deserialize)]
struct LoginBody {
    id: String,
}

async fn login(
    State(state): State<Notifications>,
    Json(body): Json<LoginBody>,
) -> Result<Response, RequestError> {
    let id = body.id.trim();
    if !valid_id(id) {
        return Err(RequestError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a user id is 1 to 32 letters, digits, `-` or `_`",
        ));
    }
    if let Ok(mut users) = state.users.lock() {
        users.insert(id.to_owned());
    }
    let cookie = format!("{USER_COOKIE}={id}; Path=/; SameSite=Lax; Max-Age=31536000");
    Ok(([(header::SET_COOKIE, cookie)], Json(json!({ "id": id }))).into_response())
}

async fn me(headers: HeaderMap) -> Result<Json<Value>, RequestError> {
    let user = signed_in(&headers).ok_or_else(|| {
        RequestError::new(
            StatusCode::UNAUTHORIZED,
            "sign in first (POST /api/login sets the `user` cookie)",
        )
    })?;
    Ok(Json(json!({ "id": user.id })))
}

async fn notify(
    State(state): State<Notifications>,
    Path(user): Path<String>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, RequestError> {
    if !valid_id(&user) {
        return Err(RequestError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a user id is 1 to 32 letters, digits, `-` or `_`",
        ));
    }
    let alert: Alert = serde_json::from_value(body).map_err(|error| {
        RequestError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid notification: {error}"),
        )
    })?;
    match state.notify(&user, alert).await {
        Ok(id) => Ok(Json(json!({ "id": id }))),
        Err(Error::Invalid(violation)) => Err(RequestError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "invalid notification: `{}` breaks `{}`",
                violation.path, violation.rule
            ),
        )),
        Err(error) => Err(RequestError::from(&error)),
    }
}
