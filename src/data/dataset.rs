//! What a decoded dataset is: images of one shape in CHW bytes, labels, class names,
//! and the description that planning reads without the pixels. Below every reader, so
//! that none of them imports the module that calls it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::hash;

/// The shape of every image of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageShape {
    /// 3 for RGB, 1 for grayscale.
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

impl ImageShape {
    /// Pixels of one channel plane.
    pub fn plane(&self) -> usize {
        self.height * self.width
    }

    /// Bytes of one decoded image.
    pub fn bytes(&self) -> usize {
        self.channels * self.plane()
    }
}

impl fmt::Display for ImageShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}×{}×{}", self.channels, self.height, self.width)
    }
}

/// One split of a decoded dataset: `images` is N×C×H×W uint8 in CHW order (channel
/// planes, like the CIFAR binary format), `labels` N class indices.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// N images back to back, each [`ImageShape::bytes`] long: the first channel's
    /// plane, then the next, each row-major, which is the layout a `[N, C, H, W]`
    /// tensor wants.
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
    /// N×C×H×W images / 255): what `normalize = "auto"` normalises with. Summed in
    /// integers, so the same bytes always give the same floats.
    pub fn channel_stats(&self, shape: ImageShape) -> ChannelStats {
        let plane = shape.plane();
        let (mut sum, mut squares) = (vec![0u64; shape.channels], vec![0u64; shape.channels]);
        for image in self.images.chunks_exact(shape.bytes()) {
            for (c, channel) in image.chunks_exact(plane).enumerate() {
                for &v in channel {
                    sum[c] += v as u64;
                    squares[c] += (v as u64) * (v as u64);
                }
            }
        }
        let n = (self.len() * plane).max(1) as f64;
        let mean = sum.iter().map(|&s| s as f64 / n / 255.0).collect();
        let std = sum
            .iter()
            .zip(&squares)
            .map(|(&s, &q)| {
                let m = s as f64 / n;
                (q as f64 / n - m * m).max(0.0).sqrt() / 255.0
            })
            .collect();
        ChannelStats { mean, std }
    }

    /// The `i`-th image's CHW bytes.
    pub fn image(&self, i: usize, shape: ImageShape) -> &[u8] {
        let n = shape.bytes();
        &self.images[i * n..(i + 1) * n]
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
    /// The shape of every image.
    pub shape: ImageShape,
    /// The training split.
    pub train: Split,
    /// The held-out split.
    pub test: Split,
    /// [`fingerprint`] of the source and settings, so results can name exactly the
    /// data they came from.
    pub fingerprint: String,
    /// [`Split::channel_stats`] of the training split, computed once as the data is
    /// decoded and kept in the cache's header.
    pub train_stats: ChannelStats,
}

/// Per-channel mean and population standard deviation of pixel values in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelStats {
    /// One mean per channel.
    pub mean: Vec<f64>,
    /// One standard deviation per channel.
    pub std: Vec<f64>,
}

// The stats are a function of the pixels, which compare exactly.
impl Eq for ChannelStats {}

impl Dataset {
    /// What planning needs of the dataset, without its pixels.
    pub fn description(&self) -> Description {
        Description {
            fingerprint: self.fingerprint.clone(),
            classes: self.classes.clone(),
            shape: self.shape,
            train: self.train.len(),
            test: self.test.len(),
            train_stats: self.train_stats.clone(),
        }
    }
}

/// A dataset without its pixels: what shape inference, `check` and the report need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description {
    /// [`fingerprint`] of the source and settings.
    pub fingerprint: String,
    /// Class names.
    pub classes: Vec<String>,
    /// The shape of every image.
    pub shape: ImageShape,
    /// Training images.
    pub train: usize,
    /// Test images.
    pub test: usize,
    /// The training images' per-channel statistics (`normalize = "auto"`).
    pub train_stats: ChannelStats,
}

impl Description {
    /// CIFAR-10's description with `fingerprint`, for tests of the code that plans.
    #[cfg(test)]
    pub fn cifar10(fingerprint: &str) -> Description {
        Description {
            fingerprint: fingerprint.to_owned(),
            classes: crate::testutil::CIFAR10_CLASSES.map(String::from).to_vec(),
            shape: ImageShape {
                channels: 3,
                height: 32,
                width: 32,
            },
            train: 50_000,
            test: 10_000,
            train_stats: ChannelStats {
                mean: vec![0.5; 3],
                std: vec![0.25; 3],
            },
        }
    }
}

/// What a format reader returns: a dataset before its fingerprint is attached.
pub(super) struct Decoded {
    pub(super) classes: Vec<String>,
    pub(super) shape: ImageShape,
    pub(super) train: Split,
    pub(super) test: Split,
}
