//! Progress of one training run, in batches.

use indicatif::ProgressBar;

use crate::progress::{Plain, bar};
use crate::store::EpochMetrics;
use crate::text;
use crate::train::Progress;

/// Progress of one run.
pub struct RunProgress {
    label: String,
    epochs: i64,
    bar: Option<ProgressBar>,
}

impl RunProgress {
    /// Starts reporting on run `label` (`model-9/adam`) of `epochs` epochs.
    pub fn start(label: &str, epochs: i64, batches_per_epoch: i64) -> Self {
        let bar = bar(
            Plain::Honoured,
            (epochs * batches_per_epoch) as u64,
            "{prefix:>16} [{bar:30}] {msg} ETA {eta}",
            label,
            |_| {},
        );
        if bar.is_none() {
            eprintln!("{label}: training, {epochs} epochs");
        }
        RunProgress {
            label: label.to_owned(),
            epochs,
            bar,
        }
    }

    /// Ends the bar, leaving a one-line result.
    pub fn finish(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.finish_with_message(line.to_owned()),
            None => eprintln!("{}: {line}", self.label),
        }
    }
}

impl Progress for RunProgress {
    fn batch(&self, epoch: i64, done: i64, total: i64) {
        if let Some(bar) = &self.bar {
            bar.set_position(((epoch - 1) * total + done) as u64);
            if done == 1 {
                bar.set_message(format!("epoch {epoch}/{}", self.epochs));
            }
        }
    }

    fn epoch(&self, m: &EpochMetrics) {
        let line = format!(
            "epoch {}/{}: train {}, test {}, {:.1} s",
            m.epoch,
            self.epochs,
            text::percent(m.train_accuracy, 1),
            text::percent(m.test_accuracy, 1),
            m.seconds
        );
        match &self.bar {
            Some(bar) => bar.set_message(line),
            None => eprintln!("{}: {line}", self.label),
        }
    }
}
