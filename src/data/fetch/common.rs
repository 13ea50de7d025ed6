//! What the catalogue, the download and the unpacking all speak of: a release, the files
//! it is made of, what it holds once fetched, and deleting a file that must be gone. It
//! sits below the other files of `fetch` so that none of them imports a sibling that
//! imports it back.

use std::fs;
use std::io;
use std::path::Path;

use anyhow::{Context, Result};

use super::checksum::{Checksum, Expected};

/// An official dataset release: where its files are, what they must hash to, what they
/// become.
#[derive(Debug)]
pub struct Release {
    /// The name on the command line (`report data fetch cifar10`).
    pub name: &'static str,
    /// The name for people.
    pub title: &'static str,
    /// Base URLs, each ending in `/`, tried in order; a file's URL is a base followed by
    /// the file's name.
    pub mirrors: &'static [&'static str],
    /// The files to download, in order.
    pub files: &'static [Remote],
    /// The folder the release becomes, `<dest>/<folder>`; for an archive, its one top
    /// folder.
    pub folder: &'static str,
    /// What the downloaded files become.
    pub content: Content,
}

/// One file of a release, as its publisher states it.
#[derive(Debug)]
pub struct Remote {
    /// Its name on the server; it also names its `.part` file and, for plain files, the
    /// file in the release folder.
    pub name: &'static str,
    /// Its size in bytes, where the publisher states one.
    pub size: Option<u64>,
    /// Its published digest.
    pub checksum: Checksum,
}

impl Remote {
    /// What the downloaded file must be, unless overridden.
    pub fn expected(&self) -> Expected {
        Expected {
            size: self.size,
            checksum: self.checksum.clone(),
        }
    }
}

/// What the downloaded files become.
#[derive(Debug)]
pub enum Content {
    /// The one file is a `.tar.gz` whose known members are unpacked.
    Archive(Archive),
    /// The files are kept as downloaded (the reader opens `.gz` itself), with small text
    /// files written beside them.
    Files(&'static [Text]),
}

/// The members of a release archive.
#[derive(Debug)]
pub struct Archive {
    /// Files of the top folder the archive must hold.
    pub required: &'static [&'static str],
    /// Files of the top folder unpacked when the archive holds them.
    pub optional: &'static [&'static str],
    /// The largest a member may be; a larger one is refused before a byte of it is written.
    pub max_member: u64,
}

/// A small text file written into the release folder, one line per entry (`classes.txt`).
#[derive(Debug)]
pub struct Text {
    /// Its file name.
    pub name: &'static str,
    /// Its lines, each written with a final `\n`.
    pub lines: &'static [&'static str],
}

/// Deletes `path`, which must be gone afterwards.
pub(super) fn remove(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot delete {}", path.display())),
    }
}
