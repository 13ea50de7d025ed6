//! t-SNE scatter plots: one embedding, or several epochs side by side.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{Chart, Drawn, draw};
use super::style::{self, INK, Key, Marker, Scale};

/// One embedding as a scatter of its points coloured by class, with the class legend
/// beside it. `subtitle` carries the numbers that say how far to trust the picture
/// (k-NN accuracies, KL divergence); it wraps when long.
pub fn tsne_scatter(
    title: &str,
    subtitle: &str,
    coords: &[[f32; 2]],
    labels: &[u8],
    classes: &[String],
) -> Result<Drawn> {
    draw(&Single {
        title: title.to_owned(),
        subtitle: subtitle.to_owned(),
        coords,
        labels,
        classes,
    })
}

/// Several embeddings of the same points (one per epoch) in a grid, 1×N for up to three
/// and 2×2 for four, with one legend under them all.
pub fn tsne_panel(
    title: &str,
    panels: &[(String, Vec<[f32; 2]>)],
    labels: &[u8],
    classes: &[String],
) -> Result<Drawn> {
    draw(&Panel {
        title: title.to_owned(),
        panels,
        labels,
        classes,
    })
}

const WIDTH: f64 = 800.0;
const MARGIN: f64 = 16.0;

fn keys(classes: &[String]) -> Vec<Key> {
    classes
        .iter()
        .enumerate()
        .map(|(i, c)| Key {
            label: c.clone(),
            color: style::class_color(i),
            marker: Marker::Circle,
            line: false,
        })
        .collect()
}

/// The largest point that still leaves gaps between points at this count and size:
/// 1,000 test points take bigger dots than 10,000.
fn point_radius(points: usize, side: f64) -> f64 {
    let by_count: f64 = if points <= 2_000 {
        3.0
    } else if points <= 6_000 {
        2.0
    } else {
        1.5
    };
    if side < 320.0 {
        by_count.min(2.0)
    } else {
        by_count
    }
}

/// Maps embedding coordinates into a nominal square, with one scale for both axes (a
/// t-SNE's distances mean the same in every direction) and the data centred.
#[derive(Debug, Clone, Copy)]
struct Frame {
    left: f64,
    top: f64,
    side: f64,
    center: (f64, f64),
    scale: f64,
}

impl Frame {
    fn fit(coords: &[[f32; 2]], (left, top): (f64, f64), side: f64) -> Frame {
        let finite = coords
            .iter()
            .filter(|c| c[0].is_finite() && c[1].is_finite());
        let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
        for c in finite {
            for a in 0..2 {
                lo[a] = lo[a].min(f64::from(c[a]));
                hi[a] = hi[a].max(f64::from(c[a]));
            }
        }
        let (center, span) = if lo[0] <= hi[0] {
            (
                ((lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0),
                (hi[0] - lo[0]).max(hi[1] - lo[1]),
            )
        } else {
            ((0.0, 0.0), 0.0)
        };
        // 4 % of padding keeps the outermost dots off the frame.
        let scale = if span > 0.0 { side * 0.92 / span } else { 1.0 };
        Frame {
            left,
            top,
            side,
            center,
            scale,
        }
    }

    fn map(&self, c: [f32; 2]) -> (f64, f64) {
        (
            self.left + self.side / 2.0 + (f64::from(c[0]) - self.center.0) * self.scale,
            self.top + self.side / 2.0 - (f64::from(c[1]) - self.center.1) * self.scale,
        )
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        s: &Scale,
        coords: &[[f32; 2]],
        labels: &[u8],
        radius: f64,
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.draw(&Rectangle::new(
            [
                s.pt(self.left, self.top),
                s.pt(self.left + self.side, self.top + self.side),
            ],
            style::GRID.stroke_width(s.stroke(1.0)),
        ))?;
        let r = s.px(radius);
        for (&c, &l) in coords.iter().zip(labels) {
            if !(c[0].is_finite() && c[1].is_finite()) {
                continue;
            }
            let (x, y) = self.map(c);
            let color = style::class_color(usize::from(l));
            // Translucent, so dense clusters read darker than sparse ones.
            root.draw(&Circle::new(s.pt(x, y), r, color.mix(0.7).filled()))?;
        }
        Ok(())
    }
}

struct Single<'a> {
    title: String,
    subtitle: String,
    coords: &'a [[f32; 2]],
    labels: &'a [u8],
    classes: &'a [String],
}

impl Single<'_> {
    fn frame(&self) -> Frame {
        let top = style::heading_height(WIDTH, &self.title, Some(&self.subtitle)) + 4.0;
        let legend = style::legend_column_width(&keys(self.classes)) + 24.0;
        let side = (WIDTH - 2.0 * MARGIN - legend).min(600.0);
        let left = MARGIN + (WIDTH - 2.0 * MARGIN - legend - side) / 2.0;
        Frame::fit(self.coords, (left, top), side)
    }
}

impl Chart for Single<'_> {
    fn size(&self) -> (u32, u32) {
        let f = self.frame();
        (WIDTH as u32, (f.top + f.side + MARGIN) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Scale) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        style::heading(root, s, WIDTH, &self.title, Some(&self.subtitle))?;
        let f = self.frame();
        let r = point_radius(self.coords.len(), f.side);
        f.draw(root, s, self.coords, self.labels, r)?;
        let keys = keys(self.classes);
        let legend_top = f.top + (f.side - style::KEY_LINE * keys.len() as f64) / 2.0;
        style::legend_column(root, s, &keys, (f.left + f.side + 24.0, legend_top))
    }
}

struct Panel<'a> {
    title: String,
    panels: &'a [(String, Vec<[f32; 2]>)],
    labels: &'a [u8],
    classes: &'a [String],
}

/// Room for a panel's own title above it.
const PANEL_TITLE: f64 = 24.0;
const PANEL_GAP: f64 = 16.0;

impl Panel<'_> {
    fn grid(&self) -> (usize, usize) {
        let n = self.panels.len().max(1);
        let cols = match n {
            1..=3 => n,
            4 => 2,
            _ => (n as f64).sqrt().ceil() as usize,
        };
        (cols, n.div_ceil(cols))
    }

    fn side(&self) -> f64 {
        let (cols, _) = self.grid();
        ((WIDTH - 2.0 * MARGIN - PANEL_GAP * (cols - 1) as f64) / cols as f64)
            .floor()
            .min(520.0)
    }

    /// Top-left corner of panel `i`'s square.
    fn origin(&self, i: usize) -> (f64, f64) {
        let (cols, _) = self.grid();
        let side = self.side();
        let used = cols as f64 * side + (cols - 1) as f64 * PANEL_GAP;
        let left = (WIDTH - used) / 2.0;
        let top = style::heading_height(WIDTH, &self.title, None);
        let (row, col) = (i / cols, i % cols);
        (
            left + col as f64 * (side + PANEL_GAP),
            top + PANEL_TITLE + row as f64 * (side + PANEL_TITLE + PANEL_GAP),
        )
    }

    fn legend_top(&self) -> f64 {
        let (_, rows) = self.grid();
        let top = style::heading_height(WIDTH, &self.title, None);
        top + rows as f64 * (PANEL_TITLE + self.side() + PANEL_GAP)
    }
}

impl Chart for Panel<'_> {
    fn size(&self) -> (u32, u32) {
        let legend = style::legend_row_height(&keys(self.classes), WIDTH - 2.0 * MARGIN);
        (WIDTH as u32, (self.legend_top() + legend + MARGIN) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Scale) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        style::heading(root, s, WIDTH, &self.title, None)?;
        let side = self.side();
        for (i, (name, coords)) in self.panels.iter().enumerate() {
            let origin = self.origin(i);
            style::text(
                root,
                s,
                name,
                (origin.0 + side / 2.0, origin.1 - 6.0),
                &s.font(style::LABEL, true, INK),
                HPos::Center,
                VPos::Bottom,
            )?;
            let f = Frame::fit(coords, origin, side);
            f.draw(
                root,
                s,
                coords,
                self.labels,
                point_radius(coords.len(), side),
            )?;
        }
        style::legend_row(
            root,
            s,
            &keys(self.classes),
            (MARGIN, self.legend_top()),
            WIDTH - 2.0 * MARGIN,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{classes, parse, png_size, svg_texts};
    use super::*;

    /// Deterministic scattered points: a few clusters with some spread.
    fn points(n: usize, seed: u32) -> (Vec<[f32; 2]>, Vec<u8>) {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            f64::from(state) / f64::from(u32::MAX) - 0.5
        };
        (0..n)
            .map(|i| {
                let label = (i % 10) as u8;
                let angle = f64::from(label) * 0.628;
                let (cx, cy) = (30.0 * angle.cos(), 18.0 * angle.sin());
                (
                    [(cx + 12.0 * next()) as f32, (cy + 12.0 * next()) as f32],
                    label,
                )
            })
            .unzip()
    }

    fn hex(c: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    /// Circle centres and fills in document order.
    fn circles(svg: &str) -> Vec<(f64, f64, String)> {
        parse(svg)
            .into_iter()
            .filter(|e| e.name == "circle")
            .map(|e| (e.num("cx"), e.num("cy"), e.attrs["fill"].clone()))
            .collect()
    }

    #[test]
    fn scatter_places_each_point_in_its_class_colour_at_one_scale() {
        let (mut coords, labels) = points(300, 7);
        coords[5] = [f32::NAN, 1.0];
        let classes = classes();
        let d = tsne_scatter(
            "t-SNE of Model 1, Epoch 8",
            "10-NN accuracy: 2-D 41.2 %, latent 45.0 % · KL 1.83",
            &coords,
            &labels,
            &classes,
        )
        .unwrap();
        let dots = circles(&d.svg);
        // Every finite point, then one legend dot per class.
        assert_eq!(dots.len(), 299 + 10);
        let shown: Vec<([f32; 2], u8)> = coords
            .iter()
            .copied()
            .zip(labels.iter().copied())
            .filter(|(c, _)| c[0].is_finite())
            .collect();
        for ((_, label), dot) in shown.iter().zip(&dots) {
            assert_eq!(dot.2, hex(style::class_color(usize::from(*label))));
        }
        // Pixels are an affine image of the data with one scale and y pointing up.
        // The scale comes from the two points farthest apart in x, so rounding to whole
        // pixels hardly affects it.
        let by_x = |i: &usize| shown[*i].0[0];
        let lo = (0..shown.len())
            .min_by(|a, b| by_x(a).total_cmp(&by_x(b)))
            .unwrap();
        let hi = (0..shown.len())
            .max_by(|a, b| by_x(a).total_cmp(&by_x(b)))
            .unwrap();
        let a = shown[lo].0;
        let k = (dots[hi].0 - dots[lo].0) / f64::from(shown[hi].0[0] - a[0]);
        assert!(k > 0.0);
        for ((c, _), dot) in shown.iter().zip(&dots) {
            let x = dots[lo].0 + k * f64::from(c[0] - a[0]);
            let y = dots[lo].1 - k * f64::from(c[1] - a[1]);
            assert!(
                (dot.0 - x).abs() <= 1.5 && (dot.1 - y).abs() <= 1.5,
                "{c:?}"
            );
        }
        let texts = svg_texts(&d.svg);
        for want in classes
            .iter()
            .map(String::as_str)
            .chain(["t-SNE of Model 1, Epoch 8"])
        {
            assert!(texts.iter().any(|t| t.2 == want), "missing {want}");
        }
        let again = tsne_scatter(
            "t-SNE of Model 1, Epoch 8",
            "10-NN accuracy: 2-D 41.2 %, latent 45.0 % · KL 1.83",
            &coords,
            &labels,
            &classes,
        )
        .unwrap();
        assert_eq!(d, again);
    }

    #[test]
    fn panels_fill_their_own_squares() {
        let classes = classes();
        for n in [1usize, 3, 4] {
            let panels: Vec<(String, Vec<[f32; 2]>)> = (0..n)
                .map(|i| (format!("Epoch {}", 4 * i), points(200, i as u32).0))
                .collect();
            let labels = points(200, 0).1;
            let d = tsne_panel("t-SNE of Model 1", &panels, &labels, &classes).unwrap();
            let fig = Panel {
                title: "t-SNE of Model 1".to_owned(),
                panels: &panels,
                labels: &labels,
                classes: &classes,
            };
            let dots = circles(&d.svg);
            assert_eq!(dots.len(), 200 * n + 10);
            let side = fig.side();
            for (i, chunk) in dots.chunks(200).take(n).enumerate() {
                let (x0, y0) = fig.origin(i);
                for dot in chunk {
                    assert!(
                        dot.0 >= x0 && dot.0 <= x0 + side && dot.1 >= y0 && dot.1 <= y0 + side,
                        "panel {i} of {n}: dot {dot:?} outside ({x0}, {y0}) + {side}"
                    );
                }
            }
            let rows: std::collections::BTreeSet<i64> =
                (0..n).map(|i| fig.origin(i).1 as i64).collect();
            assert_eq!(rows.len(), if n == 4 { 2 } else { 1 }, "{n} panels");
            let texts = svg_texts(&d.svg);
            for (name, _) in &panels {
                assert!(texts.iter().any(|t| &t.2 == name));
            }
            for c in &classes {
                assert_eq!(texts.iter().filter(|t| &t.2 == c).count(), 1, "{c}");
            }
            let (w, h) = fig.size();
            assert_eq!(png_size(&d.png), (2 * w, 2 * h));
        }
    }
}
