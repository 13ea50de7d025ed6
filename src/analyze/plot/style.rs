//! The look shared by every figure: the embedded font, text sizes, colours, and the
//! small drawing helpers (text, legends, markers) that plotters does not provide.

use std::sync::OnceLock;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, FontTransform, register_font};

/// The family the embedded fonts are registered under. plotters writes this string as
/// the SVG `font-family`, so it doubles as the CSS fallback list a browser reads: the
/// same face where installed, else the browser's own sans-serif (never its serif
/// default).
pub const FONT_FAMILY: &str = "DejaVu Sans, Bitstream Vera Sans, Verdana, sans-serif";

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the embedded fonts with plotters, once per process; every figure calls it
/// before drawing, since plotters' font table is global and starts empty.
pub fn register_fonts() -> Result<()> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        register_font(FONT_FAMILY, FontStyle::Normal, REGULAR)
            .map_err(|_| "the embedded DejaVuSans.ttf is not a valid font".to_owned())?;
        register_font(FONT_FAMILY, FontStyle::Bold, BOLD)
            .map_err(|_| "the embedded DejaVuSans-Bold.ttf is not a valid font".to_owned())
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

// Text sizes in plotters' units at 1×. plotters writes `size / 1.24` as the SVG
// font-size, so these read as roughly 18, 13, 14, 12 and 12 SVG units. The smallest,
// 12.1 units on the 800-unit canvas, is what the page's layout is sized for: one figure
// per row shows it at 11.7 CSS px in the desktop column, and a phone shows figures at
// least 600 px wide (scrolling sideways), 9.1 px (tests/browser/check-site.mjs
// measures both).
/// A figure's title.
pub const TITLE: f64 = 22.0;
/// The line under the title.
pub const SUBTITLE: f64 = 16.0;
/// Axis labels and legends.
pub const LABEL: f64 = 17.0;
/// Tick labels.
pub const TICK: f64 = 15.0;
/// Notes inside the plot (cell values, annotations).
pub const SMALL: f64 = 15.0;

/// Ink for text and axes: near-black reads softer than pure black next to colour.
pub const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Secondary text (subtitles, ids, notes).
pub const MUTED: RGBColor = RGBColor(0x66, 0x66, 0x66);
/// Grid lines.
pub const GRID: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
/// Highlight of changed layers: a red-orange that no layer kind uses.
pub const ACCENT: RGBColor = RGBColor(0xD9, 0x48, 0x01);

/// Matplotlib's tab10: ten hues that stay distinct for most readers and in print, used
/// for classes and for runs alike so the report has one palette.
pub const TAB10: [RGBColor; 10] = [
    RGBColor(0x1F, 0x77, 0xB4),
    RGBColor(0xFF, 0x7F, 0x0E),
    RGBColor(0x2C, 0xA0, 0x2C),
    RGBColor(0xD6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xBD),
    RGBColor(0x8C, 0x56, 0x4B),
    RGBColor(0xE3, 0x77, 0xC2),
    RGBColor(0x7F, 0x7F, 0x7F),
    RGBColor(0xBC, 0xBD, 0x22),
    RGBColor(0x17, 0xBE, 0xCF),
];

/// Colours of the runs in an overlay: tab10, then near-black and Dark2's ochre, so that
/// the homework's eleven runs (and a twelfth) each have a hue of their own; a thirteenth
/// repeats a colour with another point shape.
pub const SERIES: [RGBColor; 12] = [
    TAB10[0],
    TAB10[1],
    TAB10[2],
    TAB10[3],
    TAB10[4],
    TAB10[5],
    TAB10[6],
    TAB10[7],
    TAB10[8],
    TAB10[9],
    RGBColor(0x1A, 0x1A, 0x1A),
    RGBColor(0xA6, 0x76, 0x1D),
];

/// The colour of class `label`; labels past the palette share a neutral grey rather
/// than repeating a class's colour.
pub fn class_color(label: usize) -> RGBColor {
    TAB10
        .get(label)
        .copied()
        .unwrap_or(RGBColor(0x44, 0x44, 0x44))
}

/// How one drawing pass maps the figure's nominal pixels (the SVG's) onto its backend.
/// The PNG is drawn at twice the size, so every length goes through [`Scale::px`].
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    k: f64,
}

impl Scale {
    /// The SVG pass.
    pub const SVG: Scale = Scale { k: 1.0 };
    /// The PNG pass.
    pub const PNG: Scale = Scale { k: 2.0 };

    /// A nominal length in backend pixels.
    pub fn px(&self, v: f64) -> i32 {
        (v * self.k).round() as i32
    }

    /// A nominal point in backend pixels.
    pub fn pt(&self, x: f64, y: f64) -> (i32, i32) {
        (self.px(x), self.px(y))
    }

    /// A backend length back in nominal pixels.
    pub fn nominal(&self, v: i32) -> f64 {
        f64::from(v) / self.k
    }

    /// A stroke width in backend pixels, never thinner than one.
    pub fn stroke(&self, v: f64) -> u32 {
        self.px(v).max(1) as u32
    }

    /// A text style of `size` nominal units.
    pub fn font(&self, size: f64, bold: bool, color: RGBColor) -> TextStyle<'static> {
        let style = if bold {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        FontDesc::new(FontFamily::Name(FONT_FAMILY), size * self.k, style).color(&color)
    }
}

/// Measures `text` in nominal pixels (width, height) as the PNG pass lays it out; the
/// browser's SVG text is a few percent narrower, so layouts sized by this fit both.
pub fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    // Sizing runs before any drawing, so it cannot rely on a figure having registered
    // the fonts; without them the estimate below is only a rough fallback.
    let _ = register_fonts();
    let font = Scale::SVG.font(size, bold, INK);
    font.font
        .box_size(text)
        .map_or(size * 0.6 * text.chars().count() as f64, |(w, _)| {
            f64::from(w)
        })
}

/// Draws `text` anchored at the nominal point (x, y).
#[allow(clippy::too_many_arguments)]
pub fn text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Scale,
    text: &str,
    (x, y): (f64, f64),
    style: &TextStyle<'_>,
    h: HPos,
    v: VPos,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let style = style.pos(Pos::new(h, v));
    area.draw_text(text, &style, s.pt(x, y))?;
    Ok(())
}

/// Draws `text` rotated to read bottom to top, centred on the nominal point (x, y).
pub fn text_vertical<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Scale,
    text: &str,
    (x, y): (f64, f64),
    style: &TextStyle<'_>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let style = style
        .transform(FontTransform::Rotate270)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(text, &style, s.pt(x, y))?;
    Ok(())
}

/// Breaks `text` into lines no wider than `width` nominal pixels, at spaces; a word
/// longer than the width gets a line of its own rather than being cut.
pub fn wrap(text: &str, size: f64, bold: bool, width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(&candidate, size, bold) > width {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text`, cut at a character boundary and ended with "…" if it is wider than `width`
/// nominal pixels: for labels whose room is fixed.
pub fn fit(text: &str, size: f64, bold: bool, width: f64) -> String {
    if text_width(text, size, bold) <= width {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len())
        .rev()
        .map(|n| format!("{}…", chars[..n].iter().collect::<String>().trim_end()))
        .find(|t| text_width(t, size, bold) <= width)
        .unwrap_or_else(|| "…".to_owned())
}

/// A centred bold title and, below it, wrapped muted subtitle lines; returns the
/// nominal y where the content below them may start.
pub fn heading<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Scale,
    width: f64,
    title: &str,
    subtitle: Option<&str>,
) -> Result<f64>
where
    DB::ErrorType: 'static,
{
    let mut y = 12.0;
    for line in wrap(title, TITLE, true, width - 40.0) {
        text(
            area,
            s,
            &line,
            (width / 2.0, y),
            &s.font(TITLE, true, INK),
            HPos::Center,
            VPos::Top,
        )?;
        y += 26.0;
    }
    if let Some(sub) = subtitle {
        y += 2.0;
        for line in wrap(sub, SUBTITLE, false, width - 40.0) {
            text(
                area,
                s,
                &line,
                (width / 2.0, y),
                &s.font(SUBTITLE, false, MUTED),
                HPos::Center,
                VPos::Top,
            )?;
            y += 20.0;
        }
    }
    Ok(y + 6.0)
}

/// The height [`heading`] will take, for sizing a figure before drawing it.
pub fn heading_height(width: f64, title: &str, subtitle: Option<&str>) -> f64 {
    let mut y = 12.0 + 26.0 * wrap(title, TITLE, true, width - 40.0).len() as f64;
    if let Some(sub) = subtitle {
        y += 2.0 + 20.0 * wrap(sub, SUBTITLE, false, width - 40.0).len() as f64;
    }
    y + 6.0
}

/// Point shapes, so lines of similar colour still differ (and survive greyscale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A filled circle.
    Circle,
    /// A filled square.
    Square,
    /// A triangle pointing up.
    Triangle,
    /// A square on its corner.
    Diamond,
}

impl Marker {
    /// The shape for series `i`.
    pub fn nth(i: usize) -> Marker {
        [
            Marker::Circle,
            Marker::Square,
            Marker::Triangle,
            Marker::Diamond,
        ][i % 4]
    }
}

/// Draws a filled marker of nominal radius `r` centred on the backend point `c`.
pub fn marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Scale,
    shape: Marker,
    c: (i32, i32),
    r: f64,
    color: RGBColor,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let d = s.px(r);
    let fill = color.filled();
    match shape {
        Marker::Circle => area.draw(&Circle::new(c, d, fill))?,
        Marker::Square => {
            let d = s.px(r * 0.85);
            area.draw(&Rectangle::new(
                [(c.0 - d, c.1 - d), (c.0 + d, c.1 + d)],
                fill,
            ))?
        }
        Marker::Triangle => {
            let d = s.px(r * 1.2);
            area.draw(&Polygon::new(
                vec![
                    (c.0, c.1 - d),
                    (c.0 + d, c.1 + d * 3 / 4),
                    (c.0 - d, c.1 + d * 3 / 4),
                ],
                fill,
            ))?
        }
        Marker::Diamond => {
            let d = s.px(r * 1.2);
            area.draw(&Polygon::new(
                vec![
                    (c.0, c.1 - d),
                    (c.0 + d, c.1),
                    (c.0, c.1 + d),
                    (c.0 - d, c.1),
                ],
                fill,
            ))?
        }
    }
    Ok(())
}

/// One legend entry.
#[derive(Debug, Clone)]
pub struct Key {
    /// What the entry names.
    pub label: String,
    /// Its colour.
    pub color: RGBColor,
    /// Its point shape.
    pub marker: Marker,
    /// Whether a line runs through the marker (curves) or not (scatter points).
    pub line: bool,
}

impl Key {
    fn swatch_width(&self) -> f64 {
        if self.line { 30.0 } else { 14.0 }
    }

    fn width(&self) -> f64 {
        self.swatch_width() + 6.0 + text_width(&self.label, TICK, false)
    }

    /// The entry with its label shortened to make the whole entry fit `width`.
    pub fn fitted(&self, width: f64) -> Key {
        let room = width - self.swatch_width() - 6.0;
        Key {
            label: fit(&self.label, TICK, false, room),
            ..self.clone()
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        s: &Scale,
        (x, y): (f64, f64),
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let sw = self.swatch_width();
        if self.line {
            area.draw(&PathElement::new(
                vec![s.pt(x, y), s.pt(x + sw, y)],
                self.color.stroke_width(s.stroke(2.5)),
            ))?;
        }
        let r = if self.line { 4.0 } else { 5.0 };
        marker(area, s, self.marker, s.pt(x + sw / 2.0, y), r, self.color)?;
        text(
            area,
            s,
            &self.label,
            (x + sw + 6.0, y),
            &s.font(TICK, false, INK),
            HPos::Left,
            VPos::Center,
        )
    }
}

/// Gap between entries of a legend row.
const KEY_GAP: f64 = 22.0;
/// Height of one legend line.
pub const KEY_LINE: f64 = 22.0;

/// Splits `keys` into centred rows no wider than `width`.
fn legend_rows(keys: &[Key], width: f64) -> Vec<Vec<&Key>> {
    let mut rows: Vec<Vec<&Key>> = Vec::new();
    let mut used = 0.0;
    for key in keys {
        let w = key.width();
        match rows.last_mut() {
            Some(row) if used + KEY_GAP + w <= width => {
                row.push(key);
                used += KEY_GAP + w;
            }
            _ => {
                rows.push(vec![key]);
                used = w;
            }
        }
    }
    rows
}

/// The height a [`legend_row`] of `keys` takes within `width`.
pub fn legend_row_height(keys: &[Key], width: f64) -> f64 {
    KEY_LINE * legend_rows(keys, width).len() as f64
}

/// Draws `keys` as centred rows within `width` nominal pixels starting at `top`, the
/// layout for a few entries above a plot or under a panel; returns the height used.
pub fn legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Scale,
    keys: &[Key],
    (left, top): (f64, f64),
    width: f64,
) -> Result<f64>
where
    DB::ErrorType: 'static,
{
    let rows = legend_rows(keys, width);
    for (i, row) in rows.iter().enumerate() {
        let total: f64 =
            row.iter().map(|k| k.width()).sum::<f64>() + KEY_GAP * (row.len() - 1) as f64;
        let mut x = left + (width - total) / 2.0;
        let y = top + KEY_LINE * (i as f64 + 0.5);
        for key in row {
            key.draw(area, s, (x, y))?;
            x += key.width() + KEY_GAP;
        }
    }
    Ok(KEY_LINE * rows.len() as f64)
}

/// The width a [`legend_column`] of `keys` takes.
pub fn legend_column_width(keys: &[Key]) -> f64 {
    keys.iter().map(Key::width).fold(0.0, f64::max)
}

/// Draws `keys` one per line from (left, top), the layout for many entries beside a
/// plot.
pub fn legend_column<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Scale,
    keys: &[Key],
    (left, top): (f64, f64),
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    for (i, key) in keys.iter().enumerate() {
        key.draw(area, s, (left, top + KEY_LINE * (i as f64 + 0.5)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_shortens_only_what_does_not_fit() {
        assert_eq!(fit("Model 1", TICK, false, 300.0), "Model 1");
        let long = "Model 9 (SGD with momentum and a very long variant title)";
        let short = fit(long, TICK, false, 150.0);
        assert!(short.ends_with('…') && text_width(&short, TICK, false) <= 150.0);
        assert!(long.starts_with(short.trim_end_matches('…')));
    }

    #[test]
    fn wrap_keeps_words_and_respects_width() {
        register_fonts().unwrap();
        let text = "10-NN accuracy: 2-D 41.2 %, latent 45.0 % · KL 1.83 · perplexity 30";
        let lines = wrap(text, SUBTITLE, false, 200.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.join(" "), text);
        for line in &lines {
            assert!(
                text_width(line, SUBTITLE, false) <= 200.0 || !line.contains(' '),
                "{line}"
            );
        }
    }
}
