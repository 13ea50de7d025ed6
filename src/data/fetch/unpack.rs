//! Unpacking the verified archive: only the regular files the release is known to hold,
//! under names taken from the [`Archive`], into a staging folder moved into place whole.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use anyhow::Result;
use flate2::read::MultiGzDecoder;
use tar::EntryType;

use super::common::{Archive, Release};
use crate::fsx;

/// Why unpacking failed: the archive itself (its download is useless), or the disk (the
/// verified download is worth keeping).
pub(super) enum Unpack {
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
fn classify(
    release: &Release,
    archive: &Archive,
    raw: &[u8],
    kind: EntryType,
    size: u64,
) -> Result<Action, String> {
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
    let Some(&known) = archive
        .required
        .iter()
        .chain(archive.optional)
        .find(|&&m| m == file)
    else {
        return Ok(Action::Skip);
    };
    if size > archive.max_member {
        return Err(format!(
            "archive member {name} is {size} bytes, more than the {} of the largest {} file",
            archive.max_member, release.title
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
pub(super) fn unpack(
    release: &Release,
    members: &Archive,
    archive: &Path,
    target: &Path,
) -> Result<usize, Unpack> {
    let staging = fsx::temp_sibling(target);
    let result = unpack_into(release, members, archive, &staging).and_then(|count| {
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

fn unpack_into(
    release: &Release,
    members: &Archive,
    archive: &Path,
    staging: &Path,
) -> Result<usize, Unpack> {
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
        let action =
            classify(release, members, &raw, kind, entry.size()).map_err(Unpack::Refused)?;
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
    if let Some(missing) = members.required.iter().find(|m| !written.contains(m)) {
        return Err(Unpack::Refused(format!(
            "the archive has no {}/{missing}",
            release.folder
        )));
    }
    Ok(written.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::fetch::CIFAR10;
    use crate::data::fetch::common::Content;
    use crate::data::testutil::{add_file, add_link, gzip};

    /// CIFAR-10's members.
    fn members() -> &'static Archive {
        static RELEASE: Release = CIFAR10;
        match &RELEASE.content {
            Content::Archive(a) => a,
            Content::Files(_) => unreachable!("CIFAR-10 is an archive"),
        }
    }

    fn classify_file(name: &str, size: u64) -> Result<Action, String> {
        classify(
            &CIFAR10,
            members(),
            name.as_bytes(),
            EntryType::Regular,
            size,
        )
    }

    #[test]
    fn the_release_files_are_kept_under_their_own_names() {
        for name in members().required.iter().chain(members().optional) {
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
            classify_file(
                "cifar-10-batches-bin/data_batch_5.bin",
                members().max_member
            ),
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
            let got = classify(
                &CIFAR10,
                members(),
                name.as_bytes(),
                EntryType::Directory,
                0,
            );
            assert_eq!(got, Ok(Action::Skip), "{name}");
        }
        let pax = classify(
            &CIFAR10,
            members(),
            b"pax_global_header",
            EntryType::XGlobalHeader,
            52,
        );
        assert_eq!(pax, Ok(Action::Skip));
    }

    #[test]
    fn escapes_links_devices_and_oversize_members_are_refused() {
        let refused = |name: &str, kind: EntryType, size: u64, needle: &str| {
            let err = classify(&CIFAR10, members(), name.as_bytes(), kind, size).unwrap_err();
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
            members().max_member + 1,
            "30730001 bytes",
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
        unpack(&CIFAR10, members(), &archive, &dir.join("out"))
    }

    fn add_release(b: &mut tar::Builder<Vec<u8>>) {
        for name in members().required {
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
        let mut want: Vec<&str> = members().required.to_vec();
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
        let why = refusal(unpack(
            &CIFAR10,
            members(),
            &garbage,
            &dir.path().join("out"),
        ));
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
