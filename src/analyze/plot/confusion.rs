//! The test confusion matrix as a heat map: with counts and names up to
//! [`DENSE_ABOVE`] classes; above, cells a few pixels wide cannot hold either, so the
//! map is shaded only, its classes ordered so that confused ones sit together, and a
//! list of the most confused pairs names what the shading shows.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{Chart, Drawn, draw};
use super::style::{self, INK, MUTED, Scale};
use crate::store::Metrics;
use crate::text::thousands;

/// The last epoch's test confusion matrix (`metrics.confusion`, `[true][predicted]`):
/// true classes down the side, predicted along the bottom, the count in every cell and
/// each class's recall beside its row. Cells are shaded by their share of the true
/// class, so rows compare even when classes are not equally frequent.
pub fn confusion(title: &str, metrics: &Metrics) -> Result<Drawn> {
    draw(&Matrix::new(title, metrics))
}

/// Classes up to which every cell shows its count and every class its name (CIFAR-10's
/// 10 and CIFAR-100's 20 superclasses); CIFAR-100's 100 get the dense map.
pub(super) const DENSE_ABOVE: usize = 20;

/// Pairs the dense map lists.
const PAIRS: usize = 10;

struct Matrix {
    title: String,
    subtitle: String,
    names: Vec<String>,
    counts: Vec<Vec<i64>>,
    /// Classes in the order drawn: as given, or in the dense map by confusion.
    order: Vec<usize>,
    /// The most confused (true, predicted, count), most first; only in the dense map.
    pairs: Vec<(usize, usize, i64)>,
}

const WIDTH: f64 = 800.0;
const MARGIN: f64 = 16.0;
/// Room for the rotated "True" title.
const AXIS_TITLE: f64 = 24.0;
/// Room for the recall column.
const RECALL: f64 = 78.0;
/// Room under the matrix: two staggered rows of class names and "Predicted".
const BELOW: f64 = 92.0;
/// Room under the dense matrix for "Predicted" and the heading of the pairs.
const DENSE_BELOW: f64 = 64.0;
/// One listed pair's line.
const PAIR_LINE: f64 = 22.0;
const COUNT: f64 = 16.0;

impl Matrix {
    fn new(title: &str, metrics: &Metrics) -> Matrix {
        let n = metrics.confusion.len();
        // A ragged matrix would be a bug upstream; drawing it square keeps it visible.
        let counts: Vec<Vec<i64>> = metrics
            .confusion
            .iter()
            .map(|row| (0..n).map(|j| row.get(j).copied().unwrap_or(0)).collect())
            .collect();
        let names = (0..n)
            .map(|i| {
                metrics
                    .classes
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| i.to_string())
            })
            .collect();
        let total: i64 = counts.iter().flatten().sum();
        let correct: i64 = (0..n).map(|i| counts[i][i]).sum();
        let dense = n > DENSE_ABOVE;
        let subtitle = if total > 0 {
            format!(
                "{} test images · accuracy {:.1} % · shade: share of the true class{}",
                thousands(total),
                100.0 * correct as f64 / total as f64,
                if dense {
                    " · classes ordered by confusion"
                } else {
                    ""
                }
            )
        } else {
            "no test images counted".to_owned()
        };
        let (order, pairs) = if dense {
            (by_confusion(&counts), most_confused(&counts, PAIRS))
        } else {
            ((0..n).collect(), Vec::new())
        };
        Matrix {
            title: title.to_owned(),
            subtitle,
            names,
            counts,
            order,
            pairs,
        }
    }

    fn n(&self) -> usize {
        self.counts.len()
    }

    fn dense(&self) -> bool {
        self.n() > DENSE_ABOVE
    }

    fn label_width(&self) -> f64 {
        if self.dense() {
            return 0.0;
        }
        self.names
            .iter()
            .map(|c| style::text_width(c, style::TICK, false))
            .fold(0.0, f64::max)
            + 12.0
    }

    /// Left, top and cell size of the matrix in nominal pixels.
    fn grid(&self) -> (f64, f64, f64) {
        let left = MARGIN + AXIS_TITLE + self.label_width();
        let top = style::heading_height(WIDTH, &self.title, Some(&self.subtitle)) + 22.0;
        let recall = if self.dense() { 0.0 } else { RECALL };
        let cell = ((WIDTH - left - recall - MARGIN) / self.n().max(1) as f64)
            .floor()
            .min(64.0);
        (left, top, cell)
    }

    /// Height under the matrix: class names and "Predicted", or in the dense map
    /// "Predicted" and the list of pairs.
    fn below(&self) -> f64 {
        match self.n() {
            0 => 0.0,
            _ if self.dense() => DENSE_BELOW + PAIR_LINE * self.pairs.len() as f64,
            _ => BELOW,
        }
    }

    /// Centre of cell (true, predicted), by drawn position.
    fn cell_center(&self, t: usize, p: usize) -> (f64, f64) {
        let (left, top, cell) = self.grid();
        (
            left + cell * (p as f64 + 0.5),
            top + cell * (t as f64 + 0.5),
        )
    }
}

impl Chart for Matrix {
    fn size(&self) -> (u32, u32) {
        let (_, top, cell) = self.grid();
        (
            WIDTH as u32,
            (top + cell * self.n() as f64 + self.below() + MARGIN) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Scale) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        style::heading(root, s, WIDTH, &self.title, Some(&self.subtitle))?;
        let n = self.n();
        if n == 0 {
            return Ok(());
        }
        let (left, top, cell) = self.grid();
        let (right, bottom) = (left + cell * n as f64, top + cell * n as f64);
        let tick = s.font(style::TICK, false, INK);
        let dense = self.dense();
        for (t, &class) in self.order.iter().enumerate() {
            let row = &self.counts[class];
            let row_total: i64 = row.iter().sum();
            for (p, &count) in self.order.iter().map(|&c| &row[c]).enumerate() {
                let share = if row_total > 0 {
                    count as f64 / row_total as f64
                } else {
                    0.0
                };
                let fill = blues(share);
                let (x, y) = (left + cell * p as f64, top + cell * t as f64);
                root.draw(&Rectangle::new(
                    [s.pt(x, y), s.pt(x + cell, y + cell)],
                    fill.filled(),
                ))?;
                if dense {
                    continue;
                }
                let ink = if count == 0 {
                    RGBColor(0xAA, 0xAA, 0xAA)
                } else if luminance(fill) < 0.5 {
                    WHITE
                } else {
                    INK
                };
                style::text(
                    root,
                    s,
                    &count.to_string(),
                    self.cell_center(t, p),
                    &s.font(COUNT, t == p, ink),
                    HPos::Center,
                    VPos::Center,
                )?;
            }
            if dense {
                continue;
            }
            let (_, cy) = self.cell_center(t, 0);
            style::text(
                root,
                s,
                &self.names[class],
                (left - 8.0, cy),
                &tick,
                HPos::Right,
                VPos::Center,
            )?;
            let recall = if row_total > 0 {
                format!("{:.1} %", 100.0 * row[t] as f64 / row_total as f64)
            } else {
                "–".to_owned()
            };
            style::text(
                root,
                s,
                &recall,
                (right + RECALL - 8.0, cy),
                &tick,
                HPos::Right,
                VPos::Center,
            )?;
        }
        // White rules between cells keep equal shades apart; a dense map's cells are
        // too small for them.
        for i in (1..n).filter(|_| !dense) {
            let at = cell * i as f64;
            let rule = WHITE.stroke_width(s.stroke(1.0));
            root.draw(&PathElement::new(
                vec![s.pt(left + at, top), s.pt(left + at, bottom)],
                rule,
            ))?;
            root.draw(&PathElement::new(
                vec![s.pt(left, top + at), s.pt(right, top + at)],
                rule,
            ))?;
        }
        root.draw(&Rectangle::new(
            [s.pt(left, top), s.pt(right, bottom)],
            MUTED.stroke_width(s.stroke(1.0)),
        ))?;
        let label = s.font(style::LABEL, true, INK);
        style::text_vertical(
            root,
            s,
            "True",
            (MARGIN + AXIS_TITLE / 2.0, (top + bottom) / 2.0),
            &label,
        )?;
        if dense {
            return self.draw_pairs(root, s, (left, right, bottom));
        }
        style::text(
            root,
            s,
            "recall",
            (right + RECALL - 8.0, top - 6.0),
            &s.font(style::TICK, true, MUTED),
            HPos::Right,
            VPos::Bottom,
        )?;
        // Class names are wider than a cell, so alternate columns drop to a second
        // row, each tied to its column by a tick.
        for (p, name) in self.names.iter().enumerate() {
            let (cx, _) = self.cell_center(0, p);
            let depth = if p % 2 == 0 { 6.0 } else { 28.0 };
            root.draw(&PathElement::new(
                vec![s.pt(cx, bottom), s.pt(cx, bottom + depth - 2.0)],
                MUTED.stroke_width(s.stroke(1.0)),
            ))?;
            style::text(
                root,
                s,
                name,
                (cx, bottom + depth),
                &tick,
                HPos::Center,
                VPos::Top,
            )?;
        }
        style::text(
            root,
            s,
            "Predicted",
            ((left + right) / 2.0, bottom + 58.0),
            &label,
            HPos::Center,
            VPos::Top,
        )?;
        Ok(())
    }
}

impl Matrix {
    /// Under a dense map: "Predicted", then its most confused pairs, one a line.
    fn draw_pairs<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        s: &Scale,
        (left, right, bottom): (f64, f64, f64),
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let label = s.font(style::LABEL, true, INK);
        style::text(
            root,
            s,
            "Predicted (same order)",
            ((left + right) / 2.0, bottom + 6.0),
            &label,
            HPos::Center,
            VPos::Top,
        )?;
        let heading = if self.pairs.is_empty() {
            "No test image was confused with another class".to_owned()
        } else {
            format!("Most confused pairs (true → predicted), {} at most", PAIRS)
        };
        style::text(
            root,
            s,
            &heading,
            (left, bottom + 36.0),
            &s.font(style::TICK, true, INK),
            HPos::Left,
            VPos::Top,
        )?;
        let tick = s.font(style::TICK, false, INK);
        for (i, &(t, p, count)) in self.pairs.iter().enumerate() {
            let row_total: i64 = self.counts[t].iter().sum();
            let line = format!(
                "{} → {}: {} ({:.1} % of {})",
                self.names[t],
                self.names[p],
                thousands(count),
                100.0 * count as f64 / row_total.max(1) as f64,
                self.names[t]
            );
            style::text(
                root,
                s,
                &line,
                (left, bottom + DENSE_BELOW + PAIR_LINE * i as f64 - 4.0),
                &tick,
                HPos::Left,
                VPos::Top,
            )?;
        }
        Ok(())
    }
}

/// The off-diagonal cells with the most images, at most `k`, most first (ties by true
/// then predicted class, so the list is the same every time); empty cells never.
fn most_confused(counts: &[Vec<i64>], k: usize) -> Vec<(usize, usize, i64)> {
    let mut cells: Vec<(usize, usize, i64)> = counts
        .iter()
        .enumerate()
        .flat_map(|(t, row)| row.iter().enumerate().map(move |(p, &c)| (t, p, c)))
        .filter(|&(t, p, c)| t != p && c > 0)
        .collect();
    cells.sort_by(|a, b| b.2.cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    cells.truncate(k);
    cells
}

/// An order of the classes in which confused ones sit together: a chain that starts at
/// the most confused pair and goes on each time to the class not yet placed that the
/// last one is most confused with either way (ties: the lower index), starting a new
/// chain at the lowest class left where the last one is confused with none.
fn by_confusion(counts: &[Vec<i64>]) -> Vec<usize> {
    let n = counts.len();
    let between = |a: usize, b: usize| counts[a][b] + counts[b][a];
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut next = most_confused(counts, 1).first().map_or(0, |&(t, _, _)| t);
    while order.len() < n {
        placed[next] = true;
        order.push(next);
        let last = next;
        let closest = (0..n)
            .filter(|&c| !placed[c])
            .max_by(|&a, &b| between(last, a).cmp(&between(last, b)).then(b.cmp(&a)));
        next = match closest {
            Some(c) if between(last, c) > 0 => c,
            _ => match (0..n).find(|&c| !placed[c]) {
                Some(c) => c,
                None => break,
            },
        };
    }
    order
}

/// Matplotlib's "Blues" ramp at `share` in [0, 1]: light for rare, dark for common.
fn blues(share: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (0xF7, 0xFB, 0xFF),
        (0xDE, 0xEB, 0xF7),
        (0xC6, 0xDB, 0xEF),
        (0x9E, 0xCA, 0xE1),
        (0x6B, 0xAE, 0xD6),
        (0x42, 0x92, 0xC6),
        (0x21, 0x71, 0xB5),
        (0x08, 0x51, 0x9C),
        (0x08, 0x30, 0x6B),
    ];
    let x = share.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Perceived brightness in [0, 1], enough to choose black or white text.
fn luminance(c: RGBColor) -> f64 {
    (0.2126 * f64::from(c.0) + 0.7152 * f64::from(c.1) + 0.0722 * f64::from(c.2)) / 255.0
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{metrics, png_size, svg_texts};
    use super::*;

    #[test]
    fn every_count_sits_in_its_cell_rows_true_columns_predicted() {
        let mut m = metrics(&[0.5]);
        // Distinct counts, asymmetric, so a transposed matrix cannot pass.
        m.confusion = (0..10)
            .map(|t| (0..10).map(|p| (100 * t + p) as i64).collect())
            .collect();
        let d = confusion("Model 1 Confusion Matrix", &m).unwrap();
        let texts = svg_texts(&d.svg);
        let fig = Matrix::new("Model 1 Confusion Matrix", &m);
        for t in 0..10 {
            for p in 0..10 {
                let (cx, cy) = fig.cell_center(t, p);
                let want = (100 * t + p).to_string();
                assert!(
                    texts
                        .iter()
                        .any(|x| x.2 == want && (x.0 - cx).abs() < 1.0 && (x.1 - cy).abs() < 1.0),
                    "count {want} not at the centre of cell ({t}, {p})"
                );
            }
        }
        for name in &m.classes {
            // Once down the side, once along the bottom.
            assert_eq!(texts.iter().filter(|x| &x.2 == name).count(), 2, "{name}");
        }
        for t in ["Model 1 Confusion Matrix", "Predicted", "True", "recall"] {
            assert!(texts.iter().any(|x| x.2 == t), "missing {t}");
        }
        let (w, h) = fig.size();
        assert_eq!(png_size(&d.png), (2 * w, 2 * h));
    }

    #[test]
    fn a_hundred_classes_are_shaded_ordered_by_confusion_and_their_worst_pairs_listed() {
        let mut m = metrics(&[0.5]);
        let n = 100;
        m.classes = (0..n).map(|i| format!("class{i}")).collect();
        // 40 right of each class; class 17 taken for 63 twelve times, 63 for 17 five
        // times, 63 for 88 nine times; one stray image per class elsewhere (class t
        // for 7t + 3 mod 100, never itself nor one of those cells).
        m.confusion = (0..n)
            .map(|t| {
                let mut row = vec![0i64; n];
                row[t] = 40;
                row[(t * 7 + 3) % n] += 1;
                row
            })
            .collect();
        m.confusion[17][63] += 12;
        m.confusion[63][17] += 5;
        m.confusion[63][88] += 9;
        let fig = Matrix::new("Confusion", &m);
        assert!(fig.dense());
        let pos = |c: usize| fig.order.iter().position(|&x| x == c).unwrap();
        assert_eq!(fig.order.len(), n);
        assert_eq!(pos(17), 0, "the chain starts at the most confused pair");
        assert_eq!(pos(63), 1);
        assert_eq!(pos(88), 2);
        let mut sorted = fig.order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "every class once");
        assert_eq!(fig.pairs[0], (17, 63, 12));
        assert_eq!(fig.pairs[1], (63, 88, 9));
        assert_eq!(fig.pairs.len(), PAIRS);

        let d = confusion("Confusion", &m).unwrap();
        let texts = svg_texts(&d.svg);
        // No count in a cell, no class name on an axis: only the title, subtitle, axis
        // titles, the heading of the list and its ten lines.
        assert!(texts.len() <= 20, "{} texts: {texts:?}", texts.len());
        assert!(!texts.iter().any(|x| x.2 == "40"), "a count was drawn");
        let first = "class17 → class63: 12 (22.6 % of class17)";
        assert!(texts.iter().any(|x| x.2 == first), "{texts:?}");
        assert!(texts.iter().any(|x| x.2.contains("ordered by confusion")));
        let (w, h) = fig.size();
        assert_eq!(png_size(&d.png), (2 * w, 2 * h));
        // Ten classes keep their counts and names.
        assert!(!Matrix::new("t", &metrics(&[0.5])).dense());
    }

    #[test]
    fn shades_follow_the_row_share_and_text_stays_readable() {
        assert_eq!(blues(0.0), RGBColor(0xF7, 0xFB, 0xFF));
        assert_eq!(blues(1.0), RGBColor(0x08, 0x30, 0x6B));
        for i in 0..=20 {
            let c = blues(f64::from(i) / 20.0);
            let (bg, text) = (luminance(c), if luminance(c) < 0.5 { 1.0 } else { 0.13 });
            // Contrast in brightness of at least a third of the range, either way.
            assert!(
                (bg - text).abs() > 0.33,
                "share {}: {bg}",
                f64::from(i) / 20.0
            );
        }
    }
}
