//! What the store holds for each run, as the report words it: [`Loaded`] is one seed's
//! stored run, [`Group`] a run's seeds taken together (its numbers are over the complete
//! ones; its confusion matrix and t-SNE are the first stored seed's).

use super::model::{Accuracy, Provenance, RunMetrics, RunResult, SeedEntry, Spread};
use crate::analyze::seeds::{self, Sample};
use crate::plan::RunSpec;
use crate::plan::spec::Metric;
use crate::stats::{Method, Options};
use crate::store::{
    Metrics, PlannedRun, RunFiles, RunRecord, RunState, RunStatus, Store, StoredRun,
};
use crate::text;

/// One seed of a run with what the store holds for it.
pub(super) struct Loaded<'a> {
    pub(super) spec: &'a RunSpec,
    /// `complete`, `diverged`, `not-trained`, `stale` or `damaged`.
    pub(super) state: &'static str,
    /// The state in words: "complete", "diverged in epoch 3", "not trained yet"…
    pub(super) status: String,
    /// The stored run, for complete and diverged runs.
    stored: Option<&'a StoredRun>,
    /// Its folder in the store, whose metrics files the site copies.
    files: RunFiles,
}

impl<'a> Loaded<'a> {
    /// `run` as the report shows it: only a run stored for its current key has numbers.
    /// `files` is its folder in the store.
    pub(super) fn of(run: &'a PlannedRun, files: RunFiles) -> Self {
        let none = |state, status: String| Loaded {
            spec: &run.spec,
            state,
            status,
            stored: None,
            files: files.clone(),
        };
        match &run.state {
            RunState::Missing => none("not-trained", "not trained yet".into()),
            RunState::Stale(_) => none(
                "stale",
                "not trained yet for its current settings (the stored run is out of date)".into(),
            ),
            RunState::Damaged(why) => none("damaged", format!("damaged: {why}")),
            RunState::Cached(stored) => Loaded {
                spec: &run.spec,
                state: match stored.record.status {
                    RunStatus::Complete => "complete",
                    RunStatus::Diverged { .. } => "diverged",
                },
                status: stored.record.status.to_string(),
                stored: Some(stored),
                files,
            },
        }
    }

    /// Whether the store holds results for it (complete or diverged).
    pub(super) fn present(&self) -> bool {
        self.stored.is_some()
    }

    /// Whether it completed (a diverged seed has no final numbers to count).
    fn complete(&self) -> bool {
        self.state == "complete"
    }

    /// Its record, when present.
    pub(super) fn record(&self) -> Option<&'a RunRecord> {
        self.stored.map(|s| &s.record)
    }

    /// Its metrics, when present.
    fn metrics(&self) -> Option<&'a Metrics> {
        self.stored.map(|s| &s.metrics)
    }

    /// Its metrics as data, with the site paths of the copies of its metrics files:
    /// `metrics.json` always (the numbers came from it), `metrics.csv` when the store
    /// holds one.
    fn metrics_data(&self) -> Option<RunMetrics> {
        let m = self.metrics()?;
        let run = self.spec.seed_run();
        let csv = self.files.metrics_csv();
        Some(RunMetrics::of(
            m,
            Store::site_run_copy(&run, &self.files.metrics_json()),
            csv.is_file().then(|| Store::site_run_copy(&run, &csv)),
        ))
    }

    /// This seed as the report lists it.
    fn entry(&self) -> SeedEntry {
        SeedEntry {
            seed: self.spec.train.seed,
            state: self.state.to_owned(),
            status: self.status.clone(),
            result: self.metrics().and_then(|m| run_result(m, self.record())),
            metrics: self.metrics_data(),
            provenance: self.record().map(Provenance::of),
        }
    }
}

/// A run's seeds, in seed order.
pub(super) struct Group<'r, 'a> {
    pub(super) seeds: Vec<&'r Loaded<'a>>,
}

impl<'r, 'a> Group<'r, 'a> {
    /// `loaded` (seeds of a run next to each other, as the plan lists them) by run.
    pub(super) fn all(loaded: impl IntoIterator<Item = &'r Loaded<'a>>) -> Vec<Group<'r, 'a>> {
        crate::plan::by_run(loaded, |l| &l.spec.id)
            .into_iter()
            .map(|seeds| Group { seeds })
            .collect()
    }

    /// The first seed's spec: what every seed shares, and the first seed.
    pub(super) fn spec(&self) -> &'a RunSpec {
        self.seeds[0].spec
    }

    /// The seed whose confusion matrix and t-SNE the report shows: the first stored.
    pub(super) fn shown(&self) -> &'r Loaded<'a> {
        self.seeds
            .iter()
            .copied()
            .find(|l| l.present())
            .unwrap_or(self.seeds[0])
    }

    /// Whether the store holds any of its seeds.
    pub(super) fn present(&self) -> bool {
        self.seeds.iter().any(|l| l.present())
    }

    fn complete(&self) -> Vec<&'r Loaded<'a>> {
        self.seeds
            .iter()
            .copied()
            .filter(|l| l.complete())
            .collect()
    }

    /// `complete` when any seed completed, else `diverged` when any is stored, else the
    /// first seed's state.
    pub(super) fn state(&self) -> &'static str {
        if self.seeds.iter().any(|l| l.complete()) {
            "complete"
        } else {
            self.shown().state
        }
    }

    /// The state in words, with how many seeds the store holds when not all.
    pub(super) fn status(&self) -> String {
        let stored = self.seeds.iter().filter(|l| l.present()).count();
        let status = match self.seeds.iter().find(|l| l.complete()) {
            Some(l) => l.status.clone(),
            None => self.shown().status.clone(),
        };
        if stored == self.seeds.len() || stored == 0 {
            status
        } else {
            format!("{status}, {stored} of {} seeds trained", self.seeds.len())
        }
    }

    /// `metric` of each complete seed, with the spread the data can resolve.
    pub(super) fn sample(&self, metric: Metric) -> Sample {
        let complete = self.complete();
        let runs: Vec<&Metrics> = complete.iter().filter_map(|l| l.metrics()).collect();
        Sample {
            seeds: complete.iter().map(|l| l.spec.train.seed).collect(),
            values: seeds::values(&runs, metric),
            floor: self.floor(metric),
        }
    }

    /// The smallest spread `metric` can show on the data its seeds trained on.
    fn floor(&self, metric: Metric) -> f64 {
        self.seeds
            .iter()
            .find_map(|l| l.record())
            .map_or(0.0, |r| seeds::floor(metric, r.data.train, r.data.test))
    }

    /// Mean final test accuracy of the complete seeds.
    pub(super) fn final_test(&self) -> Option<f64> {
        let s = self.sample(Metric::TestAccuracy);
        (!s.values.is_empty()).then(|| s.values.iter().sum::<f64>() / s.values.len() as f64)
    }

    /// Its numbers: one complete seed's own, the means of several, or (none complete)
    /// the shown seed's up to where it diverged.
    pub(super) fn result(&self) -> Option<RunResult> {
        let results: Vec<RunResult> = self
            .complete()
            .iter()
            .filter_map(|l| run_result(l.metrics()?, l.record()))
            .collect();
        match results.len() {
            0 => {
                let shown = self.shown();
                run_result(shown.metrics()?, shown.record())
            }
            1 => results.into_iter().next(),
            n => {
                let mean = |f: fn(&RunResult) -> f64| results.iter().map(f).sum::<f64>() / n as f64;
                let seconds = results.iter().map(|r| r.seconds).sum();
                let (train_loss, test_loss) = (mean(|r| r.train_loss), mean(|r| r.test_loss));
                Some(RunResult {
                    epochs_completed: results
                        .iter()
                        .map(|r| r.epochs_completed)
                        .min()
                        .unwrap_or(0),
                    train: Accuracy::of(mean(|r| r.train.value)),
                    test: Accuracy::of(mean(|r| r.test.value)),
                    train_loss,
                    train_loss_text: format!("{train_loss:.4}"),
                    test_loss,
                    test_loss_text: format!("{test_loss:.4}"),
                    best_test: Accuracy::of(mean(|r| r.best_test.value)),
                    best_epoch: None,
                    seconds,
                    time: text::duration(seconds),
                })
            }
        }
    }

    /// Its numbers over the complete seeds, with the seeds left out named; intervals
    /// made by `method`.
    pub(super) fn spread(&self, method: &Method) -> Spread {
        let complete: Vec<(u64, &Metrics)> = self
            .complete()
            .iter()
            .filter_map(|l| Some((l.spec.train.seed, l.metrics()?)))
            .collect();
        let left_out = self
            .seeds
            .iter()
            .filter(|l| !l.complete())
            .map(|l| format!("seed {}: {}", l.spec.train.seed, l.status))
            .collect();
        let options = |m: Metric| Options {
            method: *method,
            floor: self.floor(m),
        };
        Spread::of(&self.spec().seeds, &complete, left_out, &options)
    }

    /// Every seed as the report lists it.
    pub(super) fn entries(&self) -> Vec<SeedEntry> {
        self.seeds.iter().map(|l| l.entry()).collect()
    }

    /// The devices its seeds trained on: "cpu (AMD EPYC 7B13)".
    pub(super) fn devices(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in self.seeds.iter().filter_map(|l| l.record()) {
            let d = format!("{} ({})", r.device, r.device_name);
            if !out.contains(&d) {
                out.push(d);
            }
        }
        out
    }
}

/// Final and best accuracies of a stored run, formatted.
fn run_result(m: &Metrics, record: Option<&RunRecord>) -> Option<RunResult> {
    let last = m.last()?;
    // The first epoch that reached the best accuracy.
    let best = m.epochs.iter().fold(last, |b, e| {
        if e.test_accuracy > b.test_accuracy
            || (e.test_accuracy == b.test_accuracy && e.epoch < b.epoch)
        {
            e
        } else {
            b
        }
    });
    let seconds = record.map_or_else(
        || m.epochs.iter().map(|e| e.seconds).sum(),
        |r| (r.finished - r.started).num_milliseconds() as f64 / 1000.0,
    );
    Some(RunResult {
        epochs_completed: m.epochs.len() as i64,
        train: Accuracy::of(last.train_accuracy),
        test: Accuracy::of(last.test_accuracy),
        train_loss: last.train_loss,
        train_loss_text: text::loss(last.train_loss),
        test_loss: last.test_loss,
        test_loss_text: text::loss(last.test_loss),
        best_test: Accuracy::of(best.test_accuracy),
        best_epoch: Some(best.epoch),
        seconds,
        time: text::duration(seconds),
    })
}
