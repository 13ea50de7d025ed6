//! Deciding a family of claims about differences: each claim is a hypothesis about the
//! true difference δ, tested one-sided at [`ALPHA`] (so each reads the 1 − 2α = 90 %
//! interval); the p-values of the family are adjusted together by Holm's step-down
//! method, and only an adjusted p-value below α confirms or contradicts.
//!
//! - δ above a bound (`better`: above 0; `not worse`: above −margin, a non-inferiority
//!   test): confirmed when "δ ≤ bound" is rejected, contradicted when "δ ≥ bound" is.
//! - δ below a bound: the mirror image.
//! - |δ| below a margin (`same`): the two one-sided tests of equivalence (TOST,
//!   Schuirmann 1987), confirmed when both reject, i.e. the 90 % interval lies inside
//!   ±margin; contradicted when the 90 % interval lies wholly outside it.
//!
//! A claim is never confirmed by a test that did not reject: absence of evidence of a
//! difference is not evidence of sameness, which is what the margin is for.

use serde::{Deserialize, Serialize};

use super::compare::Comparison;
use super::holm::holm;

/// The level of every claim's one-sided tests, and of the family after Holm.
pub const ALPHA: f64 = 0.05;

/// The level of the interval a claim's one-sided tests read: 1 − 2α.
pub const CLAIM_LEVEL: f64 = 1.0 - 2.0 * ALPHA;

/// What a claim asserts of the true difference δ = mean(a) − mean(b).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "bound")]
pub enum Hypothesis {
    /// δ > bound.
    Above(f64),
    /// δ < bound.
    Below(f64),
    /// −margin < δ < margin.
    Within(f64),
}

/// What one comparison says of a hypothesis, before the family is adjusted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// The one-sided p-value of the hypothesis's negation: small when the data show the
    /// hypothesis (for equivalence, the larger of the two one-sided p-values).
    pub p_for: f64,
    /// The one-sided p-value of the hypothesis itself: small when the data show the
    /// opposite.
    pub p_against: f64,
    /// The 1 − 2α interval of the difference the tests read.
    pub interval: (f64, f64),
}

impl Hypothesis {
    /// The tests of this hypothesis on `c`.
    pub fn evidence(&self, c: &Comparison) -> Evidence {
        let (p_for, p_against) = match *self {
            Hypothesis::Above(b) => (c.p_above(b), c.p_below(b)),
            Hypothesis::Below(b) => (c.p_below(b), c.p_above(b)),
            Hypothesis::Within(m) => (
                c.p_above(-m).max(c.p_below(m)),
                // Outside the margin on either side; the two cannot both hold, so the
                // smaller is the test of "inside".
                c.p_above(m).min(c.p_below(-m)),
            ),
        };
        Evidence {
            p_for,
            p_against,
            interval: c.interval_at(CLAIM_LEVEL),
        }
    }
}

/// What the runs say of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The adjusted test of the claim rejected its negation.
    Confirmed,
    /// The adjusted test of the opposite rejected the claim.
    Contradicted,
    /// Neither: the runs cannot tell at this many seeds, or there is no test.
    Inconclusive,
}

impl Outcome {
    /// The word, as report.json and verify.json spell it.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Confirmed => "confirmed",
            Outcome::Contradicted => "contradicted",
            Outcome::Inconclusive => "inconclusive",
        }
    }
}

/// A claim's verdict within its family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The outcome.
    pub outcome: Outcome,
    /// [`Evidence::p_for`] after Holm's adjustment over the family.
    pub p_adjusted: f64,
    /// [`Evidence::p_against`] after Holm's adjustment over the family.
    pub p_against_adjusted: f64,
}

/// The decisions on a family of claims; `None` for a claim without a test (it neither
/// counts in the family nor gets a verdict).
pub fn decide(family: &[Option<Evidence>]) -> Vec<Option<Decision>> {
    let tested: Vec<&Evidence> = family.iter().flatten().collect();
    let p_for = holm(&tested.iter().map(|e| e.p_for).collect::<Vec<_>>());
    let p_against = holm(&tested.iter().map(|e| e.p_against).collect::<Vec<_>>());
    let mut k = 0;
    family
        .iter()
        .map(|e| {
            e.as_ref()?;
            let (pf, pa) = (p_for[k], p_against[k]);
            k += 1;
            let outcome = if pf < ALPHA {
                Outcome::Confirmed
            } else if pa < ALPHA {
                Outcome::Contradicted
            } else {
                Outcome::Inconclusive
            };
            Some(Decision {
                outcome,
                p_adjusted: pf,
                p_against_adjusted: pa,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    //! Hand-made seeds whose right verdict is known without this code: the intervals are
    //! worked out in the comments from scipy's t quantiles.

    use super::*;
    use crate::stats::{Options, paired, welch};

    fn one(h: Hypothesis, c: &Comparison) -> Decision {
        decide(&[Some(h.evidence(c))])[0].unwrap()
    }

    const FLOOR: f64 = 0.001;

    #[test]
    fn sameness_within_the_margin_is_confirmed_only_when_the_interval_is_inside_it() {
        let t = Options::t(FLOOR);
        // Differences 0.2, 0.1, 0.3, 0.2, 0.2 pp over 5 paired seeds: mean 0.2 pp, SD
        // 0.0707 pp; the 90 % interval 0.2 ± 2.1318 · 0.0707/√5 = [0.133, 0.267] pp lies
        // inside ±1 pp: equivalent.
        let a = [0.702, 0.711, 0.693, 0.700, 0.704];
        let b = [0.700, 0.710, 0.690, 0.698, 0.702];
        let c = paired(&a, &b, &t).unwrap();
        assert_eq!(
            one(Hypothesis::Within(0.01), &c).outcome,
            Outcome::Confirmed
        );
        // The same data cannot show sameness within 0.25 pp: the interval reaches
        // 0.267 pp. Nor do they contradict it: it does not lie wholly outside.
        assert_eq!(
            one(Hypothesis::Within(0.0025), &c).outcome,
            Outcome::Inconclusive
        );
        // Within 0.1 pp is contradicted: the whole interval is above +0.1 pp.
        assert_eq!(
            one(Hypothesis::Within(0.001), &c).outcome,
            Outcome::Contradicted
        );
    }

    #[test]
    fn a_wide_interval_around_zero_shows_nothing() {
        // The Model 8 against Model 7: +0.70 pp with seeds 4 pp apart. Covering 0
        // is not sameness: "same" and "not better" are inconclusive, not confirmed.
        let t = Options::t(FLOOR);
        let c = welch(&[0.70, 0.74], &[0.70, 0.726], &t).unwrap();
        assert!(c.interval.0 < 0.0 && c.interval.1 > 0.0);
        for h in [
            Hypothesis::Within(0.01),
            Hypothesis::Below(0.01),
            Hypothesis::Above(0.0),
        ] {
            assert_eq!(one(h, &c).outcome, Outcome::Inconclusive, "{h:?}");
        }
    }

    #[test]
    fn non_inferiority_is_the_interval_above_minus_the_margin() {
        let t = Options::t(FLOOR);
        // 0.5 pp worse on average, tightly: the 90 % interval is about [−0.63, −0.37] pp.
        let a = [0.695, 0.704, 0.685, 0.694, 0.697];
        let b = [0.700, 0.710, 0.690, 0.698, 0.702];
        let c = paired(&a, &b, &t).unwrap();
        // Not worse by more than 1 pp: shown. Better: contradicted. Not worse by more
        // than 0.25 pp: contradicted (the whole interval is below −0.25 pp).
        assert_eq!(
            one(Hypothesis::Above(-0.01), &c).outcome,
            Outcome::Confirmed
        );
        assert_eq!(
            one(Hypothesis::Above(0.0), &c).outcome,
            Outcome::Contradicted
        );
        assert_eq!(
            one(Hypothesis::Above(-0.0025), &c).outcome,
            Outcome::Contradicted
        );
        // "Not better by more than 1 pp" (below +1 pp) holds too.
        assert_eq!(one(Hypothesis::Below(0.01), &c).outcome, Outcome::Confirmed);
    }

    #[test]
    fn two_equal_seeds_give_no_certain_verdict() {
        // Each run's two seeds scored the same: unfloored, Welch would give p = 0. With
        // the floor of one test image, 0.1 pp apart is no evidence of "better", and
        // sameness within 1 pp is shown with a p-value, not with certainty.
        let c = welch(&[0.501, 0.501], &[0.500, 0.500], &Options::t(FLOOR)).unwrap();
        let better = one(Hypothesis::Above(0.0), &c);
        assert_eq!(better.outcome, Outcome::Inconclusive);
        assert!(better.p_adjusted > 0.2, "{}", better.p_adjusted);
        let same = Hypothesis::Within(0.01).evidence(&c);
        assert!(same.p_for > 0.0 && same.p_against > 0.0, "{same:?}");
        let bare = welch(&[0.501, 0.501], &[0.500, 0.500], &Options::t(0.0)).unwrap();
        assert_eq!(Hypothesis::Above(0.0).evidence(&bare).p_for, 0.0);
    }

    #[test]
    fn the_family_is_adjusted_together() {
        let t = Options::t(FLOOR);
        // One clear improvement (paired p tiny) and one that passes 5 % alone but not
        // after Holm doubles the larger of two p-values.
        let clear = paired(&[0.80, 0.81, 0.79], &[0.70, 0.71, 0.69], &t).unwrap();
        let weak = paired(&[0.712, 0.735, 0.703], &[0.700, 0.716, 0.697], &t).unwrap();
        let e = Hypothesis::Above(0.0).evidence(&weak);
        assert!(e.p_for < ALPHA && 2.0 * e.p_for > ALPHA, "{}", e.p_for);
        let alone = decide(&[Some(e)])[0].unwrap();
        assert_eq!(alone.outcome, Outcome::Confirmed);
        // With a third claim that shows nothing, Holm multiplies the middle p-value by 2.
        let noise = paired(&[0.70, 0.71, 0.69], &[0.705, 0.70, 0.70], &t).unwrap();
        let family = decide(&[
            Some(Hypothesis::Above(0.0).evidence(&clear)),
            None,
            Some(e),
            Some(Hypothesis::Above(0.0).evidence(&noise)),
        ]);
        assert_eq!(family[0].unwrap().outcome, Outcome::Confirmed);
        assert!(family[1].is_none());
        assert_eq!(family[3].unwrap().outcome, Outcome::Inconclusive);
        let weak = family[2].unwrap();
        assert_eq!(weak.outcome, Outcome::Inconclusive);
        assert!((weak.p_adjusted - 2.0 * e.p_for).abs() < 1e-12);
    }
}
