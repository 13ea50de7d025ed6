//! The statistics as the report shows them: spreads over seeds, comparisons, and the
//! claims' rows.

use serde::{Deserialize, Serialize};

use crate::analyze::seeds::Verdict;
use crate::plan::spec::{Expect, Metric};
use crate::stats::{Outcome, Test};

use super::parts::Link;

/// One number of a run over its complete seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Seeds counted.
    pub n: usize,
    /// The mean (accuracies as fractions).
    pub mean: Option<f64>,
    /// The sample standard deviation, with two seeds or more.
    pub std: Option<f64>,
    /// The 95 % interval of the mean (Student t or a bootstrap), with two seeds or more.
    pub interval: Option<[f64; 2]>,
    /// Whether the seeds spread less than the metric resolves (one image), so the
    /// interval was made with that spread instead.
    pub floored: bool,
    /// "62.31 % ± 1.20 (95 % CI 59.33–65.29 %)", or "62.31 %" for one seed.
    pub text: String,
    /// "62.31 ± 1.20 %", or "62.31 %": for table cells.
    pub short: String,
}

/// A run's numbers over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Every seed of the run, in order.
    pub seeds: Vec<u64>,
    /// The complete seeds the numbers are taken over.
    pub complete: Vec<u64>,
    /// "3 seeds (0, 1, 2)" or "1 seed: no spread".
    pub note: String,
    /// Seeds left out of the numbers and why: "seed 2: diverged in epoch 3".
    pub left_out: Vec<String>,
    /// Final test accuracy.
    pub test: Stat,
    /// Each seed's best test accuracy of any epoch.
    pub best_test: Stat,
    /// Final training accuracy.
    pub train: Stat,
    /// Final training loss.
    pub train_loss: Stat,
    /// Final test loss.
    pub test_loss: Stat,
}

/// One run's metric against another's: the difference of means, its interval, the
/// test and the verdict, with the effect's size and the seeds a clear answer needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compared {
    /// The run compared with.
    pub against: Link,
    /// The metric.
    pub metric: Metric,
    /// Mean of this run minus mean of the other (accuracies as fractions), when both
    /// have a complete seed.
    pub difference: Option<f64>,
    /// Its 95 % interval, with two complete seeds or more on each side.
    pub interval: Option<[f64; 2]>,
    /// Two-sided p-value of "no difference".
    pub p_value: Option<f64>,
    /// `paired` (same seeds on both sides) or `welch`.
    pub test: Option<Test>,
    /// Whether a spread below the measurement's resolution (one image) was counted as
    /// that resolution.
    pub floored: bool,
    /// `better`, `worse` or `within-noise`; none without an interval.
    pub verdict: Option<Verdict>,
    /// "better", "worse", "within noise", or "1 seed: untested".
    pub verdict_text: String,
    /// "+1.23 pp (95 % CI −0.50 to +2.96 pp), p = 0.120, paired, 3 seeds".
    pub text: String,
    /// The difference alone: "+1.23 pp".
    pub difference_text: String,
    /// "95 % CI −0.50 to +2.96 pp", "no interval" with one seed.
    pub interval_text: String,
    /// "p = 0.120, paired, 3 seeds".
    pub test_text: String,
    /// Hedges' g of this run against the other (the difference in pooled standard
    /// deviations, small-sample corrected).
    pub hedges_g: Option<f64>,
    /// P(a seed of this run does better than a seed of the other), with its interval.
    pub probability_of_improvement: Option<Probability>,
    /// "g = +1.20, P(better) = 0.89 [0.56, 1.00]".
    pub effect_text: String,
    /// Seeds per side that would give this comparison's test 80 % power if the true
    /// difference were the one observed: for a claim, the claim's test; else the
    /// two-sided test of any difference. `null` when no number would (the difference
    /// lies the wrong way or is 0), beyond 1,000, or untested.
    pub seeds_needed: Option<usize>,
    /// "12 seeds per side for 80 % power", or why there is no number.
    pub seeds_needed_text: String,
    /// A claim's margin, in the metric's units (accuracies as fractions); `null` for a
    /// comparison or a claim without one.
    pub margin: Option<f64>,
    /// "±1.00 pp".
    pub margin_text: Option<String>,
    /// A claim's one-sided p-value (for sameness the larger of TOST's two), before the
    /// correction.
    pub p_claim: Option<f64>,
    /// The same after Holm's correction over the report's claims; its verdict reads
    /// this.
    pub p_adjusted: Option<f64>,
    /// The 90 % interval a claim's one-sided tests at 5 % read.
    pub claim_interval: Option<[f64; 2]>,
}

/// A probability with its 95 % interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probability {
    /// In [0, 1].
    pub value: f64,
    /// Its 95 % interval.
    pub interval: [f64; 2],
    /// "0.89 [0.56, 1.00]".
    pub text: String,
}

/// One claim of the author, checked: a row of the Claims table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimRow {
    /// The run the claim is about.
    pub run: Link,
    /// The claim in the author's words, or as the experiment states it: "better final
    /// test accuracy than Model 2".
    pub claim: String,
    /// What it expects.
    pub expect: Expect,
    /// The comparison that checks it.
    pub measured: Compared,
    /// What the runs say: `confirmed`, `contradicted` or `inconclusive`.
    pub outcome: Outcome,
    /// The same in words.
    pub outcome_text: String,
    /// How the claim was tested and what the test read: "TOST against ±1.00 pp: the 90
    /// % interval −0.31 to +0.52 pp lies inside it, p = 0.004 (Holm 0.021)".
    pub reason: String,
}

/// How the numbers over seeds were made, and what they mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatisticsInfo {
    /// How intervals and tests were made: `t` or `bootstrap`.
    pub interval: crate::stats::IntervalKind,
    /// With a bootstrap: `bca` or `percentile`.
    pub bootstrap: Option<crate::stats::BootstrapKind>,
    /// With a bootstrap: its resamples.
    pub resamples: Option<usize>,
    /// The confidence level of every interval of a mean or a difference (0.95).
    pub confidence: f64,
    /// "95 %".
    pub confidence_text: String,
    /// The level of each claim's one-sided tests (0.05).
    pub alpha: f64,
    /// "5 %".
    pub alpha_text: String,
    /// "90 %": the interval a claim's one-sided tests read.
    pub claim_level_text: String,
    /// The default margin of accuracy claims, in percentage points.
    pub margin_pp: f64,
    /// The claims tested together in Holm's correction.
    pub family: usize,
    /// One paragraph saying what varies between seeds, what ± and the brackets are,
    /// which tests were used, the margin and the correction.
    pub statement: String,
}
