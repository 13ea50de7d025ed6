//! The Claims table in words: what each claim asserts, how it was tested, what the
//! test read and the verdict [`crate::analyze::claims`] decided. Nothing is decided
//! here.

use super::evidence::{difference_scale, signed, span};
use super::model::{ClaimRow, Compared, Link};
use crate::analyze::claims::Judgement;
use crate::analyze::seeds::Sample;
use crate::plan::spec::{Expect, Metric};
use crate::stats::{self, Hypothesis, Method, Outcome};
use crate::text;

/// Why a claim has no test.
pub(super) enum Untested {
    /// Its comparison run is not among the report's runs.
    NotInReport(String),
    /// A side has no complete seed.
    NotTrained,
    /// A side has one complete seed.
    OneSeed,
}

/// What one claim states.
pub(super) struct Stated<'a> {
    /// The run it is about.
    pub(super) run: Link,
    /// The run it is compared with.
    pub(super) against: Link,
    /// What it expects.
    pub(super) expect: Expect,
    /// Of which metric.
    pub(super) metric: Metric,
    /// In the author's words.
    pub(super) text: Option<&'a str>,
    /// Its margin, in the metric's units.
    pub(super) margin: Option<f64>,
}

impl Stated<'_> {
    /// "not better final test accuracy than Model 7", unless the author wrote it.
    fn claim(&self) -> String {
        if let Some(t) = self.text {
            return t.to_owned();
        }
        let what = match self.expect {
            Expect::Better => "better",
            Expect::Worse => "worse",
            Expect::Same => "the same",
            Expect::NotBetter => "no better",
            Expect::NotWorse => "no worse",
        };
        let than = if self.expect == Expect::Same {
            "as"
        } else {
            "than"
        };
        format!(
            "{what} {} {than} {}",
            self.metric.words(),
            self.against.title
        )
    }

    /// The margin as printed: "±1.00 pp", "0.0500".
    fn margin_text(&self) -> Option<String> {
        let (k, unit, decimals) = difference_scale(self.metric);
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        self.margin.map(|m| format!("{:.*}{unit}", decimals, k * m))
    }
}

impl ClaimRow {
    /// A claim that was tested: `judged` says what its family's test decided, on the
    /// samples `a` and `b`.
    pub(super) fn judged(
        stated: Stated<'_>,
        judged: &Judgement,
        a: &Sample,
        b: &Sample,
        method: &Method,
    ) -> ClaimRow {
        let mut measured = Compared::words(
            &judged.contrast,
            a,
            b,
            stated.metric,
            stated.against.clone(),
            method,
            judged.seeds_needed,
        );
        measured.margin = stated.margin;
        measured.margin_text = stated.margin_text();
        measured.p_claim = judged.evidence.map(|e| e.p_for);
        measured.p_adjusted = judged.decision.map(|d| d.p_adjusted);
        measured.claim_interval = judged.evidence.map(|e| [e.interval.0, e.interval.1]);
        let (outcome, reason) = match (judged.evidence, judged.decision) {
            (Some(e), Some(d)) => {
                let read = format!(
                    "{} interval {}; {} ({} after Holm's correction)",
                    text::percent(stats::CLAIM_LEVEL, 0),
                    span(stated.metric, e.interval),
                    text::p_value(e.p_for),
                    text::p_bare(d.p_adjusted)
                );
                let test = test_words(&judged.hypothesis, stated.metric);
                let verdict = match d.outcome {
                    Outcome::Confirmed => "shows it".to_owned(),
                    Outcome::Contradicted => "shows the opposite".to_owned(),
                    Outcome::Inconclusive => format!("cannot tell: {}", measured.seeds_needed_text),
                };
                (d.outcome, format!("{test}: {read}; {verdict}"))
            }
            _ => (
                Outcome::Inconclusive,
                "needs 2 complete seeds or more on each side".to_owned(),
            ),
        };
        ClaimRow {
            claim: stated.claim(),
            run: stated.run,
            expect: stated.expect,
            measured,
            outcome,
            outcome_text: words(outcome).to_owned(),
            reason,
        }
    }

    /// A claim without a test, and why.
    pub(super) fn untested(stated: Stated<'_>, why: Untested, measured: Compared) -> ClaimRow {
        let reason = match why {
            Untested::NotInReport(run) => {
                format!("{run} is not among this report's runs: nothing to compare with")
            }
            Untested::NotTrained => "not trained yet: nothing to test".to_owned(),
            Untested::OneSeed => "1 seed: no test (needs 2 seeds or more on each side)".to_owned(),
        };
        let mut measured = measured;
        measured.margin = stated.margin;
        measured.margin_text = stated.margin_text();
        ClaimRow {
            claim: stated.claim(),
            run: stated.run,
            expect: stated.expect,
            measured,
            outcome: Outcome::Inconclusive,
            outcome_text: words(Outcome::Inconclusive).to_owned(),
            reason,
        }
    }
}

/// The outcome as the table shows it.
pub(super) fn words(outcome: Outcome) -> &'static str {
    outcome.word()
}

/// The test of a hypothesis in words, on the scale of `metric`.
fn test_words(h: &Hypothesis, metric: Metric) -> String {
    let alpha = text::percent(stats::ALPHA, 0);
    match *h {
        Hypothesis::Within(m) => format!(
            "equivalence test (TOST) against ±{}",
            signed(metric, m).trim_start_matches('+')
        ),
        Hypothesis::Above(b) | Hypothesis::Below(b) if b == 0.0 => {
            let side = if matches!(h, Hypothesis::Above(_)) {
                "higher"
            } else {
                "lower"
            };
            format!("one-sided test at {alpha} that the difference is {side}")
        }
        Hypothesis::Above(b) => format!(
            "one-sided test at {alpha} that the difference is above {}",
            signed(metric, b)
        ),
        Hypothesis::Below(b) => format!(
            "one-sided test at {alpha} that the difference is below {}",
            signed(metric, b)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::claims::{Claim, judge};

    fn link(t: &str) -> Link {
        Link {
            title: t.to_owned(),
            anchor: t.to_lowercase(),
        }
    }

    fn sample(values: &[f64]) -> Sample {
        let seeds: Vec<u64> = (0..values.len() as u64).collect();
        Sample::new(&seeds, values, 0.001)
    }

    fn row(
        expect: Expect,
        metric: Metric,
        margin: Option<f64>,
        a: &Sample,
        b: &Sample,
    ) -> ClaimRow {
        let m = Method::default();
        let judged = judge(
            &[Claim {
                a,
                b,
                metric,
                expect,
                margin,
            }],
            &m,
        );
        let stated = Stated {
            run: link("Model 8"),
            against: link("Model 7"),
            expect,
            metric,
            text: None,
            margin,
        };
        ClaimRow::judged(stated, &judged[0], a, b, &m)
    }

    #[test]
    fn a_claim_row_says_what_was_tested_and_what_it_read() {
        let a = sample(&[0.702, 0.711, 0.693, 0.700, 0.704]);
        let b = sample(&[0.700, 0.710, 0.690, 0.698, 0.702]);
        let same = row(Expect::Same, Metric::TestAccuracy, Some(0.01), &a, &b);
        assert_eq!(same.outcome, Outcome::Confirmed);
        assert_eq!(same.outcome_text, "confirmed");
        assert_eq!(same.claim, "the same final test accuracy as Model 7");
        assert_eq!(same.measured.margin_text.as_deref(), Some("1.00 pp"));
        // Five seeds whose differences spread less than one test image: floored.
        assert!(same.measured.floored);
        assert_eq!(
            same.reason,
            "equivalence test (TOST) against ±1.00 pp: 90 % interval +0.10 to +0.30 pp; p < 0.001 (< 0.001 after Holm's correction); shows it"
        );
        let json = serde_json::to_value(&same).unwrap();
        assert_eq!(json["outcome"], "confirmed");
        assert_eq!(json["measured"]["margin"], 0.01);
        assert!(json["measured"]["p_adjusted"].as_f64().unwrap() < 0.05);
        // Wide seeds: "not better" cannot be told, and the row says how many seeds would.
        let a = sample(&[0.70, 0.74]);
        let b = sample(&[0.70, 0.726]);
        let not_better = row(Expect::NotBetter, Metric::TestAccuracy, Some(0.01), &a, &b);
        assert_eq!(not_better.outcome, Outcome::Inconclusive);
        assert_eq!(
            not_better.claim,
            "no better final test accuracy than Model 7"
        );
        assert!(
            not_better.reason.contains("cannot tell: "),
            "{}",
            not_better.reason
        );
    }

    #[test]
    fn a_loss_claim_is_worded_on_the_loss_scale() {
        let a = sample(&[1.2, 1.3, 1.25]);
        let b = sample(&[1.0, 1.05, 1.02]);
        let worse = row(Expect::Worse, Metric::TrainLoss, None, &a, &b);
        // A higher loss is worse: the test is that the difference is higher.
        assert_eq!(worse.outcome, Outcome::Confirmed);
        assert_eq!(worse.claim, "worse final training loss than Model 7");
        assert!(
            worse.reason.starts_with(
                "one-sided test at 5 % that the difference is higher: 90 % interval +"
            ),
            "{}",
            worse.reason
        );
    }
}
