//! The MNIST family's IDX files (MNIST, Fashion-MNIST, KMNIST): `train-images-idx3-ubyte`,
//! `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each
//! as published (`.gz`) or gunzipped, plus an optional `classes.txt` with one class name
//! per line (`report data fetch` writes torchvision's names there; without it the
//! classes are the label numbers).
//!
//! An IDX file is a big-endian header (two zero bytes, the element type, 0x08 for
//! unsigned bytes, the number of dimensions, then each dimension as a u32) followed by
//! the elements row-major, so the images already are N×1×H×W bytes.

use std::io::Read;

use anyhow::{Context, Result};
use flate2::read::MultiGzDecoder;

use super::dataset::{Decoded, ImageShape, Split};
use super::error::DataError;
use super::tree::{Tree, join};

/// The four files, by split: (images, labels).
pub(super) const FILES: [(&str, &str); 2] = [
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
];

/// The optional class list.
const CLASSES: &str = "classes.txt";

/// Classes, shape and splits of the IDX folder `dir`.
pub(super) fn decode(tree: &Tree, dir: &str) -> Result<Decoded> {
    let mut names = Vec::new();
    for (images, labels) in FILES {
        names.push(find(tree, dir, images)?);
        names.push(find(tree, dir, labels)?);
    }
    let mut splits = Vec::new();
    let mut shape: Option<(ImageShape, &str)> = None;
    for pair in names.chunks(2) {
        let (images_file, labels_file) = (&pair[0], &pair[1]);
        let (dims, images) = read(tree, images_file, 3)?;
        let (label_dims, labels) = read(tree, labels_file, 1)?;
        if dims[0] != label_dims[0] {
            return Err(DataError::Inconsistent(format!(
                "{}: {} images but {} has {} labels",
                tree.display(images_file),
                dims[0],
                tree.display(labels_file),
                label_dims[0]
            ))
            .into());
        }
        let this = ImageShape {
            channels: 1,
            height: dims[1],
            width: dims[2],
        };
        match shape {
            Some((first, name)) if first != this => {
                return Err(DataError::Inconsistent(format!(
                    "{}: images are {}×{}, but those of {} are {}×{}",
                    tree.display(images_file),
                    this.height,
                    this.width,
                    tree.display(name),
                    first.height,
                    first.width
                ))
                .into());
            }
            _ => shape = Some((this, images_file)),
        }
        splits.push(Split { images, labels });
    }
    let test = splits.pop().expect("two splits");
    let train = splits.pop().expect("two splits");
    let shape = shape.expect("two splits").0;
    let highest = train.labels.iter().chain(&test.labels).max().copied();
    let classes = classes(tree, dir, highest)?;
    Ok(Decoded {
        classes,
        shape,
        train,
        test,
    })
}

/// The path of `name` or `name.gz` in `dir` (the gunzipped one when both are there).
fn find(tree: &Tree, dir: &str, name: &str) -> Result<String> {
    let plain = join(dir, name);
    let gz = format!("{plain}.gz");
    if tree.is_file(&plain) {
        Ok(plain)
    } else if tree.is_file(&gz) {
        Ok(gz)
    } else {
        Err(DataError::MissingIdx(tree.display(&plain)).into())
    }
}

/// The dimensions and elements of the unsigned-byte IDX file `path` with `ndims`
/// dimensions.
fn read(tree: &Tree, path: &str, ndims: usize) -> Result<(Vec<usize>, Vec<u8>)> {
    let raw = tree.read(path)?;
    let file = || tree.display(path);
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .with_context(|| format!("{}: cannot gunzip", file()))?;
        out
    } else {
        raw.into_owned()
    };
    let bad = |why: String| DataError::BadIdx { file: file(), why };
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        return Err(bad(format!("{} bytes, shorter than its header", bytes.len())).into());
    }
    if bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || bytes[3] as usize != ndims {
        let magic = u32::from_be_bytes(bytes[..4].try_into().expect("4 bytes"));
        return Err(bad(format!(
            "magic number {magic:#010x}, expected {:#010x} (unsigned bytes, {ndims} dimensions)",
            0x0800 + ndims
        ))
        .into());
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|d| u32::from_be_bytes(d.try_into().expect("4 bytes")) as usize)
        .collect();
    let want: usize = dims.iter().product();
    if bytes.len() - header != want || want == 0 {
        return Err(bad(format!(
            "header says {} elements, the file holds {}",
            want,
            bytes.len() - header
        ))
        .into());
    }
    let mut bytes = bytes;
    bytes.drain(..header);
    Ok((dims, bytes))
}

/// The class names: `classes.txt` when present (it must name every label), else the
/// label numbers `0` … the highest label.
fn classes(tree: &Tree, dir: &str, highest: Option<u8>) -> Result<Vec<String>> {
    let count = highest.map_or(0, |h| h as usize + 1);
    let path = join(dir, CLASSES);
    if !tree.is_file(&path) {
        return Ok((0..count).map(|i| i.to_string()).collect());
    }
    let bytes = tree.read(&path)?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{}: not UTF-8 text", tree.display(&path)))?;
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if names.len() < count {
        return Err(DataError::Inconsistent(format!(
            "{}: names {} classes but the labels go up to {}",
            tree.display(&path),
            names.len(),
            count - 1
        ))
        .into());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::load;
    use super::super::testutil::{gzip, idx_images, idx_labels};
    use super::*;
    use crate::experiment::dataset::DataSettings;

    fn write_mnist(dir: &std::path::Path, gz: bool) {
        fs::create_dir_all(dir).unwrap();
        let images: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i * 10; 28 * 28]).collect();
        let files = [
            ("train-images-idx3-ubyte", idx_images(&images, 28, 28)),
            ("train-labels-idx1-ubyte", idx_labels(&[0, 2, 1])),
            ("t10k-images-idx3-ubyte", idx_images(&images[..1], 28, 28)),
            ("t10k-labels-idx1-ubyte", idx_labels(&[2])),
        ];
        for (name, bytes) in files {
            if gz {
                fs::write(dir.join(format!("{name}.gz")), gzip(&bytes)).unwrap();
            } else {
                fs::write(dir.join(name), bytes).unwrap();
            }
        }
    }

    #[test]
    fn gzipped_or_plain_idx_files_decode_to_one_channel_28_px_images() {
        for gz in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            write_mnist(&dir.path().join("mnist"), gz);
            let got = load(dir.path(), &DataSettings::default(), &dir.path().join("c")).unwrap();
            let shape = ImageShape {
                channels: 1,
                height: 28,
                width: 28,
            };
            assert_eq!(got.shape, shape);
            assert_eq!(got.classes, ["0", "1", "2"]);
            assert_eq!(got.train.labels, [0, 2, 1]);
            assert!(got.train.image(2, shape).iter().all(|&v| v == 20));
            assert_eq!(got.test.len(), 1);
        }
    }

    #[test]
    fn classes_txt_names_the_classes() {
        let dir = tempfile::tempdir().unwrap();
        write_mnist(dir.path(), true);
        fs::write(
            dir.path().join("classes.txt"),
            "T-shirt/top\nTrouser\nPullover\n",
        )
        .unwrap();
        let got = load(dir.path(), &DataSettings::default(), &dir.path().join("c")).unwrap();
        assert_eq!(got.classes, ["T-shirt/top", "Trouser", "Pullover"]);
        fs::write(dir.path().join("classes.txt"), "a\nb\n").unwrap();
        let msg = format!(
            "{:#}",
            load(dir.path(), &DataSettings::default(), &dir.path().join("c")).unwrap_err()
        );
        assert!(
            msg.contains("classes.txt: names 2 classes but the labels go up to 2"),
            "{msg}"
        );
    }

    #[test]
    fn broken_idx_files_are_named() {
        type Breakage = fn(&std::path::Path);
        let cases: [(Breakage, &str); 4] = [
            (
                |d| fs::remove_file(d.join("t10k-labels-idx1-ubyte")).unwrap(),
                "t10k-labels-idx1-ubyte: missing; an IDX dataset needs",
            ),
            (
                |d| fs::write(d.join("train-labels-idx1-ubyte"), idx_labels(&[0, 1])).unwrap(),
                "train-images-idx3-ubyte: 3 images but",
            ),
            (
                |d| {
                    let mut b = fs::read(d.join("train-images-idx3-ubyte")).unwrap();
                    b.pop();
                    fs::write(d.join("train-images-idx3-ubyte"), b).unwrap();
                },
                "train-images-idx3-ubyte: not an IDX file of unsigned bytes: header says 2352 elements, the file holds 2351",
            ),
            (
                |d| fs::write(d.join("t10k-images-idx3-ubyte"), idx_labels(&[1; 30])).unwrap(),
                "magic number 0x00000801, expected 0x00000803",
            ),
        ];
        for (break_it, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            write_mnist(dir.path(), false);
            break_it(dir.path());
            let msg = format!(
                "{:#}",
                load(dir.path(), &DataSettings::default(), &dir.path().join("c")).unwrap_err()
            );
            assert!(msg.contains(expected), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
    }
}
