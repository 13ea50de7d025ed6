//! Two runs compared over seeds: the difference of their means, its interval and the
//! tests read from it. Welch's t-test on independent seeds
//! (`scipy.stats.ttest_ind(a, b, equal_var=False)`), the paired t-test on per-seed
//! differences when both sides ran the same seeds (`ttest_rel`), or their bootstraps.

use serde::{Deserialize, Serialize};

use super::bootstrap::Bootstrap;
use super::confidence::Confidence;
use super::method::{CONFIDENCE, IntervalKind, Options};
use super::moments::{finite, mean, variance};

/// What the interval of a difference says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// The interval of the difference lies above 0.
    Higher,
    /// It lies below 0.
    Lower,
    /// It covers 0.
    WithinNoise,
}

/// How the two sides were compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Test {
    /// Welch's t-test on independent samples (or its bootstrap).
    Welch,
    /// The paired t-test on per-seed differences (or its bootstrap).
    Paired,
}

/// `a` against `b`: the difference of means `a − b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Mean of `a` minus mean of `b`.
    pub difference: f64,
    /// Its 95 % interval.
    pub interval: (f64, f64),
    /// Two-sided p-value of "no difference".
    pub p_value: f64,
    /// Degrees of freedom of the t distribution (Welch–Satterthwaite, or pairs − 1).
    pub df: f64,
    /// Which test.
    pub test: Test,
    /// Which side of 0 the interval lies on.
    pub direction: Direction,
    /// Whether a spread below the floor was taken as the floor.
    pub floored: bool,
    /// The spread a seed of each side shows, for planning: the pooled standard
    /// deviation (Welch) or that of the per-seed differences (paired), floored.
    pub spread: f64,
    /// Seeds on each side.
    pub n: (usize, usize),
    /// What every test of this difference is read from.
    pub confidence: Confidence,
}

impl Comparison {
    /// The one-sided p-value of "the difference is at most `x`" (small when it is shown
    /// to be above `x`).
    pub fn p_above(&self, x: f64) -> f64 {
        self.confidence.p_above(x)
    }

    /// The one-sided p-value of "the difference is at least `x`".
    pub fn p_below(&self, x: f64) -> f64 {
        self.confidence.p_below(x)
    }

    /// The two-sided interval at `level`.
    pub fn interval_at(&self, level: f64) -> (f64, f64) {
        self.confidence.interval(level)
    }
}

/// Welch's comparison of `a` and `b`, non-finite values left out; `None` unless both
/// have at least two values.
pub fn welch(a: &[f64], b: &[f64], options: &Options) -> Option<Comparison> {
    let (a, b) = (finite(a), finite(b));
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let floor = options.floor;
    let (sa, sb) = (variance(&a).sqrt(), variance(&b).sqrt());
    let floored = sa < floor || sb < floor;
    let (va, vb) = (sa.max(floor).powi(2) / na, sb.max(floor).powi(2) / nb);
    let se = (va + vb).sqrt();
    // Welch–Satterthwaite; with no variance at all (no t is needed then), scipy's
    // choice, the smaller side's n − 1.
    let df = if va + vb > 0.0 {
        (va + vb).powi(2) / (va.powi(2) / (na - 1.0) + vb.powi(2) / (nb - 1.0))
    } else {
        na.min(nb) - 1.0
    };
    let difference = mean(&a) - mean(&b);
    let confidence = match options.method.interval {
        IntervalKind::Bootstrap if !floored => {
            Confidence::Bootstrap(Box::new(Bootstrap::of_difference(&a, &b, &options.method)))
        }
        _ => t_or_exact(difference, se, df),
    };
    let pooled = (((na - 1.0) * sa.max(floor).powi(2) + (nb - 1.0) * sb.max(floor).powi(2))
        / (na + nb - 2.0))
        .sqrt();
    Some(finish(
        difference,
        df,
        Test::Welch,
        floored,
        pooled,
        (a.len(), b.len()),
        confidence,
    ))
}

/// The paired comparison of `a[i]` with `b[i]` (the same seed on both sides); pairs with
/// a non-finite side are left out; `None` below two pairs or when the lengths differ.
pub fn paired(a: &[f64], b: &[f64], options: &Options) -> Option<Comparison> {
    if a.len() != b.len() {
        return None;
    }
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| x - y)
        .collect();
    if d.len() < 2 {
        return None;
    }
    let n = d.len() as f64;
    let sd = variance(&d).sqrt();
    let floored = sd < options.floor;
    let spread = sd.max(options.floor);
    let difference = mean(&d);
    let confidence = match options.method.interval {
        IntervalKind::Bootstrap if !floored => {
            Confidence::Bootstrap(Box::new(Bootstrap::of_mean(&d, &options.method)))
        }
        _ => t_or_exact(difference, spread / n.sqrt(), n - 1.0),
    };
    Some(finish(
        difference,
        n - 1.0,
        Test::Paired,
        floored,
        spread,
        (d.len(), d.len()),
        confidence,
    ))
}

/// Student t around `estimate`, or the point itself when there is no spread and no
/// floor to give it one.
fn t_or_exact(estimate: f64, se: f64, df: f64) -> Confidence {
    if se > 0.0 {
        Confidence::T { estimate, se, df }
    } else {
        Confidence::Exact(estimate)
    }
}

fn finish(
    difference: f64,
    df: f64,
    test: Test,
    floored: bool,
    spread: f64,
    n: (usize, usize),
    confidence: Confidence,
) -> Comparison {
    let interval = confidence.interval(CONFIDENCE);
    let direction = if interval.0 > 0.0 {
        Direction::Higher
    } else if interval.1 < 0.0 {
        Direction::Lower
    } else {
        Direction::WithinNoise
    };
    Comparison {
        difference,
        interval,
        p_value: confidence.two_sided(0.0),
        df,
        test,
        direction,
        floored,
        spread,
        n,
        confidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::fixtures;

    fn close(a: f64, b: f64, what: &str) {
        assert!((a - b).abs() < 1e-9, "{what}: {a} vs {b}");
    }

    #[test]
    fn welch_and_paired_tests_are_scipys() {
        let t = Options::t(0.0);
        for case in fixtures::TWO_SAMPLE {
            let w = welch(case.a, case.b, &t).unwrap();
            let name = case.name;
            close(w.difference, case.welch.difference, name);
            close(w.df, case.welch.df, name);
            close(w.p_value, case.welch.p_value, name);
            close(w.interval.0, case.welch.interval.0, name);
            close(w.interval.1, case.welch.interval.1, name);
            close(w.p_above(0.0), case.welch.p_greater, name);
            close(w.p_below(0.0), case.welch.p_less, name);
            match (paired(case.a, case.b, &t), &case.paired) {
                (Some(p), Some(want)) => {
                    close(p.p_value, want.p_value, name);
                    close(p.interval.0, want.interval.0, name);
                    close(p.interval.1, want.interval.1, name);
                    close(p.p_above(0.0), want.p_greater, name);
                    close(p.p_below(0.0), want.p_less, name);
                    assert_eq!(p.test, Test::Paired);
                }
                (None, None) => {}
                (got, want) => panic!("{name}: paired {got:?} vs {want:?}"),
            }
        }
    }

    #[test]
    fn the_direction_is_the_side_of_zero_the_interval_lies_on() {
        let t = Options::t(0.0);
        let a = [0.512, 0.498, 0.530];
        let b = [0.471, 0.489, 0.466];
        assert_eq!(welch(&a, &b, &t).unwrap().direction, Direction::Higher);
        assert_eq!(welch(&b, &a, &t).unwrap().direction, Direction::Lower);
        assert_eq!(
            paired(&a, &b, &t).unwrap().direction,
            Direction::WithinNoise
        );
    }

    #[test]
    fn two_equal_seeds_are_never_a_certain_difference() {
        // Two seeds each, equal within each run: no spread is measured. Unfloored that is
        // p = 0, a certain difference from two seeds; floored at one test image in 1,000
        // it is the t-test of a spread of 0.001.
        let (a, b) = ([0.501, 0.501], [0.500, 0.500]);
        let bare = welch(&a, &b, &Options::t(0.0)).unwrap();
        assert_eq!((bare.p_value, bare.floored), (0.0, false));
        let w = welch(&a, &b, &Options::t(0.001)).unwrap();
        assert!(w.floored);
        // scipy: ttest_ind_from_stats(0.501, 0.001, 2, 0.5, 0.001, 2, equal_var=False)
        close(w.p_value, 0.42264973081037427, "floored Welch");
        assert_eq!(w.direction, Direction::WithinNoise);
        let p = paired(&a, &b, &Options::t(0.001)).unwrap();
        assert!(p.floored);
        // One pair difference of 0.001 twice: t = 0.001 / (0.001 / √2) = √2 on 1 df.
        close(p.p_value, 0.3918265520306073, "floored paired");
        let same = welch(&[0.5, 0.5], &[0.5, 0.5], &Options::t(0.001)).unwrap();
        close(same.p_value, 1.0, "equal constants");
    }

    #[test]
    fn diverged_seeds_are_left_out_of_both_tests() {
        let t = Options::t(0.0);
        assert!(welch(&[0.6, f64::NAN], &[0.5, 0.4], &t).is_none());
        let p = paired(
            &[0.512, 0.498, f64::NAN, 0.530],
            &[0.471, 0.489, 0.3, 0.466],
            &t,
        )
        .unwrap();
        let q = paired(&[0.512, 0.498, 0.530], &[0.471, 0.489, 0.466], &t).unwrap();
        assert_eq!(p.p_value, q.p_value);
        assert_eq!(p.n, (3, 3));
        assert!(paired(&[0.6, 0.7, 0.8], &[0.5, 0.6], &t).is_none());
    }
}
