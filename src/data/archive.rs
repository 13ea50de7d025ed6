//! Reads a `.tar`, `.tar.gz` or `.tgz` source into memory, member by member, without
//! extracting anything to disk.
//!
//! The format is told from the bytes, not the name: a gzip stream starts with `1f 8b`,
//! a tar has `ustar` at offset 257. Only folders and regular files are kept: links are
//! never followed (a link could point outside the archive), and devices or FIFOs are
//! not dataset content.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use anyhow::{Context, Result};
use flate2::read::MultiGzDecoder;

use super::error::DataError;
use super::tree::{Tree, normalise};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const USTAR_OFFSET: usize = 257;

/// All folders and regular files of the archive at `path`.
pub(super) fn read(path: &Path) -> Result<Tree> {
    let what = || format!("cannot read {}", path.display());
    let mut file = File::open(path).with_context(what)?;
    let mut head = Vec::with_capacity(512);
    (&mut file)
        .take(512)
        .read_to_end(&mut head)
        .with_context(what)?;
    file.seek(SeekFrom::Start(0)).with_context(what)?;
    let stream: Box<dyn Read> = if head.starts_with(&GZIP_MAGIC) {
        Box::new(MultiGzDecoder::new(BufReader::new(file)))
    } else if head.get(USTAR_OFFSET..USTAR_OFFSET + 5) == Some(b"ustar") {
        Box::new(BufReader::new(file))
    } else {
        return Err(DataError::NotArchive(path.display().to_string()).into());
    };

    let bad = || format!("{}: cannot read tar archive", path.display());
    let mut tree = Tree::for_archive(path);
    let mut archive = tar::Archive::new(stream);
    for entry in archive.entries().with_context(bad)? {
        let mut entry = entry.with_context(bad)?;
        let kind = entry.header().entry_type();
        let Some(name) = normalise(&String::from_utf8_lossy(&entry.path_bytes())) else {
            continue;
        };
        if kind.is_dir() {
            tree.add_dir(name);
        } else if kind.is_file() {
            let mut bytes = Vec::with_capacity(entry.size().min(1 << 26) as usize);
            entry
                .read_to_end(&mut bytes)
                .with_context(|| format!("{}: cannot read member", tree.display(&name)))?;
            tree.add_file(name, bytes);
        }
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    #[test]
    fn keeps_regular_files_and_folders_and_skips_links() {
        let mut b = tar::Builder::new(Vec::new());
        add_file(&mut b, "./set/a.txt", b"hello");
        add_link(&mut b, "set/passwd", "/etc/passwd", tar::EntryType::Symlink);
        add_link(&mut b, "set/hard", "set/a.txt", tar::EntryType::Link);
        add_file(&mut b, "set/._a.txt", b"resource fork");
        let bytes = b.into_inner().unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (name, data) in [("x.tar", bytes.clone()), ("x.tar.gz", gzip(&bytes))] {
            let path = dir.path().join(name);
            std::fs::write(&path, data).unwrap();
            let tree = read(&path).unwrap();
            assert_eq!(tree.children(""), [("set", true)]);
            assert_eq!(tree.children("set"), [("set/a.txt", false)]);
            assert_eq!(&*tree.read("set/a.txt").unwrap(), b"hello");
        }
    }

    #[test]
    fn a_file_that_is_no_archive_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.zip");
        std::fs::write(&path, b"PK\x03\x04 not a tar").unwrap();
        let msg = format!("{:#}", read(&path).err().unwrap());
        assert!(
            msg.contains("notes.zip: not a folder, .tar, .tar.gz or .tgz"),
            "{msg}"
        );
    }

    #[test]
    fn a_corrupt_gzip_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.tgz");
        let mut bytes = gzip(&vec![7u8; 4096]);
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&path, bytes).unwrap();
        let msg = format!("{:#}", read(&path).err().unwrap());
        assert!(msg.contains("broken.tgz: cannot read tar archive"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }
}
