//! `report init`: a new project on which `report build` succeeds at once, and which
//! never overwrites a file.

use std::fs;
use std::process::Command;

use crate::fixture::{self, report};

#[test]
fn init_makes_a_project_that_builds_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let out = Command::new(env!("CARGO_BIN_EXE_report"))
        .arg("init")
        .arg(&dir)
        .output()
        .unwrap();
    fixture::assert_success(&out);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("next: cd "), "{said}");
    for file in [
        "experiments/report.toml",
        "experiments/baseline.toml",
        "experiments/wider.toml",
        "experiments/prose/explanations.md",
        "experiments/prose/notes.md",
        ".gitignore",
        "data/cifar10-sample.tar.gz",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    assert_eq!(
        fs::read_to_string(dir.join(".gitignore"))
            .unwrap()
            .lines()
            .last(),
        Some("/out/")
    );

    let check = report(&dir, &["check"]);
    fixture::assert_success(&check);
    let build = report(&dir, &["build", "--device", "cpu"]);
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(build.status.success(), "{stderr}");
    let table = String::from_utf8_lossy(&build.stdout);
    for run in ["baseline", "wider/sgd", "wider/adam"] {
        for seed in 0..2 {
            let line = table
                .lines()
                .find(|l| l.starts_with(&format!("{run} seed {seed} ")))
                .unwrap_or_else(|| panic!("no {run} seed {seed} in:\n{table}"));
            assert_eq!(line.split_whitespace().nth(3), Some("trained"), "{table}");
        }
    }
    let html = fs::read_to_string(dir.join("out/site/index.html")).unwrap();
    assert!(
        html.contains("My First Study") && html.contains("Wider"),
        "{html:.300}"
    );
    // Two seeds: the wider model's claim is checked, whatever the verdict.
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("out/site/report.json")).unwrap()).unwrap();
    let claims = json["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 2, "one per variant of wider: {claims:?}");

    // A second init touches nothing, and names what is in its way.
    let edited = "title = \"Mine\"\n";
    fs::write(dir.join("experiments/report.toml"), edited).unwrap();
    let again = Command::new(env!("CARGO_BIN_EXE_report"))
        .arg("init")
        .arg(&dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("experiments/report.toml: already exists") && err.contains("touched nothing"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(dir.join("experiments/report.toml")).unwrap(),
        edited
    );

    // A folder that has other files (a README, a .git) is fine.
    let other = tmp.path().join("repo");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("README.md"), "mine\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["--root"])
        .arg(&other)
        .arg("init")
        .output()
        .unwrap();
    fixture::assert_success(&out);
    assert_eq!(
        fs::read_to_string(other.join("README.md")).unwrap(),
        "mine\n"
    );
    assert!(other.join("experiments/wider.toml").is_file());
}
