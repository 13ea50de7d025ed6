//! Image-classification datasets (CIFAR-10 and look-alikes), decoded to raw bytes once.
//!
//! A source is a folder or a `.tar`/`.tar.gz`/`.tgz` archive holding either the official
//! CIFAR-10 binary batches or `train/<class>/<image>` + `test/<class>/<image>` folders;
//! [`load`] works out which. Decoding 60,000 JPEGs takes seconds, so the decoded bytes are
//! cached under the source's content fingerprint and later loads only hash and read.
//!
//! Pure Rust on purpose: training code turns a [`Split`] into tensors, and everything here
//! stays testable without libtorch.

mod archive;
mod cache;
mod cifar_bin;
mod detect;
mod error;
pub mod fetch;
mod folder;
#[cfg(test)]
mod testutil;
mod tree;

use std::fmt;
use std::path::Path;

use anyhow::{Context, Result};

pub use error::DataError;

use crate::hash;
use detect::Layout;
use tree::Tree;

/// Side of the square images, in pixels: every supported source is CIFAR-sized.
pub const IMAGE_SIZE: usize = 32;

/// Bytes per decoded image: three 32×32 channel planes.
pub const IMAGE_BYTES: usize = 3 * IMAGE_SIZE * IMAGE_SIZE;

/// One split of a decoded dataset: `images` is N×3×32×32 uint8 in CHW order (channel
/// planes, like the CIFAR binary format), `labels` N class indices.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// N images back to back, each `IMAGE_BYTES` long: the R plane, then G, then B, each
    /// row-major, which is the layout a `[N, 3, 32, 32]` tensor wants.
    pub images: Vec<u8>,
    /// N class indices into [`Dataset::classes`].
    pub labels: Vec<u8>,
}

impl Split {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the split holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Per-channel mean and population standard deviation of the pixels as values in
    /// [0, 1] (numpy's `x.mean(axis=(0, 2, 3))` and `x.std(axis=(0, 2, 3))` of the
    /// N×3×H×W images / 255): what `normalize = "auto"` normalises with. Summed in
    /// integers, so the same bytes always give the same floats.
    pub fn channel_stats(&self) -> ([f64; 3], [f64; 3]) {
        let plane = IMAGE_SIZE * IMAGE_SIZE;
        let (mut sum, mut squares) = ([0u64; 3], [0u64; 3]);
        for image in self.images.chunks_exact(IMAGE_BYTES) {
            for (c, channel) in image.chunks_exact(plane).enumerate() {
                for &v in channel {
                    sum[c] += v as u64;
                    squares[c] += (v as u64) * (v as u64);
                }
            }
        }
        let n = (self.len() * plane).max(1) as f64;
        let mean = sum.map(|s| s as f64 / n / 255.0);
        let mut std = [0.0; 3];
        for c in 0..3 {
            let m = sum[c] as f64 / n;
            std[c] = (squares[c] as f64 / n - m * m).max(0.0).sqrt() / 255.0;
        }
        (mean, std)
    }

    /// The `i`-th image's CHW bytes.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES]
    }
}

// Derived Debug would print megabytes of pixels in a failed assertion.
impl fmt::Debug for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Split")
            .field("len", &self.len())
            .field("image_bytes", &self.images.len())
            .field("images_digest", &hash::bytes(&self.images))
            .field("labels_digest", &hash::bytes(&self.labels))
            .finish()
    }
}

/// A decoded image-classification dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// Class names; a label is an index into this list.
    pub classes: Vec<String>,
    /// The training split.
    pub train: Split,
    /// The held-out split.
    pub test: Split,
    /// `hash::path` of the source, so results can name exactly the data they came from.
    pub fingerprint: String,
}

/// Content fingerprint of a data source (file or folder), without decoding it.
pub fn fingerprint(source: &Path) -> Result<String> {
    if !source.exists() {
        return Err(DataError::Missing(source.display().to_string()).into());
    }
    hash::path(source)
}

/// Loads `source`, decoding it only if `cache_dir` has no decoded copy for its
/// fingerprint; writes the decoded copy atomically.
pub fn load(source: &Path, cache_dir: &Path) -> Result<Dataset> {
    let fingerprint = fingerprint(source)?;
    let cached = cache::path(cache_dir, &fingerprint);
    if let Some(dataset) = cache::read(&cached, &fingerprint) {
        return Ok(dataset);
    }
    let dataset = decode(source, fingerprint)?;
    cache::write(&cached, &dataset)?;
    Ok(dataset)
}

/// Decodes `source` from scratch.
fn decode(source: &Path, fingerprint: String) -> Result<Dataset> {
    let tree = open(source)?;
    let (classes, train, test) = match detect::layout(&tree)? {
        Layout::CifarBin(dir) => cifar_bin::decode(&tree, &dir)?,
        Layout::Folders(root) => folder::decode(&tree, &root)?,
    };
    Ok(Dataset {
        classes,
        train,
        test,
        fingerprint,
    })
}

/// Reads a folder or an archive into a [`Tree`]. Deciding which is left to the caller
/// of both readers, so the archive reader can build trees without the tree knowing
/// about archives.
fn open(source: &Path) -> Result<Tree> {
    let meta = match std::fs::metadata(source) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DataError::Missing(source.display().to_string()).into());
        }
        meta => meta.with_context(|| format!("cannot read {}", source.display()))?,
    };
    if meta.is_dir() {
        Tree::from_dir(source)
    } else {
        archive::read(source)
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn png_folder_tar_tgz_and_cifar_binary_decode_to_the_same_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let data = sample();
        let folder = dir.path().join("folder");
        write_png_tree(&folder.join("set"), &data);
        let tar_path = dir.path().join("set.tar");
        std::fs::write(&tar_path, tar_of(&folder)).unwrap();
        let tgz_path = dir.path().join("set.tgz");
        std::fs::write(&tgz_path, gzip(&tar_of(&folder))).unwrap();
        let bin = dir.path().join("bin");
        write_cifar_bin(&bin.join("cifar-10-batches-bin"), &data);

        let cache = dir.path().join("cache");
        let expected = data.dataset();
        for source in [&folder, &tar_path, &tgz_path, &bin] {
            let got = load(source, &cache).unwrap();
            assert_eq!(got.fingerprint, hash::path(source).unwrap());
            assert_eq!(
                Dataset {
                    fingerprint: String::new(),
                    ..got
                },
                expected,
                "{}",
                source.display()
            );
        }
    }

    #[test]
    fn cache_hit_returns_the_cached_copy_without_decoding() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("src");
        write_png_tree(&source, &sample());
        let cache_dir = dir.path().join("cache");
        let first = load(&source, &cache_dir).unwrap();
        let file = cache::path(&cache_dir, &first.fingerprint);
        assert!(file.is_file());
        assert_eq!(load(&source, &cache_dir).unwrap(), first);

        // A cached copy that differs from the source proves the second load never decoded.
        let mut planted = first.clone();
        planted.train.labels.reverse();
        cache::write(&file, &planted).unwrap();
        assert_eq!(load(&source, &cache_dir).unwrap(), planted);
    }

    #[test]
    fn truncated_or_foreign_cache_files_are_ignored_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("src");
        write_png_tree(&source, &sample());
        let cache_dir = dir.path().join("cache");
        let good = load(&source, &cache_dir).unwrap();
        let file = cache::path(&cache_dir, &good.fingerprint);
        let bytes = std::fs::read(&file).unwrap();

        let mut bad_magic = bytes.clone();
        bad_magic[0] ^= 0xff;
        let damaged = [
            bytes[..bytes.len() - 1].to_vec(),
            bytes[..10].to_vec(),
            Vec::new(),
            bad_magic,
        ];
        for bad in damaged {
            std::fs::write(&file, &bad).unwrap();
            assert_eq!(load(&source, &cache_dir).unwrap(), good);
            assert_eq!(std::fs::read(&file).unwrap(), bytes, "cache not rewritten");
        }
    }

    #[test]
    fn missing_source_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere.tar.gz");
        for err in [
            fingerprint(&missing).unwrap_err(),
            load(&missing, dir.path()).unwrap_err(),
        ] {
            let msg = format!("{err:#}");
            assert!(
                msg.contains("nowhere.tar.gz: no such file or folder"),
                "{msg}"
            );
        }
    }

    #[test]
    fn the_embedded_sample_has_500_train_and_100_test_images_per_class() {
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/cifar10-sample.tar.gz");
        let cache = tempfile::tempdir().unwrap();
        let got = load(&sample, cache.path()).unwrap();
        let cifar10 = crate::testutil::CIFAR10_CLASSES;
        assert_eq!(got.classes, cifar10);
        for (split, per_class) in [(&got.train, 500), (&got.test, 100)] {
            let mut counts = [0; 10];
            split.labels.iter().for_each(|&l| counts[l as usize] += 1);
            assert_eq!(counts, [per_class; 10]);
            assert_eq!(split.images.len(), split.len() * IMAGE_BYTES);
        }
    }

    #[test]
    fn fingerprint_changes_with_content() {
        let dir = tempfile::tempdir().unwrap();
        let data = sample();
        write_png_tree(dir.path(), &data);
        let before = fingerprint(dir.path()).unwrap();
        std::fs::write(dir.path().join("train/cat/extra.png"), png(&data.test[0].1)).unwrap();
        assert_ne!(before, fingerprint(dir.path()).unwrap());
    }

    #[test]
    fn channel_stats_are_numpys_mean_and_population_std() {
        // Two images: channel 0 all 0 and all 255, channel 1 all 51, channel 2 half 0
        // half 255 in both. numpy: mean (0.5, 0.2, 0.5), std (0.5, 0, 0.5).
        let plane = IMAGE_SIZE * IMAGE_SIZE;
        let mut images = Vec::new();
        for first in [0u8, 255] {
            images.extend(std::iter::repeat_n(first, plane));
            images.extend(std::iter::repeat_n(51u8, plane));
            images.extend((0..plane).map(|i| if i % 2 == 0 { 0u8 } else { 255 }));
        }
        let split = Split {
            images,
            labels: vec![0, 1],
        };
        let (mean, std) = split.channel_stats();
        for (got, want) in mean.iter().chain(&std).zip([0.5, 0.2, 0.5, 0.5, 0.0, 0.5]) {
            assert!((got - want).abs() < 1e-12, "{mean:?} {std:?}");
        }
    }
}
