//! The official CIFAR binary releases.
//!
//! CIFAR-10: `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`, each a run of
//! 3073-byte records (1 label byte, then the R, G and B planes, row-major), plus
//! `batches.meta.txt` with one class name per line. CIFAR-100: `train.bin` and
//! `test.bin` of 3074-byte records (the coarse label byte, the fine label byte, the
//! planes), with `fine_label_names.txt` and `coarse_label_names.txt`.
//!
//! The records are already CHW bytes, so decoding is a copy and a label check.

use anyhow::{Context, Result};

use super::dataset::{Decoded, ImageShape, Split};
use super::error::DataError;
use super::tree::{Tree, join};
use crate::experiment::dataset::LabelSet;

/// Both releases' images: 3×32×32.
const SHAPE: ImageShape = ImageShape {
    channels: 3,
    height: 32,
    width: 32,
};
const META: &str = "batches.meta.txt";
const TRAIN: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
const TEST: &str = "test_batch.bin";

/// CIFAR-100's files.
pub(super) const CIFAR100: [&str; 4] = [
    "train.bin",
    "test.bin",
    "fine_label_names.txt",
    "coarse_label_names.txt",
];

/// How a release lays out its records.
struct Records {
    /// Label bytes before the pixels.
    labels: usize,
    /// Which of them is the label trained on.
    label: usize,
    /// How the release is named in errors.
    release: &'static str,
}

impl Records {
    fn len(&self) -> usize {
        self.labels + SHAPE.bytes()
    }
}

/// Classes and splits of the CIFAR-10 binary folder `dir`.
pub(super) fn decode_10(tree: &Tree, dir: &str) -> Result<Decoded> {
    // Everything missing is reported before any large file is read.
    for name in TRAIN.iter().chain([&TEST, &META]) {
        if !tree.is_file(&join(dir, name)) {
            return Err(DataError::MissingBatch(tree.display(&join(dir, name))).into());
        }
    }
    let records = Records {
        labels: 1,
        label: 0,
        release: "CIFAR-10",
    };
    let classes = classes(tree, &join(dir, META))?;
    let mut train = Split::default();
    for name in TRAIN {
        append_batch(tree, &join(dir, name), &records, classes.len(), &mut train)?;
    }
    let mut test = Split::default();
    append_batch(tree, &join(dir, TEST), &records, classes.len(), &mut test)?;
    Ok(Decoded {
        classes,
        shape: SHAPE,
        train,
        test,
    })
}

/// Classes and splits of the CIFAR-100 binary folder `dir`, with the fine or the
/// coarse labels.
pub(super) fn decode_100(tree: &Tree, dir: &str, labels: Option<LabelSet>) -> Result<Decoded> {
    for name in CIFAR100 {
        if !tree.is_file(&join(dir, name)) {
            return Err(DataError::MissingCifar100(tree.display(&join(dir, name))).into());
        }
    }
    let (label, names) = match labels.unwrap_or(LabelSet::Fine) {
        LabelSet::Fine => (1, CIFAR100[2]),
        LabelSet::Coarse => (0, CIFAR100[3]),
    };
    let records = Records {
        labels: 2,
        label,
        release: "CIFAR-100",
    };
    let classes = classes(tree, &join(dir, names))?;
    let mut train = Split::default();
    append_batch(
        tree,
        &join(dir, CIFAR100[0]),
        &records,
        classes.len(),
        &mut train,
    )?;
    let mut test = Split::default();
    append_batch(
        tree,
        &join(dir, CIFAR100[1]),
        &records,
        classes.len(),
        &mut test,
    )?;
    Ok(Decoded {
        classes,
        shape: SHAPE,
        train,
        test,
    })
}

/// Class names, one a line; blank lines (the official files end with some) are skipped.
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

fn append_batch(
    tree: &Tree,
    path: &str,
    records: &Records,
    classes: usize,
    split: &mut Split,
) -> Result<()> {
    let bytes = tree.read(path)?;
    let file = || tree.display(path);
    let record = records.len();
    if bytes.len() % record != 0 {
        let size = bytes.len();
        return Err(DataError::Truncated {
            file: file(),
            size,
            release: records.release,
            record,
            labels: if records.labels == 1 {
                "1 label byte"
            } else {
                "2 label bytes"
            },
        }
        .into());
    }
    if bytes.is_empty() {
        return Err(DataError::EmptyBatch(file()).into());
    }
    let n = bytes.len() / record;
    split.images.reserve(n * SHAPE.bytes());
    split.labels.reserve(n);
    for (index, r) in bytes.chunks_exact(record).enumerate() {
        let label = r[records.label];
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
        split.images.extend_from_slice(&r[records.labels..]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::testutil::*;
    use super::super::{Dataset, load};
    use crate::experiment::dataset::{DataSettings, LabelSet};

    fn load_default(source: &std::path::Path, cache: &std::path::Path) -> anyhow::Result<Dataset> {
        load(source, &DataSettings::default(), cache)
    }

    #[test]
    fn cifar100_records_give_fine_labels_or_coarse_ones_by_setting() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("cifar-100-binary");
        fs::create_dir_all(&bin).unwrap();
        let data = sample();
        // Coarse label = fine label / 2 here; the real release groups 5 fine per coarse.
        let records = |items: &[(u8, Vec<u8>)]| -> Vec<u8> {
            items
                .iter()
                .flat_map(|(l, img)| [vec![l / 2, *l], img.clone()].concat())
                .collect()
        };
        fs::write(bin.join("train.bin"), records(&data.train)).unwrap();
        fs::write(bin.join("test.bin"), records(&data.test)).unwrap();
        fs::write(bin.join("fine_label_names.txt"), "bird\ncat\ndog\n").unwrap();
        fs::write(bin.join("coarse_label_names.txt"), "feathered\nfurry\n").unwrap();
        let cache = dir.path().join("c");
        let fine = load_default(dir.path(), &cache).unwrap();
        assert_eq!(fine.classes, ["bird", "cat", "dog"]);
        assert_eq!(fine.train.labels, [0, 0, 1, 1, 2, 2]);
        assert_eq!(fine.train.image(5, CIFAR), &data.train[5].1[..]);
        let coarse = DataSettings {
            labels: Some(LabelSet::Coarse),
            ..Default::default()
        };
        let got = load(dir.path(), &coarse, &cache).unwrap();
        assert_eq!(got.classes, ["feathered", "furry"]);
        assert_eq!(got.train.labels, [0, 0, 0, 0, 1, 1]);
        assert_ne!(
            got.fingerprint, fine.fingerprint,
            "settings are in the fingerprint"
        );
        assert_eq!(got.train.images, fine.train.images);

        fs::remove_file(bin.join("coarse_label_names.txt")).unwrap();
        let msg = format!("{:#}", load_default(dir.path(), &cache).unwrap_err());
        assert!(
            msg.contains("coarse_label_names.txt: missing; a CIFAR-100"),
            "{msg}"
        );

        let ten = tempfile::tempdir().unwrap();
        write_cifar_bin(ten.path(), &sample());
        let msg = format!("{:#}", load(ten.path(), &coarse, &cache).unwrap_err());
        assert!(
            msg.contains("labels = \"coarse\" is for CIFAR-100"),
            "{msg}"
        );
    }

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
            let got = load_default(source, cache.path()).unwrap();
            assert_eq!(got.classes, ["bird", "cat", "dog"]);
            assert_eq!(got.train.labels, [0, 0, 1, 1, 2, 2]);
            assert_eq!(got.test.labels, [0, 1, 2]);
            // Train image 3 is the one record of data_batch_3.bin.
            assert_eq!(got.train.image(3, CIFAR), &data.train[3].1[..]);
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
        let msg = format!(
            "{:#}",
            load_default(dir.path(), &dir.path().join("c")).unwrap_err()
        );
        assert!(
            msg.contains(
                "data_batch_2.bin: truncated CIFAR-10 batch: 3072 bytes is not a multiple of 3073"
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
        let msg = format!(
            "{:#}",
            load_default(dir.path(), &dir.path().join("c")).unwrap_err()
        );
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
        let msg = format!(
            "{:#}",
            load_default(dir.path(), &dir.path().join("c")).unwrap_err()
        );
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
        let msg = format!(
            "{:#}",
            load_default(dir.path(), &dir.path().join("c")).unwrap_err()
        );
        assert!(msg.contains("batches.meta.txt: no classes"), "{msg}");
        write_cifar_bin(dir.path(), &sample());
        fs::write(dir.path().join("test_batch.bin"), b"").unwrap();
        let msg = format!(
            "{:#}",
            load_default(dir.path(), &dir.path().join("c")).unwrap_err()
        );
        assert!(msg.contains("test_batch.bin: empty CIFAR batch"), "{msg}");
    }
}
