//! How large a difference is, beside whether it is there: Hedges' g (the difference in
//! pooled standard deviations, corrected for small samples) and the probability of
//! improvement P(A > B) over pairs of seeds with its bootstrap interval, as rliable
//! reports it (Agarwal et al., 2021).

use serde::{Deserialize, Serialize};
use statrs::function::gamma::ln_gamma;

use super::bootstrap::{distribution, percentile};
use super::method::{CONFIDENCE, Method};
use super::moments::{finite, mean, variance};

/// Hedges' g of `a` against `b`: (mean a − mean b) / pooled SD, times the exact
/// small-sample correction J(ν) = Γ(ν/2) / (√(ν/2) Γ((ν − 1)/2)), ν = nₐ + n_b − 2.
/// The pooled SD is floored at `floor`. `None` below two values a side.
pub fn hedges_g(a: &[f64], b: &[f64], floor: f64) -> Option<f64> {
    let (a, b) = (finite(a), finite(b));
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let df = na + nb - 2.0;
    let pooled = (((na - 1.0) * variance(&a) + (nb - 1.0) * variance(&b)) / df).sqrt();
    let pooled = pooled.max(floor);
    if pooled == 0.0 {
        return None;
    }
    let j = (ln_gamma(df / 2.0) - ln_gamma((df - 1.0) / 2.0)).exp() / (df / 2.0).sqrt();
    Some(j * (mean(&a) - mean(&b)) / pooled)
}

/// The probability that a seed of A beats a seed of B.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Improvement {
    /// P(A better than B), ties counted half: the Mann–Whitney U over nₐ·n_b.
    pub probability: f64,
    /// Its 95 % percentile interval over a stratified bootstrap (each side resampled
    /// on its own).
    pub interval: (f64, f64),
}

/// P(A better than B) over every pair of seeds, `higher_is_better` saying which way is
/// better; `None` without a value on either side.
pub fn probability_of_improvement(
    a: &[f64],
    b: &[f64],
    higher_is_better: bool,
    method: &Method,
) -> Option<Improvement> {
    let (a, b) = (finite(a), finite(b));
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let sign = if higher_is_better { 1.0 } else { -1.0 };
    let pi = |x: &[f64], y: &[f64]| {
        let mut wins = 0.0;
        for xi in x {
            for yj in y {
                let (p, q) = (sign * xi, sign * yj);
                wins += if p > q {
                    1.0
                } else if p == q {
                    0.5
                } else {
                    0.0
                };
            }
        }
        wins / (x.len() * y.len()) as f64
    };
    let resampled = distribution(&[&a, &b], method.resamples, method.seed, |s| {
        pi(&s[0], &s[1])
    });
    let tail = (1.0 - CONFIDENCE) / 2.0;
    Some(Improvement {
        probability: pi(&a, &b),
        interval: (
            percentile(&resampled, tail),
            percentile(&resampled, 1.0 - tail),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::fixtures;

    #[test]
    fn effect_sizes_are_the_references() {
        for case in fixtures::EFFECTS {
            let g = hedges_g(case.a, case.b, 0.0).unwrap();
            assert!((g - case.hedges_g).abs() < 1e-9, "{}: g {g}", case.name);
            let m = Method {
                resamples: case.resamples,
                seed: case.seed,
                ..Method::default()
            };
            let pi = probability_of_improvement(case.a, case.b, true, &m).unwrap();
            assert!((pi.probability - case.pi).abs() < 1e-12, "{}", case.name);
            assert!(
                (pi.interval.0 - case.pi_interval.0).abs() < 1e-9
                    && (pi.interval.1 - case.pi_interval.1).abs() < 1e-9,
                "{}: {:?} vs {:?}",
                case.name,
                pi.interval,
                case.pi_interval
            );
        }
    }

    #[test]
    fn improvement_counts_ties_half_and_knows_a_lower_loss_is_better() {
        let m = Method {
            resamples: 200,
            ..Method::default()
        };
        let p = probability_of_improvement(&[1.0, 2.0], &[2.0, 0.0], true, &m).unwrap();
        // (1 > 2: 0, 1 > 0: 1, 2 = 2: ½, 2 > 0: 1) / 4
        assert_eq!(p.probability, 0.625);
        let loss = probability_of_improvement(&[1.0, 2.0], &[2.0, 0.0], false, &m).unwrap();
        assert_eq!(loss.probability, 0.375);
        assert!(p.interval.0 <= p.probability && p.probability <= p.interval.1);
        assert!(probability_of_improvement(&[], &[1.0], true, &m).is_none());
        // Equal constants have no spread to scale by.
        assert_eq!(hedges_g(&[0.5, 0.5], &[0.5, 0.5], 0.0), None);
        assert!(hedges_g(&[0.5, 0.5], &[0.5, 0.5], 0.001).unwrap().abs() < 1e-12);
    }
}
