//! Per-epoch curves: one run's accuracy or loss, and several runs' test accuracy. A run
//! of several seeds is drawn as its mean with a shaded band of ± one standard deviation.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

mod axis;
mod marks;

use self::axis::{Axis, epoch_ticks, from_zero, nice_step, sane_range};
use self::marks::{dashed, label_near};
use super::canvas::{Chart, Drawn, draw};
use super::style::{self, INK, Key, MUTED, Marker, SERIES, Scale, TAB10};
use crate::analyze::seeds::Curve;

/// Train is blue and test orange in every per-run plot, so readers learn it once.
const TRAIN: RGBColor = TAB10[0];
const TEST: RGBColor = TAB10[1];

/// Train and test accuracy per epoch (fractions, drawn in %), with the best test epoch
/// marked. The caller passes one `y_range` (in %) for every run so that sections
/// compare at a glance.
pub fn accuracy(title: &str, train: &Curve, test: &Curve, y_range: (f64, f64)) -> Result<Drawn> {
    draw(&Curves::accuracy(
        title,
        train.clone().scaled(100.0),
        test.clone().scaled(100.0),
        y_range,
    ))
}

/// Train and test loss per epoch, with the lowest test loss marked. The y-axis starts
/// at zero, so the drop reads at its true proportion.
pub fn loss(title: &str, train: &Curve, test: &Curve) -> Result<Drawn> {
    draw(&Curves::loss(title, train.clone(), test.clone()))
}

/// The learning rate of each epoch, from zero up, for a run whose rate changes.
pub fn learning_rate(title: &str, rates: &[(i64, f64)]) -> Result<Drawn> {
    draw(&Curves::learning_rate(title, rates))
}

/// Several runs' curves in one plot (every model's test accuracy, or one section's
/// variants), each with its own colour and point shape and a legend beside the plot.
pub fn overlay(
    title: &str,
    series: &[(String, Curve)],
    y_label: &str,
    y_range: (f64, f64),
) -> Result<Drawn> {
    draw(&Curves::overlay(title, series, y_label, y_range))
}

/// One plotted line.
struct Line {
    label: String,
    color: RGBColor,
    marker: Marker,
    points: Vec<(i64, f64)>,
    /// ± one standard deviation around each point, for a mean over seeds.
    sd: Option<Vec<f64>>,
}

/// The line under the heading that says what a mean curve and its band are, when any
/// curve is a mean over seeds.
fn band_note(curves: &[&Curve]) -> Option<String> {
    let seeds: Vec<usize> = curves
        .iter()
        .filter(|c| c.sd.is_some())
        .map(|c| c.seeds)
        .collect();
    let (lo, hi) = (seeds.iter().min()?, seeds.iter().max()?);
    let n = if lo == hi {
        format!("{lo} seeds")
    } else {
        format!("{lo}–{hi} seeds")
    };
    Some(format!(
        "Lines: mean of {n}; shaded: ± 1 standard deviation"
    ))
}

/// The point called out with a ring and a label.
struct Callout {
    epoch: i64,
    value: f64,
    color: RGBColor,
    text: String,
}

/// Where the legend goes: a row above the plot for two entries, a column beside it for
/// many (a row of eleven run names would wrap into a block that hides nothing but
/// reads worse).
#[derive(PartialEq)]
enum LegendAt {
    Above,
    Right,
}

struct Curves {
    title: String,
    /// What the bands are, when there are any.
    subtitle: Option<String>,
    y_label: String,
    y_range: (f64, f64),
    /// Decimals of the y tick labels.
    y_decimals: usize,
    lines: Vec<Line>,
    callout: Option<Callout>,
    legend: LegendAt,
}

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 460.0;
/// Room for the y tick labels and the rotated axis title.
const Y_AREA: f64 = 68.0;
/// Room for the x tick labels and the axis title.
const X_AREA: f64 = 48.0;
const MARGIN: f64 = 14.0;
const RIGHT: f64 = 24.0;
/// The widest a legend entry may be; longer run names are shortened with "…".
const LEGEND_MAX: f64 = 280.0;

impl Curves {
    fn accuracy(title: &str, train: Curve, test: Curve, y_range: (f64, f64)) -> Curves {
        let mean = if test.sd.is_some() { "mean " } else { "" };
        // The first of equal bests: the epoch at which that accuracy was reached.
        let callout = best(&test.points, |a, b| a > b).map(|(epoch, value)| Callout {
            epoch,
            value,
            color: TEST,
            text: format!("best {mean}{value:.1} % (epoch {epoch})"),
        });
        Curves {
            title: title.to_owned(),
            subtitle: band_note(&[&train, &test]),
            y_label: "Accuracy (%)".to_owned(),
            y_range: sane_range(y_range, (0.0, 100.0)),
            y_decimals: 0,
            lines: train_test(train, test),
            callout,
            legend: LegendAt::Above,
        }
    }

    fn loss(title: &str, train: Curve, test: Curve) -> Curves {
        let mean = if test.sd.is_some() { "mean " } else { "" };
        let callout = best(&test.points, |a, b| a < b).map(|(epoch, value)| Callout {
            epoch,
            value,
            color: TEST,
            text: format!("lowest {mean}{value:.3} (epoch {epoch})"),
        });
        let subtitle = band_note(&[&train, &test]);
        // The band's top counts: a curve's spread must fit in the plot too.
        let top = [&train, &test]
            .iter()
            .flat_map(|c| {
                c.points
                    .iter()
                    .enumerate()
                    .map(|(i, p)| p.1 + c.sd.as_ref().map_or(0.0, |sd| sd[i]))
            })
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let (hi, decimals) = from_zero(top);
        Curves {
            title: title.to_owned(),
            subtitle,
            y_label: "Loss (cross-entropy)".to_owned(),
            y_range: (0.0, hi),
            y_decimals: decimals,
            lines: train_test(train, test),
            callout,
            legend: LegendAt::Above,
        }
    }

    fn learning_rate(title: &str, rates: &[(i64, f64)]) -> Curves {
        let top = rates.iter().map(|r| r.1).fold(0.0, f64::max);
        let (hi, decimals) = from_zero(top);
        Curves {
            title: title.to_owned(),
            subtitle: None,
            y_label: "Learning rate".to_owned(),
            y_range: (0.0, hi),
            y_decimals: decimals,
            lines: vec![Line {
                label: "learning rate".to_owned(),
                color: TAB10[2],
                marker: Marker::nth(2),
                points: rates.to_vec(),
                sd: None,
            }],
            callout: None,
            legend: LegendAt::Above,
        }
    }

    fn overlay(
        title: &str,
        series: &[(String, Curve)],
        y_label: &str,
        y_range: (f64, f64),
    ) -> Curves {
        let y_range = sane_range(y_range, (0.0, 100.0));
        let lines = series
            .iter()
            .enumerate()
            .map(|(i, (label, curve))| Line {
                label: label.clone(),
                color: SERIES[i % SERIES.len()],
                marker: Marker::nth(i + i / SERIES.len()),
                points: curve.points.clone(),
                sd: curve.sd.clone(),
            })
            .collect();
        let curves: Vec<&Curve> = series.iter().map(|s| &s.1).collect();
        Curves {
            title: title.to_owned(),
            subtitle: band_note(&curves),
            y_label: y_label.to_owned(),
            y_range,
            y_decimals: nice_step(y_range.1 - y_range.0, 8).1,
            lines,
            callout: None,
            legend: LegendAt::Right,
        }
    }

    fn keys(&self) -> Vec<Key> {
        self.lines
            .iter()
            .map(|l| {
                Key {
                    label: l.label.clone(),
                    color: l.color,
                    marker: l.marker,
                    line: true,
                }
                .fitted(LEGEND_MAX)
            })
            .collect()
    }

    /// Nominal top of the chart (below heading and a legend row).
    fn chart_top(&self) -> f64 {
        let mut top = style::heading_height(WIDTH, &self.title, self.subtitle.as_deref());
        if self.legend == LegendAt::Above {
            top += style::legend_row_height(&self.keys(), WIDTH - 2.0 * MARGIN) + 6.0;
        }
        top
    }

    fn legend_width(&self) -> f64 {
        match self.legend {
            LegendAt::Above => 0.0,
            LegendAt::Right => style::legend_column_width(&self.keys()) + 16.0,
        }
    }

    /// The plotting rectangle (left, top, right, bottom) in nominal pixels: what the
    /// data maps onto.
    fn plot_rect(&self) -> (f64, f64, f64, f64) {
        (
            MARGIN + Y_AREA,
            self.chart_top(),
            WIDTH - RIGHT - self.legend_width(),
            HEIGHT - MARGIN - X_AREA,
        )
    }

    /// First and last epoch plotted (1 and 1 when there are none).
    fn epochs(&self) -> (i64, i64) {
        let epochs = self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
        let (lo, hi) = epochs.fold((i64::MAX, i64::MIN), |(lo, hi), e| (lo.min(e), hi.max(e)));
        if lo > hi { (1, 1) } else { (lo, hi) }
    }

    fn x_range(&self) -> (f64, f64) {
        let (lo, hi) = self.epochs();
        // A little room so the first and last markers do not sit on the frame.
        let pad = ((hi - lo) as f64 * 0.03).max(0.3);
        (lo as f64 - pad, hi as f64 + pad)
    }
}

impl Chart for Curves {
    fn size(&self) -> (u32, u32) {
        (WIDTH as u32, HEIGHT as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Scale) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let top = style::heading(root, s, WIDTH, &self.title, self.subtitle.as_deref())?;
        let keys = self.keys();
        if self.legend == LegendAt::Above {
            style::legend_row(root, s, &keys, (MARGIN, top), WIDTH - 2.0 * MARGIN)?;
        }
        let (left, plot_top, right, bottom) = self.plot_rect();
        let chart_area = root.clone().shrink(
            s.pt(left - Y_AREA, plot_top),
            (
                s.px(right - left + Y_AREA) as u32,
                s.px(bottom - plot_top + X_AREA) as u32,
            ),
        );
        let (x_lo, x_hi) = self.x_range();
        let x_ticks = {
            let (first, last) = self.epochs();
            epoch_ticks(first, last)
        };
        let (y_lo, y_hi) = self.y_range;
        let (y_step, _) = nice_step(y_hi - y_lo, 8);
        let y_ticks: Vec<f64> = ((y_lo / y_step).ceil() as i64..=(y_hi / y_step).floor() as i64)
            .map(|i| i as f64 * y_step)
            .collect();
        let mut chart = ChartBuilder::on(&chart_area)
            .x_label_area_size(s.px(X_AREA))
            .y_label_area_size(s.px(Y_AREA))
            .build_cartesian_2d(
                Axis {
                    lo: x_lo,
                    hi: x_hi,
                    ticks: x_ticks,
                },
                Axis {
                    lo: y_lo,
                    hi: y_hi,
                    ticks: y_ticks,
                },
            )?;
        let decimals = self.y_decimals;
        chart
            .configure_mesh()
            .x_desc("Epoch")
            .y_desc(self.y_label.as_str())
            .axis_desc_style(s.font(style::LABEL, false, INK))
            .label_style(s.font(style::TICK, false, INK))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.decimals$}"))
            .bold_line_style(style::GRID.stroke_width(s.stroke(1.0)))
            .axis_style(MUTED.stroke_width(s.stroke(1.0)))
            .set_all_tick_mark_size(s.px(5.0))
            .draw()?;

        let map = |(e, v): (i64, f64)| chart.backend_coord(&(e as f64, v.clamp(y_lo, y_hi)));
        self.draw_bands(root, &map)?;
        let drawn = self.draw_lines(root, s, &map)?;
        if self.lines.iter().all(|l| l.points.is_empty()) {
            style::text(
                root,
                s,
                "no epochs recorded",
                ((left + right) / 2.0, (plot_top + bottom) / 2.0),
                &s.font(style::LABEL, false, MUTED),
                HPos::Center,
                VPos::Center,
            )?;
        }
        if let Some(c) = &self.callout {
            let p = map((c.epoch, c.value));
            let axis = chart.backend_coord(&(c.epoch as f64, y_lo));
            dashed(root, s, p, axis, c.color.mix(0.6))?;
            root.draw(&Circle::new(
                p,
                s.px(8.0),
                c.color.stroke_width(s.stroke(2.0)),
            ))?;
            let rect = (s.px(left), s.px(plot_top), s.px(right), s.px(bottom));
            label_near(root, s, &c.text, p, rect, &drawn)?;
        }
        if self.legend == LegendAt::Right {
            style::legend_column(root, s, &keys, (right + 16.0, plot_top))?;
        }
        Ok(())
    }
}

impl Curves {
    /// The seeds' bands, under every line: a translucent band per finite stretch.
    fn draw_bands<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        map: &dyn Fn((i64, f64)) -> (i32, i32),
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        for line in &self.lines {
            let Some(sd) = &line.sd else { continue };
            let with_sd: Vec<(i64, f64, f64)> = line
                .points
                .iter()
                .zip(sd)
                .map(|(p, d)| (p.0, p.1, *d))
                .collect();
            for run in with_sd
                .split(|p| !(p.1.is_finite() && p.2.is_finite()))
                .filter(|r| r.len() > 1)
            {
                let upper = run.iter().map(|p| map((p.0, p.1 + p.2)));
                let lower = run.iter().rev().map(|p| map((p.0, p.1 - p.2)));
                root.draw(&Polygon::new(
                    upper.chain(lower).collect::<Vec<_>>(),
                    line.color.mix(0.2).filled(),
                ))?;
            }
        }
        Ok(())
    }

    /// The lines with their markers; returns the pixels of each stretch drawn, for a
    /// label to avoid.
    fn draw_lines<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        s: &Scale,
        map: &dyn Fn((i64, f64)) -> (i32, i32),
    ) -> Result<Vec<Vec<(i32, i32)>>>
    where
        DB::ErrorType: 'static,
    {
        let mut drawn = Vec::new();
        // Fifty epochs of full-size markers would merge into a thick band.
        let epochs = self.lines.iter().map(|l| l.points.len()).max().unwrap_or(0);
        let marker_radius = if epochs > 20 { 2.5 } else { 3.5 };
        for line in &self.lines {
            // A diverged epoch (NaN loss) breaks the line instead of dragging it off.
            for run in line
                .points
                .split(|p| !p.1.is_finite())
                .filter(|r| !r.is_empty())
            {
                let pixels: Vec<(i32, i32)> = run.iter().copied().map(map).collect();
                root.draw(&PathElement::new(
                    pixels.clone(),
                    line.color.stroke_width(s.stroke(2.5)),
                ))?;
                for &p in &pixels {
                    style::marker(root, s, line.marker, p, marker_radius, line.color)?;
                }
                drawn.push(pixels);
            }
        }
        Ok(drawn)
    }
}

/// The train and test lines; a mean's legend entry says it is one, and what its band is.
fn train_test(train: Curve, test: Curve) -> Vec<Line> {
    let label = |name: &str, c: &Curve| match c.sd {
        Some(_) => format!("{name}: mean ± 1 SD"),
        None => name.to_owned(),
    };
    vec![
        Line {
            label: label("train", &train),
            color: TRAIN,
            marker: Marker::Circle,
            points: train.points,
            sd: train.sd,
        },
        Line {
            label: label("test", &test),
            color: TEST,
            marker: Marker::Square,
            points: test.points,
            sd: test.sd,
        },
    ]
}

/// The first finite point that no later one beats by `better`.
fn best(points: &[(i64, f64)], better: impl Fn(f64, f64) -> bool) -> Option<(i64, f64)> {
    points
        .iter()
        .copied()
        .filter(|p| p.1.is_finite())
        .fold(None, |acc, p| match acc {
            Some(a) if !better(p.1, a.1) => Some(a),
            _ => Some(p),
        })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{metrics, png_size, polylines, svg_texts};
    use super::*;
    use crate::store::Metrics;

    /// The train and test accuracy curves of seeds `runs`.
    fn accuracies(runs: &[&Metrics]) -> (Curve, Curve) {
        (
            Curve::of(runs, |e| e.train_accuracy),
            Curve::of(runs, |e| e.test_accuracy),
        )
    }

    fn losses(m: &Metrics) -> (Curve, Curve) {
        (
            Curve::of(&[m], |e| e.train_loss),
            Curve::of(&[m], |e| e.test_loss),
        )
    }

    fn plain(points: Vec<(i64, f64)>) -> Curve {
        Curve {
            points,
            sd: None,
            seeds: 1,
        }
    }

    /// Maps an SVG polyline back through the plot rectangle and axis ranges.
    fn unmap(c: &Curves, (px, py): (f64, f64)) -> (f64, f64) {
        let (l, t, r, b) = c.plot_rect();
        let (x0, x1) = c.x_range();
        let (y0, y1) = c.y_range;
        (
            x0 + (px - l) / (r - l) * (x1 - x0),
            y0 + (b - py) / (b - t) * (y1 - y0),
        )
    }

    fn assert_line_matches(c: &Curves, svg: &str, color: RGBColor, want: &[(i64, f64)]) {
        let hex = format!("#{:02X}{:02X}{:02X}", color.0, color.1, color.2);
        let line = polylines(svg, &hex)
            .into_iter()
            .find(|l| l.len() == want.len())
            .unwrap_or_else(|| panic!("no {hex} polyline of {} points", want.len()));
        let (l, t, r, b) = c.plot_rect();
        let (x0, x1) = c.x_range();
        let (y0, y1) = c.y_range;
        // One pixel, expressed in data units on each axis.
        let (ex, ey) = ((x1 - x0) / (r - l), (y1 - y0) / (b - t));
        for (&p, &(epoch, value)) in line.iter().zip(want) {
            let (x, y) = unmap(c, p);
            assert!(
                (x - epoch as f64).abs() <= 1.5 * ex,
                "x {x} vs epoch {epoch}"
            );
            assert!((y - value).abs() <= 1.5 * ey, "y {y} vs {value}");
        }
    }

    #[test]
    fn accuracy_lines_plot_the_metrics_and_mark_the_best_test_epoch() {
        let m = metrics(&[0.22, 0.30, 0.36, 0.39, 0.39, 0.479, 0.463, 0.452]);
        let (train, test) = accuracies(&[&m]);
        let d = accuracy("Model 1 Accuracy", &train, &test, (0.0, 80.0)).unwrap();
        let c = Curves::accuracy(
            "Model 1 Accuracy",
            train.scaled(100.0),
            test.scaled(100.0),
            (0.0, 80.0),
        );
        let want = |f: fn(&crate::store::record::EpochMetrics) -> f64| -> Vec<(i64, f64)> {
            m.epochs.iter().map(|e| (e.epoch, 100.0 * f(e))).collect()
        };
        assert_line_matches(&c, &d.svg, TEST, &want(|e| e.test_accuracy));
        assert_line_matches(&c, &d.svg, TRAIN, &want(|e| e.train_accuracy));
        let texts = svg_texts(&d.svg);
        for t in ["Model 1 Accuracy", "Epoch", "Accuracy (%)", "train", "test"] {
            assert!(texts.iter().any(|x| x.2 == t), "missing {t}: {texts:?}");
        }
        assert!(
            texts.iter().any(|x| x.2 == "best 47.9 % (epoch 6)"),
            "{texts:?}"
        );
        assert_eq!(png_size(&d.png), (1600, 920));
    }

    #[test]
    fn equal_inputs_draw_equal_bytes() {
        let m = metrics(&[0.2, 0.4, 0.5]);
        let (train, test) = accuracies(&[&m]);
        let a = accuracy("A", &train, &test, (0.0, 100.0)).unwrap();
        let b = accuracy("A", &train, &test, (0.0, 100.0)).unwrap();
        assert_eq!(a.svg, b.svg);
        assert_eq!(a.png, b.png);
    }

    #[test]
    fn loss_marks_the_lowest_test_loss_and_survives_a_nan_epoch() {
        let mut m = metrics(&[0.3, 0.4, 0.5, 0.45]);
        m.epochs[3].test_loss = f64::NAN;
        m.epochs[3].train_loss = f64::NAN;
        let (train, test) = losses(&m);
        let d = loss("Loss", &train, &test).unwrap();
        let c = Curves::loss("Loss", train, test);
        let lowest = m.epochs[..3]
            .iter()
            .min_by(|a, b| a.test_loss.total_cmp(&b.test_loss))
            .unwrap();
        let label = format!("lowest {:.3} (epoch {})", lowest.test_loss, lowest.epoch);
        assert!(svg_texts(&d.svg).iter().any(|t| t.2 == label));
        let want: Vec<(i64, f64)> = m.epochs[..3]
            .iter()
            .map(|e| (e.epoch, e.test_loss))
            .collect();
        assert_line_matches(&c, &d.svg, TEST, &want);
        assert_eq!(c.y_range.0, 0.0);
        assert!(c.y_range.1 >= m.epochs[0].train_loss);
    }

    #[test]
    fn overlay_draws_every_series_in_its_own_colour_with_a_legend() {
        let series: Vec<(String, Curve)> = (0..13)
            .map(|i| {
                (
                    format!("Model {}", i + 1),
                    plain(
                        (1..=5)
                            .map(|e| (e, 20.0 + 3.0 * i as f64 + e as f64))
                            .collect(),
                    ),
                )
            })
            .collect();
        let d = overlay("Every model", &series, "Test accuracy (%)", (0.0, 80.0)).unwrap();
        let c = Curves::overlay("Every model", &series, "Test accuracy (%)", (0.0, 80.0));
        for (line, (_, curve)) in c.lines.iter().zip(&series).take(12) {
            assert_line_matches(&c, &d.svg, line.color, &curve.points);
        }
        assert!(c.subtitle.is_none(), "no band, no note about bands");
        // Twelve runs, twelve colours (the homework has eleven).
        let mut colours: Vec<_> = c.lines[..12].iter().map(|l| l.color).collect();
        colours.dedup();
        colours.sort_by_key(|c| (c.0, c.1, c.2));
        colours.dedup();
        assert_eq!(colours.len(), 12);
        // Runs past the palette reuse a colour but never a colour and shape together.
        assert_eq!(c.lines[12].color, c.lines[0].color);
        assert_ne!(c.lines[12].marker, c.lines[0].marker);
        let texts = svg_texts(&d.svg);
        for (name, _) in &series {
            assert!(texts.iter().any(|t| &t.2 == name), "no legend entry {name}");
        }
    }

    #[test]
    fn a_mean_over_seeds_is_drawn_with_its_band_and_says_so() {
        let a = metrics(&[0.20, 0.30, 0.40]);
        let mut b = metrics(&[0.30, 0.40, 0.50]);
        b.epochs[1].train_accuracy = 0.9;
        let (train, test) = accuracies(&[&a, &b]);
        let d = accuracy("Mean", &train, &test, (0.0, 100.0)).unwrap();
        let c = Curves::accuracy(
            "Mean",
            train.clone().scaled(100.0),
            test.clone().scaled(100.0),
            (0.0, 100.0),
        );
        // The line is the mean: 25, 35, 45 % test.
        assert_line_matches(&c, &d.svg, TEST, &[(1, 25.0), (2, 35.0), (3, 45.0)]);
        let texts = svg_texts(&d.svg);
        for t in [
            "train: mean ± 1 SD",
            "test: mean ± 1 SD",
            "Lines: mean of 2 seeds; shaded: ± 1 standard deviation",
            "best mean 45.0 % (epoch 3)",
        ] {
            assert!(texts.iter().any(|x| x.2 == t), "missing {t}: {texts:?}");
        }
        // One filled band per line, its top edge one standard deviation above the mean
        // (two seeds 10 points apart: SD 7.07).
        let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        let band = super::super::testutil::polygons(&d.svg, &hex(TEST));
        assert_eq!(band.len(), 1, "{band:?}");
        let top = unmap(&c, band[0][0]);
        assert!(
            (top.0 - 1.0).abs() < 0.05 && (top.1 - 32.07).abs() < 0.3,
            "{top:?}"
        );
        assert_eq!(
            super::super::testutil::polygons(&d.svg, &hex(TRAIN)).len(),
            1
        );
    }
}
