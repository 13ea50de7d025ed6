//! The diff's serialisable types: what `--format json` prints and the formats read.

use serde::{Deserialize, Serialize};

use crate::plan::spec::Metric;
use crate::stats::{Outcome, Test};

/// The version of the JSON `report diff --format json` writes (`diff.schema.json`).
pub const DIFF_FORMAT: u32 = 1;

/// Everything that moved between two builds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    /// [`DIFF_FORMAT`].
    pub format: u32,
    /// The profile both sides are of.
    pub profile: String,
    /// The older side.
    pub old: SideInfo,
    /// The newer side.
    pub new: SideInfo,
    /// Every run of either side, the new side's order first, then runs it removed.
    pub runs: Vec<RunDiff>,
    /// Every claim of either side, matched by run and wording.
    pub claims: Vec<ClaimDiff>,
    /// The runs marked best (highest mean final test accuracy) on each side.
    pub best: BestDiff,
    /// How many tests of old against new were Holm-adjusted together: those of the
    /// changed runs with two seeds or more on each side.
    pub family: usize,
    /// One line per flip: a claim whose outcome changed, or a run whose comparison
    /// with the run it is compared with in the report changed its verdict.
    pub flips: Vec<String>,
}

/// Where a side came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideInfo {
    /// The path given.
    pub path: String,
    /// `project` (its store surveyed now) or `report.json` (a published site).
    pub source: String,
    /// When its last build finished, when it recorded one.
    pub built: Option<String>,
    /// Runs it has.
    pub runs: usize,
}

/// How a run differs between the sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only the new side has it.
    Added,
    /// Only the old side has it.
    Removed,
    /// Both have it, trained for another spec, other data or other seeds.
    Changed,
    /// Both hold the same seeds of the same run key.
    Same,
}

impl Change {
    /// The word, as the JSON spells it.
    pub fn word(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
            Change::Same => "same",
        }
    }
}

/// One run, old and new.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDiff {
    /// `section` or `section/variant`.
    pub run: String,
    /// Its title on the newer side that has it.
    pub title: String,
    /// Added, removed, changed or same.
    pub change: Change,
    /// What differs, one line each: "optimizer: SGD lr 0.01 → SGD lr 0.05", layer
    /// edits, seeds, data; empty for a run that is the same.
    pub settings: Vec<String>,
    /// Its seeds on each side.
    pub seeds: Pair<Vec<u64>>,
    /// Whether it was marked best on each side.
    pub best: Pair<bool>,
    /// Final test accuracy.
    pub test_accuracy: MetricDiff,
    /// Best test accuracy of any epoch.
    pub best_test_accuracy: MetricDiff,
    /// Final training accuracy.
    pub train_accuracy: MetricDiff,
    /// Final training loss.
    pub train_loss: MetricDiff,
    /// Its test-accuracy comparison with the run the report compares it with, when
    /// either side makes one.
    pub comparison: Option<VerdictChange>,
}

/// A value on each side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pair<T> {
    /// The old side's (absent where it lacks the run).
    pub old: Option<T>,
    /// The new side's.
    pub new: Option<T>,
}

/// A run's verdict against the run the report compares it with, old and new.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictChange {
    /// The run compared with (its title).
    pub against: String,
    /// "better", "worse", "within noise" or "1 seed: untested" on each side.
    pub verdict: Pair<String>,
    /// Both sides tested it and their verdicts differ.
    pub flipped: bool,
}

/// One claim, old and new.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimDiff {
    /// The run the claim is about (its title).
    pub run: String,
    /// The claim's wording.
    pub claim: String,
    /// Its outcome on the old side (absent where the old side does not make it).
    pub old: Option<Outcome>,
    /// On the new side.
    pub new: Option<Outcome>,
    /// How each side tested it.
    pub reason: Pair<String>,
    /// Both sides make it and their outcomes differ.
    pub flipped: bool,
}

/// The runs marked best on each side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestDiff {
    /// The old side's (run ids).
    pub old: Vec<String>,
    /// The new side's.
    pub new: Vec<String>,
    /// They differ.
    pub moved: bool,
}

/// What the seeds say of a metric's change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiffVerdict {
    /// The adjusted two-sided test rejected "no change", on the better side.
    Better,
    /// On the worse side.
    Worse,
    /// It did not reject: the seeds cannot tell a change from noise.
    WithinNoise,
    /// No test: fewer than two complete seeds on a side, or a side without the run.
    Untested,
    /// The same stored run on both sides: nothing to test.
    Unchanged,
}

impl DiffVerdict {
    /// The verdict in words.
    pub fn words(self) -> &'static str {
        match self {
            DiffVerdict::Better => "better",
            DiffVerdict::Worse => "worse",
            DiffVerdict::WithinNoise => "within noise",
            DiffVerdict::Untested => "untested",
            DiffVerdict::Unchanged => "unchanged",
        }
    }
}

/// One metric of a run on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDiff {
    /// Mean over the old side's complete seeds (accuracies as fractions).
    pub old: Option<f64>,
    /// Over the new side's.
    pub new: Option<f64>,
    /// `new − old`.
    pub delta: Option<f64>,
    /// The 95 % interval of `new − old`, with two complete seeds or more a side.
    pub interval: Option<[f64; 2]>,
    /// Two-sided p-value of "no change".
    pub p_value: Option<f64>,
    /// The same after Holm's adjustment over the diff's tests.
    pub p_adjusted: Option<f64>,
    /// `paired` (the same seeds on both sides) or `welch`.
    pub test: Option<Test>,
    /// Whether a spread below one image (or 1e-4 of a loss) was taken as that.
    pub floored: bool,
    /// Complete seeds on the old side and on the new.
    pub n: [usize; 2],
    /// What the adjusted test says.
    pub verdict: DiffVerdict,
}

impl Diff {
    /// Whether a claim or a verdict flipped: what `--fail-on-flip` fails on.
    pub fn flipped(&self) -> bool {
        !self.flips.is_empty()
    }

    /// "2 changed, 1 added, 1 removed, 5 same; 1 claim flipped; best: Model 9".
    pub fn summary(&self) -> String {
        let count = |c: Change| self.runs.iter().filter(|r| r.change == c).count();
        let mut s = format!(
            "{} changed, {} added, {} removed, {} same",
            count(Change::Changed),
            count(Change::Added),
            count(Change::Removed),
            count(Change::Same)
        );
        let flipped = self.flips.len();
        s += &match flipped {
            0 => "; nothing flipped".to_owned(),
            1 => "; 1 flip".to_owned(),
            n => format!("; {n} flips"),
        };
        if self.best.moved {
            s += &format!(
                "; best: {} → {}",
                none_if_empty(&self.best.old),
                none_if_empty(&self.best.new)
            );
        }
        s
    }
}

/// "model-3, model-4", or "none".
pub(super) fn none_if_empty(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".to_owned()
    } else {
        ids.join(", ")
    }
}

impl RunDiff {
    /// The four metrics in table order, with their `Metric`.
    pub fn metrics(&self) -> [(Metric, &MetricDiff); 4] {
        [
            (Metric::TestAccuracy, &self.test_accuracy),
            (Metric::BestTestAccuracy, &self.best_test_accuracy),
            (Metric::TrainAccuracy, &self.train_accuracy),
            (Metric::TrainLoss, &self.train_loss),
        ]
    }

    /// The same, to fill in.
    pub(super) fn metrics_mut(&mut self) -> [&mut MetricDiff; 4] {
        [
            &mut self.test_accuracy,
            &mut self.best_test_accuracy,
            &mut self.train_accuracy,
            &mut self.train_loss,
        ]
    }
}
