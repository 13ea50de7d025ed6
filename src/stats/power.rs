//! Seeds needed: the power of the test a claim or a comparison uses, at a given number
//! of seeds per side, if the true difference were the one observed and the seeds
//! spread as they did; and the fewest seeds that reach [`TARGET_POWER`].
//!
//! The power is exact for the t-tests: the probability that the test rejects, given the
//! estimated standard error s·SE (s² a χ²_ν / ν variable), averaged over s's
//! distribution: `∫ P(reject | s) dF(s)`. For a one-sided test that is the noncentral
//! t's tail (`scipy.stats.nct.sf(t_c, ν, λ)`), for TOST the integral Owen's Q
//! function writes; both are integrated here by tanh-sinh quadrature (`quadrature`) of
//! `statrs`'s normal and χ² functions. Planning assumes equal seeds per side and the
//! pooled t-test (ν = 2n − 2) for independent seeds, the paired t-test (ν = n − 1) for
//! seeds run on both sides.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF, Normal, StudentsT};

use super::decide::Hypothesis;

/// The power a plan asks for.
pub const TARGET_POWER: f64 = 0.8;

/// No plan is made beyond this many seeds per side.
pub const MAX_SEEDS: usize = 1000;

/// How the seeds of the two sides relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Design {
    /// The same seeds on both sides: the paired t-test on the differences.
    Paired,
    /// Different seeds: the two-sample t-test.
    Independent,
}

/// The question a test answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Question {
    /// Is there any difference (two-sided at α)?
    Differ,
    /// Does a claim hold (one-sided at α, or TOST)?
    Claim(Hypothesis),
}

/// The fewest seeds per side that reach the target power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "seeds")]
pub enum SeedsNeeded {
    /// This many.
    Seeds(usize),
    /// More than [`MAX_SEEDS`].
    Beyond(usize),
    /// No number of seeds: the observed difference does not lie the way the test
    /// needs (on the wrong side of the bound, or outside the margin), or is zero.
    Unreachable,
}

/// The power of `question`'s test at level `alpha` with `n` seeds per side, if the
/// true difference is `delta` and one seed's spread `sd` (of a side, or of the paired
/// differences).
pub fn power(question: Question, delta: f64, sd: f64, n: usize, design: Design, alpha: f64) -> f64 {
    let nf = n as f64;
    let (se, df) = match design {
        Design::Independent => (sd * (2.0 / nf).sqrt(), 2.0 * nf - 2.0),
        Design::Paired => (sd / nf.sqrt(), nf - 1.0),
    };
    let z = Normal::new(0.0, 1.0).expect("a valid normal");
    let t = StudentsT::new(0.0, 1.0, df).expect("df > 0");
    let phi = |x: f64| z.cdf(x);
    match question {
        Question::Differ => {
            let c = t.inverse_cdf(1.0 - alpha / 2.0);
            let l = delta / se;
            expect_over_s(df, f64::INFINITY, |s| phi(l - c * s) + phi(-l - c * s))
        }
        Question::Claim(Hypothesis::Above(b)) => {
            let (c, l) = (t.inverse_cdf(1.0 - alpha), (delta - b) / se);
            expect_over_s(df, f64::INFINITY, |s| phi(l - c * s))
        }
        Question::Claim(Hypothesis::Below(b)) => {
            let (c, l) = (t.inverse_cdf(1.0 - alpha), (delta - b) / se);
            expect_over_s(df, f64::INFINITY, |s| phi(-l - c * s))
        }
        Question::Claim(Hypothesis::Within(m)) => {
            let (c, k, mu) = (t.inverse_cdf(1.0 - alpha), m / se, delta / se);
            // Both tests reject only while the interval is narrower than the margin.
            expect_over_s(df, k / c, |s| {
                (phi(k - c * s - mu) - phi(-k + c * s - mu)).max(0.0)
            })
        }
    }
}

/// The fewest seeds per side (two at least) whose power reaches [`TARGET_POWER`].
pub fn seeds_needed(
    question: Question,
    delta: f64,
    sd: f64,
    design: Design,
    alpha: f64,
) -> SeedsNeeded {
    let reachable = match question {
        Question::Differ => delta != 0.0,
        Question::Claim(Hypothesis::Above(b)) => delta > b,
        Question::Claim(Hypothesis::Below(b)) => delta < b,
        Question::Claim(Hypothesis::Within(m)) => delta.abs() < m,
    };
    // `sd > 0` is false for NaN too: no spread to plan with.
    let spread = sd > 0.0;
    if !reachable || !spread {
        return SeedsNeeded::Unreachable;
    }
    let enough = |n: usize| power(question, delta, sd, n, design, alpha) >= TARGET_POWER;
    // Power grows with n: double until enough, then halve the gap.
    let (mut lo, mut hi) = (1, 2);
    while !enough(hi) {
        if hi >= MAX_SEEDS {
            return SeedsNeeded::Beyond(MAX_SEEDS);
        }
        lo = hi;
        hi = (hi * 2).min(MAX_SEEDS);
    }
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if enough(mid) { hi = mid } else { lo = mid }
    }
    SeedsNeeded::Seeds(hi)
}

/// `E[g(s)]` for s = √(V/ν), V ~ χ²_ν, over s < `s_max` (g is 0 beyond it).
///
/// Integrated in s itself, whose density 2νs·f_χ²(νs²) is bounded at 0 for every ν
/// (V's is not for ν < 2). It peaks at s ≈ 1 with a width of about 1/√(2ν), narrow for
/// many seeds, so the range is cut at 1 ± k/√(2ν), k = 0…8: each piece is smooth and
/// the quadrature's nodes cannot step over the peak. Beyond the last cut the tail is
/// mapped onto [0, 1) by s = c + y / (1 − y).
fn expect_over_s(df: f64, s_max: f64, g: impl Fn(f64) -> f64) -> f64 {
    let chi = ChiSquared::new(df).expect("df > 0");
    // From the log density: the density itself overflows in its parts (x^(ν/2 − 1)) for
    // many degrees of freedom.
    let f = |s: f64| 2.0 * df * s * chi.ln_pdf(df * s * s).exp() * g(s);
    const TOL: f64 = 1e-15;
    let width = 1.0 / (2.0 * df).sqrt();
    let mut cuts = vec![0.0];
    cuts.extend(
        (-8..=8)
            .map(|k| 1.0 + f64::from(k) * width)
            .filter(|c| *c > 0.0 && *c < s_max),
    );
    let last = *cuts.last().expect("0 is a cut");
    if s_max.is_finite() {
        cuts.push(s_max);
    }
    let mut total: f64 = cuts
        .windows(2)
        .map(|w| quadrature::integrate(f, w[0], w[1], TOL).integral)
        .sum();
    if !s_max.is_finite() {
        total += quadrature::integrate(
            |y: f64| f(last + y / (1.0 - y)) / ((1.0 - y) * (1.0 - y)),
            0.0,
            1.0,
            TOL,
        )
        .integral;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::fixtures;

    #[test]
    fn one_sided_power_is_the_noncentral_t_tail_and_tost_the_reference_integral() {
        for case in fixtures::POWER {
            let got = power(
                case.question(),
                case.delta,
                case.sd,
                case.n,
                case.design,
                case.alpha,
            );
            assert!(
                (got - case.power).abs() < 1e-9,
                "{}: {got} vs {}",
                case.name,
                case.power
            );
        }
    }

    #[test]
    fn seeds_needed_are_statsmodels_solve_power() {
        for case in fixtures::SEEDS {
            let got = seeds_needed(
                case.question(),
                case.delta,
                case.sd,
                case.design,
                case.alpha,
            );
            assert_eq!(got, case.seeds, "{}", case.name);
        }
    }

    #[test]
    fn a_difference_the_wrong_way_needs_no_number_of_seeds() {
        let better = Question::Claim(Hypothesis::Above(0.0));
        assert_eq!(
            seeds_needed(better, -0.01, 0.01, Design::Paired, 0.05),
            SeedsNeeded::Unreachable
        );
        let same = Question::Claim(Hypothesis::Within(0.01));
        assert_eq!(
            seeds_needed(same, 0.012, 0.01, Design::Independent, 0.05),
            SeedsNeeded::Unreachable
        );
        assert_eq!(
            seeds_needed(Question::Differ, 1e-9, 0.02, Design::Independent, 0.05),
            SeedsNeeded::Beyond(MAX_SEEDS)
        );
    }
}
