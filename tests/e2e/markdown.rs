//! The Markdown report as other tools read it: clean under markdownlint with the
//! committed `.markdownlint.jsonc` (no raw HTML, captions that are not emphasis, every
//! in-page link a GitHub heading slug), and the author's prose with live numbers in
//! both outputs.
//!
//! markdownlint-cli2 comes from `tests/browser/package.json`; without Node or
//! `tests/browser/node_modules` the lint tests say SKIPPED and pass, unless `REPORT_REQUIRE_MARKDOWNLINT` is set
//! (`.ci/run` sets it).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fixture::{self, TinyProject};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn markdownlint(test: &str) -> Option<PathBuf> {
    let bin = root().join("tests/browser/node_modules/markdownlint-cli2/markdownlint-cli2-bin.mjs");
    let why = if Command::new("node").arg("--version").output().is_err() {
        "node not installed (apt-get install nodejs npm)"
    } else if !bin.is_file() {
        "markdownlint-cli2 missing (cd tests/browser && npm ci)"
    } else {
        return Some(bin);
    };
    fixture::available("REPORT_REQUIRE_MARKDOWNLINT", test, Some(why.into()));
    None
}

/// markdownlint's findings for `file`, or `None` where markdownlint cannot run here
/// (never under `REPORT_REQUIRE_MARKDOWNLINT`): for other tests' Markdown (`report diff
/// --format md`).
pub(crate) fn lint_file(test: &str, file: &Path) -> Option<Vec<String>> {
    markdownlint(test).map(|bin| lint(&bin, file))
}

/// markdownlint's findings for `file` under the committed config, one per line.
fn lint(bin: &Path, file: &Path) -> Vec<String> {
    let out = Command::new("node")
        .arg(bin)
        .arg("--config")
        .arg(root().join(".markdownlint.jsonc"))
        .arg(file)
        .current_dir(file.parent().unwrap())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let findings: Vec<String> = text
        .lines()
        .filter(|l| l.contains(" MD0"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        out.status.success(),
        findings.is_empty(),
        "exit status and findings disagree:\n{text}"
    );
    findings
}

/// The tiny project with references and prose that links and states numbers.
fn with_prose() -> TinyProject {
    let p = crate::render::built();
    p.write(
        "experiments/prose/notes.md",
        "Base reached {{ results[\"base\"].test | pct }} ({{ results[\"base\"].epochs }} epochs); \
         see [the results](#results), [Child with SGD](#child-sgd) and [the book](#ref-1).\n",
    );
    p.write(
        "experiments/report.toml",
        &(fixture::REPORT_TOML.replacen(
            "default_profile",
            "references = [\"R, <https://example.org>.\", \"S, a book.\"]\ndefault_profile",
            1,
        ) + "\n[prose]\nnotes = \"prose/notes.md\"\n"),
    );
    p.ok(&["render"]);
    p
}

#[test]
fn the_markdown_report_is_clean_under_markdownlint() {
    let Some(bin) = markdownlint("the_markdown_report_is_clean_under_markdownlint") else {
        return;
    };
    let p = with_prose();
    let md = std::fs::read_to_string(p.path("out/report.md")).unwrap();
    assert!(!md.contains("<a ") && !md.contains("{ #"), "{md}");
    // Links to a run, a fixed part and a reference, resolved to heading slugs.
    assert!(
        md.contains(
            "[the results](#results), [Child with SGD](#child-with-sgd) and [the book](#references)"
        ),
        "{md}"
    );
    let findings = lint(&bin, &p.path("out/report.md"));
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn markdownlint_finds_what_the_report_must_not_have() {
    let Some(bin) = markdownlint("markdownlint_finds_what_the_report_must_not_have") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.md");
    std::fs::write(
        &file,
        "# Title\n\n<a id=\"x\"></a>\n\n## Part\n\n*Figure 1: a caption*\n\nSee [there](#nowhere).\n",
    )
    .unwrap();
    let findings = lint(&bin, &file).join("\n");
    for rule in ["MD033", "MD036", "MD051"] {
        assert!(findings.contains(rule), "{rule} not found:\n{findings}");
    }
}

#[test]
fn prose_numbers_are_the_stores_in_both_outputs() {
    let p = with_prose();
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.path("out/runs/test/base/main/seed-7/metrics.json")).unwrap(),
    )
    .unwrap();
    let epochs = m["epochs"].as_array().unwrap();
    let test = epochs.last().unwrap()["test_accuracy"].as_f64().unwrap();
    let want = format!(
        "Base reached {:.1} % ({} epochs)",
        100.0 * test,
        epochs.len()
    );
    let md = std::fs::read_to_string(p.path("out/report.md")).unwrap();
    let html = std::fs::read_to_string(p.path("out/site/index.html")).unwrap();
    assert!(md.contains(&want), "{want} not in\n{md}");
    assert!(html.contains(&want), "{want} not in the page");
    // A run that is not in the report stops render with the file and line.
    p.write(
        "experiments/prose/notes.md",
        "Fine.\n{{ results[\"model-10\"].test | pct }}\n",
    );
    let err = p.fails(&["render"]);
    assert!(
        err.contains("experiments/prose/notes.md:2: no run \"model-10\" in this report"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(p.path("out/report.md")).unwrap(),
        md,
        "nothing half-written"
    );
}
