//! One run repeated over seeds, taken together: per-epoch mean curves with their spread,
//! the numbers claims and comparisons are about, and the comparison of two runs.
//!
//! Only complete seeds are taken together: a diverged seed's numbers are not finite or
//! stop early, so callers leave it out and name it (the report says which seeds were
//! left out and why); nothing here averages one in.

use serde::{Deserialize, Serialize};

use crate::plan::spec::Metric;
use crate::stats::{
    self, Comparison, Design, Improvement, Method, Options, Question, SeedsNeeded, Summary,
};
use crate::store::Metrics;
use crate::store::record::EpochMetrics;

/// A per-epoch curve: one run's values, or the mean over several seeds with the
/// standard deviation at each epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// `(epoch, value)`, in epoch order.
    pub points: Vec<(i64, f64)>,
    /// The sample standard deviation at each point, with two seeds or more.
    pub sd: Option<Vec<f64>>,
    /// The seeds taken together.
    pub seeds: usize,
}

impl Curve {
    /// `f` of every epoch of `runs` (one metrics per seed), over the epochs every run
    /// has: the value itself for one run, the mean and standard deviation for several.
    pub fn of(runs: &[&Metrics], f: impl Fn(&EpochMetrics) -> f64) -> Curve {
        let epochs = runs.iter().map(|m| m.epochs.len()).min().unwrap_or(0);
        let mut points = Vec::with_capacity(epochs);
        let mut sd = Vec::with_capacity(epochs);
        for i in 0..epochs {
            let values: Vec<f64> = runs.iter().map(|m| f(&m.epochs[i])).collect();
            let s = Summary::of(&values);
            // A non-finite value (a diverged epoch) stays non-finite: the plot breaks
            // the line there rather than averaging the other seeds alone.
            let mean = if s.excluded > 0 {
                f64::NAN
            } else {
                s.mean.unwrap_or(f64::NAN)
            };
            points.push((runs[0].epochs[i].epoch, mean));
            sd.push(s.std.unwrap_or(0.0));
        }
        Curve {
            points,
            sd: (runs.len() > 1).then_some(sd),
            seeds: runs.len(),
        }
    }

    /// The curve scaled by `k` (fractions to percent), spread included.
    pub fn scaled(mut self, k: f64) -> Curve {
        for p in &mut self.points {
            p.1 *= k;
        }
        if let Some(sd) = &mut self.sd {
            for v in sd {
                *v *= k.abs();
            }
        }
        self
    }
}

/// `metric` of one run: final accuracies and losses from its last epoch, the best test
/// accuracy from any.
pub fn value(m: &Metrics, metric: Metric) -> Option<f64> {
    let last = m.last()?;
    Some(match metric {
        Metric::TestAccuracy => last.test_accuracy,
        Metric::BestTestAccuracy => m
            .epochs
            .iter()
            .map(|e| e.test_accuracy)
            .fold(f64::NEG_INFINITY, f64::max),
        Metric::TrainAccuracy => last.train_accuracy,
        Metric::TrainLoss => last.train_loss,
        Metric::TestLoss => last.test_loss,
    })
}

/// `metric` of each seed, in order (NaN for a seed without epochs).
pub fn values(runs: &[&Metrics], metric: Metric) -> Vec<f64> {
    runs.iter()
        .map(|m| value(m, metric).unwrap_or(f64::NAN))
        .collect()
}

/// The spread a metric cannot resolve for losses: the report prints them to 4 places.
pub const LOSS_FLOOR: f64 = 1e-4;

/// The smallest spread `metric` can show on data of `train` and `test` images: one image
/// for an accuracy (two seeds that score the same on 1,000 test images differ by less
/// than the measurement resolves, not by nothing), [`LOSS_FLOOR`] for a loss.
pub fn floor(metric: Metric, train: usize, test: usize) -> f64 {
    let images = match metric {
        Metric::TestAccuracy | Metric::BestTestAccuracy => test,
        Metric::TrainAccuracy => train,
        Metric::TrainLoss | Metric::TestLoss => return LOSS_FLOOR,
    };
    if images > 0 { 1.0 / images as f64 } else { 0.0 }
}

/// One side of a comparison: a run's complete seeds and their values of a metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The seeds, in order.
    pub seeds: Vec<u64>,
    /// The metric of each.
    pub values: Vec<f64>,
    /// The smallest spread the metric can show ([`floor`]).
    pub floor: f64,
}

impl Sample {
    /// A sample of `values` measured on `seeds`, whose spread is at least `floor`.
    pub fn new(seeds: &[u64], values: &[f64], floor: f64) -> Sample {
        Sample {
            seeds: seeds.to_vec(),
            values: values.to_vec(),
            floor,
        }
    }
}

/// `a` against `b`: the paired test when both ran exactly the same seeds (the seed
/// fixes initialisation, order and augmentation, so pairing removes that shared
/// noise), else Welch's; the larger of the two sides' floors. `None` below two seeds
/// on either side.
pub fn compare(a: &Sample, b: &Sample, method: &Method) -> Option<Comparison> {
    let options = Options {
        method: *method,
        floor: a.floor.max(b.floor),
    };
    if a.seeds == b.seeds {
        stats::paired(&a.values, &b.values, &options)
    } else {
        stats::welch(&a.values, &b.values, &options)
    }
}

/// Everything a comparison of two runs' metric says: the test, the effect's size, the
/// chance a seed of one beats a seed of the other, and the seeds a clear answer needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Contrast {
    /// The difference with its interval and test; `None` below two seeds a side.
    pub comparison: Option<Comparison>,
    /// Hedges' g of `a` against `b`.
    pub hedges_g: Option<f64>,
    /// P(a seed of `a` is better than one of `b`), "better" as the metric has it.
    pub improvement: Option<Improvement>,
    /// Seeds per side that would detect the difference observed (two-sided, 80 %).
    pub seeds_needed: Option<SeedsNeeded>,
}

impl Contrast {
    /// `a`'s `metric` against `b`'s.
    pub fn of(a: &Sample, b: &Sample, metric: Metric, method: &Method) -> Contrast {
        let comparison = compare(a, b, method);
        let seeds_needed = comparison
            .as_ref()
            .map(|c| plan(c, Question::Differ, c.difference));
        Contrast {
            hedges_g: stats::hedges_g(&a.values, &b.values, a.floor.max(b.floor)),
            improvement: (a.values.len() > 1 && b.values.len() > 1)
                .then(|| {
                    stats::probability_of_improvement(
                        &a.values,
                        &b.values,
                        metric.higher_is_better(),
                        method,
                    )
                })
                .flatten(),
            comparison,
            seeds_needed,
        }
    }
}

/// The seeds per side `question`'s test needs on `c`'s design and spread, if the true
/// difference were `delta`.
pub fn plan(c: &Comparison, question: Question, delta: f64) -> SeedsNeeded {
    let design = match c.test {
        stats::Test::Paired => Design::Paired,
        stats::Test::Welch => Design::Independent,
    };
    stats::seeds_needed(question, delta, c.spread, design, stats::ALPHA)
}

/// What a comparison says about a metric, for the better or the worse: the statistics
/// speak of higher and lower, and a lower loss is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The interval of the difference lies on the better side of 0.
    Better,
    /// It lies on the worse side.
    Worse,
    /// It covers 0.
    WithinNoise,
}

impl Verdict {
    /// The verdict on `metric` of a comparison.
    pub fn of(c: &Comparison, metric: Metric) -> Verdict {
        match (c.direction, metric.higher_is_better()) {
            (stats::Direction::WithinNoise, _) => Verdict::WithinNoise,
            (stats::Direction::Higher, true) | (stats::Direction::Lower, false) => Verdict::Better,
            _ => Verdict::Worse,
        }
    }

    /// The verdict in words: "better", "worse", "within noise".
    pub fn words(&self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::WithinNoise => "within noise",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(tests: &[f64]) -> Metrics {
        Metrics {
            classes: vec![],
            epochs: tests
                .iter()
                .enumerate()
                .map(|(i, t)| EpochMetrics {
                    epoch: i as i64 + 1,
                    train_loss: 2.0 - t,
                    train_accuracy: t + 0.1,
                    test_loss: 2.5 - t,
                    test_accuracy: *t,
                    seconds: 1.0,
                    images_per_second: 1.0,
                    lr: None,
                })
                .collect(),
            confusion: vec![],
        }
    }

    #[test]
    fn a_mean_curve_has_the_mean_and_sample_deviation_of_each_epoch() {
        let (a, b, c) = (
            metrics(&[0.1, 0.4]),
            metrics(&[0.2, 0.5]),
            metrics(&[0.3, 0.9]),
        );
        let curve = Curve::of(&[&a, &b, &c], |e| e.test_accuracy).scaled(100.0);
        assert_eq!(curve.seeds, 3);
        assert_eq!(curve.points.iter().map(|p| p.0).collect::<Vec<_>>(), [1, 2]);
        assert!((curve.points[0].1 - 20.0).abs() < 1e-9);
        assert!((curve.points[1].1 - 60.0).abs() < 1e-9);
        let sd = curve.sd.unwrap();
        assert!((sd[0] - 10.0).abs() < 1e-9, "{sd:?}");
        // numpy: np.std([40, 50, 90], ddof=1) = 26.457513110645905
        assert!((sd[1] - 26.457513110645905).abs() < 1e-9, "{sd:?}");
    }

    #[test]
    fn one_seed_is_its_own_curve_without_spread() {
        let a = metrics(&[0.1, 0.4]);
        let curve = Curve::of(&[&a], |e| e.test_accuracy);
        assert_eq!(curve.points, [(1, 0.1), (2, 0.4)]);
        assert_eq!(curve.sd, None);
    }

    #[test]
    fn values_and_verdicts_know_that_a_lower_loss_is_better() {
        let a = metrics(&[0.3, 0.7, 0.6]);
        assert_eq!(value(&a, Metric::TestAccuracy), Some(0.6));
        assert_eq!(value(&a, Metric::BestTestAccuracy), Some(0.7));
        assert!((value(&a, Metric::TrainAccuracy).unwrap() - 0.7).abs() < 1e-12);
        assert!((value(&a, Metric::TestLoss).unwrap() - 1.9).abs() < 1e-12);
        let hi = Sample {
            seeds: vec![0, 1, 2],
            values: vec![2.0, 2.1, 2.2],
            floor: 0.0,
        };
        let lo = Sample {
            seeds: vec![0, 1, 2],
            values: vec![1.0, 1.2, 1.1],
            floor: 0.0,
        };
        let m = Method::default();
        let c = compare(&hi, &lo, &m).unwrap();
        assert_eq!(c.test, stats::Test::Paired);
        assert_eq!(Verdict::of(&c, Metric::TestAccuracy), Verdict::Better);
        assert_eq!(Verdict::of(&c, Metric::TestLoss), Verdict::Worse);
        let other_seeds = Sample {
            seeds: vec![3, 4, 5],
            ..lo.clone()
        };
        assert_eq!(
            compare(&hi, &other_seeds, &m).unwrap().test,
            stats::Test::Welch
        );
        let one = Sample {
            seeds: vec![0],
            values: vec![1.0],
            floor: 0.0,
        };
        assert_eq!(compare(&hi, &one, &m), None);
        let contrast = Contrast::of(&hi, &one, Metric::TestAccuracy, &m);
        assert!(contrast.comparison.is_none() && contrast.seeds_needed.is_none());
        assert!(contrast.improvement.is_none() && contrast.hedges_g.is_none());
    }

    #[test]
    fn the_floor_is_one_image_of_the_split_the_metric_is_measured_on() {
        assert_eq!(floor(Metric::TestAccuracy, 5000, 1000), 0.001);
        assert_eq!(floor(Metric::BestTestAccuracy, 5000, 1000), 0.001);
        assert_eq!(floor(Metric::TrainAccuracy, 5000, 1000), 0.0002);
        assert_eq!(floor(Metric::TestLoss, 5000, 1000), LOSS_FLOOR);
        assert_eq!(floor(Metric::TestAccuracy, 0, 0), 0.0);
        // Equal seeds on both sides: the floor, not a certain difference.
        let a = Sample {
            seeds: vec![0, 1],
            values: vec![0.501, 0.501],
            floor: 0.001,
        };
        let b = Sample {
            values: vec![0.500, 0.500],
            seeds: vec![2, 3],
            ..a.clone()
        };
        let c = compare(&a, &b, &Method::default()).unwrap();
        assert!(c.floored && c.p_value > 0.4);
    }
}
