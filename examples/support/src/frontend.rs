//! The built frontend of an example (`web/dist`: `index.html` and `assets/*`): built with
//! the machine's npm when missing, then served.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use http::{StatusCode, header};

/// `web/dist` under `web`, building it first (`npm ci` when `node_modules` is missing, then
/// `node build.mjs`) when it has no `index.html`. `None`, with the reason on stderr, when it
/// cannot be built (no npm, a failed build): the server then serves its API and a page
/// saying how to build the frontend.
pub async fn ensure_built(app: &str, web: &Path) -> Option<PathBuf> {
    let dist = web.join("dist");
    if dist.join("index.html").is_file() {
        return Some(dist);
    }
    if !web.join("build.mjs").is_file() {
        eprintln!("{app}: no frontend sources in {}", web.display());
        return None;
    }
    println!(
        "{app}: building the frontend in {} (npm ci, node build.mjs)",
        web.display()
    );
    let mut steps: Vec<(&str, &[&str])> = Vec::new();
    if !web.join("node_modules").is_dir() {
        steps.push(("npm", &["ci", "--no-audit", "--no-fund"]));
    }
    steps.push(("node", &["build.mjs"]));
    for (program, args) in steps {
        let status = tokio::process::Command::new(program)
            .args(args)
            .current_dir(web)
            .status()
            .await;
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                eprintln!(
                    "{app}: `{program} {}` failed ({status}); serving the API only",
                    args.join(" ")
                );
                return None;
            }
            Err(error) => {
                eprintln!(
                    "{app}: cannot run `{program}` ({error}); install Node.js and npm to build the frontend; serving the API only"
                );
                return None;
            }
        }
    }
    Some(dist)
}

/// `GET /` (`index.html`) and `GET /assets/{file}` from `dist`; without `dist`, `/` is a
/// page saying how to build the frontend of the example `app` (its directory name).
pub fn routes<S: Clone + Send + Sync + 'static>(
    app: &'static str,
    dist: Option<PathBuf>,
) -> Router<S> {
    let index_dist = dist.clone();
    Router::new()
        .route("/", get(move || index(app, index_dist.clone())))
        .route(
            "/assets/{file}",
            get(move |UrlPath(file): UrlPath<String>| asset(dist.clone(), file)),
        )
}

async fn index(app: &'static str, dist: Option<PathBuf>) -> Response {
    let page = match dist {
        Some(dist) => tokio::fs::read(dist.join("index.html")).await.ok(),
        None => None,
    };
    match page {
        Some(body) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        None => Html(not_built(app)).into_response(),
    }
}

async fn asset(dist: Option<PathBuf>, file: String) -> Response {
    // One plain file name: no directories, no hidden files.
    let safe = !file.is_empty()
        && !file.starts_with('.')
        && file
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_.".contains(&byte));
    let (Some(dist), true) = (dist, safe) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let content_type = match file.rsplit_once('.').map(|(_, extension)| extension) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("map") | Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(dist.join("assets").join(&file)).await {
        Ok(body) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn not_built(app: &str) -> String {
    format!(
        "<!doctype html><title>{app}</title><p>The frontend is not built. \
         Run <code>npm ci &amp;&amp; node build.mjs</code> in <code>examples/{app}/web</code>, \
         or start the server with <code>cargo run -p {app}</code>, which does it when npm is installed.</p>"
    )
}
