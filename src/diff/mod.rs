//! `report diff`: what changed between two builds, read from their report contexts.
//!
//! Each side is the [`ReportContext`] the renderers read (assembled from a project's
//! store, or a published `report.json`) with the resolved specs of its runs. Runs are
//! matched by section and variant, not by key, so an edited experiment is one row that
//! says what changed in it. Nothing is trained: every number is a stored seed's.
//!
//! - `side`: opening a side (a project root, or a plain `out/` folder).
//! - `model`: the serialisable types.
//! - `measure`: each metric old against new, tested over seeds and Holm-adjusted.
//! - `format`: the diff as terminal text and as GitHub-flavoured Markdown.
//! - `figure`: the overlaid test-accuracy curves of the changed runs.

mod figure;
mod format;
mod measure;
mod model;
mod side;

use std::collections::BTreeSet;

use crate::plan::diff as spec_diff;
use crate::plan::spec::Metric;
use crate::render::context::{ClaimRow, RunEntry};
use crate::stats::{Method, Outcome};
pub use figure::curves;
pub use format::{markdown, text};
pub use model::*;
pub use side::Side;

/// `old` against `new`, restricted to runs that `only` selects (a section, or a run
/// `section/variant`; every run when empty). Tests use `method`, the new side's.
pub fn compare(old: &Side, new: &Side, only: &[String], method: &Method) -> Diff {
    let selected =
        |r: &RunEntry| only.is_empty() || only.iter().any(|o| *o == r.section || *o == r.id);
    let old_runs: Vec<&RunEntry> = old.runs().filter(|r| selected(r)).collect();
    let new_runs: Vec<&RunEntry> = new.runs().filter(|r| selected(r)).collect();
    let mut pairs: Vec<(Option<&RunEntry>, Option<&RunEntry>)> = new_runs
        .iter()
        .map(|n| (old_runs.iter().copied().find(|o| o.id == n.id), Some(*n)))
        .collect();
    pairs.extend(
        old_runs
            .iter()
            .filter(|o| !new_runs.iter().any(|n| n.id == o.id))
            .map(|o| (Some(*o), None)),
    );
    let mut runs: Vec<RunDiff> = pairs
        .into_iter()
        .map(|(o, n)| run_diff(old, new, o, n, method))
        .collect();
    let family = measure::adjust(&mut runs);

    let shown: BTreeSet<&str> = runs.iter().map(|r| r.title.as_str()).collect();
    let old_titles: BTreeSet<&str> = old_runs.iter().map(|r| r.title.as_str()).collect();
    let claims = claims(&old.context.claims, &new.context.claims, |title| {
        shown.contains(title) || old_titles.contains(title)
    });
    let best_of = |rs: &[&RunEntry]| -> Vec<String> {
        rs.iter().filter(|r| r.best).map(|r| r.id.clone()).collect()
    };
    let best = BestDiff {
        old: best_of(&old_runs),
        new: best_of(&new_runs),
        moved: best_of(&old_runs) != best_of(&new_runs),
    };
    let mut flips: Vec<String> = claims
        .iter()
        .filter(|c| c.flipped)
        .map(|c| {
            format!(
                "claim “{}” of {}: {} → {}",
                c.claim,
                c.run,
                c.old.map_or("", Outcome::word),
                c.new.map_or("", Outcome::word)
            )
        })
        .collect();
    flips.extend(runs.iter().filter_map(|r| {
        let c = r.comparison.as_ref().filter(|c| c.flipped)?;
        Some(format!(
            "{} against {}: {} → {}",
            r.run,
            c.against,
            c.verdict.old.as_deref().unwrap_or_default(),
            c.verdict.new.as_deref().unwrap_or_default()
        ))
    }));
    Diff {
        format: DIFF_FORMAT,
        profile: new.context.profile.name.clone(),
        old: old.info(),
        new: new.info(),
        runs,
        claims,
        best,
        family,
        flips,
    }
}

/// One run of either side or both.
fn run_diff(
    old_side: &Side,
    new_side: &Side,
    old: Option<&RunEntry>,
    new: Option<&RunEntry>,
    method: &Method,
) -> RunDiff {
    let either = new.or(old).expect("a run of one side at least");
    let (change, settings) = match (old, new) {
        (None, _) => (Change::Added, Vec::new()),
        (_, None) => (Change::Removed, Vec::new()),
        (Some(o), Some(n)) => {
            let lines = settings(old_side, new_side, o, n);
            if lines.is_empty() {
                (Change::Same, lines)
            } else {
                (Change::Changed, lines)
            }
        }
    };
    let metric = |m| measure::metric(old, new, m, change, method);
    RunDiff {
        run: either.id.clone(),
        title: either.title.clone(),
        change,
        settings,
        seeds: Pair {
            old: old.map(|r| r.seeds.clone()),
            new: new.map(|r| r.seeds.clone()),
        },
        best: Pair {
            old: old.map(|r| r.best),
            new: new.map(|r| r.best),
        },
        test_accuracy: metric(Metric::TestAccuracy),
        best_test_accuracy: metric(Metric::BestTestAccuracy),
        train_accuracy: metric(Metric::TrainAccuracy),
        train_loss: metric(Metric::TrainLoss),
        comparison: verdict_change(old, new),
    }
}

/// What differs between a run's two sides, in the report's own "what changed" words:
/// its spec (layers, then training settings), its seeds, then what its key covers
/// beyond the spec (the data, the device). Empty when both hold the same seeds of the
/// same key.
fn settings(old_side: &Side, new_side: &Side, o: &RunEntry, n: &RunEntry) -> Vec<String> {
    let mut lines = match (old_side.spec(&o.id), new_side.spec(&n.id)) {
        (Some(a), Some(b)) => spec_diff::diff(a, b),
        _ => Vec::new(),
    };
    if o.seeds != n.seeds {
        lines.push(format!(
            "seeds: {} → {}",
            seed_list(&o.seeds),
            seed_list(&n.seeds)
        ));
    }
    let keys = |r: &RunEntry| -> Vec<String> {
        r.seed_runs
            .iter()
            .map(|s| {
                s.provenance
                    .as_ref()
                    .map_or(String::new(), |p| p.key.clone())
            })
            .collect()
    };
    if lines.is_empty() && keys(o) != keys(n) {
        let first = |r: &RunEntry| r.seed_runs.iter().find_map(|s| s.provenance.clone());
        match (first(o), first(n)) {
            (Some(a), Some(b)) if a.data_fingerprint != b.data_fingerprint => lines.push(format!(
                "data: {} → {}",
                crate::text::short_digest(&a.data_fingerprint),
                crate::text::short_digest(&b.data_fingerprint)
            )),
            (Some(a), Some(b)) if a.device != b.device => {
                lines.push(format!("device: {} → {}", a.device, b.device));
            }
            (None, Some(_)) => lines.push("trained: not on the old side".to_owned()),
            (Some(_), None) => lines.push("trained: not on the new side".to_owned()),
            _ => lines.push("run key: another (the spec or the program changed)".to_owned()),
        }
    }
    lines
}

/// "1, 2, 3".
fn seed_list(seeds: &[u64]) -> String {
    seeds
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The run's comparison with its compared run, as each side's report judged it.
fn verdict_change(old: Option<&RunEntry>, new: Option<&RunEntry>) -> Option<VerdictChange> {
    let o = old.and_then(|r| r.comparison.as_ref());
    let n = new.and_then(|r| r.comparison.as_ref());
    let against = n.or(o)?.against.title.clone();
    let tested = |c: Option<&crate::render::context::Compared>| c.and_then(|c| c.verdict);
    Some(VerdictChange {
        against,
        verdict: Pair {
            old: o.map(|c| c.verdict_text.clone()),
            new: n.map(|c| c.verdict_text.clone()),
        },
        flipped: matches!((tested(o), tested(n)), (Some(a), Some(b)) if a != b),
    })
}

/// Claims of either side about runs `keep` accepts, matched by run and wording: the
/// new side's order, then those it no longer makes.
fn claims(old: &[ClaimRow], new: &[ClaimRow], keep: impl Fn(&str) -> bool) -> Vec<ClaimDiff> {
    let same = |a: &ClaimRow, b: &ClaimRow| a.run.title == b.run.title && a.claim == b.claim;
    let row = |o: Option<&ClaimRow>, n: Option<&ClaimRow>| {
        let either = n.or(o).expect("a claim of one side at least");
        ClaimDiff {
            run: either.run.title.clone(),
            claim: either.claim.clone(),
            old: o.map(|c| c.outcome),
            new: n.map(|c| c.outcome),
            reason: Pair {
                old: o.map(|c| c.reason.clone()),
                new: n.map(|c| c.reason.clone()),
            },
            flipped: matches!((o, n), (Some(a), Some(b)) if a.outcome != b.outcome),
        }
    };
    let mut out: Vec<ClaimDiff> = new
        .iter()
        .filter(|n| keep(&n.run.title))
        .map(|n| row(old.iter().find(|o| same(o, n)), Some(n)))
        .collect();
    out.extend(
        old.iter()
            .filter(|o| keep(&o.run.title) && !new.iter().any(|n| same(o, n)))
            .map(|o| row(Some(o), None)),
    );
    out
}
