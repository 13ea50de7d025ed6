//! The training images of one epoch, shuffled, augmented and normalised in chunks of
//! whole batches. On CUDA a chunk is many batches, so that a step slices a prepared
//! tensor instead of running the dozen gather, pad, random and arithmetic operations of
//! its own preparation (a dozen kernel launches a step, for work one launch does as
//! well). On the CPU a chunk is one batch, as before chunks: larger ones made the
//! build 7 % slower there (the prepared images are no longer in cache when the step
//! reads them; BENCHMARKS.md), and a CPU pays little per operation.

use tch::{Device, Tensor};

use super::augment::{self, Normalizer};
use crate::plan::spec::Augment;

/// Images a CUDA chunk holds: 8,192 CIFAR-10 images are 100 MB of floats on a device
/// with tens of GB.
const CUDA_CHUNK_IMAGES: i64 = 8192;

/// Images per chunk on `device` for batches of `batch_size`: a whole number of batches,
/// so that no batch spans two chunks.
pub fn chunk_len(device: Device, batch_size: i64) -> i64 {
    if device.is_cuda() {
        batch_size * (CUDA_CHUNK_IMAGES / batch_size).max(1)
    } else {
        batch_size
    }
}

/// One epoch's batches, in the order of a permutation of the training set.
#[derive(Debug)]
pub struct EpochBatches<'a> {
    images: &'a Tensor,
    labels: &'a Tensor,
    order: Tensor,
    augment: &'a Augment,
    norm: &'a Normalizer,
    /// Images per chunk: a whole number of batches, so no batch spans two chunks.
    chunk_len: i64,
    /// Position in `order` of the prepared chunk's first image; none yet when negative.
    start: i64,
    x: Tensor,
    y: Tensor,
}

impl<'a> EpochBatches<'a> {
    /// The epoch of `images` (uint8, N×C×H×W) and `labels` in `order`, prepared
    /// `chunk_len` images at a time (see [`chunk_len`]), each image augmented by
    /// `augment` and normalised by `norm`.
    pub fn new(
        images: &'a Tensor,
        labels: &'a Tensor,
        order: Tensor,
        chunk_len: i64,
        augment: &'a Augment,
        norm: &'a Normalizer,
    ) -> Self {
        EpochBatches {
            images,
            labels,
            order,
            augment,
            norm,
            chunk_len,
            start: -1,
            x: Tensor::new(),
            y: Tensor::new(),
        }
    }

    /// Images and labels of the batch of `len` images from position `lo` of the
    /// epoch's order (`lo` a multiple of the batch size, which divides the chunk).
    pub fn batch(&mut self, lo: i64, len: i64) -> (Tensor, Tensor) {
        let start = lo - lo % self.chunk_len;
        if start != self.start {
            let count = self.chunk_len.min(self.order.size()[0] - start);
            let index = self.order.narrow(0, start, count);
            // Cropped and flipped as bytes, then made floats: the same values as
            // augmenting the floats (moving pixels commutes with scaling them, and the
            // padding is 0 either way), with a quarter of the memory traffic.
            let images = augment::augment(&self.images.index_select(0, &index), self.augment);
            self.x = self.norm.apply(&Normalizer::to_unit(&images));
            self.y = self.labels.index_select(0, &index);
            self.start = start;
        }
        let at = lo - self.start;
        (self.x.narrow(0, at, len), self.y.narrow(0, at, len))
    }
}

#[cfg(test)]
mod tests {
    use tch::Kind;

    use super::*;
    use crate::plan::spec::Normalize;

    #[test]
    fn batches_follow_the_order_across_chunks_and_are_normalised() {
        // 20,000 one-pixel images whose value is their index mod 251, labels the
        // index mod 7; batches of 300, so chunks of 900 and a short last batch.
        let n = 20_000;
        let values = Tensor::arange(n, (Kind::Int64, Device::Cpu));
        let images = values
            .remainder(251)
            .to_kind(Kind::Uint8)
            .view([n, 1, 1, 1]);
        let labels = values.remainder(7);
        let order = Tensor::randperm(n, (Kind::Int64, Device::Cpu));
        let none = Augment {
            crop_padding: 0,
            hflip: 0.0,
            vflip: 0.0,
        };
        let norm = Normalizer::new(
            &Normalize {
                mean: vec![0.5],
                std: vec![0.25],
            },
            Device::Cpu,
        );
        assert_eq!(chunk_len(Device::Cpu, 300), 300);
        assert_eq!(chunk_len(Device::Cuda(0), 300), 8100);
        let mut epoch =
            EpochBatches::new(&images, &labels, order.shallow_clone(), 900, &none, &norm);
        let mut lo = 0;
        while lo < n {
            let len = 300.min(n - lo);
            let (x, y) = epoch.batch(lo, len);
            let expected = order.narrow(0, lo, len);
            assert!(y.equal(&expected.remainder(7)), "labels of batch at {lo}");
            let pixels = (expected.remainder(251).to_kind(Kind::Float) / 255.0 - 0.5) / 0.25;
            assert!(
                x.view([len]).allclose(&pixels, 1e-6, 1e-6, false),
                "images at {lo}"
            );
            lo += len;
        }
    }
}
