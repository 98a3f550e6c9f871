//! The built frontend of an example (`web/dist`: `index.html` and `assets/*`): built with
//! the machine's npm when missing, then served.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use http::{StatusCode, header};

/// `web/dist` under `web`, building it first (`npm ci` when `node_modules` is missing or
/// older than `package-lock.json`, then `node build.mjs`) when it is missing or older than
/// any of its sources (`web/src`, `build.mjs`, the lock file, the shared
/// `examples/support/web`, and for a page that depends on the repository's TypeScript
/// client, `client/packages/*/src`, which its `build.mjs` compiles first). `None`, with the
/// reason on stderr, when it cannot be built (no npm, a failed build): the server then
/// serves its API and a page saying how to build the frontend.
pub async fn ensure_built(app: &str, web: &Path) -> Option<PathBuf> {
    let dist = web.join("dist");
    if is_fresh(web) {
        return Some(dist);
    }
    if !web.join("build.mjs").is_file() {
        eprintln!("{app}: no frontend sources in {}", web.display());
        return None;
    }
    let mut steps: Vec<(&str, &[&str])> = Vec::new();
    let installed = modified(&web.join("node_modules/.package-lock.json"));
    if installed.is_none() || modified(&web.join("package-lock.json")) > installed {
        steps.push(("npm", &["ci", "--no-audit", "--no-fund"]));
    }
    steps.push(("node", &["build.mjs"]));
    let commands: Vec<String> = steps
        .iter()
        .map(|(program, args)| format!("{program} {}", args.join(" ")))
        .collect();
    println!(
        "{app}: building the frontend in {} ({})",
        web.display(),
        commands.join(", ")
    );
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

/// Whether `web/dist` exists and is newer than every source of the page.
fn is_fresh(web: &Path) -> bool {
    let built = modified(&web.join("dist/index.html"));
    let mut sources = vec![
        web.join("src"),
        web.join("build.mjs"),
        web.join("package-lock.json"),
        web.join("../../support/web"),
    ];
    if uses_repository_client(web) {
        let packages = web.join("../../../client/packages");
        sources.push(packages.join("client/src"));
        sources.push(packages.join("react/src"));
    }
    let newest_source = sources.iter().filter_map(|source| newest(source)).max();
    built.is_some() && newest_source <= built
}

/// Whether the page links the repository's client (`file:` dependencies on `client/`).
fn uses_repository_client(web: &Path) -> bool {
    std::fs::read_to_string(web.join("package.json"))
        .is_ok_and(|manifest| manifest.contains("file:../../../client/packages/"))
}

/// When `path` was last modified.
fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}

/// The newest modification time of `path`, or of any file below it.
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| newest(&entry.path()))
        .max()
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

#[cfg(test)]
mod tests {
    use std::fs::{self, File};
    use std::time::{Duration, SystemTime};

    use super::*;

    fn touch(path: &Path, at: SystemTime) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap_or_else(|error| panic!("{error}"));
        }
        let file = File::create(path).unwrap_or_else(|error| panic!("{error}"));
        file.set_modified(at)
            .unwrap_or_else(|error| panic!("{error}"));
    }

    #[test]
    fn the_page_is_rebuilt_when_missing_or_older_than_a_source() {
        let root = std::env::temp_dir().join(format!("example-support-{}", std::process::id()));
        let web = root.join("examples/demo/web");
        let then = SystemTime::now() - Duration::from_secs(3600);
        let later = then + Duration::from_secs(60);
        touch(&web.join("src/main.tsx"), then);
        touch(&web.join("build.mjs"), then);
        touch(&root.join("examples/support/web/api.ts"), then);
        assert!(!is_fresh(&web), "no dist yet");

        touch(&web.join("dist/index.html"), later);
        assert!(is_fresh(&web));

        touch(
            &web.join("src/nested/part.tsx"),
            later + Duration::from_secs(1),
        );
        assert!(!is_fresh(&web), "a source below src/ changed");
        touch(&web.join("dist/index.html"), later + Duration::from_secs(2));
        assert!(is_fresh(&web));

        touch(
            &root.join("examples/support/web/api.ts"),
            later + Duration::from_secs(3),
        );
        assert!(!is_fresh(&web), "a shared source changed");
        touch(&web.join("dist/index.html"), later + Duration::from_secs(4));

        // A page on the repository's client: the client's sources count too.
        touch(
            &root.join("client/packages/react/src/hooks.ts"),
            later + Duration::from_secs(5),
        );
        assert!(is_fresh(&web), "the page does not use the client");
        fs::write(
            web.join("package.json"),
            r#"{"dependencies":{"@realtime-rs/react":"file:../../../client/packages/react"}}"#,
        )
        .unwrap_or_else(|error| panic!("{error}"));
        assert!(!is_fresh(&web), "a source of the client changed");
        let _ = fs::remove_dir_all(&root);
    }
}
