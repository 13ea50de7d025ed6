//! End-to-end: `report diff` between a build and a copy of it where one run's learning
//! rate changed, a section was removed and a claim's margin narrowed: the changed run
//! says what changed and is tested over its seeds, the others are the same, the
//! removed one is listed, the claim flips and `--fail-on-flip` fails on it; project
//! roots and plain `out/` folders give the same diff.

use std::fs;
use std::process::Command;

use serde_json::Value;

use crate::fixture::{self, TinyProject};

/// `other` claims its training loss is the same as base's within `margin`.
fn other_toml(margin: &str) -> String {
    format!(
        "claim = [{{ expect = \"same\", metric = \"train_loss\", margin = {margin}, text = \"Loss unchanged.\" }}]\n{}",
        fixture::OTHER_TOML
    )
}

/// The old build: three seeds of base, child (two variants), other and spare.
fn old_project() -> TinyProject {
    let p = TinyProject::new();
    p.write(
        "experiments/report.toml",
        &format!("{}seeds = 3\n", fixture::REPORT_TOML),
    );
    p.write(
        "experiments/base.toml",
        &fixture::BASE_TOML.replace("seed = 7\n", ""),
    );
    // A margin no loss difference of these runs comes near: the claim is confirmed.
    p.write("experiments/other.toml", &other_toml("1000.0"));
    p.write(
        "experiments/spare.toml",
        "extends = \"base\"\ntitle = \"Spare\"\n[augment]\nhflip = 0.0\n",
    );
    p.ok(&["build", "--device", "cpu"]);
    p
}

/// A copy of `old` with child/adam's learning rate raised, spare removed and the
/// claim's margin narrowed below what 40 test images can resolve; built again.
fn new_project(old: &TinyProject) -> TinyProject {
    let p = TinyProject::new();
    for dir in ["experiments", "out"] {
        fs::remove_dir_all(p.path(dir)).ok();
        let status = Command::new("cp")
            .arg("-a")
            .arg(old.path(dir))
            .arg(p.root())
            .status()
            .unwrap();
        assert!(status.success());
    }
    fs::remove_file(p.path("experiments/spare.toml")).unwrap();
    p.write(
        "experiments/child.toml",
        &fixture::CHILD_TOML.replace("lr = 0.01", "lr = 0.02"),
    );
    p.write("experiments/other.toml", &other_toml("1e-9"));
    let built = p.ok(&["build", "--device", "cpu"]);
    let trained = built.lines().filter(|l| l.contains(" trained ")).count();
    assert_eq!(trained, 3, "only child/adam's three seeds retrain: {built}");
    p
}

fn diff_json(p: &TinyProject, old: &str, new: &str) -> Value {
    serde_json::from_str(&p.ok(&["diff", old, new, "--format", "json"])).unwrap()
}

fn run<'a>(diff: &'a Value, id: &str) -> &'a Value {
    diff["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run"] == id)
        .unwrap_or_else(|| panic!("no run {id} in {diff}"))
}

/// Where and why `instance` breaks `diff.schema.json`, one line each.
fn schema_errors(instance: &Value) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("diff.schema.json");
    let schema: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn diff_names_the_changed_run_the_removed_one_and_the_flipped_claim() {
    let old = old_project();
    let new = new_project(&old);
    let (a, b) = (old.root().to_str().unwrap(), new.root().to_str().unwrap());
    let d = diff_json(&new, a, b);
    assert!(schema_errors(&d).is_empty(), "{:#?}", schema_errors(&d));
    assert_eq!(d["profile"], "test");

    // The changed run says what changed, in the report's words, and is tested over
    // its three seeds on each side: the same seeds, so the test is paired.
    let adam = run(&d, "child/adam");
    assert_eq!(adam["change"], "changed", "{adam}");
    assert_eq!(
        adam["settings"],
        serde_json::json!(["optimizer: Adam lr 0.01 → Adam lr 0.02"]),
        "{adam}"
    );
    let t = &adam["test_accuracy"];
    assert_eq!(t["n"], serde_json::json!([3, 3]), "{t}");
    assert_eq!(t["test"], "paired", "{t}");
    let (o, n, delta) = (
        t["old"].as_f64().unwrap(),
        t["new"].as_f64().unwrap(),
        t["delta"].as_f64().unwrap(),
    );
    assert!((n - o - delta).abs() < 1e-12, "{t}");
    let [lo, hi] = [
        t["interval"][0].as_f64().unwrap(),
        t["interval"][1].as_f64().unwrap(),
    ];
    assert!(lo <= delta && delta <= hi, "{t}");
    let (p, q) = (
        t["p_value"].as_f64().unwrap(),
        t["p_adjusted"].as_f64().unwrap(),
    );
    assert!(p <= q && q <= 1.0, "Holm never lowers a p-value: {t}");
    // Holm's adjustment over the changed run's four metrics, and the verdict from it.
    assert_eq!(d["family"], 4);
    let expected = if q >= 0.05 {
        "within-noise"
    } else if delta > 0.0 {
        "better"
    } else {
        "worse"
    };
    assert_eq!(t["verdict"], expected, "{t}");
    // The mean is the seeds' own, from their metrics files.
    let seed_test = |p: &TinyProject, seed: u64| -> f64 {
        let m: Value = serde_json::from_slice(
            &fs::read(p.path(&format!(
                "out/runs/test/child/adam/seed-{seed}/metrics.json"
            )))
            .unwrap(),
        )
        .unwrap();
        m["epochs"].as_array().unwrap().last().unwrap()["test_accuracy"]
            .as_f64()
            .unwrap()
    };
    let mean = (0..3).map(|s| seed_test(&new, s)).sum::<f64>() / 3.0;
    assert!((mean - n).abs() < 1e-12, "{mean} vs {t}");

    // Unchanged runs are the same stored seeds: not tested; the removed one is listed.
    for id in ["base", "child/sgd", "other"] {
        let r = run(&d, id);
        assert_eq!(r["change"], "same", "{r}");
        assert_eq!(r["test_accuracy"]["verdict"], "unchanged", "{r}");
        assert_eq!(r["test_accuracy"]["delta"], 0.0, "{r}");
    }
    let spare = run(&d, "spare");
    assert_eq!(spare["change"], "removed", "{spare}");
    assert!(spare["test_accuracy"]["new"].is_null(), "{spare}");

    // The claim flipped: confirmed within ±1000, not within ±1e-9.
    let claims = d["claims"].as_array().unwrap();
    let claim = claims
        .iter()
        .find(|c| c["claim"] == "Loss unchanged.")
        .unwrap();
    assert_eq!(claim["old"], "confirmed", "{claim}");
    assert_ne!(claim["new"], "confirmed", "{claim}");
    assert_eq!(claim["flipped"], true, "{claim}");
    assert_eq!(d["flips"].as_array().unwrap().len(), 1, "{d}");

    // The terminal's summary, and --fail-on-flip's one-line failure naming the claim.
    let text = new.ok(&["diff", a, b]);
    assert!(
        text.contains("1 changed, 0 added, 1 removed, 3 same; 1 flip"),
        "{text}"
    );
    assert!(
        text.contains("optimizer: Adam lr 0.01 → Adam lr 0.02"),
        "{text}"
    );
    let err = new.fails(&["diff", a, b, "--fail-on-flip"]);
    assert!(
        err.contains("flipped: claim “Loss unchanged.” of Other: confirmed →"),
        "{err}"
    );

    // Plain out/ folders (their published report.json and stored specs) give the same
    // runs and claims as the project roots.
    let (ao, bo) = (old.path("out"), new.path("out"));
    let from_out = diff_json(&new, ao.to_str().unwrap(), bo.to_str().unwrap());
    assert_eq!(from_out["runs"], d["runs"]);
    assert_eq!(from_out["claims"], d["claims"]);
    assert_eq!(from_out["new"]["source"], "report.json");

    // --only keeps the runs it names.
    let only: Value =
        serde_json::from_str(&new.ok(&["diff", a, b, "--format", "json", "--only", "child"]))
            .unwrap();
    let ids: Vec<&str> = only["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["child/sgd", "child/adam"]);

    // The Markdown comment: the changed run's row, the flipped claim, the curves'
    // image written where it links; clean under markdownlint.
    let figures = new.path("diff-figures");
    let md = new.ok(&[
        "diff",
        a,
        b,
        "--format",
        "md",
        "--figures",
        figures.to_str().unwrap(),
    ]);
    assert!(md.starts_with("# What changed in profile test\n"), "{md}");
    assert!(md.contains("| Child with adam | changed |"), "{md}");
    assert!(
        !md.contains("| Base | same |"),
        "unchanged runs only with --all: {md}"
    );
    assert!(
        md.contains("| Other | Loss unchanged. | confirmed |"),
        "{md}"
    );
    let svg = figures.join("test-accuracy.svg");
    assert!(md.contains(&format!("]({})", svg.display())), "{md}");
    let drawn = fs::read_to_string(&svg).unwrap();
    assert!(drawn.contains("Child with adam (old)") && drawn.contains("(new)"));
    assert!(figures.join("test-accuracy.png").is_file());
    let all = new.ok(&["diff", a, b, "--format", "md", "--all"]);
    assert!(all.contains("| Base | same |"), "{all}");
    let file = new.path("diff.md");
    fs::write(&file, &md).unwrap();
    if let Some(findings) = crate::markdown::lint_file("diff --format md", &file) {
        assert!(findings.is_empty(), "{findings:#?}\n{md}");
    }

    // A side without a store, of another profile, missing or neither: one line each.
    let bare = TinyProject::new();
    let err = new.fails(&["diff", bare.root().to_str().unwrap(), b]);
    assert!(err.contains("no store of profile test"), "{err}");
    assert!(
        err.contains(bare.root().to_str().unwrap()),
        "names the side: {err}"
    );
    let err = new.fails(&["diff", a, b, "--profile", "nope"]);
    assert!(err.contains("no profile \"nope\""), "{err}");
    let err = new.fails(&["diff", "/nonexistent/old", b]);
    assert!(err.contains("/nonexistent/old: no such folder"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let err = new.fails(&["diff", empty.path().to_str().unwrap(), b]);
    assert!(err.contains("neither a project"), "{err}");
    let err = new.fails(&["diff", ao.to_str().unwrap(), b, "--profile", "other"]);
    assert!(err.contains("no profile \"other\""), "{err}");
}
