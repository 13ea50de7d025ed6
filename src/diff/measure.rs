//! Each metric of a run, old against new: the means over complete seeds, the
//! difference, its 95 % interval and two-sided test (paired when both sides ran the
//! same seeds, else Welch's: the report's own comparison), and a verdict read from the
//! p-value after Holm's adjustment over every test of the diff.

use super::model::{Change, DiffVerdict, MetricDiff, RunDiff};
use crate::analyze::seeds::{self, Sample};
use crate::plan::spec::Metric;
use crate::render::context::{Provenance, RunEntry};
use crate::stats::{self, Method, Summary};
use crate::store::Metrics;

/// `metric` of a run on both sides; tested only where the run changed (a run that is
/// the same on both sides holds the same stored seeds).
pub(super) fn metric(
    old: Option<&RunEntry>,
    new: Option<&RunEntry>,
    metric: Metric,
    change: Change,
    method: &Method,
) -> MetricDiff {
    let (a, b) = (
        old.map(|r| sample(r, metric)),
        new.map(|r| sample(r, metric)),
    );
    let mean = |s: &Option<Sample>| s.as_ref().and_then(|s| Summary::of(&s.values).mean);
    let (o, n) = (mean(&a), mean(&b));
    let tested = match (&a, &b) {
        (Some(a), Some(b)) if change == Change::Changed => seeds::compare(b, a, method),
        _ => None,
    };
    let count = |s: &Option<Sample>| s.as_ref().map_or(0, |s| s.values.len());
    MetricDiff {
        old: o,
        new: n,
        delta: o.zip(n).map(|(o, n)| n - o),
        interval: tested.as_ref().map(|c| [c.interval.0, c.interval.1]),
        p_value: tested.as_ref().map(|c| c.p_value),
        p_adjusted: None,
        test: tested.as_ref().map(|c| c.test),
        floored: tested.as_ref().is_some_and(|c| c.floored),
        n: [count(&a), count(&b)],
        verdict: if change == Change::Same {
            DiffVerdict::Unchanged
        } else {
            DiffVerdict::Untested
        },
    }
}

/// A run's complete seeds: each seed, its metrics as the store holds them, and where
/// it was trained.
pub(super) fn complete(run: &RunEntry) -> Vec<(u64, Metrics, Option<&Provenance>)> {
    run.seed_runs
        .iter()
        .filter(|s| s.state == "complete")
        .filter_map(|s| {
            let m = s.metrics.as_ref()?;
            let metrics = Metrics {
                classes: m.confusion.classes.clone(),
                epochs: m.epochs.clone(),
                confusion: m.confusion.counts.clone(),
            };
            Some((s.seed, metrics, s.provenance.as_ref()))
        })
        .collect()
}

/// A run's complete seeds and their values of `metric`, with the floor of the data
/// they were measured on.
fn sample(run: &RunEntry, metric: Metric) -> Sample {
    let complete = complete(run);
    let values: Vec<f64> = complete
        .iter()
        .map(|(_, m, _)| seeds::value(m, metric).unwrap_or(f64::NAN))
        .collect();
    let floor = complete
        .iter()
        .find_map(|(_, _, p)| *p)
        .map_or(0.0, |p| seeds::floor(metric, p.train_images, p.test_images));
    let seeds: Vec<u64> = complete.iter().map(|(s, _, _)| *s).collect();
    Sample::new(&seeds, &values, floor)
}

/// Holm's adjustment over every test of `runs`, and the verdicts read from it at
/// [`stats::ALPHA`]; returns how many tests were adjusted together.
pub(super) fn adjust(runs: &mut [RunDiff]) -> usize {
    const ORDER: [Metric; 4] = [
        Metric::TestAccuracy,
        Metric::BestTestAccuracy,
        Metric::TrainAccuracy,
        Metric::TrainLoss,
    ];
    let mut tests: Vec<(&mut MetricDiff, Metric)> = runs
        .iter_mut()
        .flat_map(|r| r.metrics_mut().into_iter().zip(ORDER))
        .filter(|(m, _)| m.p_value.is_some())
        .collect();
    let p: Vec<f64> = tests
        .iter()
        .map(|(m, _)| m.p_value.unwrap_or(1.0))
        .collect();
    let adjusted = stats::holm(&p);
    for ((m, metric), q) in tests.iter_mut().zip(adjusted) {
        m.p_adjusted = Some(q);
        let up = m.delta.unwrap_or(0.0) > 0.0;
        m.verdict = if q >= stats::ALPHA {
            DiffVerdict::WithinNoise
        } else if up == metric.higher_is_better() {
            DiffVerdict::Better
        } else {
            DiffVerdict::Worse
        };
    }
    p.len()
}

#[cfg(test)]
mod tests {
    use super::super::model::Pair;
    use super::*;
    use crate::stats::Test;

    fn tested(p: f64, delta: f64) -> MetricDiff {
        MetricDiff {
            old: Some(0.5),
            new: Some(0.5 + delta),
            delta: Some(delta),
            interval: Some([delta - 0.1, delta + 0.1]),
            p_value: Some(p),
            p_adjusted: None,
            test: Some(Test::Paired),
            floored: false,
            n: [3, 3],
            verdict: DiffVerdict::Untested,
        }
    }

    fn run(metrics: [MetricDiff; 4]) -> RunDiff {
        let [
            test_accuracy,
            best_test_accuracy,
            train_accuracy,
            train_loss,
        ] = metrics;
        RunDiff {
            run: "r".into(),
            title: "R".into(),
            change: Change::Changed,
            settings: vec![],
            seeds: Pair {
                old: None,
                new: None,
            },
            best: Pair {
                old: None,
                new: None,
            },
            test_accuracy,
            best_test_accuracy,
            train_accuracy,
            train_loss,
            comparison: None,
        }
    }

    #[test]
    fn verdicts_read_holm_adjusted_p_values_and_a_higher_loss_is_worse() {
        // Holm by hand: sorted 0.001, 0.01, 0.03, 0.04 times 4, 3, 2, 1 is 0.004, 0.03,
        // 0.06, 0.04, made monotone 0.004, 0.03, 0.06, 0.06.
        let mut runs = vec![run([
            tested(0.01, 0.05),
            tested(0.04, -0.02),
            tested(0.03, -0.03),
            tested(0.001, 0.1),
        ])];
        assert_eq!(adjust(&mut runs), 4);
        let r = &runs[0];
        let q: Vec<f64> = r
            .metrics()
            .iter()
            .map(|(_, m)| m.p_adjusted.unwrap())
            .collect();
        for (got, want) in q.iter().zip([0.03, 0.06, 0.06, 0.004]) {
            assert!((got - want).abs() < 1e-12, "{q:?}");
        }
        let verdicts: Vec<DiffVerdict> = r.metrics().iter().map(|(_, m)| m.verdict).collect();
        assert_eq!(
            verdicts,
            [
                DiffVerdict::Better,
                // Significant alone (p = 0.04), not after the correction.
                DiffVerdict::WithinNoise,
                DiffVerdict::WithinNoise,
                DiffVerdict::Worse,
            ]
        );
    }

    #[test]
    fn untested_metrics_stay_out_of_the_family() {
        let mut untested = tested(0.5, 0.0);
        untested.p_value = None;
        let mut runs = vec![run([
            tested(0.02, 0.05),
            untested.clone(),
            untested.clone(),
            untested,
        ])];
        assert_eq!(adjust(&mut runs), 1);
        assert_eq!(runs[0].test_accuracy.p_adjusted, Some(0.02));
        assert_eq!(runs[0].test_accuracy.verdict, DiffVerdict::Better);
        assert_eq!(runs[0].train_loss.verdict, DiffVerdict::Untested);
    }
}
