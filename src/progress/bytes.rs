//! Progress of a download, in bytes.

use indicatif::{HumanBytes, ProgressBar};

use super::bar::{Plain, bar};

/// Download progress: a bar on a terminal, a line per tenth otherwise.
pub struct ByteMeter {
    label: String,
    total: u64,
    bar: Option<ProgressBar>,
    next_tenth: u64,
}

impl ByteMeter {
    /// Starts reporting on `label` (the archive's name), `from` of `total` bytes already
    /// there (a resumed download).
    pub fn start(label: &str, from: u64, total: u64) -> ByteMeter {
        let template = "{prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes} \
                        {binary_bytes_per_sec} ETA {eta}";
        let bar = bar(Plain::Ignored, total, template, label, |bar| {
            bar.set_position(from);
            // The bytes of an earlier run came at no time at all: they would skew the ETA.
            bar.reset_eta();
        });
        ByteMeter {
            label: label.to_owned(),
            total,
            bar,
            next_tenth: from * 10 / total + 1,
        }
    }

    /// Reports `done` of the total bytes.
    pub fn set(&mut self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            return;
        }
        let tenth = done * 10 / self.total;
        if tenth >= self.next_tenth {
            eprintln!(
                "{}: {} % ({} of {})",
                self.label,
                tenth * 10,
                HumanBytes(done),
                HumanBytes(self.total)
            );
            self.next_tenth = tenth + 1;
        }
    }

    /// Ends the bar, complete.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }

    /// Ends the bar where it stands: the download stopped short.
    pub fn abandon(&self) {
        if let Some(bar) = &self.bar {
            bar.abandon();
        }
    }
}
