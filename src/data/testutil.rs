//! Tiny datasets written in every supported form, for the tests of this module.

use std::fs;
use std::io::Write;
use std::path::Path;

use super::dataset::{Dataset, ImageShape, Split};

/// The shape of CIFAR images, which the sample has.
pub(super) const CIFAR: ImageShape = ImageShape {
    channels: 3,
    height: 32,
    width: 32,
};
/// Bytes of one sample image.
pub(super) const IMAGE_BYTES: usize = 3 * 32 * 32;
const IMAGE_SIZE: usize = 32;

/// A dataset as the tests think of it: class names and `(label, CHW bytes)` per split,
/// class by class, which is the order every reader must produce.
pub(super) struct Sample {
    pub classes: Vec<String>,
    pub train: Vec<(u8, Vec<u8>)>,
    pub test: Vec<(u8, Vec<u8>)>,
}

impl Sample {
    /// What `load` must return, fingerprint aside.
    pub(super) fn dataset(&self) -> Dataset {
        let split = |items: &[(u8, Vec<u8>)]| Split {
            images: items.iter().flat_map(|(_, img)| img.clone()).collect(),
            labels: items.iter().map(|(l, _)| *l).collect(),
        };
        let train = split(&self.train);
        Dataset {
            classes: self.classes.clone(),
            shape: CIFAR,
            train_stats: train.channel_stats(CIFAR),
            train,
            test: split(&self.test),
            fingerprint: String::new(),
        }
    }
}

/// Three classes, two train and one test image each, with pseudo-random pixels.
pub(super) fn sample() -> Sample {
    let mut state = 0x2545_f491_u32;
    let mut image = || -> Vec<u8> {
        (0..IMAGE_BYTES)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as u8
            })
            .collect()
    };
    let mut train = Vec::new();
    let mut test = Vec::new();
    for label in 0..3u8 {
        train.push((label, image()));
        train.push((label, image()));
        test.push((label, image()));
    }
    Sample {
        classes: ["bird", "cat", "dog"].map(String::from).to_vec(),
        train,
        test,
    }
}

/// A PNG of CHW bytes.
pub(super) fn png(chw: &[u8]) -> Vec<u8> {
    let plane = IMAGE_SIZE * IMAGE_SIZE;
    let side = IMAGE_SIZE as u32;
    let img = image::RgbImage::from_fn(side, side, |x, y| {
        let i = (y * side + x) as usize;
        image::Rgb([chw[i], chw[plane + i], chw[2 * plane + i]])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// `root/{train,test}/<class>/NNNN.png`.
pub(super) fn write_png_tree(root: &Path, sample: &Sample) {
    for (split, items) in [("train", &sample.train), ("test", &sample.test)] {
        let mut counts = vec![0; sample.classes.len()];
        for (label, chw) in items {
            let dir = root.join(split).join(&sample.classes[*label as usize]);
            fs::create_dir_all(&dir).unwrap();
            let n = &mut counts[*label as usize];
            fs::write(dir.join(format!("{n:04}.png")), png(chw)).unwrap();
            *n += 1;
        }
    }
}

/// The official binary layout in `dir`, train records spread over the five batches.
pub(super) fn write_cifar_bin(dir: &Path, sample: &Sample) {
    fs::create_dir_all(dir).unwrap();
    let records = |items: &[(u8, Vec<u8>)]| -> Vec<u8> {
        items
            .iter()
            .flat_map(|(l, img)| [vec![*l], img.clone()].concat())
            .collect()
    };
    let n = sample.train.len();
    let mut start = 0;
    for k in 0..5 {
        let len = n / 5 + usize::from(k < n % 5);
        let batch = records(&sample.train[start..start + len]);
        fs::write(dir.join(format!("data_batch_{}.bin", k + 1)), batch).unwrap();
        start += len;
    }
    fs::write(dir.join("test_batch.bin"), records(&sample.test)).unwrap();
    let meta = sample.classes.join("\n") + "\n\n";
    fs::write(dir.join("batches.meta.txt"), meta).unwrap();
}

/// A tar of everything under `folder`, with paths relative to it.
pub(super) fn tar_of(folder: &Path) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.append_dir_all("", folder).unwrap();
    builder.into_inner().unwrap()
}

/// Gzips `bytes`.
pub(super) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Appends a regular file member.
pub(super) fn add_file(builder: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, name, data).unwrap();
}

/// Appends a symbolic or hard link member.
pub(super) fn add_link(
    builder: &mut tar::Builder<Vec<u8>>,
    name: &str,
    target: &str,
    kind: tar::EntryType,
) {
    let mut header = tar::Header::new_gnu();
    header.set_size(0);
    header.set_mode(0o777);
    header.set_entry_type(kind);
    builder.append_link(&mut header, name, target).unwrap();
}

/// An IDX file of unsigned-byte images, `height`×`width` each.
pub(super) fn idx_images(images: &[Vec<u8>], height: u32, width: u32) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, 3];
    for d in [images.len() as u32, height, width] {
        out.extend(d.to_be_bytes());
    }
    images.iter().for_each(|i| out.extend(i));
    out
}

/// An IDX file of labels.
pub(super) fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, 1];
    out.extend((labels.len() as u32).to_be_bytes());
    out.extend(labels);
    out
}
