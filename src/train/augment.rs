//! Batched augmentation and normalisation on the training device: one set of tensor
//! ops per batch, never a loop over images.

use tch::{Device, Kind, Tensor};

use crate::plan::spec::{Augment, Normalize};

/// Applies `aug` to a batch B×C×H×W of any kind (the training images as bytes). Crops
/// pad with zeros, black before normalising. Random draws come from libtorch's
/// generator, seeded per run, in a fixed order: crop, hflip, vflip.
pub fn augment(x: &Tensor, aug: &Augment) -> Tensor {
    let mut x = x.shallow_clone();
    if aug.crop_padding > 0 {
        x = random_crop(&x, aug.crop_padding);
    }
    if aug.hflip > 0.0 {
        x = random_flip(&x, aug.hflip, 3);
    }
    if aug.vflip > 0.0 {
        x = random_flip(&x, aug.vflip, 2);
    }
    x
}

/// torchvision's `RandomCrop(size, padding=p)`: zero-pad (black, before normalising),
/// then cut a window of the original size at a random offset per image, as two gathers.
fn random_crop(x: &Tensor, pad: i64) -> Tensor {
    let (b, c, h, w) = x.size4().expect("a B×C×H×W batch");
    let dev = x.device();
    let padded = x.constant_pad_nd([pad, pad, pad, pad]);
    let oy = Tensor::randint(2 * pad + 1, [b], (Kind::Int64, dev));
    let ox = Tensor::randint(2 * pad + 1, [b], (Kind::Int64, dev));
    let rows = (oy.view([b, 1]) + Tensor::arange(h, (Kind::Int64, dev)).view([1, h]))
        .view([b, 1, h, 1])
        .expand([b, c, h, w + 2 * pad], false);
    let cols = (ox.view([b, 1]) + Tensor::arange(w, (Kind::Int64, dev)).view([1, w]))
        .view([b, 1, 1, w])
        .expand([b, c, h, w], false);
    padded.gather(2, &rows, false).gather(3, &cols, false)
}

fn random_flip(x: &Tensor, p: f64, dim: i64) -> Tensor {
    let b = x.size()[0];
    let flip = Tensor::rand([b], (Kind::Float, x.device()))
        .lt(p)
        .view([b, 1, 1, 1]);
    x.flip([dim]).where_self(&flip, x)
}

/// Per-channel normalisation, with mean and std as tensors on the device.
#[derive(Debug)]
pub struct Normalizer {
    mean: Tensor,
    std: Tensor,
}

impl Normalizer {
    /// Puts the constants on `device` once.
    pub fn new(n: &Normalize, device: Device) -> Self {
        let t = |v: &[f64]| {
            let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Tensor::from_slice(&v)
                .view([1, v.len() as i64, 1, 1])
                .to_device(device)
        };
        Normalizer {
            mean: t(&n.mean),
            std: t(&n.std),
        }
    }

    /// uint8 images → floats in [0, 1].
    pub fn to_unit(images: &Tensor) -> Tensor {
        images.to_kind(Kind::Float) / 255.0
    }

    /// Normalises a [0, 1] batch.
    pub fn apply(&self, x: &Tensor) -> Tensor {
        (x - &self.mean) / &self.std
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> Tensor {
        Tensor::arange(2 * 3 * 4 * 4, tch::kind::FLOAT_CPU).view([2, 3, 4, 4])
    }

    #[test]
    fn crop_windows_come_from_the_padded_image() {
        tch::manual_seed(1);
        let x = batch() + 1.0; // no zeros inside, so zeros in the output are padding
        let y = random_crop(&x, 2);
        assert_eq!(y.size(), [2, 3, 4, 4]);
        for i in 0..2 {
            let img = x.get(i);
            let padded = img.constant_pad_nd([2, 2, 2, 2]);
            let out = y.get(i);
            let found = (0..5)
                .any(|oy| (0..5).any(|ox| padded.narrow(1, oy, 4).narrow(2, ox, 4).equal(&out)));
            assert!(found, "image {i} is not a window of its padded self");
        }
    }

    #[test]
    fn flips_with_probability_one_and_zero() {
        let x = batch();
        assert!(random_flip(&x, 1.0, 3).equal(&x.flip([3])));
        assert!(random_flip(&x, 1.0, 2).equal(&x.flip([2])));
        let off = Augment {
            crop_padding: 0,
            hflip: 0.0,
            vflip: 0.0,
        };
        assert!(augment(&x, &off).equal(&x));
    }

    #[test]
    fn augmenting_the_bytes_gives_the_values_of_augmenting_the_floats() {
        // The epoch augments uint8 images before scaling them; the values must be those
        // of scaling first. Both orders draw the same numbers after the same seed;
        // libtorch's generator is global and other tests draw from it in parallel, so
        // one of three tries must agree (a wrong order disagrees in every one).
        let bytes = (Tensor::arange(16 * 3 * 6 * 6, tch::kind::INT64_CPU) * 37)
            .remainder(256)
            .to_kind(Kind::Uint8)
            .view([16, 3, 6, 6]);
        let aug = Augment {
            crop_padding: 2,
            hflip: 0.5,
            vflip: 0.5,
        };
        let agree = (0..3).any(|i| {
            tch::manual_seed(40 + i);
            let bytes_first = Normalizer::to_unit(&augment(&bytes, &aug));
            tch::manual_seed(40 + i);
            let floats_first = augment(&Normalizer::to_unit(&bytes), &aug);
            bytes_first.kind() == Kind::Float && bytes_first.equal(&floats_first)
        });
        assert!(agree, "augmenting bytes changed the values");
    }

    #[test]
    fn normalizer_uses_per_channel_constants() {
        let n = Normalizer::new(
            &Normalize {
                mean: vec![0.5, 0.0, 1.0],
                std: vec![0.5, 1.0, 2.0],
            },
            Device::Cpu,
        );
        let x = Tensor::ones([1, 3, 1, 1], tch::kind::FLOAT_CPU);
        let y: Vec<f32> = Vec::try_from(n.apply(&x).flatten(0, -1)).unwrap();
        assert_eq!(y, [1.0, 1.0, 0.0]);
    }
}
