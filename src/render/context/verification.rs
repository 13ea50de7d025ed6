//! The Verification appendix: what the last `report verify` (`out/verify.json`)
//! retrained, where, and what each run showed, in words. The outcomes are decided by
//! `verify::rule`; this only words them.

use super::appendix::shell_join;
use super::model::{FlippedClaim, VerificationEntry, VerifiedRow};
use crate::store::Store;
use crate::store::record::BuildInfo;
use crate::store::verification::{Rule, Setting, Verification, VerifyOutcome};
use crate::text;

/// The appendix from `out/verify.json`, when it is of `profile`; an unreadable file is
/// a warning, not a failed render.
pub(super) fn read(
    store: &Store,
    profile: &str,
    build: Option<&BuildInfo>,
    warnings: &mut Vec<String>,
) -> Option<VerificationEntry> {
    match Verification::last(store, profile) {
        Ok(v) => v.map(|v| entry(&v, build)),
        Err(e) => {
            warnings.push(format!("{e:#}: the Verification appendix is left out"));
            None
        }
    }
}

/// The appendix of `v`.
fn entry(v: &Verification, build: Option<&BuildInfo>) -> VerificationEntry {
    let count = |o: VerifyOutcome| v.runs.iter().filter(|r| r.outcome == o).count();
    let parts: Vec<String> = [
        VerifyOutcome::Identical,
        VerifyOutcome::WithinTolerance,
        VerifyOutcome::NotReproduced,
        VerifyOutcome::Damaged,
    ]
    .into_iter()
    .filter(|&o| count(o) > 0)
    .map(|o| format!("{} {}", count(o), outcome_words(o)))
    .collect();
    let flipped: Vec<FlippedClaim> = v
        .claims
        .iter()
        .filter(|c| c.flipped)
        .map(|c| FlippedClaim {
            run: c.run.clone(),
            claim: c.claim.clone(),
            change_text: format!("{} → {}", c.stored.word(), c.verified.word()),
        })
        .collect();
    let claims = match (v.claims.len(), flipped.len()) {
        (0, _) => "the report has no claims".to_owned(),
        (n, 0) => format!("{n} claim{} judged again, none flipped", plural(n)),
        (n, k) => format!("{n} claim{} judged again, {k} flipped", plural(n)),
    };
    let n = v.runs.len();
    VerificationEntry {
        verified_at: text::timestamp(&v.verified_at),
        command: shell_join(&v.command),
        summary: format!(
            "{n} run{} retrained: {}; {claims}.",
            plural(n),
            parts.join(", ")
        ),
        failed: v.failed(),
        older_than_build: build.is_some_and(|b| b.finished > v.verified_at),
        runs: v
            .runs
            .iter()
            .map(|r| VerifiedRow {
                run: r.run.clone(),
                outcome: r.outcome,
                outcome_text: outcome_words(r.outcome).to_owned(),
                retrained_text: r.place.retrained.as_ref().map_or("–".into(), setting),
                differences_text: r.place.differences.join("; "),
                rule_text: r.rule.as_ref().map_or("record integrity".into(), rule),
                largest_text: r.metrics.as_ref().and_then(|m| m.largest.as_ref()).map_or(
                    "–".into(),
                    |l| {
                        format!(
                            "{} ({}, epoch {})",
                            text::signed(100.0 * l.difference, 2, "pp"),
                            l.metric.replace('_', " "),
                            l.epoch
                        )
                    },
                ),
                reason: r.reason.clone(),
            })
            .collect(),
        flipped,
    }
}

/// An outcome as a reader reads it.
fn outcome_words(o: VerifyOutcome) -> &'static str {
    match o {
        VerifyOutcome::Identical => "identical",
        VerifyOutcome::WithinTolerance => "within tolerance",
        VerifyOutcome::NotReproduced => "not reproduced",
        VerifyOutcome::Damaged => "damaged",
    }
}

/// Where a run trained, in words.
fn setting(s: &Setting) -> String {
    format!(
        "{} ({}), {} thread{}, libtorch {}",
        s.device,
        s.device_name,
        s.threads,
        plural(s.threads.max(0) as usize),
        s.torch_version.as_deref().unwrap_or("not recorded")
    )
}

/// A rule in words.
fn rule(r: &Rule) -> String {
    match *r {
        Rule::BitForBit => "bit for bit (same setting)".into(),
        Rule::SeedSpread { seeds, .. } => format!(
            "final test accuracy in the {} prediction interval of {seeds} stored seeds",
            text::percent(crate::stats::CONFIDENCE, 0)
        ),
        Rule::Tolerance { accuracy, loss, .. } => format!(
            "every epoch's accuracies within {}{}",
            text::pp(accuracy),
            loss.map_or(String::new(), |l| format!(", losses within {l}"))
        ),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
