//! A diff in words: plain text for the terminal, and GitHub-flavoured Markdown that a CI
//! job posts as a pull-request comment (clean under the repository's markdownlint
//! rules). Numbers go through the report's own formatters, so a value reads here as it
//! reads in the report.

use super::model::{Change, ClaimDiff, Diff, MetricDiff, RunDiff, none_if_empty};
use crate::plan::spec::Metric;
use crate::render::context::{signed, span, value};
use crate::stats::Outcome;
use crate::text;

/// "31.20 % → 35.10 %", "– → 35.10 %" for an added run.
fn old_new(metric: Metric, m: &MetricDiff) -> String {
    let v = |x: Option<f64>| x.map_or("–".to_owned(), |x| value(metric, x));
    format!("{} → {}", v(m.old), v(m.new))
}

/// "+3.90 pp", or "–".
fn delta(metric: Metric, m: &MetricDiff) -> String {
    m.delta.map_or("–".to_owned(), |d| signed(metric, d))
}

/// "−1.00 to +8.80 pp", or why there is none.
fn interval(metric: Metric, m: &MetricDiff) -> String {
    match (m.interval, m.n) {
        (Some([lo, hi]), _) => span(metric, (lo, hi)),
        (None, _) if m.old.is_none() || m.new.is_none() => "–".to_owned(),
        (None, [a, b]) if a < 2 || b < 2 => "one seed: none".to_owned(),
        (None, _) => "–".to_owned(),
    }
}

/// "within noise (p = 0.210, Holm 0.420, paired)".
fn verdict(m: &MetricDiff) -> String {
    let word = m.verdict.words();
    match (m.p_value, m.p_adjusted) {
        (Some(p), Some(q)) => {
            let test = match m.test {
                Some(crate::stats::Test::Paired) => "paired t",
                _ => "Welch",
            };
            let floored = if m.floored { ", spread floored" } else { "" };
            format!(
                "{word} ({}, Holm {}, {test}{floored})",
                text::p_value(p),
                text::p_bare(q)
            )
        }
        _ => word.to_owned(),
    }
}

/// What the verdicts mean, once under the table.
fn method_note(diff: &Diff) -> String {
    format!(
        "Δ is new − old of the mean over complete seeds; the interval is the 95 % interval of that difference (paired t when both sides ran the same seeds, else Welch's); a verdict is better or worse only where the two-sided test rejects “no change” at 5 % after Holm's correction over the {} tests of this diff. Runs holding the same stored seeds on both sides are not tested.",
        diff.family
    )
}

fn outcome(o: Option<Outcome>) -> &'static str {
    o.map_or("–", Outcome::word)
}

/// The runs a report shows: changed, added and removed ones; the same ones too with
/// `all`.
fn shown(diff: &Diff, all: bool) -> impl Iterator<Item = &RunDiff> {
    diff.runs
        .iter()
        .filter(move |r| all || r.change != Change::Same)
}

/// The claims a report shows: flipped, new and dropped ones; all of them with `all`.
fn shown_claims(diff: &Diff, all: bool) -> impl Iterator<Item = &ClaimDiff> {
    diff.claims
        .iter()
        .filter(move |c| all || c.flipped || c.old.is_none() || c.new.is_none())
}

/// The diff for a terminal: the summary, one block per run shown, the claims that
/// changed and what flipped.
pub fn text(diff: &Diff, all: bool) -> String {
    let mut s = format!(
        "{} → {} (profile {})\n{}\n",
        diff.old.path,
        diff.new.path,
        diff.profile,
        diff.summary()
    );
    for r in shown(diff, all) {
        s += &format!("\n{} ({}): {}\n", r.run, r.title, r.change.word());
        for line in &r.settings {
            s += &format!("  {line}\n");
        }
        for (metric, m) in r.metrics() {
            if m.old.is_none() && m.new.is_none() {
                continue;
            }
            s += &format!(
                "  {:<24} {:<24} {:>10}  [{}]  {}\n",
                metric.words(),
                old_new(metric, m),
                delta(metric, m),
                interval(metric, m),
                verdict(m)
            );
        }
    }
    let claims: Vec<_> = shown_claims(diff, all).collect();
    if !claims.is_empty() {
        s += "\nclaims:\n";
        for c in claims {
            let mark = if c.flipped { "flipped" } else { "" };
            s += &format!(
                "  {:<8} {}: “{}”: {} → {}\n",
                mark,
                c.run,
                c.claim,
                outcome(c.old),
                outcome(c.new)
            );
        }
    }
    if !diff.flips.is_empty() {
        s += "\nflipped:\n";
        for f in &diff.flips {
            s += &format!("  {f}\n");
        }
    }
    s += &format!("\n{}\n", method_note(diff));
    s
}

/// A table cell: pipes escaped, never empty.
fn cell(s: &str) -> String {
    if s.is_empty() {
        "–".to_owned()
    } else {
        s.replace('|', "\\|")
    }
}

/// A table's header row and delimiter row.
fn head(columns: &[&str]) -> String {
    format!(
        "| {} |\n|{}\n",
        columns.join(" | "),
        " --- |".repeat(columns.len())
    )
}

/// The diff as a pull-request comment: a summary line, one table of the runs shown
/// with their final test accuracy, one of their other metrics, the claims that flipped
/// or came and went, and the curves' image when `figure` names it.
pub fn markdown(diff: &Diff, all: bool, figure: Option<&str>) -> String {
    let mut s = format!(
        "# What changed in profile {}\n\n**{}.** Old: `{}`; new: `{}`.\n",
        cell(&diff.profile),
        diff.summary(),
        diff.old.path,
        diff.new.path
    );
    let runs: Vec<&RunDiff> = shown(diff, all).collect();
    if runs.is_empty() {
        s += "\nNo run changed.\n";
    } else {
        s += "\n## Runs\n\n";
        s += &head(&[
            "Run",
            "Change",
            "Final test accuracy",
            "Δ",
            "95 % interval",
            "Verdict",
            "What changed",
        ]);
        let metric = Metric::TestAccuracy;
        for r in &runs {
            s += &format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                cell(&r.title),
                r.change.word(),
                old_new(metric, &r.test_accuracy),
                delta(metric, &r.test_accuracy),
                interval(metric, &r.test_accuracy),
                cell(&verdict(&r.test_accuracy)),
                cell(&r.settings.join("; "))
            );
        }
        let others: Vec<(&RunDiff, Metric, &MetricDiff)> = runs
            .iter()
            .flat_map(|r| {
                r.metrics()
                    .into_iter()
                    .skip(1)
                    .map(move |(k, m)| (*r, k, m))
            })
            .filter(|(r, _, _)| matches!(r.change, Change::Changed | Change::Same))
            .collect();
        if !others.is_empty() {
            s += "\n## Other metrics\n\n";
            s += &head(&[
                "Run",
                "Metric",
                "Old → new",
                "Δ",
                "95 % interval",
                "Verdict",
            ]);
            for (r, k, m) in others {
                s += &format!(
                    "| {} | {} | {} | {} | {} | {} |\n",
                    cell(&r.title),
                    k.words(),
                    old_new(k, m),
                    delta(k, m),
                    interval(k, m),
                    cell(&verdict(m))
                );
            }
        }
        s += &format!("\n{}\n", method_note(diff));
    }
    if let Some(path) = figure {
        s += &format!(
            "\n## Curves\n\n![Test accuracy per epoch of the changed runs, old and new]({path})\n"
        );
    }
    let claims: Vec<_> = shown_claims(diff, all).collect();
    if !claims.is_empty() {
        s += "\n## Claims\n\n";
        s += &head(&["Run", "Claim", "Old", "New", "Flipped"]);
        for c in claims {
            s += &format!(
                "| {} | {} | {} | {} | {} |\n",
                cell(&c.run),
                cell(&c.claim),
                outcome(c.old),
                outcome(c.new),
                if c.flipped { "**yes**" } else { "no" }
            );
        }
    }
    if diff.best.moved {
        s += &format!(
            "\nThe best run moved: {} → {}.\n",
            none_if_empty(&diff.best.old),
            none_if_empty(&diff.best.new)
        );
    }
    s
}
