//! `report data fetch` end to end, against a small archive in the CIFAR-10 binary
//! format, or four generated `.gz` files standing for MNIST, served by a local HTTP
//! server that can cut a download half-way, corrupt it, ignore `Range` or answer an error
//! status. Nothing here touches the network: the built-in checksums are swapped for the
//! test files' with the hidden `--sha256`/`--size` (an archive) or `--checksums` (MNIST).

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
    /// As `Normal`, but the response to request number `.0` (from 0) ends after `.1`
    /// body bytes.
    CutRequestAt(usize, usize),
    /// As `Normal`, with one byte of the body flipped.
    Corrupt,
    /// Always the whole file with 200, whatever the `Range`.
    NoRange,
    /// This status and an empty body.
    Status(u16),
}

/// One request: its path and its `Range` header, if any.
type Request = (String, Option<String>);

/// The files a server has: `(path, body)`, where the path `*` matches any request.
type Files = Vec<(String, Vec<u8>)>;

/// A threaded HTTP/1.1 server on 127.0.0.1; it records the path and `Range` header (or
/// its absence) of every request.
struct Server {
    url: String,
    /// `http://127.0.0.1:PORT`, for servers of several files.
    base: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Serves `body` whatever the path.
    fn start(body: Vec<u8>, mode: Mode) -> Server {
        Server::files(vec![("*".into(), body)], mode)
    }

    /// Serves each of `files` at its path, and 404 elsewhere.
    fn files(files: Files, mode: Mode) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        let files = Arc::new(files);
        std::thread::spawn(move || {
            for (i, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let (files, log) = (Arc::clone(&files), Arc::clone(&log));
                std::thread::spawn(move || {
                    let _ = serve(stream, &files, mode, i, &log);
                });
            }
        });
        let base = format!("http://127.0.0.1:{port}");
        Server {
            url: format!("{base}/cifar-10-binary.tar.gz"),
            base,
            requests,
        }
    }

    /// The `Range` header of each request so far, in order.
    fn ranges(&self) -> Vec<Option<String>> {
        self.requests().into_iter().map(|(_, r)| r).collect()
    }

    /// Each request so far, in order.
    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(
    mut stream: TcpStream,
    files: &Files,
    mode: Mode,
    index: usize,
    log: &Mutex<Vec<Request>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut range = None;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
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
    log.lock().unwrap().push((path.clone(), range.clone()));

    let file = files.iter().find(|(p, _)| p == "*" || *p == path);
    let file = match (mode, file) {
        (Mode::Status(code), _) => return empty(&mut stream, code),
        (_, None) => return empty(&mut stream, 404),
        (_, Some((_, body))) => body,
    };
    let mut body = file.clone();
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
    let cut_after = match mode {
        Mode::CutFirstAt(n) if index == 0 => Some(n),
        Mode::CutRequestAt(i, n) if index == i => Some(n),
        _ => None,
    };
    match cut_after {
        Some(n) => {
            stream.write_all(&rest[..n])?;
            stream.flush()?;
            stream.shutdown(Shutdown::Both)
        }
        None => stream.write_all(rest),
    }
}

/// Answers `code` with an empty body.
fn empty(stream: &mut TcpStream, code: u16) -> std::io::Result<()> {
    let head = format!("HTTP/1.1 {code} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes())
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
        // cifar100 is known now; an unknown name is refused by the argument parser.
        &["data", "fetch", "svhn"][..],
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

/// The four files of MNIST, as torchvision and the publishers name them.
const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// torchvision's MNIST class names, one line each.
const MNIST_CLASSES: &str = "0 - zero\n1 - one\n2 - two\n3 - three\n4 - four\n5 - five\n\
                             6 - six\n7 - seven\n8 - eight\n9 - nine\n";

fn md5(bytes: &[u8]) -> String {
    use md5::{Digest as _, Md5};
    format!("{:x}", Md5::digest(bytes))
}

/// A project, four distinct generated `.gz` files standing for MNIST's, and a
/// `--checksums` file with their MD5s.
struct Mnist {
    project: TinyProject,
    _src: tempfile::TempDir,
    files: Vec<(&'static str, Vec<u8>)>,
    checksums: PathBuf,
}

impl Mnist {
    /// With sizes in the checksums file for the files whose index `sized` holds.
    fn new(sized: &[usize]) -> Mnist {
        let project = TinyProject::new();
        project.write("experiments/report.toml", REPORT_TOML);
        let files: Vec<(&str, Vec<u8>)> = MNIST_FILES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                // Varied bytes, so the gzip stream is a few KiB and a cut lands mid-file.
                let raw: Vec<u8> = (0..20_000u32)
                    .map(|k| (k.wrapping_mul(2_654_435_761 + i as u32) >> 13) as u8)
                    .collect();
                gz.write_all(&raw).unwrap();
                (*name, gz.finish().unwrap())
            })
            .collect();
        let src = tempfile::tempdir().unwrap();
        let checksums = src.path().join("sums.txt");
        let mut s = Mnist {
            project,
            _src: src,
            files,
            checksums,
        };
        s.write_checksums(sized, None);
        s
    }

    /// Rewrites the checksums file; `wrong` gives file `.0` the MD5 of `.1` instead.
    fn write_checksums(&mut self, sized: &[usize], wrong: Option<(usize, &[u8])>) {
        let mut text = String::from("# generated by the test\n");
        for (i, (name, body)) in self.files.iter().enumerate() {
            let sum = match wrong {
                Some((w, other)) if w == i => md5(other),
                _ => md5(body),
            };
            let size = if sized.contains(&i) {
                format!(" {}", body.len())
            } else {
                String::new()
            };
            text.push_str(&format!("{name} {sum}{size}\n"));
        }
        fs::write(&self.checksums, text).unwrap();
    }

    /// The server's files, under `/mnist/`.
    fn served(&self) -> Files {
        let files = self.files.iter();
        files
            .map(|(n, b)| (format!("/mnist/{n}"), b.clone()))
            .collect()
    }

    /// `report data fetch mnist --url BASE…` with the test files' checksums.
    fn fetch(&self, bases: &[&str]) -> Output {
        let mut args = vec!["data", "fetch", "mnist"];
        for base in bases {
            args.extend(["--url", base]);
        }
        args.extend(["--checksums", self.checksums.to_str().unwrap()]);
        run(self.project.root(), &args)
    }

    fn data(&self, rel: &str) -> PathBuf {
        self.project.path("data").join(rel)
    }

    fn part(&self, i: usize) -> PathBuf {
        self.data(&format!(".mnist-{}.part", MNIST_FILES[i]))
    }

    /// Asserts that `data/mnist` holds the four files byte for byte (not gunzipped) and
    /// torchvision's class names, and nothing else is left in `data/`.
    fn assert_placed(&self) {
        let target = self.data("mnist");
        let mut names = listing(&target);
        names.sort();
        let mut want: Vec<String> = MNIST_FILES.map(String::from).to_vec();
        want.push("classes.txt".into());
        want.sort();
        assert_eq!(names, want);
        for (name, body) in &self.files {
            assert_eq!(&fs::read(target.join(name)).unwrap(), body, "{name}");
        }
        assert_eq!(
            fs::read_to_string(target.join("classes.txt")).unwrap(),
            MNIST_CLASSES
        );
        let mut top = listing(&self.project.path("data"));
        top.sort();
        assert_eq!(top, ["mnist", "tiny"], "leftovers in data/");
    }
}

/// A URL on a port where nothing listens.
fn closed_url() -> String {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mnist/", closed.local_addr().unwrap());
    drop(closed);
    url
}

#[test]
fn a_multi_file_release_lands_whole_with_its_class_names() {
    let s = Mnist::new(&[0, 2]);
    let server = Server::files(s.served(), Mode::Normal);
    // No trailing slash: the base gets one before the file names.
    let base = format!("{}/mnist", server.base);
    let out = s.fetch(&[&base]);
    let log = succeeded(&out);
    assert!(log.contains("checking size and MD5"), "{log}");
    assert!(
        log.contains("t10k-labels-idx1-ubyte.gz: checking MD5"),
        "{log}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("MNIST is ready in "), "{stdout}");
    assert!(stdout.trim_end().ends_with("data/mnist"), "{stdout}");
    let paths: Vec<String> = server.requests().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, MNIST_FILES.map(|n| format!("/mnist/{n}")));
    s.assert_placed();

    // A second run replaces the folder whole, downloading again.
    fs::write(s.data("mnist/stale.txt"), b"old").unwrap();
    succeeded(&s.fetch(&[&base]));
    s.assert_placed();
}

#[test]
fn a_mirror_that_is_down_or_lacks_the_file_gives_way_to_the_next() {
    let s = Mnist::new(&[]);
    let good = Server::files(s.served(), Mode::Normal);
    let missing = Server::files(Vec::new(), Mode::Normal);
    let down = closed_url();
    let (missing_base, good_base) = (
        format!("{}/", missing.base),
        format!("{}/mnist/", good.base),
    );
    let log = succeeded(&s.fetch(&[&down, &missing_base, &good_base]));
    let first = format!(
        "{down}{}: connection refused; trying the next mirror",
        MNIST_FILES[0]
    );
    assert!(log.contains(&first), "{log}");
    let second = format!(
        "{missing_base}{}: HTTP 404 Not Found; trying",
        MNIST_FILES[0]
    );
    assert!(log.contains(&second), "{log}");
    assert_eq!(good.requests().len(), 4);
    assert_eq!(
        missing.requests().len(),
        4,
        "each file tries the mirrors in order"
    );
    s.assert_placed();
}

#[test]
fn when_every_mirror_fails_each_is_named_and_nothing_is_written() {
    let s = Mnist::new(&[]);
    let missing = Server::files(Vec::new(), Mode::Normal);
    let down = closed_url();
    let missing_base = format!("{}/", missing.base);
    let err = failed(&s.fetch(&[&down, &missing_base]));
    let name = MNIST_FILES[0];
    let want = format!(
        "every mirror failed: {down}{name}: connection refused; \
         {missing_base}{name}: HTTP 404 Not Found"
    );
    assert!(err.ends_with(&want), "{err}");
    assert_eq!(listing(&s.project.path("data")), ["tiny"]);
}

#[test]
fn a_wrong_md5_deletes_that_download_only_and_creates_no_folder() {
    let mut s = Mnist::new(&[]);
    let other = s.files[0].1.clone();
    s.write_checksums(&[], Some((1, &other)));
    let server = Server::files(s.served(), Mode::Normal);
    let base = format!("{}/mnist/", server.base);
    let err = failed(&s.fetch(&[&base]));
    let want = format!(
        "{base}{}: MD5 is {}, expected {}; the download is corrupt or the mirror serves \
         another file (deleted the download, nothing else was changed)",
        MNIST_FILES[1],
        md5(&s.files[1].1),
        md5(&other)
    );
    assert!(err.ends_with(&want), "{err}");
    assert!(!s.part(1).exists(), "the bad download was kept");
    assert!(!s.data("mnist").exists());
    // The file before it was verified: its part stays, and only it, for the next run.
    assert_eq!(fs::read(s.part(0)).unwrap(), s.files[0].1);
    let mut top = listing(&s.project.path("data"));
    top.sort();
    assert_eq!(top, [".mnist-train-images-idx3-ubyte.gz.part", "tiny"]);
    assert_eq!(server.requests().len(), 2, "stops at the bad file");

    s.write_checksums(&[], None);
    let log = succeeded(&s.fetch(&[&base]));
    assert!(log.contains("already downloaded"), "{log}");
    let paths: Vec<String> = server.requests().into_iter().map(|(p, _)| p).collect();
    let rest: Vec<String> = MNIST_FILES[1..]
        .iter()
        .map(|n| format!("/mnist/{n}"))
        .collect();
    assert_eq!(paths[2..], rest);
    s.assert_placed();
}

#[test]
fn a_cut_multi_file_download_resumes_where_it_stopped_and_keeps_finished_files() {
    // No sizes: the checksum alone says which parts are complete, the server's
    // Content-Length that the third was cut.
    let s = Mnist::new(&[]);
    let half = s.files[2].1.len() / 2;
    let server = Server::files(s.served(), Mode::CutRequestAt(2, half));
    let base = format!("{}/mnist/", server.base);
    let err = failed(&s.fetch(&[&base]));
    assert!(
        err.contains(&format!("{base}{}: connection cut", MNIST_FILES[2])),
        "{err}"
    );
    assert!(err.contains("run the command again to resume"), "{err}");
    assert_eq!(fs::read(s.part(2)).unwrap(), s.files[2].1[..half]);
    for i in [0, 1] {
        assert_eq!(fs::read(s.part(i)).unwrap(), s.files[i].1, "part {i}");
    }
    assert!(!s.part(3).exists() && !s.data("mnist").exists());

    let log = succeeded(&s.fetch(&[&base]));
    assert!(log.contains("resuming"), "{log}");
    let second: Vec<Request> = server.requests()[3..].to_vec();
    assert_eq!(
        second,
        [
            (
                format!("/mnist/{}", MNIST_FILES[2]),
                Some(format!("bytes={half}-"))
            ),
            (format!("/mnist/{}", MNIST_FILES[3]), None),
        ],
        "the finished files are not downloaded again"
    );
    s.assert_placed();
}

#[test]
fn overrides_of_the_wrong_kind_are_refused_before_any_download() {
    let s = Mnist::new(&[]);
    let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let err = failed(&run(
        s.project.root(),
        &["data", "fetch", "mnist", "--sha256", sha, "--size", "5"],
    ));
    assert!(
        err.ends_with(
            "--sha256/--size are for single-file releases; mnist has 4 files: pass --checksums FILE"
        ),
        "{err}"
    );
    let sums = s.checksums.to_str().unwrap();
    let err = failed(&run(
        s.project.root(),
        &["data", "fetch", "cifar100", "--checksums", sums],
    ));
    assert!(
        err.contains("cifar100 is one file: pass --sha256 and --size"),
        "{err}"
    );
    let out = run(
        s.project.root(),
        &[
            "data",
            "fetch",
            "mnist",
            "--checksums",
            sums,
            "--sha256",
            sha,
            "--size",
            "5",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    fs::write(&s.checksums, "train-images-idx3-ubyte.gz 1234\n").unwrap();
    let err = failed(&run(
        s.project.root(),
        &["data", "fetch", "mnist", "--checksums", sums],
    ));
    assert!(err.contains("sums.txt:1: 1234: expected an MD5"), "{err}");
    assert_eq!(listing(&s.project.path("data")), ["tiny"]);

    let help = run(s.project.root(), &["data", "fetch", "--help"]);
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(
        help.contains("[possible values: cifar10, cifar100, mnist, fashion-mnist, kmnist]"),
        "{help}"
    );
    assert!(
        help.contains("a base URL the file names are appended to"),
        "{help}"
    );
    assert!(
        !help.contains("--checksums") && !help.contains("--sha256"),
        "{help}"
    );
}
