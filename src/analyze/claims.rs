//! The author's claims judged as one family: each claim becomes a hypothesis about the
//! difference of its metric (see [`crate::stats::decide`]), is tested on its two runs'
//! complete seeds, and the family's p-values are adjusted together (Holm) before any
//! claim is confirmed or contradicted. The render stage only words what this decides.

use crate::plan::spec::{Expect, Metric};
use crate::stats::{self, Decision, Evidence, Hypothesis, Method, Question, SeedsNeeded};

use super::seeds::{Contrast, Sample, plan};

/// One claim to judge: `a`'s `metric` is `expect` against `b`'s.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    /// The run the claim is about.
    pub a: &'a Sample,
    /// The run it is compared with.
    pub b: &'a Sample,
    /// The metric.
    pub metric: Metric,
    /// What is expected of it.
    pub expect: Expect,
    /// The margin of sameness and non-inferiority, in the metric's units.
    pub margin: Option<f64>,
}

/// What the runs say of one claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The hypothesis tested, on the difference a − b.
    pub hypothesis: Hypothesis,
    /// The comparison with its effect sizes.
    pub contrast: Contrast,
    /// The one-sided tests before the family's adjustment; `None` without a
    /// comparison.
    pub evidence: Option<Evidence>,
    /// The verdict after it.
    pub decision: Option<Decision>,
    /// Seeds per side that would give the claim's test 80 % power, if the true
    /// difference were the one observed (each claim alone at 5 %).
    pub seeds_needed: Option<SeedsNeeded>,
}

/// The hypothesis `expect` states about a − b of `metric`: "better" is a higher
/// accuracy or a lower loss.
pub fn hypothesis(expect: Expect, metric: Metric, margin: Option<f64>) -> Hypothesis {
    let m = margin.unwrap_or(0.0);
    // Each expectation as "the difference lies above / below a bound" on the scale
    // where higher is better, then turned around for losses.
    let (above, bound) = match expect {
        Expect::Same => return Hypothesis::Within(m),
        Expect::Better => (true, 0.0),
        Expect::Worse => (false, 0.0),
        Expect::NotWorse => (true, -m),
        Expect::NotBetter => (false, m),
    };
    // A loss L scores −L: −δ above a bound is δ below its negation.
    match (above, metric.higher_is_better()) {
        (true, true) => Hypothesis::Above(bound),
        (false, true) => Hypothesis::Below(bound),
        (true, false) => Hypothesis::Below(-bound),
        (false, false) => Hypothesis::Above(-bound),
    }
}

/// Judges every claim of a report together.
pub fn judge(claims: &[Claim<'_>], method: &Method) -> Vec<Judgement> {
    let mut judged: Vec<Judgement> = claims
        .iter()
        .map(|c| {
            let hypothesis = hypothesis(c.expect, c.metric, c.margin);
            let contrast = Contrast::of(c.a, c.b, c.metric, method);
            let comparison = contrast.comparison.as_ref();
            Judgement {
                hypothesis,
                evidence: comparison.map(|k| hypothesis.evidence(k)),
                seeds_needed: comparison
                    .map(|k| plan(k, Question::Claim(hypothesis), k.difference)),
                decision: None,
                contrast,
            }
        })
        .collect();
    let evidence: Vec<Option<Evidence>> = judged.iter().map(|j| j.evidence).collect();
    for (j, d) in judged.iter_mut().zip(stats::decide(&evidence)) {
        j.decision = d;
    }
    judged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Outcome;

    fn sample(seeds: &[u64], values: &[f64]) -> Sample {
        Sample::new(seeds, values, 0.001)
    }

    #[test]
    fn expectations_become_hypotheses_the_right_way_round() {
        use Hypothesis::*;
        let acc = Metric::TestAccuracy;
        let loss = Metric::TrainLoss;
        let m = Some(0.01);
        assert_eq!(hypothesis(Expect::Better, acc, None), Above(0.0));
        assert_eq!(hypothesis(Expect::Worse, acc, None), Below(0.0));
        assert_eq!(hypothesis(Expect::NotWorse, acc, m), Above(-0.01));
        assert_eq!(hypothesis(Expect::NotBetter, acc, m), Below(0.01));
        assert_eq!(hypothesis(Expect::Same, acc, m), Within(0.01));
        // A better loss is a lower one; not worse is at most the margin higher.
        assert_eq!(hypothesis(Expect::Better, loss, None), Below(0.0));
        assert_eq!(hypothesis(Expect::Worse, loss, None), Above(0.0));
        assert_eq!(hypothesis(Expect::NotWorse, loss, m), Below(0.01));
        assert_eq!(hypothesis(Expect::NotBetter, loss, m), Above(-0.01));
    }

    #[test]
    fn a_clearly_worse_run_is_not_better_and_contradicts_same_and_better() {
        // Model 8 clearly below Model 7: "not better" holds (it is worse, which is not
        // better); "same" is contradicted; "better" is contradicted.
        let seeds = [0, 1, 2, 3, 4];
        let m8 = sample(&seeds, &[0.650, 0.655, 0.648, 0.652, 0.651]);
        let m7 = sample(&seeds, &[0.700, 0.706, 0.699, 0.703, 0.701]);
        let claims: Vec<Claim<'_>> = [Expect::NotBetter, Expect::Same, Expect::Better]
            .into_iter()
            .map(|expect| Claim {
                a: &m8,
                b: &m7,
                metric: Metric::TestAccuracy,
                expect,
                margin: Some(0.01),
            })
            .collect();
        let judged = judge(&claims, &Method::default());
        let outcomes: Vec<Outcome> = judged.iter().map(|j| j.decision.unwrap().outcome).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Confirmed,
                Outcome::Contradicted,
                Outcome::Contradicted
            ]
        );
        // Seeds: a worse run can never be shown better.
        assert_eq!(judged[2].seeds_needed, Some(SeedsNeeded::Unreachable));
        assert!(matches!(
            judged[0].seeds_needed,
            Some(SeedsNeeded::Seeds(_))
        ));
    }

    #[test]
    fn one_seed_is_neither_tested_nor_counted_in_the_family() {
        let one = sample(&[0], &[0.7]);
        let other = sample(&[0], &[0.6]);
        let judged = judge(
            &[Claim {
                a: &one,
                b: &other,
                metric: Metric::TestAccuracy,
                expect: Expect::Better,
                margin: None,
            }],
            &Method::default(),
        );
        assert_eq!(judged[0].decision, None);
        assert_eq!(judged[0].seeds_needed, None);
    }
}
