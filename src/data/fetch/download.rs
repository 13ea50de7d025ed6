//! Getting the bytes of one URL: the HTTP download into the `.part` file, resumed with a
//! `Range` request where the server allows it, and the size and checksum check of the
//! result.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use indicatif::HumanBytes;

use super::checksum::Expected;
use super::common::remove;
use crate::interrupt;
use crate::progress::ByteMeter;

/// Why a URL gave no complete file.
pub(super) enum Failure {
    /// Nothing of this URL was stored (no connection, an HTTP error status, a file of
    /// another size): another mirror may have the file.
    NextMirror(anyhow::Error),
    /// Bytes came and stopped, or the disk failed: the `.part` holds what a new run
    /// resumes, and another mirror would not help.
    Stop(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Stop(e)
    }
}

/// Brings `part` to the whole file: resumes what is there when the server allows it,
/// starts over when it does not. Leaves `part` in place on every failure that a new run
/// could continue from.
pub(super) fn download(url: &str, part: &Path, expected: &Expected) -> Result<(), Failure> {
    let mut have = match fs::metadata(part) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("cannot read {}", part.display()))
                .into());
        }
    };
    if let Some(size) = expected.size
        && have > size
    {
        eprintln!(
            "{}: {have} bytes, more than the expected {size}; discarding it",
            part.display(),
        );
        remove(part)?;
        have = 0;
    }
    if have > 0 && complete(part, have, expected)? {
        eprintln!("{}: already downloaded", part.display());
        return Ok(());
    }

    let mut request = agent().get(url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let response = request
        .call()
        .map_err(|e| Failure::NextMirror(anyhow!("{url}: {}", describe(e))))?;
    let status = response.status();
    let (from, total) = match status.as_u16() {
        200 => {
            let len = response.body().content_length();
            if let Some(len) = len {
                check_total(url, len, expected)?;
            }
            if have > 0 {
                eprintln!("{url}: the server does not resume downloads; starting over");
            }
            (0, expected.size.or(len))
        }
        206 => {
            let header = response
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let Some((start, total)) = content_range(header) else {
                return Err(
                    anyhow!("{url}: HTTP 206 with an unreadable Content-Range {header:?}").into(),
                );
            };
            if let Some(total) = total {
                check_total(url, total, expected)?;
            }
            if start != have {
                return Err(anyhow!(
                    "{url}: asked for the bytes from {have} on, got those from {start} on; \
                     delete {} to download from the start",
                    part.display()
                )
                .into());
            }
            (have, expected.size.or(total))
        }
        416 if have > 0 => {
            eprintln!("{url}: the server cannot resume at byte {have}; starting over");
            remove(part)?;
            return download(url, part, expected);
        }
        code => {
            return Err(Failure::NextMirror(anyhow!(
                "{url}: HTTP {code} {}",
                status.canonical_reason().unwrap_or("")
            )));
        }
    };

    let mut file = open_part(part, from)?;
    let label = part_label(part);
    let of_total = total.map_or(String::new(), |t| format!(" of {}", HumanBytes(t)));
    if from == 0 {
        let size = total.map_or("size unknown".to_owned(), |t| HumanBytes(t).to_string());
        eprintln!("{label}: downloading {url} ({size})");
    } else {
        eprintln!("{label}: resuming {url} at {}{of_total}", HumanBytes(from));
    }
    // Without a total (no stated size, no Content-Length) there is no bar to fill: the
    // end of the body ends the download, and the checksum decides.
    let mut meter = total
        .filter(|&t| t > 0)
        .map(|t| ByteMeter::start(&label, from, t));
    let abandon = |meter: &Option<ByteMeter>| {
        if let Some(m) = meter {
            m.abandon();
        }
    };
    let mut body = response.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = from;
    let cut = |why: String, done: u64| {
        Failure::Stop(anyhow!(
            "{url}: {why} after {}{of_total}; run the command again to resume",
            HumanBytes(done),
        ))
    };
    loop {
        if interrupt::requested() {
            abandon(&meter);
            let _ = file.sync_all();
            return Err(cut("interrupted by Ctrl-C".into(), done));
        }
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                abandon(&meter);
                let _ = file.sync_all();
                return Err(cut(describe_cut(e), done));
            }
        };
        if let Some(size) = expected.size
            && done + n > size
        {
            abandon(&meter);
            drop(file);
            remove(part)?;
            return Err(anyhow!(
                "{url}: sends more than the expected {size} bytes; the mirror serves another \
                 file (deleted the download)"
            )
            .into());
        }
        file.write_all(&buf[..n as usize])
            .with_context(|| format!("cannot write {}", part.display()))?;
        done += n;
        if let Some(m) = &mut meter {
            m.set(done);
        }
    }
    file.sync_all()
        .with_context(|| format!("cannot write {}", part.display()))?;
    if total.is_some_and(|t| done < t) {
        abandon(&meter);
        return Err(cut("connection cut".into(), done));
    }
    match &meter {
        Some(m) => m.finish(),
        None => eprintln!("{label}: {} downloaded", HumanBytes(done)),
    }
    Ok(())
}

/// Whether the `have` bytes of `part` are already the whole file: by the stated size, or,
/// without one, by the checksum (a verified part of an earlier, failed run of a
/// multi-file release is not downloaded again).
fn complete(part: &Path, have: u64, expected: &Expected) -> Result<bool> {
    match expected.size {
        Some(size) => Ok(have == size),
        None => Ok(expected.checksum.of_file(part)? == expected.checksum.hex),
    }
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

/// Refuses a server whose file has another size than the stated one before a byte of it
/// is stored.
fn check_total(url: &str, total: u64, expected: &Expected) -> Result<(), Failure> {
    match expected.size {
        Some(size) if total != size => Err(Failure::NextMirror(anyhow!(
            "{url}: the server's file is {total} bytes, expected {size}; the mirror serves \
             another file"
        ))),
        _ => Ok(()),
    }
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

/// Checks the size (where stated) and the checksum of the complete download; deletes it
/// (and only it) when either is wrong.
pub(super) fn verify(url: &str, part: &Path, expected: &Expected) -> Result<()> {
    let algorithm = expected.checksum.algorithm.name();
    let what = match expected.size {
        Some(_) => format!("size and {algorithm}"),
        None => algorithm.to_owned(),
    };
    eprintln!("{}: checking {what}", part_label(part));
    let size = fs::metadata(part)
        .with_context(|| format!("cannot read {}", part.display()))?
        .len();
    let problem = match expected.size {
        Some(want) if size != want => format!("downloaded {size} bytes, expected {want}"),
        _ => {
            let got = expected.checksum.of_file(part)?;
            if got == expected.checksum.hex {
                return Ok(());
            }
            format!("{algorithm} is {got}, expected {}", expected.checksum.hex)
        }
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
