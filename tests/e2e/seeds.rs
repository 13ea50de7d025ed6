//! End-to-end: a run of several seeds is one stored run per seed; the report's numbers
//! over them are the runs' own, adding a seed trains only it, removing one trains
//! nothing, and the author's claims are checked against them.

use std::fs;

use crate::fixture::{self, TinyProject};

/// The tiny project without `child`, its seeds set by the profile.
fn project(seeds: &str) -> TinyProject {
    let p = TinyProject::new();
    fs::remove_file(p.path("experiments/child.toml")).unwrap();
    p.write(
        "experiments/report.toml",
        &format!("{}seeds = {seeds}\n", fixture::REPORT_TOML),
    );
    p.write(
        "experiments/base.toml",
        &fixture::BASE_TOML.replace("seed = 7\n", ""),
    );
    p.write(
        "experiments/other.toml",
        &format!(
            "claim = [{{ expect = \"worse\" }}, {{ expect = \"same\" }}]\n{}",
            fixture::OTHER_TOML
        ),
    );
    p
}

/// Gives the seeds of `run` these final test accuracies, as if training had scored them.
fn score(p: &TinyProject, run: &str, tests: &[f64]) {
    for (seed, t) in tests.iter().enumerate() {
        let dir = format!("out/runs/test/{run}/seed-{seed}");
        fixture::set_last_epoch(p, &dir, "test_accuracy", *t);
    }
}

/// The outcomes of the report's claims, in order.
fn outcomes(p: &TinyProject) -> Vec<String> {
    let report = json(p, "out/site/report.json");
    report["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["outcome"].as_str().unwrap().to_owned())
        .collect()
}

fn json(p: &TinyProject, rel: &str) -> serde_json::Value {
    serde_json::from_slice(&fs::read(p.path(rel)).unwrap()).unwrap()
}

/// The final (train, test) accuracy of one seed, from its own metrics.json.
fn last(p: &TinyProject, run: &str, seed: u64) -> (f64, f64) {
    let m = json(p, &format!("out/runs/test/{run}/seed-{seed}/metrics.json"));
    let e = m["epochs"].as_array().unwrap().last().unwrap().clone();
    (
        e["train_accuracy"].as_f64().unwrap(),
        e["test_accuracy"].as_f64().unwrap(),
    )
}

fn run_entry(report: &serde_json::Value, id: &str) -> serde_json::Value {
    report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["runs"].as_array().unwrap().clone())
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no run {id}"))
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} vs {b}");
}

#[test]
fn seeds_are_runs_of_their_own_and_the_report_takes_them_together() {
    let p = project("3");
    let table = p.ok(&["build", "--device", "cpu"]);
    for run in ["base seed 0", "base seed 1", "base seed 2", "other seed 2"] {
        let line = table
            .lines()
            .find(|l| l.starts_with(run))
            .unwrap_or_else(|| panic!("{table}"));
        assert!(line.contains("trained"), "{table}");
    }

    // The report's numbers are the mean and sample deviation of the seeds' own.
    let report = json(&p, "out/site/report.json");
    let base = run_entry(&report, "base");
    let seeds: Vec<(f64, f64)> = (0..3).map(|s| last(&p, "base/main", s)).collect();
    let mean = |f: fn(&(f64, f64)) -> f64| seeds.iter().map(f).sum::<f64>() / 3.0;
    let (train, test) = (mean(|s| s.0), mean(|s| s.1));
    let sd = (seeds.iter().map(|s| (s.1 - test).powi(2)).sum::<f64>() / 2.0).sqrt();
    let spread = &base["spread"];
    close(spread["test"]["mean"].as_f64().unwrap(), test);
    close(spread["train"]["mean"].as_f64().unwrap(), train);
    close(spread["test"]["std"].as_f64().unwrap(), sd);
    close(base["result"]["test"]["value"].as_f64().unwrap(), test);
    assert_eq!(spread["complete"], serde_json::json!([0, 1, 2]));
    let interval = spread["test"]["interval"].as_array().unwrap();
    assert!(interval[0].as_f64().unwrap() <= test && test <= interval[1].as_f64().unwrap());
    assert_eq!(base["seed_runs"].as_array().unwrap().len(), 3);
    assert_eq!(base["seeds_text"], "seeds 0, 1, 2");

    // `other` against `base`: both ran seeds 0–2, so the test is paired; the claim is
    // checked with the same numbers.
    let other = run_entry(&report, "other");
    let c = &other["comparison"];
    assert_eq!(c["test"], "paired", "{c}");
    let other_test = (0..3).map(|s| last(&p, "other/main", s).1).sum::<f64>() / 3.0;
    close(c["difference"].as_f64().unwrap(), other_test - test);
    let claims = report["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 2, "{claims:?}");
    assert_eq!(claims[0]["measured"]["difference"], c["difference"]);
    assert_eq!(claims[0]["measured"]["interval"], c["interval"]);
    let html = fs::read_to_string(p.path("out/site/index.html")).unwrap();
    assert!(html.contains("<section id=\"claims\">") && html.contains("<table class=\"claims\">"));
    let md = fs::read_to_string(p.path("out/report.md")).unwrap();
    assert!(
        md.contains("\n### Claims\n") && md.contains("| Run | Claim | Against |"),
        "{md}"
    );

    // Hand-made seeds whose verdicts are known without this program (40 test images, so
    // a spread below 2.5 pp counts as 2.5 pp). Paired differences −20, −22.5, −17.5 pp:
    // mean −20 pp, SD 2.5 pp, t = −13.9 on 2 df, one-sided p = 0.0026 (× 2 after Holm):
    // "worse" is confirmed, and "same within 1 pp" contradicted (the 90 % interval,
    // −20 ± 2.92 · 1.44 pp, lies wholly below −1 pp).
    score(&p, "base/main", &[0.700, 0.750, 0.650]);
    score(&p, "other/main", &[0.500, 0.525, 0.475]);
    p.ok(&["render"]);
    assert_eq!(outcomes(&p), ["confirmed", "contradicted"]);
    // Differences +2.5, −5, +5 pp: mean +0.83 pp, SD 5.2 pp: worse is not shown, nor is
    // its opposite, and 1 pp sameness cannot be told with three seeds this noisy.
    score(&p, "other/main", &[0.725, 0.700, 0.700]);
    p.ok(&["render"]);
    assert_eq!(outcomes(&p), ["inconclusive", "inconclusive"]);
    let report = json(&p, "out/site/report.json");
    let worse = &report["claims"][0]["measured"];
    assert!(worse["p_adjusted"].as_f64().unwrap() > 0.5, "{worse}");
    assert!(worse["seeds_needed"].is_null(), "the wrong way: {worse}");
    // `check` reads the stored spread as a pilot's: seeds each claim would need.
    let check = p.ok(&["check"]);
    assert!(check.contains("seeds needed for 80 % power"), "{check}");
    let worse_line = check
        .lines()
        .find(|l| l.contains("claim") && l.contains("worse Base"))
        .unwrap();
    assert!(
        worse_line.contains("+0.83 pp observed, no number of seeds"),
        "{check}"
    );
    assert!(
        report["statistics"]["statement"]
            .as_str()
            .unwrap()
            .contains("Each run was trained with 3 seeds.")
    );

    // A fourth seed trains that seed alone.
    p.write(
        "experiments/report.toml",
        &format!("{}seeds = 4\n", fixture::REPORT_TOML),
    );
    let table = p.ok(&["build", "--device", "cpu"]);
    for (run, want) in [
        ("base seed 0", "cached"),
        ("base seed 2", "cached"),
        ("base seed 3", "trained"),
        ("other seed 1", "cached"),
        ("other seed 3", "trained"),
    ] {
        let line = table
            .lines()
            .find(|l| l.starts_with(run))
            .unwrap_or_else(|| panic!("{table}"));
        assert!(line.contains(want), "{run}: {table}");
    }
    assert_eq!(table.matches("trained").count(), 2, "{table}");
    let list = p.ok(&["list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("base ") && l.contains("4 seeds, 4 cached")),
        "{list}"
    );
    assert!(list.lines().any(|l| l.starts_with("  seed 3")), "{list}");

    // Removing seeds trains nothing, and the numbers are over the seeds left.
    p.write(
        "experiments/report.toml",
        &format!("{}seeds = [0, 3]\n", fixture::REPORT_TOML),
    );
    let table = p.ok(&["build", "--device", "cpu"]);
    assert!(!table.contains("trained"), "{table}");
    let base = run_entry(&json(&p, "out/site/report.json"), "base");
    let kept = (last(&p, "base/main", 0).1 + last(&p, "base/main", 3).1) / 2.0;
    close(base["spread"]["test"]["mean"].as_f64().unwrap(), kept);
    assert_eq!(base["seeds"], serde_json::json!([0, 3]));
}

#[test]
fn one_seed_never_invents_an_interval() {
    let p = project("1");
    p.ok(&["build", "--device", "cpu"]);
    let report = json(&p, "out/site/report.json");
    let base = run_entry(&report, "base");
    assert_eq!(base["spread"]["note"], "1 seed: no spread");
    assert!(base["spread"]["test"]["interval"].is_null());
    let other = run_entry(&report, "other");
    assert!(
        other["comparison"]["verdict"].is_null(),
        "{}",
        other["comparison"]
    );
    assert_eq!(other["comparison"]["verdict_text"], "1 seed: untested");
    assert_eq!(report["claims"][0]["outcome"], "inconclusive");
    assert!(report["claims"][0]["measured"]["p_adjusted"].is_null());
    let html = fs::read_to_string(p.path("out/site/index.html")).unwrap();
    assert!(html.contains("1 seed: no spread"));
    assert!(!html.contains("95 % CI"), "an interval from one seed");
}
