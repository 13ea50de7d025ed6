//! `report data fetch`: downloads an official dataset release, checks it, puts it in place.
//!
//! A release is one or more files ([`Release::files`]), each tried at its mirrors in
//! order. Each file downloads to its own hidden `.part` beside the destination folder. A
//! run that is cut short keeps it, and the next run asks the server for the rest with an
//! HTTP `Range` request; a part already complete and verified is not downloaded again.
//! Nothing is put in place before every file has its published checksum (and size, where
//! one is stated): a mirror must serve the same bytes. Then an archive is unpacked, only
//! the members the release is known to hold, under names taken from the catalogue, never
//! from the archive; plain files are kept byte for byte, beside small text files such as
//! `classes.txt`. Either way they go into a staging folder that [`fsx::replace_dir`]
//! moves into place whole. A failed run therefore changes nothing the user had; at most
//! it leaves the `.part` files that the next run resumes.
//!
//! [`fsx::replace_dir`]: crate::fsx::replace_dir

mod catalogue;
mod checksum;
mod common;
mod download;
mod mirrors;
mod place;
mod plan;
mod unpack;

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use common::remove;
use mirrors::fetch_file;
use place::place;
use unpack::{Unpack, unpack};

pub use catalogue::{CIFAR10, CIFAR100, FASHION_MNIST, KMNIST, MNIST, RELEASES, release};
pub use checksum::{Algorithm, Checksum, Expected, parse_checksums};
pub use common::{Archive, Content, Release, Remote, Text};
pub use plan::{Download, Options, Override, plan};

/// Downloads (or resumes) and verifies every file of `release`, then unpacks or places
/// them; returns the release folder.
pub fn fetch(release: &Release, opts: &Options) -> Result<PathBuf> {
    let downloads = plan(release, opts)?;
    fs::create_dir_all(&opts.dest)
        .with_context(|| format!("cannot create folder {}", opts.dest.display()))?;
    let mut sources = Vec::new();
    for d in &downloads {
        sources.push(fetch_file(&d.urls, &d.part, &d.expected)?);
    }

    let target = opts.dest.join(release.folder);
    match &release.content {
        Content::Files(texts) => {
            let parts: Vec<(&str, PathBuf)> =
                downloads.iter().map(|d| (d.name, d.part.clone())).collect();
            let count = place(&parts, texts, &target)?;
            eprintln!("placed {count} files in {}", target.display());
            Ok(target)
        }
        Content::Archive(members) => {
            let (url, part) = (&sources[0], &downloads[0].part);
            match unpack(release, members, part, &target) {
                Ok(count) => {
                    eprintln!("unpacked {count} files into {}", target.display());
                    remove(part)?;
                    Ok(target)
                }
                Err(Unpack::Refused(reason)) => {
                    remove(part)?;
                    bail!("{url}: {reason}; refused to unpack it and deleted the download")
                }
                Err(Unpack::Io(e)) => Err(e.context(format!(
                    "cannot unpack {} (the verified download is kept: running the command \
                     again unpacks it without downloading)",
                    part.display()
                ))),
            }
        }
    }
}
