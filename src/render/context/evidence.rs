//! The statistics as the report words them: each run's spread over its seeds, its
//! comparisons with other runs, and the author's claims checked against them.
//!
//! The numbers come from [`crate::stats`] through [`crate::analyze::seeds`]; this file
//! only formats them. With one seed there is no interval and no verdict, and the text
//! says so instead of inventing one.

use super::model::{ClaimRow, Compared, Link, Outcome, Spread, Stat};
use crate::analyze::seeds::{self, Sample, Verdict};
use crate::plan::spec::{Expect, Metric};
use crate::stats::{Summary, Test};
use crate::text;

impl Stat {
    /// The summary of `metric` over `values`.
    pub(super) fn of(values: &[f64], metric: Metric) -> Stat {
        let s = Summary::of(values);
        let (k, unit, decimals) = scale(metric);
        let num = |v: f64| format!("{:.*}", decimals, k * v);
        let (text, short) = match (s.mean, s.std, s.interval) {
            (Some(m), Some(sd), Some((lo, hi))) => {
                let short = if metric.higher_is_better() {
                    text::percent_spread(m, sd, decimals)
                } else {
                    format!("{} ± {}", num(m), num(sd))
                };
                let text = format!(
                    "{}{unit} ± {} (95 % CI {}–{}{unit})",
                    num(m),
                    num(sd),
                    num(lo),
                    num(hi)
                );
                (text, short)
            }
            (Some(m), ..) => (format!("{}{unit}", num(m)), format!("{}{unit}", num(m))),
            _ => ("–".to_owned(), "–".to_owned()),
        };
        Stat {
            n: s.n,
            mean: s.mean,
            std: s.std,
            interval: s.interval.map(|(a, b)| [a, b]),
            text,
            short,
        }
    }
}

/// How a metric is printed: the factor, the unit after the number, the decimals.
fn scale(metric: Metric) -> (f64, &'static str, usize) {
    if metric.higher_is_better() {
        (100.0, " %", 2)
    } else {
        (1.0, "", 4)
    }
}

/// How a difference of a metric is printed: the factor, the unit, the decimals.
fn difference_scale(metric: Metric) -> (f64, &'static str, usize) {
    if metric.higher_is_better() {
        (100.0, "pp", 2)
    } else {
        (1.0, "", 4)
    }
}

impl Spread {
    /// The spread over the `complete` seeds (each with its metrics) of a run of
    /// `seeds`; `left_out` names the seeds not counted and why.
    pub(super) fn of(
        seeds: &[u64],
        complete: &[(u64, &crate::store::Metrics)],
        left_out: Vec<String>,
    ) -> Spread {
        let runs: Vec<&crate::store::Metrics> = complete.iter().map(|c| c.1).collect();
        let stat = |m: Metric| Stat::of(&seeds::values(&runs, m), m);
        let n = complete.len();
        let list = |s: &[u64]| s.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        let note = match n {
            0 => "no complete seed".to_owned(),
            1 if seeds.len() == 1 => "1 seed: no spread".to_owned(),
            1 => format!("1 of {} seeds complete: no spread", seeds.len()),
            _ if n == seeds.len() => format!("{n} seeds ({})", list(seeds)),
            _ => format!(
                "{n} of {} seeds complete ({})",
                seeds.len(),
                list(&complete.iter().map(|c| c.0).collect::<Vec<_>>())
            ),
        };
        Spread {
            seeds: seeds.to_vec(),
            complete: complete.iter().map(|c| c.0).collect(),
            note,
            left_out,
            test: stat(Metric::TestAccuracy),
            best_test: stat(Metric::BestTestAccuracy),
            train: stat(Metric::TrainAccuracy),
            train_loss: stat(Metric::TrainLoss),
            test_loss: stat(Metric::TestLoss),
        }
    }
}

impl Compared {
    /// `a`'s `metric` against `b`'s (`against`).
    pub(super) fn of(a: &Sample, b: &Sample, metric: Metric, against: Link) -> Compared {
        let mean = |s: &Sample| Summary::of(&s.values).mean;
        let difference = mean(a).zip(mean(b)).map(|(x, y)| x - y);
        let c = seeds::compare(a, b);
        let (k, unit, decimals) = difference_scale(metric);
        let signed = |v: f64| text::signed(k * v, decimals, unit);
        let difference_text = difference.map_or("–".to_owned(), signed);
        let seeds = if a.seeds == b.seeds {
            format!("{} seeds", a.values.len())
        } else {
            format!("{} and {} seeds", a.values.len(), b.values.len())
        };
        let (interval_text, test_text, verdict_text) = match &c {
            Some(c) => {
                let bound = |v: f64| text::signed(k * v, decimals, "");
                let test = match c.test {
                    Test::Paired => "paired",
                    Test::Welch => "Welch",
                };
                (
                    format!(
                        "95 % CI {} to {}",
                        bound(c.interval.0),
                        signed(c.interval.1)
                    ),
                    format!("{}, {test}, {seeds}", text::p_value(c.p_value)),
                    Verdict::of(c, metric).words().to_owned(),
                )
            }
            None if difference.is_some() => (
                "no interval".to_owned(),
                "one seed".to_owned(),
                "1 seed: no verdict".to_owned(),
            ),
            None => ("–".to_owned(), "–".to_owned(), "not trained".to_owned()),
        };
        let text = match (&c, difference) {
            (Some(_), Some(d)) => format!("{} ({interval_text}), {test_text}", signed(d)),
            (None, Some(d)) => format!("{} (one seed: no interval)", signed(d)),
            _ => "–".to_owned(),
        };
        Compared {
            against,
            metric,
            difference,
            interval: c.as_ref().map(|c| [c.interval.0, c.interval.1]),
            p_value: c.as_ref().map(|c| c.p_value),
            test: c.as_ref().map(|c| c.test),
            verdict: c.as_ref().map(|c| Verdict::of(c, metric)),
            verdict_text,
            text,
            difference_text,
            interval_text,
            test_text,
        }
    }
}

impl Outcome {
    /// `expect` against what the comparison found.
    pub(super) fn of(expect: Expect, verdict: Option<Verdict>) -> Outcome {
        match (expect, verdict) {
            (_, None) => Outcome::Untested,
            (Expect::Same, Some(Verdict::WithinNoise)) => Outcome::Confirmed,
            (Expect::Same, Some(_)) => Outcome::Contradicted,
            (_, Some(Verdict::WithinNoise)) => Outcome::NotShown,
            (Expect::Better, Some(Verdict::Better)) | (Expect::Worse, Some(Verdict::Worse)) => {
                Outcome::Confirmed
            }
            _ => Outcome::Contradicted,
        }
    }

    /// The outcome in words.
    pub fn words(&self) -> &'static str {
        match self {
            Outcome::Confirmed => "confirmed",
            Outcome::Contradicted => "contradicted",
            Outcome::NotShown => "not shown (within noise)",
            Outcome::Untested => "not tested (needs 2 seeds or more)",
        }
    }
}

impl ClaimRow {
    /// The claim that `run`'s `metric` is `expect` against `measured.against`.
    pub(super) fn of(
        run: Link,
        expect: Expect,
        text: Option<&str>,
        measured: Compared,
    ) -> ClaimRow {
        let claim = text.map_or_else(
            || {
                let what = match expect {
                    Expect::Better => "better",
                    Expect::Worse => "worse",
                    Expect::Same => "the same",
                };
                let than = if expect == Expect::Same { "as" } else { "than" };
                format!(
                    "{what} {} {than} {}",
                    measured.metric.words(),
                    measured.against.title
                )
            },
            str::to_owned,
        );
        let outcome = Outcome::of(expect, measured.verdict);
        ClaimRow {
            run,
            claim,
            expect,
            outcome,
            outcome_text: outcome.words().to_owned(),
            measured,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(t: &str) -> Link {
        Link {
            title: t.to_owned(),
            anchor: t.to_lowercase(),
        }
    }

    fn sample(seeds: &[u64], values: &[f64]) -> Sample {
        Sample {
            seeds: seeds.to_vec(),
            values: values.to_vec(),
        }
    }

    #[test]
    fn a_stat_prints_mean_spread_and_interval_and_one_seed_alone() {
        // scipy: mean 0.6, std(ddof=1) 0.01, t.ppf(0.975, 2) = 4.302652729749464,
        // half-width 4.302652729749464 * 0.01 / sqrt(3) = 0.024841... → 57.52–62.48 %.
        let s = Stat::of(&[0.59, 0.60, 0.61], Metric::TestAccuracy);
        assert_eq!(s.text, "60.00 % ± 1.00 (95 % CI 57.52–62.48 %)");
        assert_eq!(s.short, "60.00 ± 1.00 %");
        let one = Stat::of(&[0.59], Metric::TestAccuracy);
        assert_eq!((one.text.as_str(), one.interval), ("59.00 %", None));
        let loss = Stat::of(&[1.25], Metric::TestLoss);
        assert_eq!(loss.text, "1.2500");
    }

    #[test]
    fn comparisons_give_a_verdict_only_with_an_interval() {
        let a = sample(&[0, 1, 2], &[0.62, 0.63, 0.64]);
        let b = sample(&[0, 1, 2], &[0.60, 0.605, 0.61]);
        let c = Compared::of(&a, &b, Metric::TestAccuracy, link("Model 1"));
        assert_eq!(c.test, Some(Test::Paired));
        assert_eq!(c.verdict, Some(Verdict::Better));
        assert_eq!(c.difference_text, "+2.50 pp");
        assert!(c.text.starts_with("+2.50 pp (95 % CI +"), "{}", c.text);
        assert!(c.interval_text.ends_with(" pp") && !c.interval_text.contains("pp to"));
        assert!(c.test_text.starts_with("p = ") && c.test_text.ends_with("paired, 3 seeds"));
        assert!(c.text.ends_with("paired, 3 seeds"), "{}", c.text);
        let one = Compared::of(
            &sample(&[0], &[0.62]),
            &sample(&[0], &[0.60]),
            Metric::TestAccuracy,
            link("Model 1"),
        );
        assert_eq!((one.verdict, one.interval), (None, None));
        assert_eq!(one.verdict_text, "1 seed: no verdict");
        assert_eq!(one.text, "+2.00 pp (one seed: no interval)");
    }

    #[test]
    fn claims_are_confirmed_contradicted_or_not_shown() {
        use Outcome::*;
        let (b, w, n) = (Verdict::Better, Verdict::Worse, Verdict::WithinNoise);
        assert_eq!(Outcome::of(Expect::Better, Some(b)), Confirmed);
        assert_eq!(Outcome::of(Expect::Better, Some(w)), Contradicted);
        assert_eq!(Outcome::of(Expect::Worse, Some(n)), NotShown);
        assert_eq!(Outcome::of(Expect::Same, Some(n)), Confirmed);
        assert_eq!(Outcome::of(Expect::Same, Some(w)), Contradicted);
        assert_eq!(Outcome::of(Expect::Better, None), Untested);
        // A lower loss is better: "worse training loss" is confirmed by a higher one.
        let a = sample(&[0, 1, 2], &[1.2, 1.3, 1.25]);
        let b = sample(&[0, 1, 2], &[1.0, 1.05, 1.02]);
        let row = ClaimRow::of(
            link("Model 4"),
            Expect::Worse,
            None,
            Compared::of(&a, &b, Metric::TrainLoss, link("Model 3")),
        );
        assert_eq!(row.outcome, Confirmed);
        assert_eq!(row.claim, "worse final training loss than Model 3");
    }
}
