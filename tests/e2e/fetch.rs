//! `report data fetch` end to end, against a small archive in the CIFAR-10 binary
//! format served by a local HTTP server that can cut a download half-way, corrupt it,
//! ignore `Range` or answer an error status. Nothing here touches the network: the
//! built-in checksum is swapped for the test archive's with the hidden `--sha256`/`--size`.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::fixture::{self, TinyProject, write_cifar_bin};
use sha2::{Digest, Sha256};

const FILES: [&str; 8] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
    "batches.meta.txt",
    "readme.html",
];

/// How the test server misbehaves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Answers `Range: bytes=N-` with 206, anything else with 200.
    Normal,
    /// As `Normal`, but the first response ends after this many body bytes, mid-stream.
    CutFirstAt(usize),
    /// As `Normal`, with one byte of the body flipped.
    Corrupt,
    /// Always the whole file with 200, whatever the `Range`.
    NoRange,
    /// This status and an empty body.
    Status(u16),
}

/// A threaded HTTP/1.1 server on 127.0.0.1 serving one file; it records the `Range`
/// header (or its absence) of every request.
struct Server {
    url: String,
    ranges: Arc<Mutex<Vec<Option<String>>>>,
}

impl Server {
    fn start(body: Vec<u8>, mode: Mode) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let ranges = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&ranges);
        let body = Arc::new(body);
        std::thread::spawn(move || {
            for (i, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let (body, log) = (Arc::clone(&body), Arc::clone(&log));
                std::thread::spawn(move || {
                    let _ = serve(stream, &body, mode, i == 0, &log);
                });
            }
        });
        Server {
            url: format!("http://127.0.0.1:{port}/cifar-10-binary.tar.gz"),
            ranges,
        }
    }

    /// The `Range` header of each request so far, in order.
    fn ranges(&self) -> Vec<Option<String>> {
        self.ranges.lock().unwrap().clone()
    }
}

fn serve(
    mut stream: TcpStream,
    file: &[u8],
    mode: Mode,
    first: bool,
    log: &Mutex<Vec<Option<String>>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut range = None;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':')
            && name.eq_ignore_ascii_case("range")
        {
            range = Some(value.trim().to_owned());
        }
    }
    log.lock().unwrap().push(range.clone());

    if let Mode::Status(code) = mode {
        let head =
            format!("HTTP/1.1 {code} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return stream.write_all(head.as_bytes());
    }
    let mut body = file.to_vec();
    if mode == Mode::Corrupt {
        let mid = body.len() / 2;
        body[mid] ^= 0xff;
    }
    let len = body.len();
    let start = range.filter(|_| mode != Mode::NoRange).and_then(|r| {
        r.strip_prefix("bytes=")?
            .strip_suffix('-')?
            .parse::<usize>()
            .ok()
    });
    let head = match start {
        Some(s) if s >= len => {
            let head = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            return stream.write_all(head.as_bytes());
        }
        Some(s) => format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {s}-{}/{len}\r\nContent-Length: {}\r\n",
            len - 1,
            len - s
        ),
        None => format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n"),
    };
    stream.write_all(
        format!("{head}Content-Type: application/gzip\r\nConnection: close\r\n\r\n").as_bytes(),
    )?;
    let rest = &body[start.unwrap_or(0)..];
    match mode {
        Mode::CutFirstAt(n) if first => {
            stream.write_all(&rest[..n])?;
            stream.flush()?;
            stream.shutdown(Shutdown::Both)
        }
        _ => stream.write_all(rest),
    }
}

/// A `cifar-10-batches-bin` folder in the official layout with tiny batches: 100 train
/// images in five batches, 40 test images, plus a `readme.html`.
fn release_folder(dir: &Path) -> PathBuf {
    let folder = dir.join("cifar-10-batches-bin");
    write_cifar_bin(&folder, 10, 4);
    fs::write(folder.join("readme.html"), "<html>CIFAR-10</html>\n").unwrap();
    folder
}

/// Appends a regular file (or, with `link`, a symbolic link) under a raw member name,
/// bypassing the checks `tar::Builder` makes on names, so `../` and `/` can be written.
fn append_raw(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8], link: Option<&str>) {
    let mut header = tar::Header::new_gnu();
    let gnu = header.as_gnu_mut().unwrap();
    gnu.name[..name.len()].copy_from_slice(name.as_bytes());
    if let Some(target) = link {
        gnu.linkname[..target.len()].copy_from_slice(target.as_bytes());
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
    } else {
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(data.len() as u64);
    }
    header.set_mode(0o644);
    header.set_cksum();
    b.append(&header, if link.is_some() { &[][..] } else { data })
        .unwrap();
}

/// A .tar.gz of `folder`'s release files, plus what `extra` appends.
fn archive(folder: &Path, extra: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir("cifar-10-batches-bin", folder).unwrap();
    for name in FILES {
        let mut f = fs::File::open(folder.join(name)).unwrap();
        b.append_file(format!("cifar-10-batches-bin/{name}"), &mut f)
            .unwrap();
    }
    extra(&mut b);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&b.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

const REPORT_TOML: &str = r#"
title = "Tiny"
author = "Tester"
default_profile = "test"

[profiles.test]
data = "data/tiny"
epochs = 1
tsne_epochs = [1]

[profiles.full]
data = "data/cifar-10-batches-bin"
epochs = 1
tsne_epochs = [1]

[profiles.other]
data = "data/elsewhere"
epochs = 1
tsne_epochs = [1]
"#;

/// A project whose `full` profile reads `data/cifar-10-batches-bin`, plus the release
/// folder (outside the project) and its archive.
struct Setup {
    project: TinyProject,
    _src: tempfile::TempDir,
    folder: PathBuf,
    archive: Vec<u8>,
}

impl Setup {
    fn new() -> Setup {
        Setup::with(|_| {})
    }

    fn with(extra: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Setup {
        let project = TinyProject::new();
        project.write("experiments/report.toml", REPORT_TOML);
        let src = tempfile::tempdir().unwrap();
        let folder = release_folder(src.path());
        let archive = archive(&folder, extra);
        Setup {
            project,
            _src: src,
            folder,
            archive,
        }
    }

    /// `report data fetch cifar10 --url URL` with the test archive's checksum.
    fn fetch(&self, url: &str, more: &[&str]) -> Output {
        let size = self.archive.len().to_string();
        let sha = sha256(&self.archive);
        let mut args = vec![
            "data", "fetch", "cifar10", "--url", url, "--sha256", &sha, "--size", &size,
        ];
        args.extend(more);
        run(self.project.root(), &args)
    }

    fn data(&self, rel: &str) -> PathBuf {
        self.project.path("data").join(rel)
    }

    fn part(&self) -> PathBuf {
        self.data(".cifar-10-binary.tar.gz.part")
    }

    /// Asserts that `data/cifar-10-batches-bin` holds exactly the release files.
    fn assert_unpacked(&self) {
        let target = self.data("cifar-10-batches-bin");
        let mut names = listing(&target);
        names.sort();
        let mut want = FILES.map(String::from).to_vec();
        want.sort();
        assert_eq!(names, want);
        for name in FILES {
            assert_eq!(
                fs::read(target.join(name)).unwrap(),
                fs::read(self.folder.join(name)).unwrap(),
                "{name}"
            );
        }
        assert!(!self.part().exists(), "the download was not cleaned up");
        let mut top = listing(&self.project.path("data"));
        top.sort();
        assert_eq!(top, ["cifar-10-batches-bin", "tiny"], "leftovers in data/");
    }
}

/// Runs `report` with no proxy settings, so 127.0.0.1 is reached directly.
fn run(root: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_report"));
    cmd.arg("--root").arg(root).args(args).env("NO_COLOR", "1");
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
    stderr(out)
}

/// Asserts a failure whose last stderr line, and only error line, is `error: …`.
fn failed(out: &Output) -> String {
    let err = stderr(out);
    assert!(!out.status.success(), "should have failed:\n{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "one error line expected:\n{err}");
    assert_eq!(err.trim_end().lines().last(), Some(errors[0]), "{err}");
    eprintln!("{}", errors[0]);
    errors[0].to_owned()
}

fn listing(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_clean_download_is_verified_unpacked_and_found_by_the_full_profile() {
    let s = Setup::new();
    let hint = failed(&s.project.run(&["list", "--profile", "full"]));
    assert!(
        hint.contains("pass --data PATH or run `report data fetch cifar10`"),
        "{hint}"
    );
    let server = Server::start(s.archive.clone(), Mode::Normal);

    let out = s.fetch(&server.url, &[]);
    let log = succeeded(&out);
    assert!(
        log.contains(&format!("downloading {}", server.url)),
        "{log}"
    );
    assert!(log.contains("cifar-10-binary.tar.gz: 100 %"), "{log}");
    assert!(log.contains("checking size and SHA-256"), "{log}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("CIFAR-10 is ready in "), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("data/cifar-10-batches-bin"),
        "{stdout}"
    );
    assert_eq!(server.ranges(), [None]);
    s.assert_unpacked();

    // The reader takes the folder as it is, and the profile finds it by itself.
    let cache = tempfile::tempdir().unwrap();
    let data = report::data::load(
        &s.data("cifar-10-batches-bin"),
        &Default::default(),
        cache.path(),
    )
    .unwrap();
    assert_eq!(data.classes, fixture::CLASSES);
    assert_eq!((data.train.len(), data.test.len()), (100, 40));
    s.project.ok(&["list", "--profile", "full"]);
}

#[test]
fn a_cut_download_is_kept_and_the_next_run_resumes_with_a_range_request() {
    let s = Setup::new();
    let half = s.archive.len() / 2;
    let server = Server::start(s.archive.clone(), Mode::CutFirstAt(half));

    let err = failed(&s.fetch(&server.url, &[]));
    assert!(err.contains(&server.url), "{err}");
    assert!(err.contains("connection cut after"), "{err}");
    assert!(err.contains("run the command again to resume"), "{err}");
    assert_eq!(fs::read(s.part()).unwrap(), s.archive[..half]);
    assert!(!s.data("cifar-10-batches-bin").exists());

    let log = succeeded(&s.fetch(&server.url, &[]));
    assert!(log.contains("resuming"), "{log}");
    assert_eq!(server.ranges(), [None, Some(format!("bytes={half}-"))]);
    s.assert_unpacked();
}

#[test]
fn a_server_that_ignores_range_makes_the_download_start_over() {
    let s = Setup::new();
    let server = Server::start(s.archive.clone(), Mode::NoRange);
    fs::write(s.part(), &s.archive[..100]).unwrap();
    let log = succeeded(&s.fetch(&server.url, &[]));
    assert!(
        log.contains("does not resume downloads; starting over"),
        "{log}"
    );
    assert_eq!(server.ranges(), [Some("bytes=100-".to_owned())]);
    s.assert_unpacked();
}

#[test]
fn a_partial_download_larger_than_the_archive_is_discarded() {
    let s = Setup::new();
    let server = Server::start(s.archive.clone(), Mode::Normal);
    fs::write(s.part(), vec![7u8; s.archive.len() + 10]).unwrap();
    let log = succeeded(&s.fetch(&server.url, &[]));
    assert!(log.contains("discarding it"), "{log}");
    assert_eq!(server.ranges(), [None]);
    s.assert_unpacked();
}

#[test]
fn a_corrupt_download_is_deleted_and_the_users_folder_is_untouched() {
    let s = Setup::new();
    let mine = s.data("cifar-10-batches-bin");
    fs::create_dir_all(&mine).unwrap();
    fs::write(mine.join("data_batch_1.bin"), b"the user's own batch").unwrap();
    fs::write(mine.join("notes.txt"), b"keep me").unwrap();
    let before = report::hash::path(&mine).unwrap();
    let data_before = listing(&s.project.path("data"));

    let server = Server::start(s.archive.clone(), Mode::Corrupt);
    let err = failed(&s.fetch(&server.url, &[]));
    let mut corrupt = s.archive.clone();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0xff;
    let expected = format!(
        "{}: SHA-256 is {}, expected {}; the download is corrupt or the mirror serves another file",
        server.url,
        sha256(&corrupt),
        sha256(&s.archive)
    );
    assert!(err.contains(&expected), "{err}");
    assert!(!s.part().exists(), "the bad download was kept");
    assert_eq!(report::hash::path(&mine).unwrap(), before);
    assert_eq!(listing(&s.project.path("data")), data_before);
}

#[test]
fn archives_with_escaping_members_or_links_are_refused_and_nothing_lands_outside() {
    let cases: [(&str, &str, Option<&str>); 4] = [
        ("../evil", "points outside the archive", None),
        (
            "cifar-10-batches-bin/../../evil",
            "points outside the archive",
            None,
        ),
        ("/tmp/report-fetch-test-evil", "has an absolute path", None),
        (
            "cifar-10-batches-bin/evil-link",
            "is a symbolic link",
            Some("../../evil"),
        ),
    ];
    for (member, reason, link) in cases {
        let s = Setup::with(|b| append_raw(b, member, b"pwned", link));
        let server = Server::start(s.archive.clone(), Mode::Normal);
        let outer = tempfile::tempdir().unwrap();
        let dest = outer.path().join("a/b/dest");
        let err = failed(&s.fetch(&server.url, &["--dest", dest.to_str().unwrap()]));
        assert!(
            err.contains(&format!("archive member {member} {reason}")),
            "{member}: {err}"
        );
        assert!(
            err.contains("refused to unpack it and deleted the download"),
            "{err}"
        );
        // Only the (empty) destination was created; nothing beside or above it.
        assert_eq!(listing(outer.path()), ["a"]);
        assert_eq!(listing(&outer.path().join("a")), ["b"]);
        assert_eq!(listing(&outer.path().join("a/b")), ["dest"]);
        assert_eq!(listing(&dest), Vec::<String>::new(), "{member}");
        assert!(!Path::new("/tmp/report-fetch-test-evil").exists());
        assert_eq!(listing(&s.project.path("data")), ["tiny"]);
    }
}

#[test]
fn http_failures_name_the_url_and_the_problem() {
    let s = Setup::new();
    let server = Server::start(Vec::new(), Mode::Status(404));
    let err = failed(&s.fetch(&server.url, &[]));
    assert!(
        err.contains(&format!("{}: HTTP 404 Not Found", server.url)),
        "{err}"
    );

    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/cifar.tar.gz", closed.local_addr().unwrap());
    drop(closed);
    let err = failed(&s.fetch(&url, &[]));
    assert!(err.contains(&format!("{url}: connection refused")), "{err}");

    let other = Server::start(s.archive[..1000].to_vec(), Mode::Normal);
    let err = failed(&s.fetch(&other.url, &[]));
    let want = format!(
        "{}: the server's file is 1000 bytes, expected {}; the mirror serves another file",
        other.url,
        s.archive.len()
    );
    assert!(err.contains(&want), "{err}");

    assert!(!s.part().exists());
    assert_eq!(listing(&s.project.path("data")), ["tiny"]);
}

#[test]
fn bad_arguments_are_refused_before_any_download() {
    let s = Setup::new();
    let err = failed(&run(
        s.project.root(),
        &["data", "fetch", "cifar10", "--sha256", "xyz", "--size", "5"],
    ));
    assert!(
        err.contains("--sha256 xyz: expected 64 hexadecimal digits"),
        "{err}"
    );
    for args in [
        &["data", "fetch", "cifar100"][..],
        &["data", "fetch", "cifar10", "--size", "5"][..],
    ] {
        let out = run(s.project.root(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    let err = failed(&s.project.run(&["list", "--profile", "other"]));
    assert!(err.ends_with("pass --data PATH"), "{err}");
}

#[test]
fn a_second_fetch_into_the_same_folder_fails_instead_of_interleaving() {
    let s = Setup::new();
    let server = Server::start(s.archive.clone(), Mode::Normal);
    fs::write(s.part(), &s.archive[..100]).unwrap();
    let held = fs::File::open(s.part()).unwrap();
    held.lock().unwrap();
    let err = failed(&s.fetch(&server.url, &[]));
    assert!(
        err.contains("another `report data fetch` is downloading into it"),
        "{err}"
    );
    assert_eq!(fs::read(s.part()).unwrap(), s.archive[..100]);
    held.unlock().unwrap();
    succeeded(&s.fetch(&server.url, &[]));
    assert_eq!(
        server.ranges(),
        [Some("bytes=100-".to_owned()), Some("bytes=100-".to_owned())]
    );
    s.assert_unpacked();
}
