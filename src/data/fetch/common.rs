//! What the catalogue, the download and the unpacking all speak of: a release, the size
//! and checksum a download must have, and deleting a file that must be gone. It sits
//! below the other files of `fetch` so that none of them imports a sibling that imports
//! it back.

use std::fs;
use std::io;
use std::path::Path;

use anyhow::{Context, Result, bail};

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

/// Deletes `path`, which must be gone afterwards.
pub(super) fn remove(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot delete {}", path.display())),
    }
}
