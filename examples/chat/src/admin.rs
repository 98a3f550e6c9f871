//! The inspector (`realtime_axum::inspector`) at `/_realtime`, for whoever holds the admin
//! token: the page asks for it and sends it as `Authorization: Bearer <token>`.

use axum::Router;
use axum::response::IntoResponse;
use http::StatusCode;
use realtime_axum::AuthRequest;
use realtime_core::Realtime;

use crate::ChatEvent;

/// The inspector's router, open to requests that carry `token`.
pub(crate) fn inspector(realtime: Realtime<ChatEvent>, token: String) -> Router {
    let built = realtime_axum::inspector::inspector(realtime)
        .authorize(move |request: AuthRequest| {
            let allowed = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
                .is_some_and(|given| same(given.as_bytes(), token.as_bytes()));
            async move {
                if allowed {
                    Ok(())
                } else {
                    Err((
                        StatusCode::UNAUTHORIZED,
                        "the inspector needs the admin token",
                    )
                        .into_response())
                }
            }
        })
        .build();
    built.unwrap_or_else(|error| {
        tracing::error!(%error, "the inspector is not mounted");
        Router::new()
    })
}

/// A token for this run, when `CHAT_ADMIN_TOKEN` is not set: 128 bits from the standard
/// library's randomly seeded hasher (a demo's token; set your own in production).
pub fn random_token() -> String {
    use std::hash::{BuildHasher, RandomState};
    let half = || RandomState::new().hash_one(std::time::SystemTime::now());
    format!("{:016x}{:016x}", half(), half())
}

/// Compares in a time that depends on the lengths only, not on where they differ.
fn same(given: &[u8], token: &[u8]) -> bool {
    given.len() == token.len()
        && given
            .iter()
            .zip(token)
            .fold(0, |diff, (a, b)| diff | (a ^ b))
            == 0
}
