//! The endpoint behind a real nginx, configured with the `location` block of
//! `docs/guide/deploying.md` (read from the page, so the guide is what is tested): frames
//! reach the client as they are written. Two more locations show what the test can tell
//! apart: nginx's defaults (its buffering on) still stream because the endpoint answers
//! `X-Accel-Buffering: no`, and a location that buffers and ignores that header holds the
//! frames back.
//!
//! Needs nginx (`NGINX`, else `/usr/sbin/nginx`, else `nginx` on the PATH; Debian's package:
//! `apt-get install nginx`, which `scripts/test` does). Without it the test fails; it never
//! skips.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test panics

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use realtime_axum::RealtimeSse;
use realtime_core::Realtime;
use realtime_tests::TestEvent;
use realtime_tests::sse::{SseClient, TestServer};

const GUIDE: &str = include_str!("../docs/guide/deploying.md");
/// The upstream the guide's block names, replaced by the test server's address.
const GUIDE_UPSTREAM: &str = "http://127.0.0.1:3000";

/// The first ```nginx block of the guide.
fn guide_location() -> &'static str {
    let start = GUIDE
        .find("```nginx\n")
        .expect("the guide has an nginx block")
        + "```nginx\n".len();
    let length = GUIDE[start..].find("```").expect("the nginx block ends");
    &GUIDE[start..start + length]
}

struct Nginx {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Nginx {
    /// nginx in the foreground, one process, everything under a temporary folder.
    fn start(upstream: &str) -> Self {
        // Debian puts it in /usr/sbin, which is not on every user's PATH.
        let binary = std::env::var("NGINX").unwrap_or_else(|_| {
            let debian = "/usr/sbin/nginx";
            if std::path::Path::new(debian).exists() {
                debian
            } else {
                "nginx"
            }
            .to_owned()
        });
        let dir = std::env::temp_dir().join(format!("realtime-nginx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let location = guide_location();
        assert!(
            location.contains(GUIDE_UPSTREAM),
            "the guide's nginx block no longer proxies to {GUIDE_UPSTREAM}; update this test"
        );
        let location = location.replace(GUIDE_UPSTREAM, upstream);
        let temp = |name: &str| dir.join(name).display().to_string();
        let config = format!(
            "daemon off;\nmaster_process off;\npid {pid};\nerror_log {log} warn;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {body};\n  proxy_temp_path {proxy};\n\
             \x20 fastcgi_temp_path {fastcgi};\n  uwsgi_temp_path {uwsgi};\n  scgi_temp_path {scgi};\n\
             \x20 server {{\n    listen 127.0.0.1:{port};\n{location}\n\
             \x20   location /default/ {{ proxy_pass {upstream}/; }}\n\
             \x20   location /buffered/ {{ proxy_pass {upstream}/; proxy_buffering on; proxy_ignore_headers X-Accel-Buffering; }}\n\
             \x20 }}\n}}\n",
            pid = temp("nginx.pid"),
            log = temp("error.log"),
            body = temp("body"),
            proxy = temp("proxy"),
            fastcgi = temp("fastcgi"),
            uwsgi = temp("uwsgi"),
            scgi = temp("scgi"),
        );
        let config_path = dir.join("nginx.conf");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(&binary)
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&config_path)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot run `{binary}` ({error}): install nginx (apt-get install nginx) or set NGINX")
            });
        let nginx = Self { child, port, dir };
        nginx.wait_until_listening();
        nginx
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen on {}: {}",
                self.port,
                std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap()
}

fn tick_of(frame: &serde_json::Value) -> u64 {
    assert_eq!(frame["event"], "counter.tick", "{frame}");
    frame["data"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_with_the_guides_config_frames_arrive_as_they_are_written() {
    let rt = Realtime::<TestEvent>::memory();
    let sse = RealtimeSse::new(rt.clone());
    let server = TestServer::serve(&sse).await;
    let nginx = Nginx::start(&format!("http://{}", server.addr));
    let room = rt.channel("room");

    // The guide's location, then nginx's defaults: each event as it is emitted.
    for (n, prefix) in [(1, ""), (2, "/default")] {
        let mut client =
            SseClient::connect(&nginx.url(&format!("{prefix}/api/realtime?channel=room"))).await;
        assert_eq!(client.status, 200, "through {prefix:?}");
        assert_eq!(
            client.next_json().await["type"],
            "connected",
            "through {prefix:?}"
        );
        room.emit(&TestEvent::Tick(n)).await.unwrap();
        assert_eq!(
            tick_of(&client.next_json().await),
            u64::from(n),
            "through {prefix:?}"
        );
    }

    // Buffering forced on: nothing of the stream comes through while it is open, not
    // even the response head (nginx sends it with the first full buffer).
    let emitter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        room.emit(&TestEvent::Tick(3)).await.unwrap();
    });
    let url = nginx.url("/buffered/api/realtime?channel=room");
    let held_back = tokio::time::timeout(Duration::from_secs(2), async move {
        let mut client = SseClient::connect(&url).await;
        client.next_raw().await
    })
    .await;
    emitter.await.unwrap();
    assert!(
        held_back.is_err(),
        "a buffering proxy passed the stream through at once, so this test could not tell buffering apart: {held_back:?}"
    );
}
