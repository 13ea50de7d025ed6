//! `report serve`: a preview of `out/site/` on 127.0.0.1, and nothing else.
//!
//! A small HTTP/1.1 server on std::net, one thread per connection, `GET` and `HEAD`
//! only. It serves files under the site folder and nothing outside it: a request path
//! with a `..` segment (plain or percent-encoded), a backslash or a NUL is refused, and
//! every file is canonicalized (symlinks resolved) and must still lie inside the
//! canonical site folder. Only the file types the site uses are served.
//!
//! Under `--watch` it also tells open pages when the report was rebuilt: every HTML page
//! it serves gets a few lines of script (never written into the site itself) that listen
//! on `/__report/events`, a server-sent event stream, and reload the page after a
//! rebuild or show the rebuild's error above the last good report.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Where open pages learn of rebuilds.
const EVENTS: &str = "/__report/events";

/// The script a watching server adds to each page it serves, before `</body>`.
const LIVE_SCRIPT: &str = r#"<script>/* report serve --watch: not part of the published site */
(() => {
  const events = new EventSource("/__report/events");
  events.addEventListener("rebuilt", () => location.reload());
  events.addEventListener("failed", (e) => {
    let banner = document.getElementById("report-watch-error");
    if (!banner) {
      banner = document.createElement("pre");
      banner.id = "report-watch-error";
      banner.style.cssText = "position:fixed;top:0;left:0;right:0;z-index:9999;margin:0;" +
        "padding:.6em 1em;background:#b00020;color:#fff;font:14px/1.4 monospace;white-space:pre-wrap";
      document.body.prepend(banner);
    }
    banner.textContent = "report build failed; showing the last good report\n" + e.data;
  });
})();
</script>
"#;

/// What a watching server tells open pages: a count of rebuilds, moved on by every
/// rebuild, good or bad, and the last one's error, if it failed.
#[derive(Debug, Default)]
pub struct Live {
    state: Mutex<(u64, Option<String>)>,
    changed: Condvar,
}

impl Live {
    /// The report was rebuilt: pages reload.
    pub fn rebuilt(&self) {
        self.set(None);
    }

    /// A rebuild failed with `message`: pages show it over what they show.
    pub fn failed(&self, message: String) {
        self.set(Some(message));
    }

    fn set(&self, error: Option<String>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *state = (state.0 + 1, error);
        self.changed.notify_all();
    }

    /// The state once it differs from rebuild `seen`, or after `timeout` as it is.
    fn after(&self, seen: u64, timeout: Duration) -> (u64, Option<String>) {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (state, _) = self
            .changed
            .wait_timeout_while(state, timeout, |s| s.0 == seen)
            .unwrap_or_else(|e| e.into_inner());
        state.clone()
    }
}

/// Serves `site` on 127.0.0.1:`port` (0: any free port) until Ctrl-C. Prints the URL
/// first, on its own line. With `live`, pages follow its rebuilds.
pub fn serve(site: &Path, port: u16, live: Option<Arc<Live>>) -> Result<()> {
    if !site.join("index.html").is_file() {
        bail!(
            "{}: no index.html: run `report render` (or `report build`) first",
            site.display()
        );
    }
    let root = site
        .canonicalize()
        .with_context(|| format!("{}: cannot resolve", site.display()))?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let addr = listener.local_addr()?;
    println!(
        "serving {} at http://{addr}/ (Ctrl-C stops)",
        root.display()
    );
    std::io::stdout().flush()?;
    listener.set_nonblocking(true)?;
    loop {
        if crate::interrupt::requested() {
            return Ok(());
        }
        match listener.accept() {
            Ok((stream, _)) => {
                let root = root.clone();
                let live = live.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &root, live.as_deref());
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e).context("accepting a connection"),
        }
    }
}

/// A response: status line, content type and body.
#[derive(Debug, PartialEq)]
pub struct Response {
    /// 200, 400, 403, 404 or 405.
    pub status: u16,
    /// Its content type.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    fn error(status: u16) -> Response {
        let text = match status {
            400 => "400 bad request\n",
            403 => "403 forbidden\n",
            405 => "405 method not allowed\n",
            _ => "404 not found\n",
        };
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: text.as_bytes().to_vec(),
        }
    }
}

fn handle(stream: TcpStream, root: &Path, live: Option<&Live>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?.take(16 * 1024));
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Read the headers to the blank line; none of them matter here.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if let (Some(live), "GET", EVENTS) = (live, method, target) {
        return stream_events(stream, live);
    }
    let mut response = match method {
        "GET" | "HEAD" => respond(root, target),
        _ => Response::error(405),
    };
    if live.is_some() && response.content_type.starts_with("text/html") {
        response.body = with_live_script(&response.body);
    }
    let reason = match response.status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        _ => "Not Found",
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
         X-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        response.status,
        response.content_type,
        response.body.len()
    )?;
    if method != "HEAD" {
        out.write_all(&response.body)?;
    }
    out.flush()
}

/// A server-sent event stream: `failed` with the error at once if the last rebuild
/// failed, then `rebuilt` or `failed` after each rebuild, and a comment every 15 s so
/// that a closed page is noticed (the write fails) and its thread ends.
fn stream_events(mut out: TcpStream, live: &Live) -> std::io::Result<()> {
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    )?;
    let (mut seen, error) = live.after(u64::MAX, Duration::ZERO);
    if let Some(message) = error {
        out.write_all(event("failed", &message).as_bytes())?;
    }
    out.flush()?;
    loop {
        let (now, error) = live.after(seen, Duration::from_secs(15));
        let text = if now == seen {
            ": still here\n\n".to_owned()
        } else {
            seen = now;
            match error {
                Some(message) => event("failed", &message),
                None => event("rebuilt", &now.to_string()),
            }
        };
        out.write_all(text.as_bytes())?;
        out.flush()?;
    }
}

/// One server-sent event; each line of `data` its own `data:` field.
fn event(name: &str, data: &str) -> String {
    let mut s = format!("event: {name}\n");
    for line in data.lines() {
        s.push_str(&format!("data: {line}\n"));
    }
    s.push('\n');
    s
}

/// `html` with [`LIVE_SCRIPT`] before its last `</body>` (at the end if it has none).
fn with_live_script(html: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(html);
    let at = text.rfind("</body>").unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + LIVE_SCRIPT.len());
    out.push_str(&text[..at]);
    out.push_str(LIVE_SCRIPT);
    out.push_str(&text[at..]);
    out.into_bytes()
}

/// The response to a request for `target` (the request line's path) from the site at
/// `root` (canonical).
pub fn respond(root: &Path, target: &str) -> Response {
    let Some(path) = resolve(root, target) else {
        return Response::error(if target.starts_with('/') { 403 } else { 400 });
    };
    let Some(content_type) = content_type(&path) else {
        return Response::error(404);
    };
    // Resolve symlinks: whatever the path names must still be inside the site.
    let Ok(real) = path.canonicalize() else {
        return Response::error(404);
    };
    if !real.starts_with(root) {
        return Response::error(403);
    }
    match std::fs::read(&real) {
        Ok(body) if real.is_file() => Response {
            status: 200,
            content_type,
            body,
        },
        _ => Response::error(404),
    }
}

/// The file a request target names under `root`, or None when the target is not an
/// origin-form path or tries to leave the site.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    if !target.starts_with('/') || target.starts_with("//") {
        return None;
    }
    let path = target.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path)?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return None;
    }
    let mut out = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            s => out.push(s),
        }
    }
    if decoded.ends_with('/') || out == root {
        out.push("index.html");
    }
    Some(out)
}

/// `%xx` decoding; None for a malformed escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The content type of the site's file kinds; None for anything else.
fn content_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("figures")).unwrap();
        std::fs::write(site.join("index.html"), "<h1>hi</h1>").unwrap();
        std::fs::write(site.join("figures/a b.svg"), "<svg/>").unwrap();
        std::fs::write(site.join("notes.txt"), "x").unwrap();
        std::fs::write(dir.path().join("secret.json"), "{}").unwrap();
        let root = site.canonicalize().unwrap();
        (dir, root)
    }

    #[test]
    fn serves_site_files_with_their_types() {
        let (_d, root) = site();
        let r = respond(&root, "/");
        assert_eq!(
            (r.status, r.content_type),
            (200, "text/html; charset=utf-8")
        );
        assert_eq!(r.body, b"<h1>hi</h1>");
        let r = respond(&root, "/figures/a%20b.svg?x=1");
        assert_eq!((r.status, r.content_type), (200, "image/svg+xml"));
        assert_eq!(respond(&root, "/notes.txt").status, 404);
        assert_eq!(respond(&root, "/missing.html").status, 404);
    }

    #[test]
    fn refuses_everything_outside_the_site() {
        let (_d, root) = site();
        for bad in [
            "/../secret.json",
            "/figures/../../secret.json",
            "/%2e%2e/secret.json",
            "/%2E%2E%2fsecret.json",
            "/..%5csecret.json",
            "/%00",
            "//etc/passwd",
        ] {
            assert_eq!(respond(&root, bad).status, 403, "{bad}");
        }
        assert_eq!(respond(&root, "http://x/index.html").status, 400);
        assert_eq!(respond(&root, "/%zz").status, 403);
    }

    #[test]
    fn live_pages_get_the_script_and_events_name_their_lines() {
        let page = with_live_script(b"<html><body><p>x</p></body></html>");
        let page = String::from_utf8(page).unwrap();
        assert!(page.ends_with("</script>\n</body></html>"), "{page}");
        assert!(page.contains("/__report/events"));
        assert_eq!(
            event("failed", "a.toml:1:2: bad\nmore"),
            "event: failed\ndata: a.toml:1:2: bad\ndata: more\n\n"
        );
        let live = Live::default();
        assert_eq!(live.after(0, Duration::ZERO), (0, None));
        live.failed("oops".into());
        assert_eq!(live.after(0, Duration::ZERO), (1, Some("oops".into())));
        live.rebuilt();
        assert_eq!(live.after(1, Duration::from_secs(5)), (2, None));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks_that_point_outside() {
        let (dir, root) = site();
        std::os::unix::fs::symlink(dir.path().join("secret.json"), root.join("leak.json")).unwrap();
        std::os::unix::fs::symlink(root.join("index.html"), root.join("alias.html")).unwrap();
        assert_eq!(respond(&root, "/leak.json").status, 403);
        assert_eq!(respond(&root, "/alias.html").status, 200);
    }
}
