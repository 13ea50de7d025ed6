//! Progress for people: bars on a terminal, plain lines in logs and CI.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::store::EpochMetrics;
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
        // Workers of `build --jobs` share one terminal: bars would overwrite each other.
        let plain = std::env::var_os("REPORT_PROGRESS").is_some_and(|v| v == "plain");
        let bar = (std::io::stderr().is_terminal() && !plain).then(|| {
            let bar = ProgressBar::new((epochs * batches_per_epoch) as u64);
            bar.set_style(
                ProgressStyle::with_template("{prefix:>16} [{bar:30}] {msg} ETA {eta}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(label.to_owned());
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
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
            "epoch {}/{}: train {:.1} %, test {:.1} %, {:.1} s",
            m.epoch,
            self.epochs,
            100.0 * m.train_accuracy,
            100.0 * m.test_accuracy,
            m.seconds
        );
        match &self.bar {
            Some(bar) => bar.set_message(line),
            None => eprintln!("{}: {line}", self.label),
        }
    }
}
