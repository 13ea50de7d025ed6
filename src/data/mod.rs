//! Image-classification datasets, decoded to raw bytes once.
//!
//! A source is a folder or a `.tar`/`.tar.gz`/`.tgz` archive holding one of: the
//! official CIFAR-10 or CIFAR-100 binary batches, the MNIST family's IDX files (MNIST,
//! Fashion-MNIST, KMNIST; gzipped or not), or `train/<class>/<image>` +
//! `test/<class>/<image>` folders of JPEGs or PNGs of any size; [`load`] works out which.
//! `[data]` settings ([`DataSettings`]) resize, centre-crop and convert the images as
//! torchvision's transforms would. Decoding 60,000 JPEGs takes seconds, so the decoded
//! bytes are cached under the fingerprint of the source and the settings, and later
//! loads only hash and read.
//!
//! Pure Rust on purpose (the JPEG decoder aside, which is libjpeg-turbo's, as PIL's is):
//! training code turns a [`Split`] into tensors, and everything here stays testable
//! without libtorch.

mod archive;
mod cache;
mod cifar_bin;
mod dataset;
mod detect;
mod error;
pub mod fetch;
mod folder;
mod idx;
mod jpeg;
#[cfg(test)]
mod testutil;
mod transform;
mod tree;

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

pub use dataset::{ChannelStats, Dataset, Description, ImageShape, Split};
pub use error::DataError;

use crate::experiment::dataset::DataSettings;
use crate::hash;
use detect::Layout;
use transform::Transform;
use tree::Tree;

/// Bump when the decoded bytes of a given source and settings could change (a decoder
/// fix, a new colour conversion): it is part of the fingerprint, so runs trained on the
/// old bytes are not reused as if trained on the new ones.
const DECODER_VERSION: u32 = 2;

/// Fingerprint of a data source (file or folder) prepared with `settings`, without
/// decoding it: the content hash of the source, the settings as written and
/// [`DECODER_VERSION`].
pub fn fingerprint(source: &Path, settings: &DataSettings) -> Result<String> {
    if !source.exists() {
        return Err(DataError::Missing(source.display().to_string()).into());
    }
    #[derive(Serialize)]
    struct Input<'a> {
        content: String,
        settings: &'a DataSettings,
        decoder: u32,
    }
    Ok(hash::value(&Input {
        content: hash::path(source)?,
        settings,
        decoder: DECODER_VERSION,
    }))
}

/// Loads `source` prepared with `settings`, decoding it only if `cache_dir` has no
/// decoded copy for its fingerprint; writes the decoded copy atomically.
pub fn load(source: &Path, settings: &DataSettings, cache_dir: &Path) -> Result<Dataset> {
    let fingerprint = fingerprint(source, settings)?;
    let cached = cache::path(cache_dir, &fingerprint);
    if let Some(dataset) = cache::read(&cached, &fingerprint) {
        return Ok(dataset);
    }
    let dataset = decode(source, settings, fingerprint)?;
    cache::write(&cached, &dataset)?;
    Ok(dataset)
}

/// The description of `source` prepared with `settings`: read from the decoded copy's
/// header when there is one, else decoded (and cached) first.
pub fn describe(source: &Path, settings: &DataSettings, cache_dir: &Path) -> Result<Description> {
    let fingerprint = fingerprint(source, settings)?;
    if let Some(description) =
        cache::read_description(&cache::path(cache_dir, &fingerprint), &fingerprint)
    {
        return Ok(description);
    }
    Ok(load(source, settings, cache_dir)?.description())
}

/// Decodes `source` from scratch.
fn decode(source: &Path, settings: &DataSettings, fingerprint: String) -> Result<Dataset> {
    let tree = open(source)?;
    let layout = detect::layout(&tree)?;
    if settings.labels.is_some() && !matches!(layout, Layout::Cifar100(_)) {
        return Err(DataError::LabelsNotCifar100(tree.display("")).into());
    }
    let transform = Transform::new(settings);
    let decoded = match layout {
        Layout::Cifar10(dir) => transform.apply(cifar_bin::decode_10(&tree, &dir)?),
        Layout::Cifar100(dir) => {
            transform.apply(cifar_bin::decode_100(&tree, &dir, settings.labels)?)
        }
        Layout::Idx(dir) => transform.apply(idx::decode(&tree, &dir)?),
        Layout::Folders(root) => folder::decode(&tree, &root, &transform)?,
    };
    Ok(Dataset {
        train_stats: decoded.train.channel_stats(decoded.shape),
        classes: decoded.classes,
        shape: decoded.shape,
        train: decoded.train,
        test: decoded.test,
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
            let got = load(source, &DataSettings::default(), &cache).unwrap();
            assert_eq!(
                got.fingerprint,
                fingerprint(source, &DataSettings::default()).unwrap()
            );
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
        let first = load(&source, &DataSettings::default(), &cache_dir).unwrap();
        let file = cache::path(&cache_dir, &first.fingerprint);
        assert!(file.is_file());
        assert_eq!(
            load(&source, &DataSettings::default(), &cache_dir).unwrap(),
            first
        );

        // A cached copy that differs from the source proves the second load never decoded.
        let mut planted = first.clone();
        planted.train.labels.reverse();
        cache::write(&file, &planted).unwrap();
        assert_eq!(
            load(&source, &DataSettings::default(), &cache_dir).unwrap(),
            planted
        );
    }

    #[test]
    fn truncated_or_foreign_cache_files_are_ignored_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("src");
        write_png_tree(&source, &sample());
        let cache_dir = dir.path().join("cache");
        let good = load(&source, &DataSettings::default(), &cache_dir).unwrap();
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
            assert_eq!(
                load(&source, &DataSettings::default(), &cache_dir).unwrap(),
                good
            );
            assert_eq!(std::fs::read(&file).unwrap(), bytes, "cache not rewritten");
        }
    }

    #[test]
    fn missing_source_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere.tar.gz");
        for err in [
            fingerprint(&missing, &DataSettings::default()).unwrap_err(),
            load(&missing, &DataSettings::default(), dir.path()).unwrap_err(),
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
        let got = load(&sample, &DataSettings::default(), cache.path()).unwrap();
        let cifar10 = crate::testutil::CIFAR10_CLASSES;
        assert_eq!(got.classes, cifar10);
        for (split, per_class) in [(&got.train, 500), (&got.test, 100)] {
            let mut counts = [0; 10];
            split.labels.iter().for_each(|&l| counts[l as usize] += 1);
            assert_eq!(counts, [per_class; 10]);
            assert_eq!(split.images.len(), split.len() * IMAGE_BYTES);
            assert_eq!(got.shape, CIFAR);
        }
    }

    #[test]
    fn fingerprint_changes_with_content() {
        let dir = tempfile::tempdir().unwrap();
        let data = sample();
        write_png_tree(dir.path(), &data);
        let before = fingerprint(dir.path(), &DataSettings::default()).unwrap();
        std::fs::write(dir.path().join("train/cat/extra.png"), png(&data.test[0].1)).unwrap();
        assert_ne!(
            before,
            fingerprint(dir.path(), &DataSettings::default()).unwrap()
        );
    }

    #[test]
    fn channel_stats_are_numpys_mean_and_population_std() {
        // Two images: channel 0 all 0 and all 255, channel 1 all 51, channel 2 half 0
        // half 255 in both. numpy: mean (0.5, 0.2, 0.5), std (0.5, 0, 0.5).
        let plane = CIFAR.plane();
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
        let ChannelStats { mean, std } = split.channel_stats(CIFAR);
        for (got, want) in mean.iter().chain(&std).zip([0.5, 0.2, 0.5, 0.5, 0.0, 0.5]) {
            assert!((got - want).abs() < 1e-12, "{mean:?} {std:?}");
        }
    }
}
