//! Statistics over seeds: the spread of one run's numbers and the comparison of two runs,
//! with Student t intervals and tests from `statrs` (no special function is written here).
//!
//! Conventions, the ones a reader checks against scipy: the standard deviation is the
//! sample one (n − 1); intervals are two-sided 95 %; two runs are compared by Welch's
//! t-test (`scipy.stats.ttest_ind(a, b, equal_var=False)`), or by the paired t-test
//! (`ttest_rel`) when both ran the same seeds; the difference is *higher* or *lower* when
//! its interval excludes 0 and *within noise* when it covers it. A value
//! that is not finite (a diverged seed) is left out and counted, never averaged in, and
//! with fewer than two values there is no spread and no comparison.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;

/// One number over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Finite values used.
    pub n: usize,
    /// Values left out because they were not finite (diverged seeds).
    pub excluded: usize,
    /// Their mean; `None` without values.
    pub mean: Option<f64>,
    /// Sample standard deviation; `None` below two values.
    pub std: Option<f64>,
    /// 95 % interval of the mean (Student t, n − 1 degrees of freedom); `None` below two
    /// values.
    pub interval: Option<(f64, f64)>,
}

impl Summary {
    /// The summary of `values`, non-finite ones left out.
    pub fn of(values: &[f64]) -> Summary {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let n = finite.len();
        let mean = (n > 0).then(|| mean(&finite));
        let std = (n > 1).then(|| variance(&finite).sqrt());
        let interval = match (mean, std) {
            (Some(m), Some(s)) => {
                let half = t_quantile((n - 1) as f64) * s / (n as f64).sqrt();
                Some((m - half, m + half))
            }
            _ => None,
        };
        Summary {
            n,
            excluded: values.len() - n,
            mean,
            std,
            interval,
        }
    }
}

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
    /// Welch's t-test on independent samples.
    Welch,
    /// The paired t-test on per-seed differences.
    Paired,
}

/// `a` against `b`: the difference of means `a − b`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Mean of `a` minus mean of `b`.
    pub difference: f64,
    /// Its 95 % interval.
    pub interval: (f64, f64),
    /// Two-sided p-value of "no difference".
    pub p_value: f64,
    /// Degrees of freedom of the t distribution used.
    pub df: f64,
    /// Which test.
    pub test: Test,
    /// Which side of 0 the interval lies on.
    pub direction: Direction,
}

/// Welch's comparison of `a` and `b`, non-finite values left out; `None` unless both
/// have at least two values.
pub fn welch(a: &[f64], b: &[f64]) -> Option<Comparison> {
    let a: Vec<f64> = a.iter().copied().filter(|v| v.is_finite()).collect();
    let b: Vec<f64> = b.iter().copied().filter(|v| v.is_finite()).collect();
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (variance(&a) / na, variance(&b) / nb);
    let se = (va + vb).sqrt();
    // Welch–Satterthwaite; with no variance at all (no t is needed then), scipy's
    // choice, the smaller side's n − 1.
    let df = if va + vb > 0.0 {
        (va + vb).powi(2) / (va.powi(2) / (na - 1.0) + vb.powi(2) / (nb - 1.0))
    } else {
        na.min(nb) - 1.0
    };
    Some(compare(mean(&a) - mean(&b), se, df, Test::Welch))
}

/// The paired comparison of `a[i]` with `b[i]` (the same seed on both sides); pairs with
/// a non-finite side are left out; `None` below two pairs or when the lengths differ.
pub fn paired(a: &[f64], b: &[f64]) -> Option<Comparison> {
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
    let se = (variance(&d) / n).sqrt();
    Some(compare(mean(&d), se, n - 1.0, Test::Paired))
}

/// The interval, p-value and direction of a difference with standard error `se`.
fn compare(difference: f64, se: f64, df: f64, test: Test) -> Comparison {
    let (interval, p_value) = if se > 0.0 {
        let t = difference / se;
        let half = t_quantile(df) * se;
        let dist = StudentsT::new(0.0, 1.0, df).expect("df > 0");
        (
            (difference - half, difference + half),
            (2.0 * dist.cdf(-t.abs())).min(1.0),
        )
    } else {
        // No spread at all: the difference is exact. scipy says nan for 0/0; the
        // honest reading is "no difference" (p = 1) or a certain one (p = 0).
        let p = if difference == 0.0 { 1.0 } else { 0.0 };
        ((difference, difference), p)
    };
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
        p_value,
        df,
        test,
        direction,
    }
}

/// The t quantile of the two-sided [`CONFIDENCE`] interval with `df` degrees of freedom.
fn t_quantile(df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df)
        .expect("df > 0")
        .inverse_cdf(0.5 + CONFIDENCE / 2.0)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The sample variance (n − 1).
fn variance(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
}

#[cfg(test)]
mod tests {
    //! Reference values from scipy 1.17.1 / numpy 2.4.6, printed by
    //! `python3 refs.py` with, for each pair (a, b):
    //! `stats.ttest_ind(a, b, equal_var=False)`, `stats.ttest_rel(a, b)`,
    //! `stats.t.ppf(0.975, df)`, the Welch–Satterthwaite df, and each side's
    //! `mean()`, `std(ddof=1)` and `mean ± t.ppf(0.975, n-1) * std / sqrt(n)`.

    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    fn close_pair(a: (f64, f64), b: (f64, f64)) {
        close(a.0, b.0);
        close(a.1, b.1);
    }

    #[test]
    fn quantiles_are_students() {
        // stats.t.ppf(0.975, 1), (…, 2), (…, 4)
        close(t_quantile(1.0), 12.706204736174694);
        close(t_quantile(2.0), 4.302652729749462);
        close(t_quantile(4.0), 2.7764451051977934);
    }

    #[test]
    fn two_seeds_of_model_5_against_model_7_are_within_noise() {
        // The numbers: Model 5 69.7 / 71.8 %, Model 7 71.1 / 71.4 %.
        let (a, b) = ([0.697, 0.718], [0.711, 0.714]);
        let s = Summary::of(&a);
        assert_eq!((s.n, s.excluded), (2, 0));
        close(s.mean.unwrap(), 0.7075);
        close(s.std.unwrap(), 0.014849242404917511);
        close_pair(
            s.interval.unwrap(),
            (0.5740848502701656, 0.8409151497298344),
        );
        let w = welch(&a, &b).unwrap();
        close(w.df, 1.0407993338884263);
        close(w.p_value, 0.717092178275335);
        close_pair(w.interval, (-0.12790464661814627, 0.1179046466181465));
        assert_eq!((w.test, w.direction), (Test::Welch, Direction::WithinNoise));
        let p = paired(&a, &b).unwrap();
        close(p.p_value, 0.6771710655658094);
        close_pair(p.interval, (-0.11935584262557233, 0.10935584262557232));
        assert_eq!(
            (p.test, p.direction),
            (Test::Paired, Direction::WithinNoise)
        );
    }

    #[test]
    fn three_seeds_can_be_better_by_welch_and_within_noise_paired() {
        let (a, b) = ([0.512, 0.498, 0.530], [0.471, 0.489, 0.466]);
        let w = welch(&a, &b).unwrap();
        close(w.difference, 0.5133333333333333 - 0.47533333333333333);
        close(w.df, 3.7188074121502934);
        close(w.p_value, 0.03407654057838328);
        close_pair(w.interval, (0.004810249054297951, 0.07118975094570201));
        assert_eq!(w.direction, Direction::Higher);
        let p = paired(&a, &b).unwrap();
        close(p.p_value, 0.1400572482074561);
        close_pair(p.interval, (-0.030617981247099836, 0.10661798124709987));
        assert_eq!(p.direction, Direction::WithinNoise);
        // Swapped sides: the same numbers, negated, and "worse".
        let back = welch(&b, &a).unwrap();
        assert_eq!(back.direction, Direction::Lower);
        close(back.p_value, w.p_value);
        let s = Summary::of(&b);
        close(s.std.unwrap(), 0.012096831541082691);
        close_pair(
            s.interval.unwrap(),
            (0.44528313790943896, 0.5053835287572277),
        );
    }

    #[test]
    fn unequal_counts_and_equal_means() {
        let w = welch(&[0.61, 0.64, 0.59, 0.62], &[0.55, 0.60, 0.58]).unwrap();
        close(w.df, 3.895434462444779);
        close(w.p_value, 0.10040267683272466);
        close_pair(w.interval, (-0.011819867676216407, 0.08848653434288306));
        assert!(paired(&[0.61, 0.64, 0.59, 0.62], &[0.55, 0.60, 0.58]).is_none());
        let (a, b) = ([0.5, 0.6, 0.7], [0.6, 0.5, 0.7]);
        let w = welch(&a, &b).unwrap();
        close(w.difference, 0.0);
        close(w.p_value, 1.0);
        close(w.df, 4.0);
        close_pair(w.interval, (-0.22669579355275182, 0.22669579355275182));
        let p = paired(&a, &b).unwrap();
        close(p.p_value, 1.0);
        close_pair(p.interval, (-0.24841377117503297, 0.24841377117503297));
        assert_eq!(p.direction, Direction::WithinNoise);
    }

    #[test]
    fn zero_variance_gives_an_exact_difference() {
        // scipy: ttest_ind([0.5,0.5],[0.4,0.4]) is t = inf, p = 0.0.
        let w = welch(&[0.5, 0.5], &[0.4, 0.4]).unwrap();
        close(w.p_value, 0.0);
        close_pair(w.interval, (0.09999999999999998, 0.09999999999999998));
        assert_eq!(w.direction, Direction::Higher);
        // scipy says nan (0/0) for equal constant samples; here: no difference, p = 1.
        let same = welch(&[0.5, 0.5], &[0.5, 0.5]).unwrap();
        assert_eq!(
            (same.p_value, same.direction),
            (1.0, Direction::WithinNoise)
        );
        let s = Summary::of(&[0.5, 0.5, 0.5]);
        assert_eq!((s.std, s.interval), (Some(0.0), Some((0.5, 0.5))));
    }

    #[test]
    fn diverged_seeds_are_left_out_and_counted_and_one_seed_has_no_spread() {
        let s = Summary::of(&[0.512, f64::NAN, 0.498, 0.530, f64::INFINITY]);
        assert_eq!((s.n, s.excluded), (3, 2));
        close(s.mean.unwrap(), 0.5133333333333333);
        close(s.std.unwrap(), 0.0160416125540213);
        close_pair(
            s.interval.unwrap(),
            (0.47348375863060144, 0.5531829080360652),
        );
        let one = Summary::of(&[0.61]);
        assert_eq!(
            (one.n, one.mean, one.std, one.interval),
            (1, Some(0.61), None, None)
        );
        assert_eq!(Summary::of(&[f64::NAN]).mean, None);
        // A comparison needs two finite values a side; a NaN pair drops out of the pairing.
        assert!(welch(&[0.6, f64::NAN], &[0.5, 0.4]).is_none());
        let p = paired(
            &[0.512, 0.498, f64::NAN, 0.530],
            &[0.471, 0.489, 0.3, 0.466],
        )
        .unwrap();
        close(p.p_value, 0.1400572482074561);
    }
}
