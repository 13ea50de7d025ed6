//! `report data fetch`: downloads an official dataset release, checks it, unpacks it.
//!
//! The download goes to a hidden `.<file>.part` beside the destination folder. A run that
//! is cut short keeps it, and the next run asks the server for the rest with an HTTP
//! `Range` request. Nothing is unpacked before the whole file has the size and SHA-256
//! built in for the release (a mirror must serve the same bytes), and then only the
//! members the release is known to hold: regular files, written under names taken from
//! [`Release`], never from the archive, into a staging folder that [`fsx::replace_dir`]
//! moves into place whole. A failed run therefore changes nothing the user had; at most
//! it leaves the `.part` file that the next run resumes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use flate2::read::MultiGzDecoder;
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use tar::EntryType;

use crate::{fsx, hash, interrupt};

/// An official dataset release: where it is, what it must hash to, what it holds.
#[derive(Debug)]
pub struct Release {
    /// The name on the command line (`report data fetch cifar10`).
    pub name: &'static str,
    /// The name for people.
    pub title: &'static str,
    /// The publisher's URL.
    pub url: &'static str,
    /// The archive's file name; it names the `.part` file.
    pub file_name: &'static str,
    /// The archive's size in bytes.
    pub size: u64,
    /// The archive's SHA-256, lowercase hex.
    pub sha256: &'static str,
    /// The archive's one top folder, unpacked as `<dest>/<folder>`.
    pub folder: &'static str,
    /// Files of `folder` the archive must hold.
    pub required: &'static [&'static str],
    /// Files of `folder` unpacked when the archive holds them.
    pub optional: &'static [&'static str],
    /// The largest a member may be; a larger one is refused before a byte of it is written.
    pub max_member: u64,
}

/// The CIFAR-10 binary release: <https://www.cs.toronto.edu/~kriz/cifar.html>. Its MD5,
/// as published there, is c32a1d4ab5d03f1284b67883e8d87530.
pub const CIFAR10: Release = Release {
    name: "cifar10",
    title: "CIFAR-10",
    url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    file_name: "cifar-10-binary.tar.gz",
    size: 170_052_171,
    sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
    folder: "cifar-10-batches-bin",
    required: &[
        "data_batch_1.bin",
        "data_batch_2.bin",
        "data_batch_3.bin",
        "data_batch_4.bin",
        "data_batch_5.bin",
        "test_batch.bin",
        "batches.meta.txt",
    ],
    optional: &["readme.html"],
    // A batch: 10,000 records of 1 label byte and 3,072 pixel bytes.
    max_member: 10_000 * 3_073,
};

/// Every release `report data fetch` knows.
pub const RELEASES: &[Release] = &[CIFAR10];

/// The release called `name` on the command line.
pub fn release(name: &str) -> Result<&'static Release> {
    RELEASES.iter().find(|r| r.name == name).with_context(|| {
        let known: Vec<&str> = RELEASES.iter().map(|r| r.name).collect();
        format!("unknown dataset {name:?} (known: {})", known.join(", "))
    })
}

/// What the downloaded archive must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

impl Expected {
    /// The release's own size and checksum.
    pub fn of(release: &Release) -> Expected {
        Expected {
            size: release.size,
            sha256: release.sha256.to_owned(),
        }
    }

    /// Another size and checksum (a mirror of another file, or a test archive).
    pub fn new(sha256: &str, size: u64) -> Result<Expected> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!("--sha256 {sha256}: expected 64 hexadecimal digits");
        }
        if size == 0 {
            bail!("--size 0: an archive is at least one byte");
        }
        Ok(Expected {
            size,
            sha256: sha256.to_ascii_lowercase(),
        })
    }
}

/// How to fetch a release.
#[derive(Debug, Clone)]
pub struct Options {
    /// A mirror instead of the release's URL.
    pub url: Option<String>,
    /// The folder that receives `<release.folder>/` and, while downloading, the `.part`.
    pub dest: PathBuf,
    /// Another size and checksum instead of the release's.
    pub expected: Option<Expected>,
}

/// Downloads (or resumes), verifies and unpacks `release`; returns the unpacked folder.
pub fn fetch(release: &Release, opts: &Options) -> Result<PathBuf> {
    let url = opts.url.as_deref().unwrap_or(release.url);
    let expected = opts
        .expected
        .clone()
        .unwrap_or_else(|| Expected::of(release));
    fs::create_dir_all(&opts.dest)
        .with_context(|| format!("cannot create folder {}", opts.dest.display()))?;
    let part = opts.dest.join(format!(".{}.part", release.file_name));
    download(url, &part, &expected)?;
    verify(url, &part, &expected)?;

    let target = opts.dest.join(release.folder);
    match unpack(release, &part, &target) {
        Ok(count) => {
            eprintln!("unpacked {count} files into {}", target.display());
            remove(&part)?;
            Ok(target)
        }
        Err(Unpack::Refused(reason)) => {
            remove(&part)?;
            bail!("{url}: {reason}; refused to unpack it and deleted the download")
        }
        Err(Unpack::Io(e)) => Err(e.context(format!(
            "cannot unpack {} (the verified download is kept: running the command again \
             unpacks it without downloading)",
            part.display()
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// Download

/// Brings `part` to `expected.size` bytes: resumes what is there when the server allows
/// it, starts over when it does not. Leaves `part` in place on every failure that a new
/// run could continue from.
fn download(url: &str, part: &Path, expected: &Expected) -> Result<()> {
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
    let mut meter = Meter::start(&label, from, expected.size);
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

/// Download progress: a bar on a terminal, a line per tenth otherwise.
struct Meter {
    label: String,
    total: u64,
    bar: Option<ProgressBar>,
    next_tenth: u64,
}

impl Meter {
    fn start(label: &str, from: u64, total: u64) -> Meter {
        let bar = io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes} \
                     {binary_bytes_per_sec} ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(label.to_owned());
            bar.set_position(from);
            bar.reset_eta();
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Meter {
            label: label.to_owned(),
            total,
            bar,
            next_tenth: from * 10 / total + 1,
        }
    }

    fn set(&mut self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            return;
        }
        let tenth = done * 10 / self.total;
        if tenth >= self.next_tenth {
            eprintln!(
                "{}: {} % ({} of {})",
                self.label,
                tenth * 10,
                HumanBytes(done),
                HumanBytes(self.total)
            );
            self.next_tenth = tenth + 1;
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }

    fn abandon(&self) {
        if let Some(bar) = &self.bar {
            bar.abandon();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Verify

/// Checks the size and SHA-256 of the complete download; deletes it (and only it) when
/// either is wrong.
fn verify(url: &str, part: &Path, expected: &Expected) -> Result<()> {
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

// ---------------------------------------------------------------------------------------
// Unpack

/// Why unpacking failed: the archive itself (its download is useless), or the disk (the
/// verified download is worth keeping).
enum Unpack {
    Refused(String),
    Io(anyhow::Error),
}

/// What to do with one archive member.
#[derive(Debug, PartialEq, Eq)]
enum Action {
    /// Not part of the release (a folder, `._` resource forks, metadata headers).
    Skip,
    /// One of the release's files: write it as `<folder>/<name>`.
    File(&'static str),
}

/// Decides what to do with an archive member from its raw name, type and size. Unsafe
/// members refuse the whole archive: absolute names, `..` anywhere, links, devices,
/// FIFOs, sparse files, and release files larger than any file of the release.
fn classify(release: &Release, raw: &[u8], kind: EntryType, size: u64) -> Result<Action, String> {
    let name = String::from_utf8_lossy(raw);
    if name.starts_with('/') || name.starts_with('\\') {
        return Err(format!("archive member {name} has an absolute path"));
    }
    let parts: Vec<&str> = name
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(format!(
            "archive member {name} points outside the archive (`..`)"
        ));
    }
    if kind.is_pax_global_extensions() || kind.is_dir() {
        return Ok(Action::Skip);
    }
    if !kind.is_file() {
        return Err(format!("archive member {name} is {}", kind_name(kind)));
    }
    let file = match parts[..] {
        [folder, file] if folder == release.folder => file,
        _ => return Ok(Action::Skip),
    };
    let Some(&known) = release
        .required
        .iter()
        .chain(release.optional)
        .find(|&&m| m == file)
    else {
        return Ok(Action::Skip);
    };
    if size > release.max_member {
        return Err(format!(
            "archive member {name} is {size} bytes, more than the {} of the largest {} file",
            release.max_member, release.title
        ));
    }
    Ok(Action::File(known))
}

/// A tar member type in words.
fn kind_name(kind: EntryType) -> String {
    match kind {
        EntryType::Symlink => "a symbolic link".into(),
        EntryType::Link => "a hard link".into(),
        EntryType::Char => "a character device".into(),
        EntryType::Block => "a block device".into(),
        EntryType::Fifo => "a FIFO".into(),
        EntryType::GNUSparse => "a sparse file".into(),
        other => format!(
            "not a regular file (tar type {:?})",
            char::from(other.as_byte())
        ),
    }
}

/// Unpacks the release's files from `archive` into a staging folder beside `target`,
/// then moves it into place whole; returns how many files it holds.
fn unpack(release: &Release, archive: &Path, target: &Path) -> Result<usize, Unpack> {
    let staging = fsx::temp_sibling(target);
    let result = unpack_into(release, archive, &staging).and_then(|count| {
        if target.exists() {
            eprintln!("{}: replacing the folder that was there", target.display());
        }
        fsx::replace_dir(&staging, target).map_err(Unpack::Io)?;
        Ok(count)
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

fn unpack_into(release: &Release, archive: &Path, staging: &Path) -> Result<usize, Unpack> {
    let io_err = |what: &Path| {
        let what = what.display().to_string();
        move |e: io::Error| {
            Unpack::Io(anyhow::Error::new(e).context(format!("cannot write {what}")))
        }
    };
    let unreadable = |e: io::Error| Unpack::Refused(format!("not a readable .tar.gz ({e})"));
    fs::create_dir(staging).map_err(io_err(staging))?;
    let file = File::open(archive).map_err(|e| {
        Unpack::Io(anyhow::Error::new(e).context(format!("cannot read {}", archive.display())))
    })?;
    let mut tar = tar::Archive::new(MultiGzDecoder::new(BufReader::new(file)));
    let mut written: Vec<&'static str> = Vec::new();
    for entry in tar.entries().map_err(unreadable)? {
        let mut entry = entry.map_err(unreadable)?;
        let raw = entry.path_bytes().into_owned();
        let kind = entry.header().entry_type();
        let action = classify(release, &raw, kind, entry.size()).map_err(Unpack::Refused)?;
        let Action::File(name) = action else {
            if kind.is_file() {
                eprintln!(
                    "skipping archive member {}: not a {} file",
                    String::from_utf8_lossy(&raw),
                    release.title
                );
            }
            continue;
        };
        if written.contains(&name) {
            return Err(Unpack::Refused(format!(
                "archive member {}/{name} appears twice",
                release.folder
            )));
        }
        let path = staging.join(name);
        let mut out = File::create_new(&path).map_err(io_err(&path))?;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(unreadable(e)),
            };
            out.write_all(&buf[..n]).map_err(io_err(&path))?;
        }
        out.sync_all().map_err(io_err(&path))?;
        written.push(name);
    }
    if let Some(missing) = release.required.iter().find(|m| !written.contains(m)) {
        return Err(Unpack::Refused(format!(
            "the archive has no {}/{missing}",
            release.folder
        )));
    }
    Ok(written.len())
}

/// Deletes `path`, which must be gone afterwards.
fn remove(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot delete {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{add_file, add_link, gzip};
    use super::*;

    fn classify_file(name: &str, size: u64) -> Result<Action, String> {
        classify(&CIFAR10, name.as_bytes(), EntryType::Regular, size)
    }

    #[test]
    fn the_release_files_are_kept_under_their_own_names() {
        for name in CIFAR10.required.iter().chain(CIFAR10.optional) {
            for prefix in ["", "./", "././"] {
                let member = format!("{prefix}cifar-10-batches-bin/{name}");
                assert_eq!(
                    classify_file(&member, 100),
                    Ok(Action::File(name)),
                    "{member}"
                );
            }
        }
        assert_eq!(
            classify_file("cifar-10-batches-bin//data_batch_1.bin", 0),
            Ok(Action::File("data_batch_1.bin"))
        );
        assert_eq!(
            classify_file("cifar-10-batches-bin/data_batch_5.bin", CIFAR10.max_member),
            Ok(Action::File("data_batch_5.bin"))
        );
    }

    #[test]
    fn folders_and_unknown_files_are_skipped() {
        for name in [
            "cifar-10-batches-bin/._data_batch_1.bin",
            "cifar-10-batches-bin/notes.txt",
            "cifar-10-batches-bin/sub/data_batch_1.bin",
            "data_batch_1.bin",
            "other/data_batch_1.bin",
            "cifar-10-batches-py/data_batch_1",
        ] {
            assert_eq!(classify_file(name, 10), Ok(Action::Skip), "{name}");
        }
        for name in ["cifar-10-batches-bin/", "./", "cifar-10-batches-bin/sub/"] {
            let got = classify(&CIFAR10, name.as_bytes(), EntryType::Directory, 0);
            assert_eq!(got, Ok(Action::Skip), "{name}");
        }
        let pax = classify(&CIFAR10, b"pax_global_header", EntryType::XGlobalHeader, 52);
        assert_eq!(pax, Ok(Action::Skip));
    }

    #[test]
    fn escapes_links_devices_and_oversize_members_are_refused() {
        let refused = |name: &str, kind: EntryType, size: u64, needle: &str| {
            let err = classify(&CIFAR10, name.as_bytes(), kind, size).unwrap_err();
            assert!(err.contains(needle), "{name}: {err}");
            assert!(err.contains(name.trim_end_matches('/')), "{name}: {err}");
        };
        let regular = EntryType::Regular;
        refused("../evil", regular, 1, "outside the archive");
        refused("cifar-10-batches-bin/../../evil", regular, 1, "outside");
        refused(
            "cifar-10-batches-bin/../data_batch_1.bin",
            regular,
            1,
            "outside",
        );
        refused("..\\evil", regular, 1, "outside");
        refused("../", EntryType::Directory, 0, "outside");
        refused("/etc/passwd", regular, 1, "absolute path");
        refused(
            "/cifar-10-batches-bin/data_batch_1.bin",
            regular,
            1,
            "absolute",
        );
        let data_batch = "cifar-10-batches-bin/data_batch_1.bin";
        refused(data_batch, EntryType::Symlink, 0, "a symbolic link");
        refused(data_batch, EntryType::Link, 0, "a hard link");
        refused(
            "cifar-10-batches-bin/tty",
            EntryType::Char,
            0,
            "character device",
        );
        refused(
            "cifar-10-batches-bin/sda",
            EntryType::Block,
            0,
            "block device",
        );
        refused("cifar-10-batches-bin/pipe", EntryType::Fifo, 0, "a FIFO");
        refused(data_batch, EntryType::GNUSparse, 10, "a sparse file");
        refused(
            "x",
            EntryType::new(b'Z'),
            0,
            "not a regular file (tar type 'Z')",
        );
        refused(
            data_batch,
            regular,
            CIFAR10.max_member + 1,
            "30730001 bytes",
        );
    }

    #[test]
    fn content_range_headers() {
        assert_eq!(content_range("bytes 100-199/200"), Some((100, Some(200))));
        assert_eq!(content_range("bytes 0-0/*"), Some((0, None)));
        assert_eq!(content_range("bytes 5-4/10"), None);
        assert_eq!(content_range("bytes */200"), None);
        assert_eq!(content_range(""), None);
    }

    #[test]
    fn expected_checksums_are_64_hex_digits() {
        let hex = "C4A38C50A1BC5F3A1C5537F2155AB9D68F9F25EB1ED8D9DDDA3DB29A59BCA1DD";
        assert_eq!(Expected::new(hex, 1).unwrap().sha256, CIFAR10.sha256);
        for bad in ["abc", &hex.replace('C', "g")] {
            let err = Expected::new(bad, 1).unwrap_err().to_string();
            assert!(err.contains("64 hexadecimal digits"), "{err}");
        }
        assert!(Expected::new(hex, 0).is_err());
        assert!(
            release("cifar100")
                .unwrap_err()
                .to_string()
                .contains("known: cifar10")
        );
    }

    /// Writes a gzipped tar built by `build` and unpacks it into `dir/out`.
    fn unpack_archive(
        dir: &Path,
        build: impl FnOnce(&mut tar::Builder<Vec<u8>>),
    ) -> Result<usize, Unpack> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        let archive = dir.join("a.tar.gz");
        fs::write(&archive, gzip(&b.into_inner().unwrap())).unwrap();
        unpack(&CIFAR10, &archive, &dir.join("out"))
    }

    fn add_release(b: &mut tar::Builder<Vec<u8>>) {
        for name in CIFAR10.required {
            add_file(b, &format!("cifar-10-batches-bin/{name}"), name.as_bytes());
        }
    }

    fn refusal(result: Result<usize, Unpack>) -> String {
        match result {
            Err(Unpack::Refused(why)) => why,
            Err(Unpack::Io(e)) => panic!("expected a refusal, got {e:#}"),
            Ok(n) => panic!("expected a refusal, got {n} files"),
        }
    }

    #[test]
    fn unpack_writes_exactly_the_release_files_and_leaves_no_staging() {
        let dir = tempfile::tempdir().unwrap();
        let count = unpack_archive(dir.path(), |b| {
            add_release(b);
            add_file(b, "cifar-10-batches-bin/readme.html", b"<html>");
            add_file(b, "cifar-10-batches-bin/._test_batch.bin", b"fork");
        })
        .unwrap_or_else(|_| panic!("unpack failed"));
        assert_eq!(count, 8);
        let out = dir.path().join("out");
        let mut names: Vec<String> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut want: Vec<&str> = CIFAR10.required.to_vec();
        want.push("readme.html");
        want.sort();
        assert_eq!(names, want);
        assert_eq!(
            fs::read(out.join("test_batch.bin")).unwrap(),
            b"test_batch.bin"
        );
        let top: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(top.len(), 2, "a.tar.gz and out/ only");
    }

    #[test]
    fn unpack_refuses_duplicates_missing_files_links_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let why = refusal(unpack_archive(dir.path(), |b| {
            add_release(b);
            add_file(b, "./cifar-10-batches-bin/test_batch.bin", b"again");
        }));
        assert!(why.contains("test_batch.bin appears twice"), "{why}");

        let why = refusal(unpack_archive(dir.path(), |b| {
            add_file(b, "cifar-10-batches-bin/data_batch_1.bin", b"x");
        }));
        assert!(
            why.contains("no cifar-10-batches-bin/data_batch_2.bin"),
            "{why}"
        );

        let why = refusal(unpack_archive(dir.path(), |b| {
            add_release(b);
            add_link(
                b,
                "cifar-10-batches-bin/readme.html",
                "/etc/passwd",
                EntryType::Symlink,
            );
        }));
        assert!(why.contains("is a symbolic link"), "{why}");

        let garbage = dir.path().join("garbage.tar.gz");
        fs::write(&garbage, b"not gzip at all").unwrap();
        let why = refusal(unpack(&CIFAR10, &garbage, &dir.path().join("out")));
        assert!(why.contains("not a readable .tar.gz"), "{why}");

        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names.len(),
            2,
            "only the two archives, no staging: {names:?}"
        );
    }
}
