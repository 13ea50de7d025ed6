//! Faults: a build killed at any moment, or stopped with Ctrl-C, loses at most the run
//! in progress and ends, once rerun, with the same results as an uninterrupted build.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::fixture::{self, TinyProject};

const RUNS: [&str; 4] = ["base/main", "child/sgd", "child/adam", "other/main"];

/// Every run's learning curve as bits: timings excluded, they differ by nature.
fn curves(root: &Path) -> Vec<Vec<u64>> {
    RUNS.iter()
        .map(|run| {
            let path = root.join(format!("out/runs/test/{run}/seed-7/metrics.json"));
            let m: serde_json::Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
            m["epochs"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|e| {
                    ["train_loss", "train_accuracy", "test_loss", "test_accuracy"]
                        .map(|k| e[k].as_f64().unwrap().to_bits())
                })
                .collect()
        })
        .collect()
}

fn spawn_build(root: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_report"))
        .args(["--root"])
        .arg(root)
        .args(["build", "--device", "cpu"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// No temporary file or staging folder survives a finished build.
fn assert_no_leftovers(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            !name.starts_with(".tmp-") && name != ".staging",
            "left over: {}",
            entry.path().display()
        );
        if entry.file_type().unwrap().is_dir() {
            assert_no_leftovers(&entry.path());
        }
    }
}

#[test]
fn killed_builds_resume_to_the_same_results() {
    let reference = TinyProject::new();
    reference.ok(&["build", "--device", "cpu"]);
    let expected = curves(reference.root());

    let p = TinyProject::new();
    for ms in [150, 500, 900, 1400, 2000, 2800] {
        let mut child = spawn_build(p.root());
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill(); // SIGKILL: no handler runs
        let _ = child.wait();
        // Whatever the store holds now must be either complete or ignored, never read half.
        let list = p.run(&["list"]);
        fixture::assert_success(&list);
    }
    let out = p.run(&["build", "--device", "cpu"]);
    fixture::assert_success(&out);
    assert_eq!(curves(p.root()), expected);
    assert_no_leftovers(&p.path("out"));
}

#[test]
fn ctrl_c_stops_cleanly_and_the_next_build_finishes_the_work() {
    let p = TinyProject::new();
    // Longer runs, so the signal lands during training.
    p.write(
        "experiments/report.toml",
        &fixture::REPORT_TOML.replace("epochs = 3", "epochs = 30"),
    );
    let child = spawn_build(p.root());
    let pid = child.id();
    // Wait until the first run has started training.
    let started = std::time::Instant::now();
    while !p.path("out/runs/.staging").exists() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("error: interrupted by Ctrl-C; finished runs are kept"),
        "{stderr}"
    );
    assert!(!p.path("out/runs/.staging").exists(), "staging left behind");
    let table = p.ok(&["build", "--device", "cpu"]);
    for run in ["base", "child/sgd", "child/adam", "other"] {
        assert!(
            matches!(
                fixture::result_of(&table, run).as_str(),
                "trained" | "cached"
            ),
            "{table}"
        );
    }
}
