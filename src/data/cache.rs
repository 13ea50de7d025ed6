//! Decoded datasets on disk, so a source is decoded once per content, not once per run.
//!
//! File `<cache_dir>/<fingerprint>.bin`, little-endian:
//!
//! | bytes        | content                                                          |
//! |--------------|------------------------------------------------------------------|
//! | 8            | magic `RPTDATA\0`                                                |
//! | 4            | format version, u32 ([`VERSION`])                                |
//! | 4            | header length H, u32                                             |
//! | H            | JSON header: a [`Description`] (fingerprint, classes, shape, counts) |
//! | train × C·H·W | train images, CHW                                               |
//! | train        | train labels                                                     |
//! | test × C·H·W | test images, CHW                                                 |
//! | test         | test labels                                                      |
//!
//! The header alone is what planning reads ([`read_description`]), so a plan of a
//! decoded dataset does not read its pixels.
//!
//! The file is written atomically, so a complete file is the normal case; anything else
//! (wrong magic or version, a header that does not parse or belongs to another source, a
//! length that does not match the header, a label past the class list) makes [`read`]
//! report a miss, and the source is decoded and the file rewritten. No checksum: that
//! would cost as much as reading the file, and the key already is a content hash.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::dataset::{Dataset, Description, Split};
use crate::fsx;

const MAGIC: &[u8; 8] = b"RPTDATA\0";
/// Bump when the decoded bytes of a given source could change (a decoder fix, a new
/// colour conversion), so that old copies are re-decoded instead of trusted.
const VERSION: u32 = 2;
const PREAMBLE: u64 = 16;
/// A header is a few hundred bytes; a huge length means a damaged file.
const MAX_HEADER: u32 = 1 << 20;

/// Where the decoded copy of the source with `fingerprint` lives.
pub(super) fn path(cache_dir: &Path, fingerprint: &str) -> PathBuf {
    cache_dir.join(format!("{fingerprint}.bin"))
}

/// The cached dataset, or `None` if the file is missing or not a valid copy of it.
pub(super) fn read(path: &Path, fingerprint: &str) -> Option<Dataset> {
    read_checked(path, fingerprint).ok().flatten()
}

/// The header of the cached dataset, or `None` if the file is missing or not a valid
/// copy of it.
pub(super) fn read_description(path: &Path, fingerprint: &str) -> Option<Description> {
    let file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    header(&mut BufReader::new(file), len, fingerprint)
        .ok()
        .flatten()
}

/// Reads and checks the preamble and header, leaving `r` at the first image.
fn header(r: &mut impl Read, len: u64, fingerprint: &str) -> io::Result<Option<Description>> {
    let mut preamble = [0u8; PREAMBLE as usize];
    r.read_exact(&mut preamble)?;
    let word = |i: usize| u32::from_le_bytes(preamble[i..i + 4].try_into().expect("4 bytes"));
    let (version, header_len) = (word(8), word(12));
    if &preamble[..8] != MAGIC || version != VERSION || header_len > MAX_HEADER {
        return Ok(None);
    }
    let mut header = vec![0u8; header_len as usize];
    r.read_exact(&mut header)?;
    let Ok(header) = serde_json::from_slice::<Description>(&header) else {
        return Ok(None);
    };
    let image = header.shape.bytes() as u64;
    let payload = (header.train as u64 + header.test as u64) * (image + 1);
    if header.fingerprint != fingerprint
        || image == 0
        || header.classes.is_empty()
        || header.classes.len() > 256
        || len != PREAMBLE + u64::from(header_len) + payload
    {
        return Ok(None);
    }
    Ok(Some(header))
}

fn read_checked(path: &Path, fingerprint: &str) -> io::Result<Option<Dataset>> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut r = BufReader::new(file);
    let Some(header) = header(&mut r, len, fingerprint)? else {
        return Ok(None);
    };
    let image = header.shape.bytes();
    let train = read_split(&mut r, header.train, image)?;
    let test = read_split(&mut r, header.test, image)?;
    let classes = header.classes.len();
    let labels_ok = |s: &Split| s.labels.iter().all(|&l| usize::from(l) < classes);
    if !labels_ok(&train) || !labels_ok(&test) {
        return Ok(None);
    }
    Ok(Some(Dataset {
        classes: header.classes,
        shape: header.shape,
        train_stats: header.train_stats,
        train,
        test,
        fingerprint: header.fingerprint,
    }))
}

fn read_split(r: &mut impl Read, n: usize, image: usize) -> io::Result<Split> {
    let mut images = vec![0u8; n * image];
    r.read_exact(&mut images)?;
    let mut labels = vec![0u8; n];
    r.read_exact(&mut labels)?;
    Ok(Split { images, labels })
}

/// Writes `dataset` to `path` atomically.
pub(super) fn write(path: &Path, dataset: &Dataset) -> Result<()> {
    let header = serde_json::to_vec(&dataset.description())?;
    let header_len = u32::try_from(header.len()).expect("header under 4 GiB");
    fsx::write_atomic_with(path, |tmp| {
        let mut w = BufWriter::new(File::create(tmp)?);
        w.write_all(MAGIC)?;
        w.write_all(&VERSION.to_le_bytes())?;
        w.write_all(&header_len.to_le_bytes())?;
        w.write_all(&header)?;
        for split in [&dataset.train, &dataset.test] {
            w.write_all(&split.images)?;
            w.write_all(&split.labels)?;
        }
        w.into_inner().map_err(io::IntoInnerError::into_error)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::sample;
    use super::*;

    #[test]
    fn round_trips_and_rejects_copies_of_other_sources_or_versions() {
        let dir = tempfile::tempdir().unwrap();
        let mut dataset = sample().dataset();
        dataset.fingerprint = "abc".into();
        let file = path(dir.path(), "abc");
        write(&file, &dataset).unwrap();
        assert_eq!(read(&file, "abc"), Some(dataset.clone()));
        assert_eq!(read_description(&file, "abc"), Some(dataset.description()));
        assert_eq!(read_description(&file, "other"), None);
        assert_eq!(read(&file, "other"), None);
        assert_eq!(read(&dir.path().join("missing.bin"), "abc"), None);

        let mut bytes = std::fs::read(&file).unwrap();
        bytes[8] += 1;
        std::fs::write(&file, &bytes).unwrap();
        assert_eq!(read(&file, "abc"), None, "other version");

        bytes[8] -= 1;
        let last = bytes.len() - 1;
        bytes[last] = 200;
        std::fs::write(&file, &bytes).unwrap();
        assert_eq!(read(&file, "abc"), None, "label past the classes");
    }
}
