//! End-to-end: every trained run loads in PyTorch through its own `model.py` and, on the
//! test set, gives the predictions `report` recorded for it.
//!
//! The check runs `pytorch_check.py` with the Python that has torch (what
//! `scripts/torch-python` prints); without one the test says SKIPPED, unless
//! `REPORT_REQUIRE_PYTORCH` is set (`.ci/run` sets it).
//!
//! Tolerance: the confusion matrix (so the accuracy too) must be equal, count for count,
//! and the mean test loss equal to 1e-6 relative. Both sides run the same aten ops in
//! the same order on the CPU, in the run's precision and with its thread count, so they
//! compute the same floats; the loss's margin is only for kernels that split a sum by
//! some other measure than the thread count (in every run so far the difference was 0).
//! A wrong module name fails `load_state_dict(strict=True)`; a wrong normalisation or
//! layer order moves the loss by far more than 1e-6 (STD rounded to 0.25 moved
//! model-3's by 1 %), and predictions with it.

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use crate::fixture::{self, TinyProject};

/// A section that reaches every kind of layer and setting `model.py` spells: a strided
/// conv, batch norm on images and on vectors, a pool whose stride is not its window,
/// dropout, two linear layers, ids that are not Python names (`conv-a`, `class`), a
/// normalisation other than the identity, both memory formats and both precisions.
const DEEP_TOML: &str = r#"
title = "Deep"
layers = [
    { type = "conv", id = "conv-a", out = 5, kernel = 3, stride = 2, padding = 1 },
    { type = "batchnorm" },
    { type = "relu" },
    { type = "maxpool", kernel = 3, stride = 2 },
    { type = "conv", out = 6, kernel = 3 },
    { type = "relu" },
    { type = "flatten" },
    { type = "dropout", p = 0.3 },
    { type = "linear", id = "class", out = 12 },
    { type = "batchnorm" },
    { type = "relu" },
    { type = "linear", out = 10 },
]

[training]
batch_size = 16
seed = 11
optimizer = { type = "adam", lr = 0.005 }
memory_format = "contiguous"

[normalize]
mean = [0.3, 0.45, 0.6]
std = [0.2, 0.25, 0.3]

[variants.fp32]
title = "fp32, contiguous"

[variants.bf16]
title = "bf16, channels-last"
training = { precision = "bf16", memory_format = "channels_last" }
"#;

/// Every other layer kind, and every training knob a schedule or a penalty turns: a
/// leaky ReLU with its own slope, strided average pooling, channel dropout, GELU, a global
/// average pool, tanh and sigmoid; SGD with Nesterov momentum and weight decay, one epoch
/// of warm-up and a cosine schedule. PyTorch's modules must give the recorded
/// predictions, and its `lr_scheduler` the recorded learning rates.
const KNOBS_TOML: &str = r#"
title = "Knobs"
layers = [
    { type = "conv", out = 6, kernel = 3, padding = 1 },
    { type = "leaky_relu", negative_slope = 0.2 },
    { type = "avgpool", kernel = 3, stride = 2 },
    { type = "dropout2d", p = 0.2 },
    { type = "conv", out = 8, kernel = 3, padding = 1 },
    { type = "gelu" },
    { type = "global_avgpool" },
    { type = "flatten" },
    { type = "linear", out = 12 },
    { type = "tanh" },
    { type = "linear", out = 12 },
    { type = "sigmoid" },
    { type = "linear", out = 10 },
]

[training]
batch_size = 16
seed = 5
optimizer = { type = "sgd", lr = 0.05, momentum = 0.9, nesterov = true, weight_decay = 0.001 }
warmup_epochs = 1
lr_schedule = { type = "cosine", eta_min = 0.001 }

[variants.cosine]
title = "cosine"

[variants.multistep]
title = "multistep, Adam"
training = { optimizer = { type = "adam", lr = 0.01, weight_decay = 0.01 }, warmup_epochs = 0, lr_schedule = { type = "multistep", milestones = [1, 2], gamma = 0.5 } }

[variants.step]
title = "step, RMSprop"
training = { optimizer = { type = "rmsprop", lr = 0.01, momentum = 0.5, weight_decay = 0.01 }, warmup_epochs = 2, lr_schedule = { type = "step", step_size = 1, gamma = 0.3 } }
normalize = "auto"
"#;

/// The Python with torch, or why there is none.
fn torch_python() -> Result<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/torch-python");
    let out = Command::new(&script)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "scripts/torch-python failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The Python with torch; without one, a test says SKIPPED and passes, unless
/// `REPORT_REQUIRE_PYTORCH` is set.
fn python_or_skip(test: &str) -> Option<String> {
    match torch_python() {
        Ok(python) => Some(python),
        Err(why) => {
            fixture::available("REPORT_REQUIRE_PYTORCH", test, Some(why));
            None
        }
    }
}

#[test]
fn every_run_loads_in_pytorch_and_predicts_what_report_recorded() {
    let Some(python) =
        python_or_skip("every_run_loads_in_pytorch_and_predicts_what_report_recorded")
    else {
        return;
    };
    let p = TinyProject::new();
    p.write("experiments/deep.toml", DEEP_TOML);
    p.write("experiments/knobs.toml", KNOBS_TOML);
    p.ok(&["build", "--device", "cpu"]);
    // `normalize = "auto"`: the training images' own mean and std, written into model.py.
    let mut sums = [(0u64, 0u64, 0u64); 3];
    for b in 1..=5 {
        let bytes = fs::read(p.path(&format!("data/tiny/data_batch_{b}.bin"))).unwrap();
        for record in bytes.chunks_exact(3073) {
            for (c, channel) in record[1..].chunks_exact(1024).enumerate() {
                for &v in channel {
                    sums[c].0 += 1;
                    sums[c].1 += v as u64;
                    sums[c].2 += (v as u64) * (v as u64);
                }
            }
        }
    }
    let text = fs::read_to_string(p.path("out/runs/test/knobs/step/seed-5/model.py")).unwrap();
    let tuple = |name: &str| -> Vec<f64> {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} = (")))
            .unwrap();
        line[name.len() + 4..line.len() - 1]
            .split(", ")
            .map(|x| x.parse().unwrap())
            .collect()
    };
    for (c, (n, sum, squares)) in sums.iter().enumerate() {
        let mean = *sum as f64 / *n as f64;
        let std = (*squares as f64 / *n as f64 - mean * mean).sqrt() / 255.0;
        assert!(
            (tuple("MEAN")[c] - mean / 255.0).abs() < 1e-12,
            "channel {c}: {text}"
        );
        assert!((tuple("STD")[c] - std).abs() < 1e-12, "channel {c}: {text}");
    }
    // A rate that changes is drawn; a constant one is not.
    assert!(
        p.path("out/site/figures/knobs/cosine/learning-rate.svg")
            .is_file()
    );
    assert!(!p.path("out/site/figures/base/learning-rate.svg").exists());
    let csv =
        fs::read_to_string(p.path("out/runs/test/knobs/multistep/seed-5/metrics.csv")).unwrap();
    let rates: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(rates, ["0.01", "0.005", "0.0025"], "{csv}");

    // run.json digests model.py like every other file of the run.
    let record: serde_json::Value = serde_json::from_slice(
        &fs::read(p.path("out/runs/test/deep/fp32/seed-11/run.json")).unwrap(),
    )
    .unwrap();
    assert!(
        record["files"]["model.py"].is_object(),
        "{}",
        record["files"]
    );
    let text = fs::read_to_string(p.path("out/runs/test/deep/fp32/seed-11/model.py")).unwrap();
    for line in [
        "self.add_module(\"conv-a\", nn.Conv2d(3, 5, kernel_size=3, stride=2, padding=1))",
        "MEAN = (0.3, 0.45, 0.6)",
        "MEMORY_FORMAT = torch.contiguous_format",
    ] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/pytorch_check.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(p.path("out/runs/test"))
        .arg(p.path("data/tiny/test_batch.bin"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{python} {} failed:\n{stdout}\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut seen = Vec::new();
    for line in stdout.lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let run = r["run"].as_str().unwrap().to_owned();
        if r["state"] == "diverged" {
            let _ = writeln!(std::io::stderr(), "{run}: diverged, not compared");
            seen.push(run);
            continue;
        }
        let (torch, report) = (&r["pytorch"], &r["report"]);
        assert_eq!(
            torch["confusion"], report["confusion"],
            "{run}: PyTorch's confusion matrix differs"
        );
        assert_eq!(torch["accuracy"], report["accuracy"], "{run}: accuracy");
        let (a, b) = (
            torch["loss"].as_f64().unwrap(),
            report["loss"].as_f64().unwrap(),
        );
        let relative = (a - b).abs() / b.abs();
        assert!(
            relative <= 1e-6,
            "{run}: PyTorch's test loss {a} against report's {b}"
        );
        let spec: serde_json::Value = serde_json::from_slice(
            &fs::read(p.path(&format!(
                "out/runs/test/{}/spec.json",
                r["folder"].as_str().unwrap()
            )))
            .unwrap(),
        )
        .unwrap();
        let flatten = spec["shapes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["op"]["type"] == "flatten")
            .unwrap();
        assert_eq!(torch["latent_dim"], flatten["output"], "{run}: latent size");
        let rates = |side: &serde_json::Value| -> Vec<f64> {
            side["lrs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        };
        let (theirs, ours) = (rates(torch), rates(report));
        assert_eq!(theirs.len(), ours.len(), "{run}: epochs");
        for (a, b) in theirs.iter().zip(&ours) {
            assert!(
                (a - b).abs() <= 1e-12 * a.abs(),
                "{run}: learning rates: PyTorch {theirs:?}, report {ours:?}"
            );
        }
        let _ = writeln!(
            std::io::stderr(),
            "{run}: accuracy {} in both, confusion matrices equal, test loss {a} against {b}",
            report["accuracy"]
        );
        seen.push(run);
    }
    assert_eq!(
        seen,
        [
            "base/main",
            "child/adam",
            "child/sgd",
            "deep/bf16",
            "deep/fp32",
            "knobs/cosine",
            "knobs/multistep",
            "knobs/step",
            "other/main"
        ],
        "every run is checked"
    );
}

/// Loads a grayscale IDX run's `model.py` and predicts the test split: one channel
/// through `preprocess`, the confusion matrix as `metrics.json` has it.
const IDX_CHECK: &str = r#"
import gzip, json, sys
import torch
run, data = sys.argv[1], sys.argv[2]
sys.path.insert(0, run)
import model
# Plain torch: the project's torch wheel does not bring numpy.
def idx(name, offset):
    raw = bytearray(gzip.open(data + "/" + name).read())
    return torch.frombuffer(raw, dtype=torch.uint8)[offset:].clone()
x = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
y = idx("t10k-labels-idx1-ubyte.gz", 8)
net = model.load()
with torch.no_grad():
    pred = net(model.preprocess(x)).argmax(1)
k = len(model.CLASSES)
confusion = [[int(((y == t) & (pred == p)).sum()) for p in range(k)] for t in range(k)]
print(json.dumps({"confusion": confusion, "classes": list(model.CLASSES)}))
"#;

#[test]
fn a_grayscale_idx_run_loads_in_pytorch_and_predicts_what_report_recorded() {
    let Some(python) =
        python_or_skip("a_grayscale_idx_run_loads_in_pytorch_and_predicts_what_report_recorded")
    else {
        return;
    };
    let p = crate::datasets::project("");
    crate::datasets::write_idx(&p.path("data/set"));
    p.ok(&["build"]);
    let run = p.path("out/runs/test/net/main/seed-7");
    let out = Command::new(&python)
        .arg("-c")
        .arg(IDX_CHECK)
        .arg(&run)
        .arg(p.path("data/set"))
        .output()
        .unwrap();
    fixture::assert_success(&out);
    let torch: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let metrics: serde_json::Value =
        serde_json::from_slice(&fs::read(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(torch["confusion"], metrics["confusion"]);
    assert_eq!(torch["classes"], metrics["classes"]);
}
