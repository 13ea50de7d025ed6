//! End-to-end: `report verify` retrains stored runs into a scratch store, changes no
//! stored file, and tells identical, tampered, damaged and differently threaded runs
//! apart, exiting 1 naming what failed.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::fixture::{self, TinyProject};

/// Every file under `out/runs` with its content digest.
fn stored_files(p: &TinyProject) -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for e in fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(
                    rel,
                    blake3::hash(&fs::read(&path).unwrap()).to_hex().to_string(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&p.path("out/runs"), p.root(), &mut out);
    out
}

/// `out/verify.json`, checked against its definition in `report.schema.json`.
fn verification(p: &TinyProject) -> serde_json::Value {
    let v = serde_json::from_slice(&fs::read(p.path("out/verify.json")).unwrap()).unwrap();
    let errors = crate::schema::errors_against(&v, "VerifyFile");
    assert!(
        errors.is_empty(),
        "verify.json breaks the schema: {errors:#?}"
    );
    v
}

/// Each verified run's name and outcome.
fn outcomes(v: &serde_json::Value) -> Vec<(String, String)> {
    v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["run"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Runs a verify that must fail (exit 1) and returns its one error line; training
/// progress may come before it.
fn fails(p: &TinyProject, args: &[&str]) -> String {
    let out = p.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "report {args:?}: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert_eq!(
        stderr.trim_end().lines().last(),
        Some(errors[0]),
        "{stderr}"
    );
    errors[0].to_owned()
}

/// The tiny project without `child`: two sections of one seed each.
fn project() -> TinyProject {
    let p = TinyProject::new();
    fs::remove_file(p.path("experiments/child.toml")).unwrap();
    p
}

#[test]
fn verify_finds_identical_runs_and_changes_nothing_then_names_a_tampered_and_a_damaged_one() {
    let p = project();
    p.ok(&["build", "--device", "cpu"]);
    let before = stored_files(&p);

    let out = p.ok(&["verify", "--all", "--device", "cpu"]);
    let v = verification(&p);
    assert_eq!(
        outcomes(&v),
        [
            ("base/main/seed-7".to_owned(), "identical".to_owned()),
            ("other/main/seed-7".to_owned(), "identical".to_owned())
        ],
        "{out}"
    );
    assert_eq!(v["runs"][0]["rule"]["kind"], "bit_for_bit");
    assert_eq!(
        v["runs"][0]["metrics"]["epochs"].as_array().unwrap().len(),
        3
    );
    assert_eq!(v["runs"][0]["metrics"]["largest"]["difference"], 0.0);
    assert!(
        out.contains("base/main/seed-7") && out.contains("identical"),
        "{out}"
    );
    assert_eq!(stored_files(&p), before, "verify changed a stored file");
    // The report says so in its appendix.
    let html = fs::read_to_string(p.path("out/site/index.html")).unwrap();
    assert!(
        html.contains("id=\"verification\""),
        "no Verification appendix"
    );
    let md = fs::read_to_string(p.path("out/report.md")).unwrap();
    assert!(md.contains("## Appendix: Verification"), "{md}");

    // A stored test accuracy edited with its digest: the record is intact, the numbers
    // are not what training gives.
    fixture::set_last_epoch(&p, "out/runs/test/base/main/seed-7", "test_accuracy", 0.99);
    let err = fails(&p, &["verify", "--all", "--device", "cpu"]);
    assert!(err.contains("base/main/seed-7 not reproduced"), "{err}");
    assert!(!err.contains("other/main/seed-7"), "{err}");
    let v = verification(&p);
    assert_eq!(v["runs"][0]["outcome"], "not_reproduced");
    assert!(
        v["runs"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("epoch 3's test_accuracy differs"),
        "{}",
        v["runs"][0]["reason"]
    );

    // A weights file changed behind the record's back: damaged, and not retrained.
    let weights = p.path("out/runs/test/other/main/seed-7/weights.safetensors");
    let mut bytes = fs::read(&weights).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&weights, bytes).unwrap();
    let err = fails(
        &p,
        &["verify", "--all", "--device", "cpu", "--only", "other"],
    );
    assert!(err.contains("other/main/seed-7 damaged"), "{err}");
    let v = verification(&p);
    assert_eq!(
        outcomes(&v),
        [("other/main/seed-7".to_owned(), "damaged".to_owned())]
    );
    assert!(v["runs"][0]["metrics"].is_null());
    assert!(
        !p.path("out/.verify/runs/test/other/main/seed-7/run.json")
            .exists()
    );
}

#[test]
fn another_thread_count_is_within_tolerance_and_the_same_seed_picks_the_same_run() {
    // Three seeds a section, so that a sample of one has a choice to make.
    let p = project();
    p.write(
        "experiments/report.toml",
        &format!(
            "{}seeds = 3\n\n[verify]\ntolerance_pp = 50\n",
            fixture::REPORT_TOML
        ),
    );
    p.write(
        "experiments/base.toml",
        &fixture::BASE_TOML.replace("seed = 7\n", ""),
    );
    p.ok(&["build", "--device", "cpu"]);
    let record: serde_json::Value = serde_json::from_slice(
        &fs::read(p.path("out/runs/test/base/main/seed-0/run.json")).unwrap(),
    )
    .unwrap();
    let stored = record["threads"].as_i64().unwrap();
    assert!(
        record["torch_version"]
            .as_str()
            .unwrap()
            .starts_with("2.11.0"),
        "{record}"
    );
    let other = (stored + 1).to_string();
    p.ok(&[
        "verify",
        "--device",
        "cpu",
        "--threads",
        &other,
        "--only",
        "base",
    ]);
    let v = verification(&p);
    let run = &v["runs"][0];
    assert_eq!(run["outcome"], "within_tolerance", "{run}");
    assert_eq!(run["rule"]["kind"], "tolerance");
    assert_eq!(run["rule"]["accuracy"], 0.5);
    assert_eq!(
        run["where"]["differences"][0],
        format!("threads {stored} → {other}")
    );
    assert_eq!(
        run["where"]["retrained"]["threads"].as_i64().unwrap(),
        stored + 1
    );

    // One run per section, the same ones for the same seed; two of each with
    // --sample 2, in report order.
    p.ok(&["verify", "--device", "cpu", "--sample-seed", "3"]);
    let first = outcomes(&verification(&p));
    let sections: Vec<&str> = first
        .iter()
        .map(|(r, _)| r.split('/').next().unwrap())
        .collect();
    assert_eq!(sections, ["base", "other"], "{first:?}");
    p.ok(&["verify", "--device", "cpu", "--sample-seed", "3"]);
    assert_eq!(outcomes(&verification(&p)), first);
    p.ok(&[
        "verify", "--device", "cpu", "--sample", "2", "--only", "other",
    ]);
    let two = outcomes(&verification(&p));
    assert_eq!(two.len(), 2, "{two:?}");
    assert!(two[0].0 < two[1].0, "{two:?}");
}

#[test]
fn workers_retrain_with_the_threads_they_trained_with() {
    // `--jobs 2` on both sides: each worker gets half the cores, as in the build.
    let p = project();
    p.ok(&["build", "--device", "cpu", "--jobs", "2"]);
    p.ok(&["verify", "--all", "--device", "cpu", "--jobs", "2"]);
    let v = verification(&p);
    let got: Vec<String> = outcomes(&v).into_iter().map(|(_, o)| o).collect();
    assert_eq!(got, ["identical", "identical"], "{v}");
    let place = &v["runs"][0]["where"];
    assert_eq!(place["retrained"]["threads"], place["stored"]["threads"]);
}

#[test]
fn verify_without_a_build_is_a_one_line_error() {
    let p = project();
    let err = p.fails(&["verify", "--device", "cpu"]);
    assert!(err.contains("no stored run to verify"), "{err}");
    let err = p.fails(&["verify", "--executor", "slurm", "--threads", "2"]);
    assert!(err.contains("--threads is for --executor local"), "{err}");
}
