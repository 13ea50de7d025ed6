//! The bootstrap of a mean or of a difference of means: resamples drawn from a seeded
//! SplitMix64 (`rand_xoshiro`), so the same seeds' values give the same interval, byte
//! for byte, on every machine and in every render.
//!
//! The intervals are `scipy.stats.bootstrap`'s: the percentile interval, and BCa with
//! scipy's bias correction (the mid-rank of the estimate among the resamples) and its
//! jackknife acceleration over every sample. A resample index is the high 64 bits of
//! `next_u64() × n` (Lemire's multiply-shift, without rejection: its bias, n / 2⁶⁴, is
//! nothing at these sizes), which `bench/stats/reference.py` draws the same way, so its
//! scipy-computed intervals of the very same resamples are the unit tests' references.

use rand_xoshiro::SplitMix64;
use rand_xoshiro::rand_core::{Rng, SeedableRng};
use statrs::distribution::{ContinuousCDF, Normal};

use super::method::{BootstrapKind, Method};
use super::moments::mean;

/// Draws resample indices.
pub(super) struct Resampler {
    rng: SplitMix64,
}

impl Resampler {
    /// A generator seeded with `seed`.
    pub(super) fn new(seed: u64) -> Resampler {
        Resampler {
            rng: SplitMix64::seed_from_u64(seed),
        }
    }

    /// An index in `0..n`.
    pub(super) fn index(&mut self, n: usize) -> usize {
        ((u128::from(self.rng.next_u64()) * n as u128) >> 64) as usize
    }

    /// `values` resampled with replacement into `into`.
    fn resample(&mut self, values: &[f64], into: &mut Vec<f64>) {
        into.clear();
        for _ in 0..values.len() {
            into.push(values[self.index(values.len())]);
        }
    }
}

/// `statistic` of `resamples` resamples of the samples (each resampled on its own, in
/// order), sorted.
pub(super) fn distribution(
    samples: &[&[f64]],
    resamples: usize,
    seed: u64,
    statistic: impl Fn(&[Vec<f64>]) -> f64,
) -> Vec<f64> {
    let mut rng = Resampler::new(seed);
    let mut drawn: Vec<Vec<f64>> = samples
        .iter()
        .map(|s| Vec::with_capacity(s.len()))
        .collect();
    let mut out = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for (sample, into) in samples.iter().zip(&mut drawn) {
            rng.resample(sample, into);
        }
        out.push(statistic(&drawn));
    }
    out.sort_by(f64::total_cmp);
    out
}

/// A bootstrap distribution of a statistic with what its interval needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Bootstrap {
    /// The resampled statistic, sorted.
    sorted: Vec<f64>,
    /// Which interval.
    kind: BootstrapKind,
    /// BCa's bias correction z₀.
    z0: f64,
    /// BCa's acceleration a.
    accel: f64,
}

impl Bootstrap {
    /// The bootstrap of the mean of `values` (at least two).
    pub fn of_mean(values: &[f64], method: &Method) -> Bootstrap {
        Bootstrap::of(&[values], method, |s| mean(&s[0]))
    }

    /// The bootstrap of `mean(a) − mean(b)`, the two resampled independently (at least
    /// two values each).
    pub fn of_difference(a: &[f64], b: &[f64], method: &Method) -> Bootstrap {
        Bootstrap::of(&[a, b], method, |s| mean(&s[0]) - mean(&s[1]))
    }

    fn of(samples: &[&[f64]], method: &Method, statistic: impl Fn(&[Vec<f64>]) -> f64) -> Self {
        let sorted = distribution(samples, method.resamples, method.seed, &statistic);
        let owned: Vec<Vec<f64>> = samples.iter().map(|s| s.to_vec()).collect();
        let estimate = statistic(&owned);
        // scipy's z₀: the estimate's mid-rank among the resamples; kept inside the
        // resamples, where a point mass at an end would make it infinite.
        let b = sorted.len() as f64;
        let rank = (mid_rank(&sorted, estimate) / b).clamp(0.5 / b, 1.0 - 0.5 / b);
        let z0 = standard_normal().inverse_cdf(rank);
        Bootstrap {
            sorted,
            kind: method.bootstrap,
            z0,
            accel: acceleration(&owned, &statistic),
        }
    }

    /// The quantile of probability `q` of the distribution the interval reads: the
    /// resamples' own (percentile), or at BCa's adjusted level.
    pub fn quantile(&self, q: f64) -> f64 {
        let level = match self.kind {
            BootstrapKind::Percentile => q,
            BootstrapKind::Bca => {
                let n = standard_normal();
                let w = self.z0 + n.inverse_cdf(q);
                n.cdf(self.z0 + w / (1.0 - self.accel * w))
            }
        };
        percentile(&self.sorted, level)
    }

    /// The confidence distribution at `x`: the level whose lower bound is `x`, so that
    /// the one-sided p-value of "the statistic is at most x" is `cdf(x)`. For BCa, the
    /// inverse of the adjusted level (Efron and Tibshirani, 1993, §14.3).
    pub fn cdf(&self, x: f64) -> f64 {
        let b = self.sorted.len() as f64;
        let u = mid_rank(&self.sorted, x) / b;
        match self.kind {
            BootstrapKind::Percentile => u,
            BootstrapKind::Bca if u <= 0.0 || u >= 1.0 => u,
            BootstrapKind::Bca => {
                let n = standard_normal();
                let g = n.inverse_cdf(u) - self.z0;
                n.cdf(g / (1.0 + self.accel * g) - self.z0)
            }
        }
    }
}

/// The standard normal distribution.
fn standard_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("a valid normal")
}

/// `(#(x < score) + #(x ≤ score)) / 2`: scipy's `_percentile_of_score` times n.
fn mid_rank(sorted: &[f64], score: f64) -> f64 {
    let below = sorted.partition_point(|v| *v < score);
    let up_to = sorted.partition_point(|v| *v <= score);
    (below + up_to) as f64 / 2.0
}

/// numpy's `percentile(x, 100 q)` of sorted `x`, its default linear interpolation
/// (with its rounding: from the upper neighbour when past the middle).
pub(super) fn percentile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let h = (q * (n - 1) as f64).clamp(0.0, (n - 1) as f64);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let (a, b, t) = (sorted[lo], sorted[hi], h - lo as f64);
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// BCa's acceleration from the jackknife of every sample in turn (scipy's
/// `_bca_interval`): each value left out once, the other samples whole.
fn acceleration(samples: &[Vec<f64>], statistic: &impl Fn(&[Vec<f64>]) -> f64) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for j in 0..samples.len() {
        let n = samples[j].len();
        let mut left = samples.to_vec();
        let thetas: Vec<f64> = (0..n)
            .map(|i| {
                left[j] = samples[j]
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != i)
                    .map(|(_, v)| *v)
                    .collect();
                statistic(&left)
            })
            .collect();
        let dot = mean(&thetas);
        let nf = n as f64;
        let u: Vec<f64> = thetas.iter().map(|t| (nf - 1.0) * (dot - t)).collect();
        num += u.iter().map(|x| x.powi(3)).sum::<f64>() / nf.powi(3);
        den += u.iter().map(|x| x.powi(2)).sum::<f64>() / nf.powi(2);
    }
    // No jackknife spread at all (constant samples): no skew to correct.
    if den > 0.0 {
        num / (6.0 * den.powf(1.5))
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    //! References from `bench/stats/reference.py` (scipy 1.17.1, numpy 2.4.6): the
    //! same SplitMix64 resamples, their percentile and BCa intervals by scipy's own
    //! `_bca_interval`, and `np.percentile`.

    use super::*;
    use crate::stats::fixtures;

    fn method(kind: BootstrapKind, resamples: usize, seed: u64) -> Method {
        Method {
            interval: crate::stats::IntervalKind::Bootstrap,
            bootstrap: kind,
            resamples,
            seed,
        }
    }

    #[test]
    fn the_generator_and_its_indices_are_splitmix64s() {
        // splitmix64.c seeded with 0: the first three outputs.
        let mut rng = SplitMix64::seed_from_u64(0);
        assert_eq!(rng.next_u64(), 0xe220a8397b1dcdaf);
        assert_eq!(rng.next_u64(), 0x6e789e6aa1b965f4);
        assert_eq!(rng.next_u64(), 0x06c45d188009454f);
        let mut r = Resampler::new(0);
        let drawn: Vec<usize> = (0..3).map(|_| r.index(10)).collect();
        // ⌊0xe220a8397b1dcdaf · 10 / 2⁶⁴⌋ = 8, …
        assert_eq!(drawn, [8, 4, 0]);
    }

    #[test]
    fn percentiles_interpolate_as_numpy_does() {
        let x = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(percentile(&x, 0.0), 1.0);
        assert_eq!(percentile(&x, 1.0), 8.0);
        // np.percentile([1, 2, 4, 8], 50) = 3.0, (…, 90) = 6.8
        assert!((percentile(&x, 0.5) - 3.0).abs() < 1e-12);
        assert!((percentile(&x, 0.9) - 6.8).abs() < 1e-12);
    }

    #[test]
    fn intervals_of_means_and_differences_are_scipys_on_the_same_resamples() {
        for case in fixtures::BOOTSTRAP {
            let m = method(case.kind, case.resamples, case.seed);
            let boot = if case.b.is_empty() {
                Bootstrap::of_mean(case.a, &m)
            } else {
                Bootstrap::of_difference(case.a, case.b, &m)
            };
            let got = (boot.quantile(0.025), boot.quantile(0.975));
            let want = case.interval;
            assert!(
                (got.0 - want.0).abs() < 1e-9 && (got.1 - want.1).abs() < 1e-9,
                "{}: {got:?} vs scipy {want:?}",
                case.name
            );
            if case.kind == BootstrapKind::Bca {
                assert!((boot.z0 - case.z0).abs() < 1e-9, "{}: z0", case.name);
                assert!((boot.accel - case.accel).abs() < 1e-9, "{}: a", case.name);
            }
        }
    }

    #[test]
    fn the_confidence_distribution_inverts_the_interval() {
        // The level whose bound a quantile is, read back: cdf(quantile(q)) = q where the
        // resamples are dense enough to resolve it.
        let a = [0.61, 0.64, 0.59, 0.62, 0.66, 0.60, 0.63];
        let b = [0.55, 0.60, 0.58, 0.57, 0.61, 0.56, 0.59];
        for kind in [BootstrapKind::Percentile, BootstrapKind::Bca] {
            let boot = Bootstrap::of_difference(&a, &b, &method(kind, 10_000, 7));
            for q in [0.05, 0.25, 0.5, 0.9] {
                let back = boot.cdf(boot.quantile(q));
                assert!((back - q).abs() < 0.01, "{kind:?} {q}: {back}");
            }
            assert_eq!(boot.cdf(-1.0), 0.0);
            assert_eq!(boot.cdf(1.0), 1.0);
        }
    }
}
