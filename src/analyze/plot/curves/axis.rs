//! The axes of the curves: ticks a reader can count on (whole epochs, 1-2-5 steps)
//! and ranges that are usable whatever the data.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// A linear axis with exactly the ticks given. plotters' own f64 axis picks ticks
/// itself (and its `with_key_points` loses the label formatter), so epochs would get
/// labels like 2.5.
pub(super) struct Axis {
    /// The lowest value shown.
    pub(super) lo: f64,
    /// The highest value shown.
    pub(super) hi: f64,
    /// Where the ticks and grid lines are.
    pub(super) ticks: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = (v - self.lo) / (self.hi - self.lo);
        limit.0 + (f64::from(limit.1 - limit.0) * t).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Only the ticks as grid lines: no lighter in-between lines.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// The top of a y-axis that starts at zero and must show `top` with a little room, on a
/// round tick, and the decimals its tick labels need.
pub(super) fn from_zero(top: f64) -> (f64, usize) {
    let (step, decimals) = nice_step(top * 1.05, 6);
    let hi = if top > 0.0 {
        (top * 1.05 / step).ceil() * step
    } else {
        1.0
    };
    (hi, decimals)
}

/// `range` if it is a usable interval, else `fallback`.
pub(super) fn sane_range(range: (f64, f64), fallback: (f64, f64)) -> (f64, f64) {
    if range.0.is_finite() && range.1.is_finite() && range.0 < range.1 {
        range
    } else {
        fallback
    }
}

/// A 1-2-5 step that splits `span` into at most `max` intervals, with the decimals
/// its labels need.
pub(super) fn nice_step(span: f64, max: usize) -> (f64, usize) {
    if !(span.is_finite() && span > 0.0) {
        return (1.0, 0);
    }
    let raw = span / max as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&st| st >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag);
    let decimals = if step >= 1.0 {
        0
    } else {
        // 2.5 × 10^-k needs one more digit than 10^-k.
        let d = (-step.log10()).ceil() as usize;
        if ((step * 10f64.powi(d as i32)).round() - step * 10f64.powi(d as i32)).abs() > 1e-6 {
            d + 1
        } else {
            d
        }
    };
    (step, decimals)
}

/// Whole epochs from `lo` to `hi` at a step that keeps the labels apart.
pub(super) fn epoch_ticks(lo: i64, hi: i64) -> Vec<f64> {
    if lo > hi {
        return Vec::new();
    }
    let step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 500]
        .into_iter()
        .find(|st| (hi - lo) / st < 12)
        .unwrap_or(1000);
    // Multiples of the step, plus the first epoch when it is not one (epoch 1).
    let mut ticks: Vec<f64> = (lo..=hi)
        .filter(|e| e % step == 0)
        .map(|e| e as f64)
        .collect();
    if lo % step != 0
        && ticks
            .first()
            .is_none_or(|&t| t - lo as f64 >= step as f64 / 2.0)
    {
        ticks.insert(0, lo as f64);
    }
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_and_steps_stay_readable() {
        assert_eq!(
            epoch_ticks(1, 8),
            (1..=8).map(f64::from).collect::<Vec<_>>()
        );
        assert_eq!(
            epoch_ticks(1, 50),
            [
                1.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0
            ]
        );
        assert_eq!(nice_step(100.0, 8), (20.0, 0));
        assert_eq!(nice_step(2.1, 6), (0.5, 1));
        assert_eq!(nice_step(0.55, 2), (0.5, 1));
        assert_eq!(nice_step(0.9, 4), (0.25, 2));
    }
}
