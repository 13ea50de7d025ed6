//! Getting the bytes: the HTTP download into the `.part` file, resumed with a `Range`
//! request where the server allows it, and the size and SHA-256 check of the result.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use indicatif::HumanBytes;

use super::common::{Expected, remove};
use crate::progress::ByteMeter;
use crate::{hash, interrupt};

/// Brings `part` to `expected.size` bytes: resumes what is there when the server allows
/// it, starts over when it does not. Leaves `part` in place on every failure that a new
/// run could continue from.
pub(super) fn download(url: &str, part: &Path, expected: &Expected) -> Result<()> {
    let mut have = match fs::metadata(part) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", part.display())),
    };
    if have > expected.size {
        eprintln!(
            "{}: {have} bytes, more than the expected {}; discarding it",
            part.display(),
            expected.size
        );
        remove(part)?;
        have = 0;
    }
    if have == expected.size {
        eprintln!("{}: already downloaded", part.display());
        return Ok(());
    }

    let mut request = agent().get(url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let response = request
        .call()
        .map_err(|e| anyhow!("{url}: {}", describe(e)))?;
    let status = response.status();
    let from = match status.as_u16() {
        200 => {
            if let Some(len) = response.body().content_length() {
                check_total(url, len, expected)?;
            }
            if have > 0 {
                eprintln!("{url}: the server does not resume downloads; starting over");
            }
            0
        }
        206 => {
            let header = response
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let Some((start, total)) = content_range(header) else {
                bail!("{url}: HTTP 206 with an unreadable Content-Range {header:?}");
            };
            if let Some(total) = total {
                check_total(url, total, expected)?;
            }
            if start != have {
                bail!(
                    "{url}: asked for the bytes from {have} on, got those from {start} on; \
                     delete {} to download from the start",
                    part.display()
                );
            }
            have
        }
        416 if have > 0 => {
            eprintln!("{url}: the server cannot resume at byte {have}; starting over");
            remove(part)?;
            return download(url, part, expected);
        }
        code => bail!(
            "{url}: HTTP {code} {}",
            status.canonical_reason().unwrap_or("")
        ),
    };

    let mut file = open_part(part, from)?;
    let label = part_label(part);
    if from == 0 {
        eprintln!("{label}: downloading {url} ({})", HumanBytes(expected.size));
    } else {
        eprintln!(
            "{label}: resuming {url} at {} of {}",
            HumanBytes(from),
            HumanBytes(expected.size)
        );
    }
    let mut meter = ByteMeter::start(&label, from, expected.size);
    let mut body = response.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = from;
    let cut = |why: String, done: u64| {
        anyhow!(
            "{url}: {why} after {} of {}; run the command again to resume",
            HumanBytes(done),
            HumanBytes(expected.size)
        )
    };
    loop {
        if interrupt::requested() {
            meter.abandon();
            let _ = file.sync_all();
            return Err(cut("interrupted by Ctrl-C".into(), done));
        }
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                meter.abandon();
                let _ = file.sync_all();
                return Err(cut(describe_cut(e), done));
            }
        };
        if done + n > expected.size {
            meter.abandon();
            drop(file);
            remove(part)?;
            bail!(
                "{url}: sends more than the expected {} bytes; the mirror serves another file \
                 (deleted the download)",
                expected.size
            );
        }
        file.write_all(&buf[..n as usize])
            .with_context(|| format!("cannot write {}", part.display()))?;
        done += n;
        meter.set(done);
    }
    file.sync_all()
        .with_context(|| format!("cannot write {}", part.display()))?;
    if done < expected.size {
        meter.abandon();
        return Err(cut("connection cut".into(), done));
    }
    meter.finish();
    Ok(())
}

/// Opens `part` for appending after its first `from` bytes, locked so that a second
/// `report data fetch` into the same folder fails instead of interleaving its bytes.
fn open_part(part: &Path, from: u64) -> Result<File> {
    let what = || format!("cannot write {}", part.display());
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(part)
        .with_context(what)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => bail!(
            "{}: another `report data fetch` is downloading into it; let that one finish",
            part.display()
        ),
        Err(fs::TryLockError::Error(e)) => return Err(e).with_context(what),
    }
    if file.metadata().with_context(what)?.len() < from {
        bail!(
            "{}: shrank while the download started (another report data fetch?); run the \
             command again",
            part.display()
        );
    }
    file.set_len(from).with_context(what)?;
    Ok(file)
}

/// Refuses a server whose file has another size before a byte of it is stored.
fn check_total(url: &str, total: u64, expected: &Expected) -> Result<()> {
    if total != expected.size {
        bail!(
            "{url}: the server's file is {total} bytes, expected {}; the mirror serves another file",
            expected.size
        );
    }
    Ok(())
}

/// One HTTP client for the whole download: status codes are handled here, so that each
/// gets its own message; a stalled server fails after a minute instead of hanging.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(concat!("report/", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// `bytes START-END/TOTAL` → (START, TOTAL unless `*`).
fn content_range(header: &str) -> Option<(u64, Option<u64>)> {
    let (range, total) = header.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = end.trim().parse().ok()?;
    if end < start {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start, total))
}

/// Why a request got no response, in a few words.
fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Io(e) => match e.kind() {
            io::ErrorKind::ConnectionRefused => "connection refused".into(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                "connection cut before the server answered".into()
            }
            _ => format!("cannot connect ({e})"),
        },
        ureq::Error::HostNotFound => "host not found (no network, or a mistyped URL)".into(),
        ureq::Error::ConnectionFailed => "cannot connect".into(),
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::BadUri(why) => format!("not a valid URL ({why})"),
        ureq::Error::Rustls(e) => format!("TLS error ({e})"),
        ureq::Error::Tls(why) => format!("TLS error ({why})"),
        ureq::Error::TooManyRedirects => "too many redirects".into(),
        e => e.to_string(),
    }
}

/// Why the body stopped early, in a few words.
fn describe_cut(e: io::Error) -> String {
    match ureq::Error::from(e) {
        ureq::Error::Io(e) => match e.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => "connection cut".into(),
            _ => format!("connection cut ({e})"),
        },
        ureq::Error::Timeout(_) => "connection stalled (no data for 60 s)".into(),
        e => format!("connection cut ({e})"),
    }
}

/// The archive's name, for progress lines.
fn part_label(part: &Path) -> String {
    let name = part.file_name().unwrap_or_default().to_string_lossy();
    name.trim_start_matches('.')
        .trim_end_matches(".part")
        .to_owned()
}

/// Checks the size and SHA-256 of the complete download; deletes it (and only it) when
/// either is wrong.
pub(super) fn verify(url: &str, part: &Path, expected: &Expected) -> Result<()> {
    eprintln!("{}: checking size and SHA-256", part_label(part));
    let size = fs::metadata(part)
        .with_context(|| format!("cannot read {}", part.display()))?
        .len();
    let problem = if size != expected.size {
        format!("downloaded {size} bytes, expected {}", expected.size)
    } else {
        let got = hash::sha256_file(part)?;
        if got == expected.sha256 {
            return Ok(());
        }
        format!("SHA-256 is {got}, expected {}", expected.sha256)
    };
    remove(part)?;
    bail!(
        "{url}: {problem}; the download is corrupt or the mirror serves another file \
         (deleted the download, nothing else was changed)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_headers() {
        assert_eq!(content_range("bytes 100-199/200"), Some((100, Some(200))));
        assert_eq!(content_range("bytes 0-0/*"), Some((0, None)));
        assert_eq!(content_range("bytes 5-4/10"), None);
        assert_eq!(content_range("bytes */200"), None);
        assert_eq!(content_range(""), None);
    }
}
