//! `[data]`'s image preparation, in torchvision's arithmetic: `Grayscale()` (PIL's
//! `convert("L")`) when asked, `Resize(resize)` (shorter side to `resize`, bilinear with
//! antialiasing as PIL does it), `CenterCrop(image_size)`; grayscale data asked to be
//! RGB repeats its channel, as `convert("RGB")` does.

use fast_image_resize as fr;

use super::dataset::{Decoded, ImageShape, Split};
use crate::experiment::dataset::{Color, DataSettings};

/// One image in interleaved (HWC) order, the order decoders and resizers use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pixels {
    pub(super) width: usize,
    pub(super) height: usize,
    /// 1 or 3.
    pub(super) channels: usize,
    pub(super) data: Vec<u8>,
}

impl Pixels {
    /// The image of `chw` bytes shaped `shape`.
    pub(super) fn from_chw(chw: &[u8], shape: ImageShape) -> Pixels {
        let (plane, c) = (shape.plane(), shape.channels);
        let mut data = vec![0u8; chw.len()];
        for (ch, channel) in chw.chunks_exact(plane).enumerate() {
            for (i, &v) in channel.iter().enumerate() {
                data[i * c + ch] = v;
            }
        }
        Pixels {
            width: shape.width,
            height: shape.height,
            channels: c,
            data,
        }
    }

    /// Its shape.
    pub(super) fn shape(&self) -> ImageShape {
        ImageShape {
            channels: self.channels,
            height: self.height,
            width: self.width,
        }
    }

    /// Writes the image as CHW bytes into `dst`, which is [`ImageShape::bytes`] long.
    pub(super) fn write_chw(&self, dst: &mut [u8]) {
        let plane = self.width * self.height;
        for (i, pixel) in self.data.chunks_exact(self.channels).enumerate() {
            for (ch, &v) in pixel.iter().enumerate() {
                dst[ch * plane + i] = v;
            }
        }
    }
}

/// The preparation `[data]` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Transform {
    /// `(shorter side after resizing, crop side)`.
    resize: Option<(u32, u32)>,
    /// Target colour; `None` keeps the data's own.
    pub(super) color: Option<Color>,
}

impl Transform {
    /// The preparation of `settings`.
    pub(super) fn new(settings: &DataSettings) -> Transform {
        Transform {
            resize: settings.resize_and_crop(),
            color: settings.color,
        }
    }

    /// The same preparation ending in `color` when none was asked for.
    pub(super) fn or_color(self, color: Color) -> Transform {
        Transform {
            color: Some(self.color.unwrap_or(color)),
            ..self
        }
    }

    /// Prepares every image of a decoded dataset.
    pub(super) fn apply(&self, decoded: Decoded) -> Decoded {
        let to = |c: Color| if c == Color::Grayscale { 1 } else { 3 };
        let shape = decoded.shape;
        let unchanged = self
            .resize
            .is_none_or(|(_, s)| s as usize == shape.height && s as usize == shape.width)
            && self.color.is_none_or(|c| to(c) == shape.channels);
        if unchanged {
            return decoded;
        }
        let split = |s: &Split| -> (Split, ImageShape) {
            let mut out = Split {
                images: Vec::new(),
                labels: s.labels.clone(),
            };
            let mut new_shape = shape;
            for chw in s.images.chunks_exact(shape.bytes()) {
                let image = self.image(Pixels::from_chw(chw, shape));
                new_shape = image.shape();
                let start = out.images.len();
                out.images.resize(start + new_shape.bytes(), 0);
                image.write_chw(&mut out.images[start..]);
            }
            (out, new_shape)
        };
        let (train, new_shape) = split(&decoded.train);
        let (test, _) = split(&decoded.test);
        Decoded {
            classes: decoded.classes,
            shape: if train.is_empty() { shape } else { new_shape },
            train,
            test,
        }
    }

    /// Prepares one image: to grayscale first (as `Compose([Grayscale(), Resize(r),
    /// CenterCrop(s)])`), then resize and centre crop, then grayscale to RGB (which
    /// commutes with resizing, each channel being resized alike, and is cheaper last).
    pub(super) fn image(&self, mut image: Pixels) -> Pixels {
        if self.color == Some(Color::Grayscale) && image.channels == 3 {
            image = grayscale(&image);
        }
        if let Some((shorter, crop)) = self.resize {
            image = resize(&image, shorter as usize);
            image = center_crop(&image, crop as usize);
        }
        if self.color == Some(Color::Rgb) && image.channels == 1 {
            image = rgb(&image);
        }
        image
    }
}

/// torchvision's `Resize(shorter)`: the shorter side becomes `shorter`, the longer one
/// keeps the aspect ratio rounded down (`int(shorter * long / short)`).
fn resize(image: &Pixels, shorter: usize) -> Pixels {
    let (w, h) = (image.width, image.height);
    let (new_w, new_h) = if w <= h {
        (shorter, shorter * h / w)
    } else {
        (shorter * w / h, shorter)
    };
    if (new_w, new_h) == (w, h) {
        return image.clone();
    }
    // PIL resizes horizontally first, then vertically, rounding to bytes in between;
    // doing the two passes the same way keeps the result within a level or two of PIL's.
    let horizontal = convolve(image, new_w, h);
    convolve(&horizontal, new_w, new_h)
}

/// One bilinear (triangle-filter, antialiased) resampling to `width`×`height`.
fn convolve(image: &Pixels, width: usize, height: usize) -> Pixels {
    if (width, height) == (image.width, image.height) {
        return image.clone();
    }
    let kind = if image.channels == 1 {
        fr::PixelType::U8
    } else {
        fr::PixelType::U8x3
    };
    let src = fr::images::Image::from_vec_u8(
        image.width as u32,
        image.height as u32,
        image.data.clone(),
        kind,
    )
    .expect("buffer matches its shape");
    let mut dst = fr::images::Image::new(width as u32, height as u32, kind);
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Bilinear));
    fr::Resizer::new()
        .resize(&src, &mut dst, &options)
        .expect("same pixel type on both sides");
    Pixels {
        width,
        height,
        channels: image.channels,
        data: dst.into_vec(),
    }
}

/// torchvision's `CenterCrop(side)` of an image at least `side` in both directions: the
/// offsets are `int(round((size - side) / 2))`, Python's round, halves to even.
fn center_crop(image: &Pixels, side: usize) -> Pixels {
    let offset = |size: usize| {
        let d = size - side;
        if d.is_multiple_of(2) {
            d / 2
        } else {
            let (low, high) = (d / 2, d / 2 + 1);
            if low.is_multiple_of(2) { low } else { high }
        }
    };
    let (top, left, c) = (offset(image.height), offset(image.width), image.channels);
    let mut data = Vec::with_capacity(side * side * c);
    for row in top..top + side {
        let start = (row * image.width + left) * c;
        data.extend_from_slice(&image.data[start..start + side * c]);
    }
    Pixels {
        width: side,
        height: side,
        channels: c,
        data,
    }
}

/// PIL's `convert("L")` of an RGB image: `(R·19595 + G·38470 + B·7471 + 2¹⁵) >> 16`,
/// ITU-R 601-2 luma in 16-bit fixed point.
fn grayscale(image: &Pixels) -> Pixels {
    let data = image
        .data
        .chunks_exact(3)
        .map(|p| {
            let l = p[0] as u32 * 19595 + p[1] as u32 * 38470 + p[2] as u32 * 7471 + 0x8000;
            (l >> 16) as u8
        })
        .collect();
    Pixels {
        channels: 1,
        data,
        ..*image
    }
}

/// PIL's `convert("RGB")` of a grayscale image: the channel three times.
fn rgb(image: &Pixels) -> Pixels {
    let data = image.data.iter().flat_map(|&v| [v, v, v]).collect();
    Pixels {
        channels: 3,
        data,
        ..*image
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixels(width: usize, height: usize, channels: usize, f: impl Fn(usize) -> u8) -> Pixels {
        Pixels {
            width,
            height,
            channels,
            data: (0..width * height * channels).map(f).collect(),
        }
    }

    #[test]
    fn resize_keeps_the_aspect_ratio_like_torchvision() {
        let wide = pixels(64, 48, 3, |i| (i % 251) as u8);
        let out = resize(&wide, 32);
        assert_eq!((out.width, out.height), (42, 32), "int(32 * 64 / 48) = 42");
        let tall = pixels(30, 47, 1, |i| i as u8);
        let out = resize(&tall, 20);
        assert_eq!((out.width, out.height), (20, 31));
        // A flat image stays flat whatever the filter.
        let flat = resize(&pixels(50, 50, 1, |_| 77), 20);
        assert!(flat.data.iter().all(|&v| v == 77));
    }

    #[test]
    fn center_crop_rounds_half_offsets_to_even_like_python() {
        // Width 37 → 32: (37 - 32) / 2 = 2.5 rounds to 2; height 35 → 32: 1.5 rounds to 2.
        let image = pixels(37, 35, 1, |i| (i % 37) as u8 + 100 * ((i / 37 == 2) as u8));
        let out = center_crop(&image, 32);
        assert_eq!((out.width, out.height), (32, 32));
        assert_eq!(
            out.data[0], 102,
            "first row is row 2, first column column 2"
        );
        let image = pixels(36, 36, 1, |i| (i % 36) as u8);
        assert_eq!(center_crop(&image, 32).data[0], 2);
        let image = pixels(39, 39, 1, |i| (i % 39) as u8);
        assert_eq!(center_crop(&image, 32).data[0], 4, "3.5 rounds to 4");
    }

    #[test]
    fn grayscale_is_pils_fixed_point_luma_and_rgb_repeats() {
        // PIL 12.3: Image.new("RGB", (1, 1), c).convert("L").getpixel((0, 0)) for these c.
        let image = Pixels {
            width: 4,
            height: 1,
            channels: 3,
            data: vec![255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 100, 50],
        };
        assert_eq!(grayscale(&image).data, [76, 150, 29, 124]);
        let grey = pixels(2, 1, 1, |i| [9, 200][i]);
        assert_eq!(rgb(&grey).data, [9, 9, 9, 200, 200, 200]);
    }

    #[test]
    fn chw_round_trips_and_a_dataset_is_resized_and_converted() {
        let shape = ImageShape {
            channels: 3,
            height: 2,
            width: 3,
        };
        let chw: Vec<u8> = (0..18).collect();
        let p = Pixels::from_chw(&chw, shape);
        assert_eq!(&p.data[..6], [0, 6, 12, 1, 7, 13]);
        let mut back = vec![0; 18];
        p.write_chw(&mut back);
        assert_eq!(back, chw);

        let settings = DataSettings {
            image_size: Some(2),
            color: Some(Color::Grayscale),
            ..Default::default()
        };
        let split = Split {
            images: [chw.clone(), chw].concat(),
            labels: vec![0, 1],
        };
        let out = Transform::new(&settings).apply(Decoded {
            classes: vec!["a".into(), "b".into()],
            shape,
            train: split.clone(),
            test: split,
        });
        let want = ImageShape {
            channels: 1,
            height: 2,
            width: 2,
        };
        assert_eq!(out.shape, want);
        assert_eq!(out.train.images.len(), 2 * want.bytes());
        assert_eq!(out.test.labels, [0, 1]);
    }
}
