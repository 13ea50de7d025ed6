//! The statistics as the report words them: each run's spread over its seeds and its
//! comparisons with other runs.
//!
//! The numbers and verdicts come from [`crate::stats`] through
//! [`crate::analyze::seeds`]; this file only formats them. With one seed there is no
//! interval and no verdict, and the text says so instead of inventing one.

use super::model::{Compared, Link, Probability, Spread, Stat};
use crate::analyze::seeds::{self, Contrast, Sample, Verdict};
use crate::plan::spec::Metric;
use crate::stats::{self, IntervalKind, Method, Options, SeedsNeeded, Summary, Test};
use crate::text;

impl Stat {
    /// The summary of `metric` over `values`, with `options`' interval and floor.
    pub(super) fn of(values: &[f64], metric: Metric, options: &Options) -> Stat {
        let s = Summary::with(values, options);
        let (k, unit, decimals) = scale(metric);
        let num = |v: f64| format!("{:.*}", decimals, k * v);
        let (text, short) = match (s.mean, s.std, s.interval) {
            (Some(m), Some(sd), Some((lo, hi))) => {
                let short = if metric.higher_is_better() {
                    text::percent_spread(m, sd, decimals)
                } else {
                    format!("{} ± {}", num(m), num(sd))
                };
                let floored = if s.floored {
                    format!(", its spread taken as {}{unit}", num(options.floor))
                } else {
                    String::new()
                };
                let text = format!(
                    "{}{unit} ± {} ({} {}–{}{unit}{floored})",
                    num(m),
                    num(sd),
                    interval_label(&options.method),
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
            floored: s.floored,
            text,
            short,
        }
    }
}

/// "95 % CI", or "95 % BCa interval" for a bootstrap.
pub(super) fn interval_label(method: &Method) -> String {
    let level = text::percent(stats::CONFIDENCE, 0);
    match method.interval {
        IntervalKind::T => format!("{level} CI"),
        IntervalKind::Bootstrap => format!("{level} {} interval", bootstrap_word(method)),
    }
}

/// "BCa bootstrap" or "percentile bootstrap".
pub(super) fn bootstrap_word(method: &Method) -> &'static str {
    match method.bootstrap {
        stats::BootstrapKind::Bca => "BCa bootstrap",
        stats::BootstrapKind::Percentile => "percentile bootstrap",
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
pub(super) fn difference_scale(metric: Metric) -> (f64, &'static str, usize) {
    if metric.higher_is_better() {
        (100.0, "pp", 2)
    } else {
        (1.0, "", 4)
    }
}

/// A value of `metric` as printed: "68.40 %", "1.3291".
pub fn value(metric: Metric, v: f64) -> String {
    let (k, unit, decimals) = scale(metric);
    format!("{:.*}{unit}", decimals, k * v)
}

/// A difference of `metric` as printed: "+1.23 pp", "−0.0120".
pub fn signed(metric: Metric, v: f64) -> String {
    let (k, unit, decimals) = difference_scale(metric);
    text::signed(k * v, decimals, unit)
}

/// An interval of a difference as printed: "−0.50 to +2.96 pp".
pub fn span(metric: Metric, (lo, hi): (f64, f64)) -> String {
    let (k, _, decimals) = difference_scale(metric);
    format!(
        "{} to {}",
        text::signed(k * lo, decimals, ""),
        signed(metric, hi)
    )
}

impl Spread {
    /// The spread over the `complete` seeds (each with its metrics) of a run of
    /// `seeds`; `left_out` names the seeds not counted and why; `options` gives each
    /// metric's interval and floor.
    pub(super) fn of(
        seeds: &[u64],
        complete: &[(u64, &crate::store::Metrics)],
        left_out: Vec<String>,
        options: &dyn Fn(Metric) -> Options,
    ) -> Spread {
        let runs: Vec<&crate::store::Metrics> = complete.iter().map(|c| c.1).collect();
        let stat = |m: Metric| Stat::of(&seeds::values(&runs, m), m, &options(m));
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
    /// `a`'s `metric` against `b`'s (`against`), with the two-sided test of any
    /// difference and the seeds it would need.
    pub(super) fn of(
        a: &Sample,
        b: &Sample,
        metric: Metric,
        against: Link,
        method: &Method,
    ) -> Compared {
        let contrast = Contrast::of(a, b, metric, method);
        Compared::words(
            &contrast,
            a,
            b,
            metric,
            against,
            method,
            contrast.seeds_needed,
        )
    }

    /// `contrast` of `a` and `b` in words, with `seeds` as its seeds needed.
    pub(super) fn words(
        contrast: &Contrast,
        a: &Sample,
        b: &Sample,
        metric: Metric,
        against: Link,
        method: &Method,
        seeds: Option<SeedsNeeded>,
    ) -> Compared {
        let mean = |s: &Sample| Summary::of(&s.values).mean;
        let difference = mean(a).zip(mean(b)).map(|(x, y)| x - y);
        let c = contrast.comparison.as_ref();
        let difference_text = difference.map_or("–".to_owned(), |d| signed(metric, d));
        let seeds_text = if a.seeds == b.seeds {
            format!("{} seeds", a.values.len())
        } else {
            format!("{} and {} seeds", a.values.len(), b.values.len())
        };
        let (interval_text, test_text, verdict_text) = match c {
            Some(c) => {
                let bootstrap = method.interval == IntervalKind::Bootstrap && !c.floored;
                let test = match (c.test, bootstrap) {
                    (Test::Paired, false) => "paired t",
                    (Test::Welch, false) => "Welch",
                    (Test::Paired, true) => "paired bootstrap",
                    (Test::Welch, true) => "bootstrap",
                };
                let label = if bootstrap {
                    interval_label(method)
                } else {
                    interval_label(&Method::default())
                };
                let floored = if c.floored { ", spread floored" } else { "" };
                (
                    format!("{label} {}", span(metric, c.interval)),
                    format!(
                        "{}, {test}, {seeds_text}{floored}",
                        text::p_value(c.p_value)
                    ),
                    Verdict::of(c, metric).words().to_owned(),
                )
            }
            None if difference.is_some() => (
                "no interval".to_owned(),
                "one seed".to_owned(),
                "1 seed: untested".to_owned(),
            ),
            None => ("–".to_owned(), "–".to_owned(), "not trained".to_owned()),
        };
        let text = match (c, difference) {
            (Some(_), Some(d)) => format!("{} ({interval_text}), {test_text}", signed(metric, d)),
            (None, Some(d)) => format!("{} (one seed: no interval)", signed(metric, d)),
            _ => "–".to_owned(),
        };
        let probability = contrast.improvement.as_ref().map(|p| Probability {
            value: p.probability,
            interval: [p.interval.0, p.interval.1],
            text: format!(
                "{:.2} [{:.2}, {:.2}]",
                p.probability, p.interval.0, p.interval.1
            ),
        });
        let effect_text = match (contrast.hedges_g, &probability) {
            (Some(g), Some(p)) => format!("g = {}, P(better) = {}", text::signed(g, 2, ""), p.text),
            _ => "–".to_owned(),
        };
        Compared {
            against,
            metric,
            difference,
            interval: c.map(|c| [c.interval.0, c.interval.1]),
            p_value: c.map(|c| c.p_value),
            test: c.map(|c| c.test),
            floored: c.is_some_and(|c| c.floored),
            verdict: c.map(|c| Verdict::of(c, metric)),
            verdict_text,
            text,
            difference_text,
            interval_text,
            test_text,
            hedges_g: contrast.hedges_g,
            probability_of_improvement: probability,
            effect_text,
            seeds_needed: match seeds {
                Some(SeedsNeeded::Seeds(n)) => Some(n),
                _ => None,
            },
            seeds_needed_text: seeds_needed_text(seeds),
            margin: None,
            margin_text: None,
            p_claim: None,
            p_adjusted: None,
            claim_interval: None,
        }
    }
}

/// What a plan of seeds says, in words.
fn seeds_needed_text(seeds: Option<SeedsNeeded>) -> String {
    let power = text::percent(stats::TARGET_POWER, 0);
    match seeds {
        Some(SeedsNeeded::Seeds(n)) => format!("{n} seeds per side for {power} power"),
        Some(SeedsNeeded::Beyond(n)) => {
            format!(
                "more than {} seeds per side for {power} power",
                text::thousands(n as i64)
            )
        }
        Some(SeedsNeeded::Unreachable) => {
            "no number of seeds: the difference observed does not lie the way the test needs"
                .to_owned()
        }
        None => "needs 2 seeds or more on each side".to_owned(),
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
        Sample::new(seeds, values, 0.001)
    }

    #[test]
    fn a_stat_prints_mean_spread_and_interval_and_one_seed_alone() {
        // scipy: mean 0.6, std(ddof=1) 0.01, t.ppf(0.975, 2) = 4.302652729749464,
        // half-width 4.302652729749464 * 0.01 / sqrt(3) = 0.024841... → 57.52–62.48 %.
        let t = Options::t(0.001);
        let s = Stat::of(&[0.59, 0.60, 0.61], Metric::TestAccuracy, &t);
        assert_eq!(s.text, "60.00 % ± 1.00 (95 % CI 57.52–62.48 %)");
        assert_eq!(s.short, "60.00 ± 1.00 %");
        let one = Stat::of(&[0.59], Metric::TestAccuracy, &t);
        assert_eq!((one.text.as_str(), one.interval), ("59.00 %", None));
        let loss = Stat::of(&[1.25], Metric::TestLoss, &Options::t(1e-4));
        assert_eq!(loss.text, "1.2500");
        // Equal seeds: the interval of a spread of one image, and the text says so.
        let same = Stat::of(&[0.6, 0.6], Metric::TestAccuracy, &t);
        assert!(same.floored);
        assert_eq!(
            same.text,
            "60.00 % ± 0.00 (95 % CI 59.10–60.90 %, its spread taken as 0.10 %)"
        );
    }

    #[test]
    fn comparisons_give_a_verdict_only_with_an_interval() {
        let m = Method::default();
        let a = sample(&[0, 1, 2], &[0.62, 0.63, 0.64]);
        let b = sample(&[0, 1, 2], &[0.60, 0.605, 0.61]);
        let c = Compared::of(&a, &b, Metric::TestAccuracy, link("Model 1"), &m);
        assert_eq!(c.test, Some(Test::Paired));
        assert_eq!(c.verdict, Some(Verdict::Better));
        assert_eq!(c.difference_text, "+2.50 pp");
        assert!(c.text.starts_with("+2.50 pp (95 % CI +"), "{}", c.text);
        assert!(c.interval_text.ends_with(" pp") && !c.interval_text.contains("pp to"));
        assert!(c.test_text.starts_with("p = ") && c.test_text.ends_with("paired t, 3 seeds"));
        assert!(c.text.ends_with("paired t, 3 seeds"), "{}", c.text);
        // Every seed of a beats every seed of b.
        assert_eq!(c.probability_of_improvement.as_ref().unwrap().value, 1.0);
        assert!(c.effect_text.starts_with("g = +"), "{}", c.effect_text);
        assert!(c.seeds_needed.is_some(), "{}", c.seeds_needed_text);
        assert_eq!(c.margin, None);
        let one = Compared::of(
            &sample(&[0], &[0.62]),
            &sample(&[0], &[0.60]),
            Metric::TestAccuracy,
            link("Model 1"),
            &m,
        );
        assert_eq!((one.verdict, one.interval), (None, None));
        assert_eq!(one.verdict_text, "1 seed: untested");
        assert_eq!(one.text, "+2.00 pp (one seed: no interval)");
        assert_eq!(one.seeds_needed_text, "needs 2 seeds or more on each side");
    }

    #[test]
    fn a_bootstrap_says_so() {
        let m = Method {
            interval: IntervalKind::Bootstrap,
            ..Method::default()
        };
        let a = sample(&[0, 1, 2, 3], &[0.62, 0.63, 0.64, 0.66]);
        let b = sample(&[4, 5, 6, 7], &[0.60, 0.605, 0.61, 0.59]);
        let c = Compared::of(&a, &b, Metric::TestAccuracy, link("M"), &m);
        assert!(
            c.interval_text.starts_with("95 % BCa bootstrap interval +"),
            "{}",
            c.interval_text
        );
        assert!(
            c.test_text.contains(", bootstrap, 4 and 4 seeds"),
            "{}",
            c.test_text
        );
        let s = Stat::of(
            &a.values,
            Metric::TestAccuracy,
            &Options {
                method: m,
                floor: 0.001,
            },
        );
        assert!(
            s.text.contains("(95 % BCa bootstrap interval "),
            "{}",
            s.text
        );
    }
}
