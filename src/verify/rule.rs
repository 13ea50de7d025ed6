//! The one rule of when a retrained run counts as the stored one.
//!
//! - Retrained where it was trained (the same device and model, libtorch threads,
//!   libtorch version and numeric switches): every compared number of every epoch, the
//!   confusion matrix and every file but the timed ones (`metrics.json` holds epoch
//!   times, `log.txt` too) must be equal bit for bit: `identical`, else
//!   `not_reproduced`. Another thread count sums libtorch's reductions in another order,
//!   so only the same setting can promise the same bits.
//! - Retrained elsewhere: `[verify] tolerance_pp` when set (every epoch's train and test
//!   accuracy, and the losses with `tolerance_loss`); else the run's final test accuracy
//!   must land in the 95 % prediction interval of its stored seeds; a run of one seed
//!   has no spread, and is held to the claims' margin. Inside: `within_tolerance`.
//!
//! Bounds are inclusive: a difference equal to the tolerance is within it.

use crate::stats::prediction_interval;
use crate::store::Metrics;
use crate::store::record::RunRecord;
use crate::store::verification::{
    EpochPair, Largest, MetricsComparison, Rule, Setting, ToleranceSource, Values, VerifyOutcome,
};
use crate::text;

/// The level of the prediction interval a retrained run is held to: the report's.
pub const PREDICTION_LEVEL: f64 = crate::stats::CONFIDENCE;

/// Files whose bytes depend on the clock, not on the computation.
const TIMED_FILES: [&str; 3] = ["metrics.json", "metrics.csv", "log.txt"];

/// One side of the comparison: a run's record and metrics.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// `run.json`.
    pub record: &'a RunRecord,
    /// `metrics.json`.
    pub metrics: &'a Metrics,
}

/// The tolerances a run is held to where it cannot be identical.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// `[verify] tolerance_pp`, in percentage points.
    pub accuracy_pp: Option<f64>,
    /// `[verify] tolerance_loss`.
    pub loss: Option<f64>,
    /// `[statistics] margin_pp`: for a run of one seed without `tolerance_pp`.
    pub margin_pp: f64,
}

/// What the rule decided of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The outcome.
    pub outcome: VerifyOutcome,
    /// The rule that decided it.
    pub rule: Rule,
    /// Why, in one sentence.
    pub reason: String,
    /// The metrics side by side.
    pub metrics: MetricsComparison,
    /// What differs between where it was trained and where it was retrained.
    pub differences: Vec<String>,
}

/// What differs between two settings, in words ("threads 2 → 1"); a libtorch version
/// either record lacks is a difference too, since nothing says the two are the same.
pub fn differences(stored: &Setting, now: &Setting) -> Vec<String> {
    let mut out = Vec::new();
    let mut differ = |what: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{what} {a} → {b}"));
        }
    };
    differ("device", stored.device.clone(), now.device.clone());
    differ("model", stored.device_name.clone(), now.device_name.clone());
    differ(
        "threads",
        stored.threads.to_string(),
        now.threads.to_string(),
    );
    let version = |v: &Option<String>| v.clone().unwrap_or_else(|| "not recorded".into());
    if stored.torch_version.is_none() || now.torch_version.is_none() {
        out.push(format!(
            "libtorch {} → {}",
            version(&stored.torch_version),
            version(&now.torch_version)
        ));
    } else {
        differ(
            "libtorch",
            version(&stored.torch_version),
            version(&now.torch_version),
        );
    }
    match (&stored.numerics, &now.numerics) {
        (Some(a), Some(b)) if a == b => {}
        (a, b) => out.push(format!(
            "numerics {} → {}",
            a.as_ref()
                .map_or("not recorded".into(), |n| format!("{n:?}")),
            b.as_ref()
                .map_or("not recorded".into(), |n| format!("{n:?}"))
        )),
    }
    out
}

/// Judges `retrained` against `stored`. `seeds` holds the final test accuracy of every
/// stored complete seed of the run (this one's included), `floor` the smallest spread a
/// test accuracy can show (one test image).
pub fn judge(
    stored: Side<'_>,
    retrained: Side<'_>,
    seeds: &[f64],
    floor: f64,
    tolerances: &Tolerances,
) -> Judged {
    let differences = differences(&Setting::of(stored.record), &Setting::of(retrained.record));
    let metrics = side_by_side(stored.metrics, retrained.metrics);
    let (outcome, rule, reason) = if differences.is_empty() {
        match first_bit_difference(stored, retrained) {
            None => (
                VerifyOutcome::Identical,
                Rule::BitForBit,
                "every metric, the confusion matrix and the weights equal bit for bit".into(),
            ),
            Some(d) => (
                VerifyOutcome::NotReproduced,
                Rule::BitForBit,
                format!("retrained in the same setting, yet {d}"),
            ),
        }
    } else {
        tolerated(stored, retrained, seeds, floor, tolerances)
    };
    Judged {
        outcome,
        rule,
        reason,
        metrics,
        differences,
    }
}

/// The first difference a same-setting retraining must not show, in words.
fn first_bit_difference(stored: Side<'_>, retrained: Side<'_>) -> Option<String> {
    if let Some(d) = status_or_length(stored, retrained) {
        return Some(d);
    }
    for (a, b) in stored.metrics.epochs.iter().zip(&retrained.metrics.epochs) {
        let (va, vb) = (Values::of(a), Values::of(b));
        for (name, x, y) in named(&va, &vb) {
            if x.to_bits() != y.to_bits() {
                return Some(format!(
                    "epoch {}'s {name} differs: {x} stored, {y} retrained",
                    a.epoch
                ));
            }
        }
        if a.lr.map(f64::to_bits) != b.lr.map(f64::to_bits) {
            return Some(format!("epoch {}'s learning rate differs", a.epoch));
        }
    }
    if stored.metrics.confusion != retrained.metrics.confusion {
        return Some("the confusion matrix differs".into());
    }
    let files = |r: &RunRecord| {
        r.files
            .iter()
            .filter(|(name, _)| !TIMED_FILES.contains(&name.as_str()))
            .map(|(name, f)| (name.clone(), f.blake3.clone()))
            .collect::<Vec<_>>()
    };
    let (a, b) = (files(stored.record), files(retrained.record));
    for (name, digest) in &a {
        match b.iter().find(|(n, _)| n == name) {
            None => return Some(format!("{name} was not written again")),
            Some((_, d)) if d != digest => return Some(format!("{name} differs")),
            Some(_) => {}
        }
    }
    b.iter()
        .find(|(n, _)| !a.iter().any(|(m, _)| m == n))
        .map(|(n, _)| format!("{n} is new"))
}

/// A different ending or epoch count, which no tolerance excuses.
fn status_or_length(stored: Side<'_>, retrained: Side<'_>) -> Option<String> {
    if stored.record.status != retrained.record.status {
        return Some(format!(
            "it ended {} where the stored run ended {}",
            retrained.record.status, stored.record.status
        ));
    }
    let (a, b) = (stored.metrics.epochs.len(), retrained.metrics.epochs.len());
    (a != b).then(|| format!("it ran {b} epochs where the stored run ran {a}"))
}

/// The outcome of a run retrained in another setting.
fn tolerated(
    stored: Side<'_>,
    retrained: Side<'_>,
    seeds: &[f64],
    floor: f64,
    tolerances: &Tolerances,
) -> (VerifyOutcome, Rule, String) {
    let by_pp = |pp: f64, loss: Option<f64>, source: ToleranceSource| {
        let rule = Rule::Tolerance {
            accuracy: pp / 100.0,
            loss,
            source,
        };
        if let Some(d) = status_or_length(stored, retrained) {
            return (VerifyOutcome::NotReproduced, rule, d);
        }
        let over = epochs_over(stored.metrics, retrained.metrics, pp / 100.0, loss);
        let from = match source {
            ToleranceSource::Verify => "[verify] tolerance_pp",
            ToleranceSource::Margin => "one seed, so the claims' margin_pp",
        };
        match over {
            Some(d) => (
                VerifyOutcome::NotReproduced,
                rule,
                format!("{d}, over the {} tolerance ({from})", text::pp(pp / 100.0)),
            ),
            None => (
                VerifyOutcome::WithinTolerance,
                rule,
                format!(
                    "every epoch's accuracies within {} ({from})",
                    text::pp(pp / 100.0)
                ),
            ),
        }
    };
    if let Some(pp) = tolerances.accuracy_pp {
        return by_pp(pp, tolerances.loss, ToleranceSource::Verify);
    }
    let Some((low, high)) = prediction_interval(seeds, floor, PREDICTION_LEVEL) else {
        return by_pp(tolerances.margin_pp, None, ToleranceSource::Margin);
    };
    let rule = Rule::SeedSpread {
        low,
        high,
        seeds: seeds.iter().filter(|v| v.is_finite()).count(),
    };
    if let Some(d) = status_or_length(stored, retrained) {
        return (VerifyOutcome::NotReproduced, rule, d);
    }
    let last = retrained
        .metrics
        .last()
        .map_or(f64::NAN, |m| m.test_accuracy);
    let range = format!(
        "the {} prediction interval of its {} stored seeds, {}–{}",
        text::percent(PREDICTION_LEVEL, 0),
        seeds.len(),
        text::percent(low, 2),
        text::percent(high, 2)
    );
    if (low..=high).contains(&last) {
        (
            VerifyOutcome::WithinTolerance,
            rule,
            format!(
                "final test accuracy {} inside {range}",
                text::percent(last, 2)
            ),
        )
    } else {
        (
            VerifyOutcome::NotReproduced,
            rule,
            format!(
                "final test accuracy {} outside {range}",
                text::percent(last, 2)
            ),
        )
    }
}

/// The first epoch whose accuracy (or loss, with a loss tolerance) moved more than
/// allowed, in words.
fn epochs_over(a: &Metrics, b: &Metrics, accuracy: f64, loss: Option<f64>) -> Option<String> {
    // A tolerance of exactly a difference must hold despite the last bit of a
    // subtraction of fractions (0.347 − 0.346 is not 0.001 in binary).
    let slack = 1e-12;
    for (x, y) in a.epochs.iter().zip(&b.epochs) {
        let (vx, vy) = (Values::of(x), Values::of(y));
        for (name, p, q) in named(&vx, &vy) {
            let limit = if name.ends_with("accuracy") {
                Some(accuracy)
            } else {
                loss
            };
            if let Some(limit) = limit
                && (q - p).abs() > limit + slack
            {
                return Some(format!(
                    "epoch {}'s {} moved {} → {}",
                    x.epoch,
                    name.replace('_', " "),
                    show(name, p),
                    show(name, q)
                ));
            }
        }
    }
    None
}

/// A metric's value as people read it: a percentage or a loss.
fn show(name: &str, v: f64) -> String {
    if name.ends_with("accuracy") {
        text::percent(v, 2)
    } else {
        text::loss(v)
    }
}

/// The four compared numbers of two epochs, named.
fn named(a: &Values, b: &Values) -> [(&'static str, f64, f64); 4] {
    [
        ("train_loss", a.train_loss, b.train_loss),
        ("train_accuracy", a.train_accuracy, b.train_accuracy),
        ("test_loss", a.test_loss, b.test_loss),
        ("test_accuracy", a.test_accuracy, b.test_accuracy),
    ]
}

/// Both runs' epochs side by side, and the largest accuracy difference.
pub fn side_by_side(stored: &Metrics, retrained: &Metrics) -> MetricsComparison {
    let n = stored.epochs.len().max(retrained.epochs.len());
    let epochs: Vec<EpochPair> = (0..n)
        .map(|i| EpochPair {
            epoch: i as i64 + 1,
            stored: stored.epochs.get(i).map(Values::of),
            retrained: retrained.epochs.get(i).map(Values::of),
        })
        .collect();
    let mut largest: Option<Largest> = None;
    for e in &epochs {
        let (Some(a), Some(b)) = (e.stored, e.retrained) else {
            continue;
        };
        for (metric, d) in [
            ("test_accuracy", b.test_accuracy - a.test_accuracy),
            ("train_accuracy", b.train_accuracy - a.train_accuracy),
        ] {
            if largest
                .as_ref()
                .is_none_or(|l| d.abs() > l.difference.abs())
            {
                largest = Some(Largest {
                    metric: metric.into(),
                    epoch: e.epoch,
                    difference: d,
                });
            }
        }
    }
    MetricsComparison { epochs, largest }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::record::FileEntry;
    use crate::store::{EpochMetrics, RunStatus};

    fn metrics(test: &[f64]) -> Metrics {
        Metrics {
            classes: vec!["a".into(), "b".into()],
            epochs: test
                .iter()
                .enumerate()
                .map(|(i, &t)| EpochMetrics {
                    epoch: i as i64 + 1,
                    train_loss: 1.0,
                    train_accuracy: 0.5,
                    test_loss: 1.2,
                    test_accuracy: t,
                    seconds: 3.0 + i as f64,
                    images_per_second: 100.0,
                    lr: Some(0.01),
                })
                .collect(),
            confusion: vec![vec![1, 0], vec![0, 1]],
        }
    }

    fn record(threads: i32, weights: &str) -> RunRecord {
        let started = chrono::Utc::now();
        let mut r = RunRecord {
            format: crate::store::record::RECORD_FORMAT,
            key: crate::plan::RunKey("00".into()),
            id: crate::plan::RunId {
                section: "model-3".into(),
                variant: "main".into(),
            },
            profile: "quick".into(),
            status: RunStatus::Complete,
            device: "cpu".into(),
            device_name: "Test CPU".into(),
            threads,
            torch_version: Some("2.11.0+cu130".into()),
            numerics: Some(crate::store::record::Numerics {
                deterministic_algorithms: true,
                cudnn_deterministic: true,
                cudnn_benchmark: false,
                cuda_conv_precision: "ieee".into(),
                cuda_matmul_precision: "ieee".into(),
                cublas_workspace_config: None,
            }),
            data: crate::store::record::DataInfo {
                source: "data".into(),
                fingerprint: "f".into(),
                train: 5000,
                test: 1000,
            },
            started,
            finished: started,
            snapshots: vec![],
            files: Default::default(),
        };
        r.files.insert(
            "weights.safetensors".into(),
            FileEntry {
                bytes: 10,
                blake3: weights.into(),
            },
        );
        r.files.insert(
            "metrics.json".into(),
            FileEntry {
                bytes: 10,
                blake3: format!("timed-{threads}-{weights}"),
            },
        );
        r
    }

    const TOL: Tolerances = Tolerances {
        accuracy_pp: None,
        loss: None,
        margin_pp: 1.0,
    };

    fn judge_of(
        a: (&RunRecord, &Metrics),
        b: (&RunRecord, &Metrics),
        seeds: &[f64],
        tol: &Tolerances,
    ) -> Judged {
        judge(
            Side {
                record: a.0,
                metrics: a.1,
            },
            Side {
                record: b.0,
                metrics: b.1,
            },
            seeds,
            0.001,
            tol,
        )
    }

    #[test]
    fn the_same_setting_must_give_the_same_bits() {
        let (r, m) = (record(2, "w"), metrics(&[0.30, 0.347]));
        // Epoch times differ (and so metrics.json's digest): still identical.
        let mut later = m.clone();
        later.epochs[1].seconds = 99.0;
        let j = judge_of((&r, &m), (&record(2, "w"), &later), &[0.347], &TOL);
        assert_eq!(j.outcome, VerifyOutcome::Identical, "{}", j.reason);
        assert_eq!(j.rule, Rule::BitForBit);
        // One ulp of a test accuracy is a failure in the same setting.
        let mut moved = m.clone();
        moved.epochs[1].test_accuracy = f64::from_bits(0.347f64.to_bits() + 1);
        let j = judge_of((&r, &m), (&r, &moved), &[0.347], &TOL);
        assert_eq!(j.outcome, VerifyOutcome::NotReproduced);
        assert!(
            j.reason.contains("epoch 2's test_accuracy differs"),
            "{}",
            j.reason
        );
        // Other weights, same metrics.
        let j = judge_of((&r, &m), (&record(2, "v"), &m), &[0.347], &TOL);
        assert_eq!(j.outcome, VerifyOutcome::NotReproduced);
        assert!(
            j.reason.contains("weights.safetensors differs"),
            "{}",
            j.reason
        );
    }

    #[test]
    fn another_thread_count_is_held_to_the_seeds_prediction_interval() {
        let (r, m) = (record(2, "w"), metrics(&[0.30, 0.347]));
        let one = record(1, "v");
        // Stored seeds 0.34, 0.347, 0.35; scipy 1.17.1: m ± t.ppf(0.975, 2) · s · √(4/3)
        // = 0.3201714573518622 to 0.37116187598147105.
        let seeds = [0.34, 0.347, 0.35];
        let j = judge_of((&r, &m), (&one, &metrics(&[0.31, 0.346])), &seeds, &TOL);
        assert_eq!(j.outcome, VerifyOutcome::WithinTolerance, "{}", j.reason);
        assert_eq!(j.differences, ["threads 2 → 1"]);
        let Rule::SeedSpread {
            low,
            high,
            seeds: 3,
        } = j.rule
        else {
            panic!("{:?}", j.rule)
        };
        assert!((low - 0.3201714573518622).abs() < 1e-12, "{low}");
        assert!((high - 0.37116187598147105).abs() < 1e-12, "{high}");
        let j = judge_of((&r, &m), (&one, &metrics(&[0.31, 0.375])), &seeds, &TOL);
        assert_eq!(j.outcome, VerifyOutcome::NotReproduced);
        assert!(
            j.reason.contains("outside the 95 % prediction interval"),
            "{}",
            j.reason
        );
    }

    #[test]
    fn a_tolerance_holds_at_its_boundary_and_fails_just_past_it() {
        let (r, m) = (record(2, "w"), metrics(&[0.30, 0.347]));
        let one = record(1, "v");
        let tol = Tolerances {
            accuracy_pp: Some(0.1),
            ..TOL
        };
        // 0.347 → 0.346 is 0.1 pp, the tolerance exactly: within.
        let j = judge_of((&r, &m), (&one, &metrics(&[0.30, 0.346])), &[], &tol);
        assert_eq!(j.outcome, VerifyOutcome::WithinTolerance, "{}", j.reason);
        // 0.347 → 0.3459 is 0.11 pp: past it, and the first epoch past it is named.
        let j = judge_of((&r, &m), (&one, &metrics(&[0.30, 0.3459])), &[], &tol);
        assert_eq!(j.outcome, VerifyOutcome::NotReproduced);
        assert!(
            j.reason.starts_with("epoch 2's test accuracy moved"),
            "{}",
            j.reason
        );
        // An earlier epoch counts as much as the last.
        let j = judge_of((&r, &m), (&one, &metrics(&[0.31, 0.347])), &[], &tol);
        assert_eq!(j.outcome, VerifyOutcome::NotReproduced);
        assert_eq!(j.metrics.largest.as_ref().unwrap().epoch, 1);
    }

    #[test]
    fn one_seed_falls_back_to_the_margin_and_a_shorter_run_never_passes() {
        let (r, m) = (record(2, "w"), metrics(&[0.30, 0.347]));
        let one = record(1, "v");
        let j = judge_of((&r, &m), (&one, &metrics(&[0.305, 0.352])), &[0.347], &TOL);
        assert_eq!(j.outcome, VerifyOutcome::WithinTolerance, "{}", j.reason);
        assert!(matches!(
            j.rule,
            Rule::Tolerance {
                source: ToleranceSource::Margin,
                ..
            }
        ));
        let j = judge_of((&r, &m), (&one, &metrics(&[0.30])), &[0.347, 0.35], &TOL);
        assert_eq!(j.outcome, VerifyOutcome::NotReproduced);
        assert!(
            j.reason.contains("ran 1 epochs where the stored run ran 2"),
            "{}",
            j.reason
        );
    }

    #[test]
    fn an_unrecorded_libtorch_is_never_the_same_setting() {
        let mut old = record(2, "w");
        old.torch_version = None;
        let d = differences(&Setting::of(&old), &Setting::of(&record(2, "w")));
        assert_eq!(d, ["libtorch not recorded → 2.11.0+cu130"]);
    }
}
