//! One number over seeds: how many, their mean, their sample standard deviation and the
//! 95 % interval of the mean.

use serde::{Deserialize, Serialize};

use super::bootstrap::Bootstrap;
use super::confidence::Confidence;
use super::method::{CONFIDENCE, IntervalKind, Options};
use super::moments::{finite, mean, variance};

/// One number over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Finite values used.
    pub n: usize,
    /// Values left out because they were not finite (diverged seeds).
    pub excluded: usize,
    /// Their mean; `None` without values.
    pub mean: Option<f64>,
    /// Sample standard deviation, as measured; `None` below two values.
    pub std: Option<f64>,
    /// 95 % interval of the mean; `None` below two values.
    pub interval: Option<(f64, f64)>,
    /// Whether the standard deviation was below the floor and the interval was made
    /// with the floor instead.
    pub floored: bool,
}

impl Summary {
    /// The summary of `values`, non-finite ones left out, with Student t intervals and
    /// no floor: the per-epoch bands of the curves.
    pub fn of(values: &[f64]) -> Summary {
        Summary::with(values, &Options::t(0.0))
    }

    /// The summary of `values` with `options`' interval and floor.
    pub fn with(values: &[f64], options: &Options) -> Summary {
        let v = finite(values);
        let n = v.len();
        let mean = (n > 0).then(|| mean(&v));
        let std = (n > 1).then(|| variance(&v).sqrt());
        let floored = std.is_some_and(|s| s < options.floor);
        let interval = match (mean, std) {
            (Some(m), Some(s)) => Some(
                distribution(&v, m, s.max(options.floor), floored, options).interval(CONFIDENCE),
            ),
            _ => None,
        };
        Summary {
            n,
            excluded: values.len() - n,
            mean,
            std,
            interval,
            floored,
        }
    }
}

/// The confidence distribution of the mean of `v` (mean `m`, spread `s`, already
/// floored). A bootstrap cannot widen a spread below the floor, so those fall back
/// to t with the floor.
fn distribution(v: &[f64], m: f64, s: f64, floored: bool, options: &Options) -> Confidence {
    let n = v.len() as f64;
    match options.method.interval {
        IntervalKind::Bootstrap if !floored => {
            Confidence::Bootstrap(Box::new(Bootstrap::of_mean(v, &options.method)))
        }
        _ if s > 0.0 => Confidence::T {
            estimate: m,
            se: s / n.sqrt(),
            df: n - 1.0,
        },
        _ => Confidence::Exact(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::fixtures;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    #[test]
    fn a_summary_is_numpys_mean_and_std_and_scipys_t_interval() {
        for case in fixtures::SUMMARIES {
            let s = Summary::of(case.values);
            assert_eq!((s.n, s.excluded), (case.n, case.excluded), "{}", case.name);
            close(s.mean.unwrap(), case.mean);
            close(s.std.unwrap(), case.std);
            let (lo, hi) = s.interval.unwrap();
            close(lo, case.interval.0);
            close(hi, case.interval.1);
        }
    }

    #[test]
    fn one_seed_has_no_spread_and_a_spread_below_the_floor_is_the_floor() {
        let one = Summary::of(&[0.61]);
        assert_eq!(
            (one.n, one.mean, one.std, one.interval),
            (1, Some(0.61), None, None)
        );
        assert_eq!(Summary::of(&[f64::NAN]).mean, None);
        // Three seeds that scored the same on 1,000 test images: the spread measured is
        // 0, the interval is that of a spread of one image (scipy: 0.5 ± t(0.975, 2) ·
        // 0.001 / √3 = 0.5 ± 0.0024841377117503297).
        let same = Summary::with(&[0.5, 0.5, 0.5], &Options::t(0.001));
        assert_eq!((same.std, same.floored), (Some(0.0), true));
        let (lo, hi) = same.interval.unwrap();
        close(lo, 0.5 - 0.0024841377117503297);
        close(hi, 0.5 + 0.0024841377117503297);
        // Above the floor nothing changes.
        let spread = Summary::with(&[0.59, 0.60, 0.61], &Options::t(0.001));
        assert!(!spread.floored);
        assert_eq!(spread.interval, Summary::of(&[0.59, 0.60, 0.61]).interval);
        // Without a floor a constant sample has a point for an interval.
        assert_eq!(Summary::of(&[0.5, 0.5]).interval, Some((0.5, 0.5)));
    }
}
