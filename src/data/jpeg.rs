//! JPEG decoding through libjpeg-turbo (the `mozjpeg` crate builds its decoder, which
//! is libjpeg-turbo's), with the settings PIL decodes with: the accurate integer IDCT
//! and "fancy" (smooth) chroma upsampling. torchvision's `ImageFolder` opens images
//! with PIL, so a study moved here from PyTorch trains on the same pixels; on the
//! 10,000 test images of the shared CIFAR-10 JPEGs every byte equals PIL 12.3's.

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
}
