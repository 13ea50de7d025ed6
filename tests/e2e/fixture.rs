//! A tiny project on disk for end-to-end runs of the `report` binary.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// CIFAR-10's class names, in label order. A copy: the lib's own list (`src/testutil.rs`)
/// exists only in its unit-test build, which this crate cannot see.
pub(crate) const CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Writes a learnable CIFAR-10-format dataset: each class has its own colour, plus noise.
pub(crate) fn write_cifar_bin(dir: &Path, train_per_class: usize, test_per_class: usize) {
    fs::create_dir_all(dir).unwrap();
    let mut state = 12345u64;
    let mut rand = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u8
    };
    let mut record = |label: usize| {
        let mut r = vec![label as u8];
        for ch in 0..3 {
            let base = (((label * [1, 3, 7][ch]) % 10) * 25) as i32;
            for _ in 0..1024 {
                let noise = (rand() % 64) as i32 - 32;
                r.push((base + noise).clamp(0, 255) as u8);
            }
        }
        r
    };
    let batch = |n_per_class: usize, record: &mut dyn FnMut(usize) -> Vec<u8>| {
        let mut bytes = Vec::new();
        for i in 0..n_per_class * 10 {
            bytes.extend(record(i % 10));
        }
        bytes
    };
    let per_batch = train_per_class.div_ceil(5);
    for b in 1..=5 {
        fs::write(
            dir.join(format!("data_batch_{b}.bin")),
            batch(per_batch, &mut record),
        )
        .unwrap();
    }
    fs::write(
        dir.join("test_batch.bin"),
        batch(test_per_class, &mut record),
    )
    .unwrap();
    fs::write(dir.join("batches.meta.txt"), CLASSES.join("\n") + "\n").unwrap();
}

pub(crate) const REPORT_TOML: &str = r#"
title = "Tiny"
author = "Tester"
default_profile = "test"

[profiles.test]
data = "data/tiny"
epochs = 3
tsne_epochs = [0, 3]
"#;

pub(crate) const BASE_TOML: &str = r#"
title = "Base"
layers = [
    { type = "conv", out = 4, kernel = 3, padding = 1 },
    { type = "batchnorm" },
    { type = "relu" },
    { type = "maxpool", kernel = 4 },
    { type = "flatten" },
    { type = "linear", out = 10 },
]

[training]
batch_size = 16
seed = 7
optimizer = { type = "sgd", lr = 0.01, momentum = 0.9 }

[augment]
crop_padding = 2
hflip = 0.5
"#;

pub(crate) const CHILD_TOML: &str = r#"
extends = "base"
title = "Child"
[[edit]]
layer = "conv1"
set = { out = 6 }
[variants.sgd]
tsne = { enabled = true, perplexity = 5.0 }
[variants.adam]
training = { optimizer = { type = "adam", lr = 0.01 } }
"#;

pub(crate) const OTHER_TOML: &str = r#"
extends = "base"
title = "Other"
[augment]
vflip = 0.5
"#;

/// A project with sections `base`, `child` (two variants) and `other`.
pub(crate) struct TinyProject {
    pub dir: tempfile::TempDir,
}

impl TinyProject {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("experiments")).unwrap();
        fs::write(root.join("experiments/report.toml"), REPORT_TOML).unwrap();
        fs::write(root.join("experiments/base.toml"), BASE_TOML).unwrap();
        fs::write(root.join("experiments/child.toml"), CHILD_TOML).unwrap();
        fs::write(root.join("experiments/other.toml"), OTHER_TOML).unwrap();
        write_cifar_bin(&root.join("data/tiny"), 12, 4);
        TinyProject { dir }
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub(crate) fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        report(self.root(), args)
    }

    /// Runs and asserts success, returning stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        String::from_utf8(self.succeeds(args).stdout).unwrap()
    }

    /// Runs and asserts success, returning what it printed, for tests of its messages.
    pub(crate) fn succeeds(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "report {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Runs, asserts failure with a one-line error, and returns that line.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "report {args:?} should fail; stderr:\n{stderr}"
        );
        let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(lines.len(), 1, "expected one error line, got:\n{stderr}");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "expected nothing but the error:\n{stderr}"
        );
        lines[0].to_owned()
    }
}

pub(crate) fn report(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_report"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// The summary table's result column for `run`.
pub(crate) fn result_of(table: &str, run: &str) -> String {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(run))
        .unwrap_or_else(|| panic!("no line for {run} in:\n{table}"))
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned()
}

/// Asserts that a finished command succeeded, showing what it printed when it did not.
pub(crate) fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "exit {}:\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Rewrites `field` of the last epoch of a stored run's `metrics.json`
/// (`out/runs/<profile>/<section>/<variant>/seed-<n>`, relative to the project) to
/// `value`, and its digest and size in `run.json` with it: a consistent edit the store's
/// integrity check cannot tell from training, so tests can give runs numbers whose
/// statistics are known by hand.
pub(crate) fn set_last_epoch(p: &TinyProject, run_dir: &str, field: &str, value: f64) {
    let metrics = p.path(&format!("{run_dir}/metrics.json"));
    let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&metrics).unwrap()).unwrap();
    let last = m["epochs"].as_array_mut().unwrap().last_mut().unwrap();
    last[field] = value.into();
    let bytes = serde_json::to_vec_pretty(&m).unwrap();
    fs::write(&metrics, &bytes).unwrap();
    let record = p.path(&format!("{run_dir}/run.json"));
    let mut r: serde_json::Value = serde_json::from_slice(&fs::read(&record).unwrap()).unwrap();
    r["files"]["metrics.json"] = serde_json::json!({
        "bytes": bytes.len(),
        "blake3": blake3::hash(&bytes).to_hex().to_string(),
    });
    fs::write(&record, serde_json::to_vec_pretty(&r).unwrap()).unwrap();
}

/// Whether a test's tool or permission is here. `missing` says what is not (`None`:
/// all is); then the test prints SKIPPED and passes, unless `require` (a
/// `REPORT_REQUIRE_*` variable, all of which `.ci/run` sets) is set: then the lack
/// fails the test, so a local `.ci/run` checks what CI checks.
pub(crate) fn available(require: &str, test: &str, missing: Option<String>) -> bool {
    let Some(why) = missing else {
        return true;
    };
    assert!(
        std::env::var_os(require).is_none(),
        "{test}: {require} is set, but {why}"
    );
    // Through the stream, not `eprintln!`: the test harness captures that, and a
    // skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {why} (set {require}=1 to make this a failure)"
    );
    false
}
