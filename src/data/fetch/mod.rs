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
//!
//! [`fsx::replace_dir`]: crate::fsx::replace_dir

mod common;
mod download;
mod unpack;

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use common::remove;
use download::{download, verify};
use unpack::{Unpack, unpack};

pub use common::{Expected, Release};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
