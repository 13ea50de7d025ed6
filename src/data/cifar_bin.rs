//! The official CIFAR-10 binary release: `data_batch_1.bin` … `data_batch_5.bin` and
//! `test_batch.bin`, each a run of 3073-byte records (1 label byte, then the R, G and B
//! planes, row-major), plus `batches.meta.txt` with one class name per line.
//!
//! The records are already CHW bytes, so decoding is a copy and a label check.

use anyhow::{Context, Result};

use super::tree::{Tree, join};
use super::{DataError, IMAGE_BYTES, Split};

const RECORD: usize = 1 + IMAGE_BYTES;
const META: &str = "batches.meta.txt";
const TRAIN: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
const TEST: &str = "test_batch.bin";

/// Classes, train split and test split of the CIFAR binary folder `dir`.
pub(super) fn decode(tree: &Tree, dir: &str) -> Result<(Vec<String>, Split, Split)> {
    // Everything missing is reported before any large file is read.
    for name in TRAIN.iter().chain([&TEST, &META]) {
        if !tree.is_file(&join(dir, name)) {
            return Err(DataError::MissingBatch(tree.display(&join(dir, name))).into());
        }
    }
    let classes = classes(tree, &join(dir, META))?;
    let mut train = Split::default();
    for name in TRAIN {
        append_batch(tree, &join(dir, name), classes.len(), &mut train)?;
    }
    let mut test = Split::default();
    append_batch(tree, &join(dir, TEST), classes.len(), &mut test)?;
    Ok((classes, train, test))
}

/// Class names, one a line; blank lines (the official file ends with some) are skipped.
fn classes(tree: &Tree, path: &str) -> Result<Vec<String>> {
    let bytes = tree.read(path)?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{}: not UTF-8 text", tree.display(path)))?;
    let classes: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    match classes.len() {
        0 => Err(DataError::NoClasses(tree.display(path)).into()),
        n if n > 256 => Err(DataError::TooManyClasses {
            path: tree.display(path),
            count: n,
        }
        .into()),
        _ => Ok(classes),
    }
}

fn append_batch(tree: &Tree, path: &str, classes: usize, split: &mut Split) -> Result<()> {
    let bytes = tree.read(path)?;
    let file = || tree.display(path);
    if bytes.len() % RECORD != 0 {
        let size = bytes.len();
        return Err(DataError::Truncated { file: file(), size }.into());
    }
    if bytes.is_empty() {
        return Err(DataError::EmptyBatch(file()).into());
    }
    let n = bytes.len() / RECORD;
    split.images.reserve(n * IMAGE_BYTES);
    split.labels.reserve(n);
    for (index, record) in bytes.chunks_exact(RECORD).enumerate() {
        let label = record[0];
        if usize::from(label) >= classes {
            let file = file();
            return Err(DataError::BadLabel {
                file,
                index,
                label,
                classes,
            }
            .into());
        }
        split.labels.push(label);
        split.images.extend_from_slice(&record[1..]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::testutil::*;
    use super::super::{IMAGE_BYTES, load};

    #[test]
    fn records_become_labels_and_chw_bytes_and_blank_meta_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let data = sample();
        let bin = dir.path().join("cifar-10-batches-bin");
        write_cifar_bin(&bin, &data);
        fs::write(bin.join("batches.meta.txt"), "bird\n\ncat\r\ndog\n\n\n").unwrap();
        // The folder itself and the folder that contains it are both accepted.
        let cache = tempfile::tempdir().unwrap();
        for source in [bin.as_path(), dir.path()] {
            let got = load(source, cache.path()).unwrap();
            assert_eq!(got.classes, ["bird", "cat", "dog"]);
            assert_eq!(got.train.labels, [0, 0, 1, 1, 2, 2]);
            assert_eq!(got.test.labels, [0, 1, 2]);
            // Train image 3 is the one record of data_batch_3.bin.
            assert_eq!(got.train.image(3), &data.train[3].1[..]);
            assert_eq!(got.train.images.len(), 6 * IMAGE_BYTES);
        }
    }

    #[test]
    fn a_truncated_batch_is_named_with_its_size() {
        let dir = tempfile::tempdir().unwrap();
        write_cifar_bin(dir.path(), &sample());
        let path = dir.path().join("data_batch_2.bin");
        let mut bytes = fs::read(&path).unwrap();
        bytes.pop();
        fs::write(&path, bytes).unwrap();
        let msg = format!("{:#}", load(dir.path(), &dir.path().join("c")).unwrap_err());
        assert!(
            msg.contains(
                "data_batch_2.bin: truncated CIFAR batch: 3072 bytes is not a multiple of 3073"
            ),
            "{msg}"
        );
    }

    #[test]
    fn a_label_past_the_class_list_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_cifar_bin(dir.path(), &sample());
        let path = dir.path().join("test_batch.bin");
        let mut bytes = fs::read(&path).unwrap();
        bytes[3073] = 3;
        fs::write(&path, bytes).unwrap();
        let msg = format!("{:#}", load(dir.path(), &dir.path().join("c")).unwrap_err());
        assert!(
            msg.contains("test_batch.bin: image 1 has label 3, but there are only 3 classes"),
            "{msg}"
        );
    }

    #[test]
    fn a_missing_batch_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_cifar_bin(dir.path(), &sample());
        fs::remove_file(dir.path().join("data_batch_4.bin")).unwrap();
        let msg = format!("{:#}", load(dir.path(), &dir.path().join("c")).unwrap_err());
        assert!(
            msg.contains("data_batch_4.bin: missing; a CIFAR-10"),
            "{msg}"
        );
    }

    #[test]
    fn an_empty_batch_or_class_list_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_cifar_bin(dir.path(), &sample());
        fs::write(dir.path().join("batches.meta.txt"), "\n\n").unwrap();
        let msg = format!("{:#}", load(dir.path(), &dir.path().join("c")).unwrap_err());
        assert!(msg.contains("batches.meta.txt: no classes"), "{msg}");
        write_cifar_bin(dir.path(), &sample());
        fs::write(dir.path().join("test_batch.bin"), b"").unwrap();
        let msg = format!("{:#}", load(dir.path(), &dir.path().join("c")).unwrap_err());
        assert!(msg.contains("test_batch.bin: empty CIFAR batch"), "{msg}");
    }
}
