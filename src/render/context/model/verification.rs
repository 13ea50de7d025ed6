//! The Verification appendix as the report shows it: what `report verify` retrained and
//! what each run showed, in words (built by `context::verification`).

use serde::{Deserialize, Serialize};

use crate::store::verification::VerifyOutcome;

/// The appendix, when a verification of this profile has run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationEntry {
    /// When it finished: "2026-12-07 13:02:11" (UTC).
    pub verified_at: String,
    /// Its command line, quoted for a POSIX shell.
    pub command: String,
    /// One sentence: "2 runs retrained: 1 identical, 1 within tolerance; 14 claims
    /// judged again, none flipped."
    pub summary: String,
    /// Whether a run was not reproduced or damaged, or a claim flipped.
    pub failed: bool,
    /// Whether a build finished after it, so that it may speak of other runs.
    pub older_than_build: bool,
    /// Each retrained run.
    pub runs: Vec<VerifiedRow>,
    /// The claims whose outcome changed with the retrained runs.
    pub flipped: Vec<FlippedClaim>,
}

/// One retrained run, in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifiedRow {
    /// `model-3/main/seed-1`.
    pub run: String,
    /// `identical`, `within_tolerance`, `not_reproduced` or `damaged`.
    pub outcome: VerifyOutcome,
    /// The same in words: "within tolerance".
    pub outcome_text: String,
    /// Where it was retrained: "cpu (AMD EPYC 7B13), 1 thread, libtorch 2.11.0+cu130".
    pub retrained_text: String,
    /// What differs from where it was trained: "threads 2 → 1"; empty when nothing.
    pub differences_text: String,
    /// The rule that decided: "bit for bit", "95 % prediction interval of 3 seeds".
    pub rule_text: String,
    /// The largest accuracy difference: "−0.10 pp (test accuracy, epoch 3)"; "–".
    pub largest_text: String,
    /// Why, in one sentence.
    pub reason: String,
}

/// A claim that flipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlippedClaim {
    /// The run the claim is about.
    pub run: String,
    /// The claim.
    pub claim: String,
    /// "confirmed → inconclusive".
    pub change_text: String,
}
