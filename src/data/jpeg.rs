//! JPEG decoding through libjpeg-turbo (the `mozjpeg` crate builds its decoder, which
//! is libjpeg-turbo's), with the settings PIL decodes with: the accurate integer IDCT
//! and "fancy" (smooth) chroma upsampling. torchvision's `ImageFolder` opens images
//! with PIL, so a study moved here from PyTorch trains on the same pixels: every byte
//! of the 60,000 shared CIFAR-10 JPEGs equals PIL 12.3's (`bench/pil-parity.py`), and
//! the fixtures of `tests/fixtures/jpeg/` check it on every test run.

use std::panic::{self, AssertUnwindSafe};

use mozjpeg::{ColorSpace, DctMethod, Decompress};

use super::transform::Pixels;

/// Decodes a JPEG to RGB, or to its one channel when it is grayscale and `keep_grey`.
pub(super) fn decode(bytes: &[u8], keep_grey: bool) -> Result<Pixels, String> {
    // libjpeg reports errors through a callback that unwinds; catching the unwind
    // here turns a corrupt file into an error naming it instead of a crash.
    panic::catch_unwind(AssertUnwindSafe(|| decode_unguarded(bytes, keep_grey))).unwrap_or_else(
        |payload| {
            let reason = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "libjpeg failed".into());
            Err(reason)
        },
    )
}

fn decode_unguarded(bytes: &[u8], keep_grey: bool) -> Result<Pixels, String> {
    let mut d = Decompress::new_mem(bytes).map_err(|e| e.to_string())?;
    d.dct_method(DctMethod::IntegerSlow);
    d.do_fancy_upsampling(true);
    let grey = keep_grey && d.color_space() == ColorSpace::JCS_GRAYSCALE;
    let mut started = if grey { d.grayscale() } else { d.rgb() }.map_err(|e| e.to_string())?;
    let (width, height) = (started.width(), started.height());
    let data: Vec<u8> = started.read_scanlines().map_err(|e| e.to_string())?;
    started.finish().map_err(|e| e.to_string())?;
    Ok(Pixels {
        width,
        height,
        channels: if grey { 1 } else { 3 },
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(image: image::DynamicImage) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    #[test]
    fn decodes_colour_and_grey_and_names_corrupt_files() {
        let colour = jpeg(image::RgbImage::from_pixel(16, 8, image::Rgb([200, 100, 50])).into());
        let p = decode(&colour, true).unwrap();
        assert_eq!((p.width, p.height, p.channels), (16, 8, 3));
        let near = |v: u8, want: u8| v.abs_diff(want) <= 3;
        assert!(near(p.data[0], 200) && near(p.data[1], 100) && near(p.data[2], 50));

        let grey = jpeg(image::GrayImage::from_pixel(8, 8, image::Luma([90])).into());
        assert_eq!(decode(&grey, true).unwrap().channels, 1);
        let as_rgb = decode(&grey, false).unwrap();
        assert_eq!(as_rgb.channels, 3);
        assert!(as_rgb.data.chunks(3).all(|p| p[0] == p[1] && p[1] == p[2]));

        let err = decode(b"\xff\xd8\xff\xe0 not really", false).unwrap_err();
        assert!(!err.is_empty());
    }

    /// The first pixel at which `got` and PIL's `want` differ, said as a reader needs it.
    fn first_difference(got: &Pixels, want: &[u8]) -> Option<String> {
        if got.data.len() != want.len() {
            return Some(format!("{} bytes, PIL has {}", got.data.len(), want.len()));
        }
        let at = got.data.iter().zip(want).position(|(a, b)| a != b)?;
        let pixel = at / got.channels;
        let differ = got.data.iter().zip(want).filter(|(a, b)| a != b).count();
        Some(format!(
            "{differ} bytes differ, the first at x {} y {} channel {}: {} against PIL's {}",
            pixel % got.width,
            pixel / got.width,
            at % got.channels,
            got.data[at],
            want[at]
        ))
    }

    /// Every fixture of `tests/fixtures/jpeg/` (CIFAR-10 sample images and PIL-encoded
    /// variants: chroma subsampling, progressive, restart markers, grayscale, partial
    /// MCUs) decodes to PIL's bytes exactly, as `convert("RGB")` and, for a grayscale
    /// JPEG, as its one channel. `scripts/jpeg-fixtures` writes them with the pinned
    /// pillow.
    #[test]
    fn every_fixture_decodes_to_pils_bytes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jpeg");
        let mut jpegs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .collect();
        jpegs.sort();
        let (mut compared, mut grey, mut wrong) = (0, 0, Vec::new());
        for jpeg in &jpegs {
            let bytes = std::fs::read(jpeg).unwrap();
            for (keep_grey, ext) in [(false, "rgb"), (true, "l")] {
                let Ok(want) = std::fs::read(jpeg.with_extension(ext)) else {
                    continue;
                };
                let got = decode(&bytes, keep_grey).unwrap();
                assert_eq!(got.channels, if keep_grey { 1 } else { 3 });
                if let Some(why) = first_difference(&got, &want) {
                    wrong.push(format!("{} as {ext}: {why}", jpeg.display()));
                }
                compared += 1;
                grey += usize::from(keep_grey);
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        // 21 JPEGs, two of them grayscale: a fixture lost or not regenerated fails here.
        assert_eq!((jpegs.len(), compared, grey), (21, 23, 2));
    }
}
