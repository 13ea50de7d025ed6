//! Drawing one figure description twice, as SVG and as PNG.

use std::io::Cursor;

use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_backend::text_anchor::VPos;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

use super::style::{self, Scale};

/// One drawn figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    /// The SVG document, at the figure's nominal size.
    pub svg: String,
    /// The PNG file, at twice the nominal size.
    pub png: Vec<u8>,
}

/// A figure: its nominal size and how to draw it on any backend.
pub(super) trait Chart {
    /// Width and height in nominal (SVG) pixels.
    fn size(&self) -> (u32, u32);

    /// Draws the figure; every length goes through `s`, so one description serves both
    /// the 1× SVG and the 2× PNG.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Scale) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// Draws `fig` as SVG at its nominal size and as PNG at [`Scale::PNG`].
pub(super) fn draw(fig: &impl Chart) -> Result<Drawn> {
    style::register_fonts()?;
    let (w, h) = fig.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        fig.draw(&root, &Scale::SVG)?;
        root.present()?;
    }
    let (pw, ph) = (
        Scale::PNG.px(f64::from(w)) as u32,
        Scale::PNG.px(f64::from(h)) as u32,
    );
    let mut rgb = vec![255u8; pw as usize * ph as usize * 3];
    {
        let backend = TextAligned(BitMapBackend::with_buffer(&mut rgb, (pw, ph)));
        let root = backend.into_drawing_area();
        fig.draw(&root, &Scale::PNG)?;
        root.present()?;
    }
    Ok(Drawn {
        svg,
        png: encode_png(&rgb, pw, ph)?,
    })
}

/// Pixels per metre of the PNG: twice 96 per inch, so that tools that honour a PNG's
/// density (pandoc into LaTeX or Word, macOS Preview, Safari) show it at the SVG's
/// size, the width the Markdown report cannot state without raw HTML.
const PNG_PIXELS_PER_METRE: u32 = 7559;

/// An RGB buffer as PNG bytes, with fixed encoder settings so that the bytes do not
/// change between builds.
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(Cursor::new(&mut png), w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    encoder.set_pixel_dims(Some(png::PixelDimensions {
        xppu: PNG_PIXELS_PER_METRE,
        yppu: PNG_PIXELS_PER_METRE,
        unit: png::Unit::Meter,
    }));
    let mut writer = encoder
        .write_header()
        .context("cannot encode the figure as PNG")?;
    writer
        .write_image_data(rgb)
        .context("cannot encode the figure as PNG")?;
    writer.finish().context("cannot encode the figure as PNG")?;
    Ok(png)
}

/// A bitmap backend whose text lands where the browser puts the SVG's.
///
/// plotters' ab_glyph rendering places the baseline half the font size below the
/// anchor and centres on a box 1/1.24 of the size, so top- and centre-anchored text
/// sits about a fifth of a line too high (tick labels float above their ticks, matrix
/// counts above their cells' centres). Shifting the anchor down by the measured
/// amount, along the text's own "down" when it is rotated, puts cap height where it
/// belongs; everything else passes straight through.
struct TextAligned<B>(B);

impl<B: DrawingBackend> DrawingBackend for TextAligned<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }

    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        // Fractions of the font size, worked out from DejaVu Sans's metrics (cap height
        // 0.73 em, ab_glyph's em = size / 1.164) and checked by eye against Chromium's
        // rendering of the SVG.
        let k = match style.anchor().v_pos {
            VPos::Top => 0.13,
            VPos::Center => 0.2,
            VPos::Bottom => 0.1,
        };
        let down = (style.size() * k).round() as i32;
        let (dx, dy) = style.transform().transform(0, down);
        self.0.draw_text(text, style, (pos.0 + dx, pos.1 + dy))
    }

    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        self.0.estimate_text_size(text, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_png_says_it_is_twice_the_svgs_density() {
        let (w, h) = (4, 2);
        let png = encode_png(&vec![200u8; (w * h * 3) as usize], w, h).unwrap();
        let reader = png::Decoder::new(Cursor::new(&png[..]))
            .read_info()
            .unwrap();
        let dims = reader.info().pixel_dims.expect("a pHYs chunk");
        assert_eq!((dims.xppu, dims.yppu), (7559, 7559));
        assert_eq!(dims.unit, png::Unit::Meter);
        // 7559 px/m is 192 px per inch: two image pixels per CSS pixel.
        assert_eq!((f64::from(dims.xppu) * 0.0254).round(), 192.0);
        assert_eq!(reader.info().width, w);
        // The same pixels give the same bytes.
        assert_eq!(
            png,
            encode_png(&vec![200u8; (w * h * 3) as usize], w, h).unwrap()
        );
    }
}
