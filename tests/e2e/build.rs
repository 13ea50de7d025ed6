//! End-to-end: `report build` trains, caches, retrains exactly what changed, and is
//! deterministic on the CPU.

use std::fs;

use crate::fixture::{self, TinyProject, result_of};

fn metrics(p: &TinyProject, run: &str) -> serde_json::Value {
    let path = p.path(&format!("out/runs/test/{run}/seed-7/metrics.json"));
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

/// Loss and accuracy columns only: timings differ between runs by nature.
fn learning_curve(m: &serde_json::Value) -> Vec<[f64; 4]> {
    m["epochs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            ["train_loss", "train_accuracy", "test_loss", "test_accuracy"]
                .map(|k| e[k].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn trains_caches_and_retrains_only_what_changed() {
    let p = TinyProject::new();
    let table = p.ok(&["build", "--device", "cpu"]);
    for run in ["base", "child/sgd", "child/adam", "other"] {
        assert_eq!(result_of(&table, run), "trained", "{table}");
    }
    // The store holds every file a later stage reads.
    let run = p.path("out/runs/test/child/sgd/seed-7");
    for f in [
        "run.json",
        "spec.json",
        "metrics.json",
        "metrics.csv",
        "weights.safetensors",
        "log.txt",
        "snapshots/labels.npy",
        "snapshots/epoch-000.npy",
        "snapshots/epoch-003.npy",
    ] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    assert!(
        !p.path("out/runs/test/child/adam/seed-7/snapshots").exists(),
        "adam did not ask for t-SNE"
    );
    let m = metrics(&p, "child/sgd");
    assert_eq!(m["epochs"].as_array().unwrap().len(), 3);
    assert_eq!(m["confusion"].as_array().unwrap().len(), 10);
    let csv = fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4);
    assert!(csv.starts_with("epoch,train_loss,train_accuracy,test_loss,test_accuracy,"));
    // Colour-coded classes are easy: a working loop learns them in three epochs (chance
    // is 10 %), and the training loss falls.
    let best = ["base/main", "child/sgd", "child/adam", "other/main"]
        .map(|run| learning_curve(&metrics(&p, run)).last().copied().unwrap()[3]);
    assert!(
        best.iter().any(|a| *a >= 0.5),
        "final test accuracies {best:?}"
    );
    let curve = learning_curve(&m);
    assert!(
        curve[2][0] < curve[0][0],
        "training loss did not fall: {curve:?}"
    );

    let weights = p.path("out/runs/test/base/main/seed-7/weights.safetensors");
    let before = fs::metadata(&weights).unwrap().modified().unwrap();
    let table = p.ok(&["build", "--device", "cpu"]);
    for run in ["base", "child/sgd", "child/adam", "other"] {
        assert_eq!(result_of(&table, run), "cached", "{table}");
    }
    assert_eq!(fs::metadata(&weights).unwrap().modified().unwrap(), before);

    // Editing a section retrains it and the sections that extend it, nothing else.
    p.write(
        "experiments/child.toml",
        &fixture::CHILD_TOML.replace("lr = 0.01", "lr = 0.02"),
    );
    let table = p.ok(&["build", "--device", "cpu"]);
    assert_eq!(result_of(&table, "child/adam"), "trained", "{table}");
    for run in ["base", "child/sgd", "other"] {
        assert_eq!(result_of(&table, run), "cached", "{table}");
    }
    p.write(
        "experiments/base.toml",
        &fixture::BASE_TOML.replace("seed = 7", "seed = 8"),
    );
    let table = p.ok(&["build", "--device", "cpu"]);
    for run in ["base", "child/sgd", "child/adam", "other"] {
        assert_eq!(result_of(&table, run), "trained", "{table}");
    }
    // Titles are presentation: changing one retrains nothing.
    p.write(
        "experiments/other.toml",
        &fixture::OTHER_TOML.replace("\"Other\"", "\"Renamed\""),
    );
    let table = p.ok(&["build", "--device", "cpu"]);
    assert_eq!(result_of(&table, "other"), "cached", "{table}");

    let list = p.ok(&["list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("child/sgd") && l.contains("cached")),
        "{list}"
    );
}

/// Memory format and precision change which kernels run, so they are part of the key;
/// both compute the same network, so the first epoch's loss barely moves.
#[test]
fn memory_format_and_precision_retrain_and_learn_alike() {
    let p = TinyProject::new();
    let train_loss = |p: &TinyProject| {
        metrics(p, "other/main")["epochs"][0]["train_loss"]
            .as_f64()
            .unwrap()
    };
    let spec = |p: &TinyProject| -> serde_json::Value {
        serde_json::from_str(
            &fs::read_to_string(p.path("out/runs/test/other/main/seed-7/spec.json")).unwrap(),
        )
        .unwrap()
    };
    p.ok(&["build", "--device", "cpu", "--only", "other"]);
    assert_eq!(spec(&p)["train"]["memory_format"], "channels_last");
    assert_eq!(spec(&p)["train"]["precision"], "fp32");
    let channels_last = train_loss(&p);
    for (setting, key, value, tolerance) in [
        (
            "memory_format = \"contiguous\"",
            "memory_format",
            "contiguous",
            1e-3,
        ),
        ("precision = \"bf16\"", "precision", "bf16", 5e-2),
    ] {
        p.write(
            "experiments/other.toml",
            &format!("{}[training]\n{setting}\n", fixture::OTHER_TOML),
        );
        let table = p.ok(&["build", "--device", "cpu", "--only", "other"]);
        assert_eq!(result_of(&table, "other"), "trained", "{table}");
        assert_eq!(spec(&p)["train"][key], value);
        let loss = train_loss(&p);
        assert!(
            ((loss - channels_last) / channels_last).abs() < tolerance,
            "{setting}: first-epoch loss {loss} vs {channels_last} in channels-last fp32"
        );
    }
}

#[test]
fn deterministic_retrains_and_each_run_records_its_numeric_switches() {
    let p = TinyProject::new();
    let numerics = |p: &TinyProject| -> serde_json::Value {
        let record = fs::read_to_string(p.path("out/runs/test/other/main/seed-7/run.json"));
        serde_json::from_str::<serde_json::Value>(&record.unwrap()).unwrap()["numerics"].clone()
    };
    p.ok(&["build", "--device", "cpu", "--only", "other"]);
    let plain = numerics(&p);
    assert_eq!(plain["deterministic_algorithms"], false, "{plain}");
    assert_eq!(
        plain["cudnn_benchmark"], false,
        "no autotuner off CUDA: {plain}"
    );
    assert_eq!(
        plain["cuda_conv_precision"], "tf32",
        "libtorch's default: {plain}"
    );
    let loss = metrics(&p, "other/main")["epochs"][0]["train_loss"]
        .as_f64()
        .unwrap();

    p.write(
        "experiments/other.toml",
        &format!("{}[training]\ndeterministic = true\n", fixture::OTHER_TOML),
    );
    let table = p.ok(&["build", "--device", "cpu", "--only", "other"]);
    assert_eq!(result_of(&table, "other"), "trained", "a new key: {table}");
    let on = numerics(&p);
    assert_eq!(on["deterministic_algorithms"], true, "{on}");
    assert_eq!(on["cudnn_deterministic"], true, "{on}");
    // The CPU kernels these layers use are deterministic already: the same floats.
    let again = metrics(&p, "other/main")["epochs"][0]["train_loss"]
        .as_f64()
        .unwrap();
    assert!(((again - loss) / loss).abs() < 1e-6, "{again} vs {loss}");
}

#[test]
fn same_seed_same_data_gives_bit_identical_metrics_on_the_cpu() {
    let p = TinyProject::new();
    p.ok(&["build", "--device", "cpu", "--only", "child"]);
    let first = learning_curve(&metrics(&p, "child/sgd"));
    let snap = fs::read(p.path("out/runs/test/child/sgd/seed-7/snapshots/epoch-003.npy")).unwrap();
    let table = p.ok(&["build", "--device", "cpu", "--only", "child", "--force"]);
    assert_eq!(result_of(&table, "child/sgd"), "trained");
    let second = learning_curve(&metrics(&p, "child/sgd"));
    assert_eq!(
        first
            .iter()
            .map(|r| r.map(f64::to_bits))
            .collect::<Vec<_>>(),
        second
            .iter()
            .map(|r| r.map(f64::to_bits))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        snap,
        fs::read(p.path("out/runs/test/child/sgd/seed-7/snapshots/epoch-003.npy")).unwrap()
    );
    // A different seed gives a different curve: the seed is really used.
    p.write(
        "experiments/base.toml",
        &fixture::BASE_TOML.replace("seed = 7", "seed = 8"),
    );
    p.ok(&["build", "--device", "cpu", "--only", "child"]);
    let m = p.path("out/runs/test/child/sgd/seed-8/metrics.json");
    let other: serde_json::Value = serde_json::from_slice(&fs::read(m).unwrap()).unwrap();
    assert_ne!(first, learning_curve(&other));
}

#[test]
fn only_builds_the_named_sections() {
    let p = TinyProject::new();
    let table = p.ok(&["build", "--device", "cpu", "--only", "other"]);
    assert_eq!(result_of(&table, "other"), "trained");
    assert!(!table.contains("child"), "{table}");
    assert!(!p.path("out/runs/test/base").exists());
    let table = p.ok(&["build", "--device", "cpu", "--only", "child/adam"]);
    assert_eq!(result_of(&table, "child/adam"), "trained");
    assert!(!table.contains("child/sgd"), "{table}");
}

#[test]
fn a_diverging_run_is_recorded_and_the_build_goes_on() {
    let p = TinyProject::new();
    p.write(
        "experiments/other.toml",
        &format!(
            "{}\n[training]\noptimizer = {{ type = \"sgd\", lr = 1e38 }}\n",
            fixture::OTHER_TOML
        ),
    );
    let table = p.ok(&["build", "--device", "cpu"]);
    assert_eq!(result_of(&table, "other"), "diverged", "{table}");
    assert_eq!(result_of(&table, "base"), "trained", "{table}");
    let record: serde_json::Value = serde_json::from_slice(
        &fs::read(p.path("out/runs/test/other/main/seed-7/run.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["status"]["state"], "diverged");
    assert!(record["status"]["epoch"].as_i64().unwrap() >= 1);
    let list = p.ok(&["list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("other") && l.contains("diverged in epoch")),
        "{list}"
    );
}

#[test]
fn a_damaged_run_is_detected_and_retrained() {
    let p = TinyProject::new();
    p.ok(&["build", "--device", "cpu", "--only", "base"]);
    let metrics_path = p.path("out/runs/test/base/main/seed-7/metrics.json");
    let text = fs::read(&metrics_path).unwrap();
    fs::write(&metrics_path, &text[..text.len() / 2]).unwrap();
    let out = p.succeeds(&["build", "--device", "cpu", "--only", "base"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: base: retraining") && stderr.contains("metrics.json"),
        "{stderr}"
    );
    assert_eq!(
        result_of(&String::from_utf8_lossy(&out.stdout), "base"),
        "trained"
    );
    assert_eq!(
        metrics(&p, "base/main")["epochs"].as_array().unwrap().len(),
        3
    );

    fs::remove_file(p.path("out/runs/test/base/main/seed-7/weights.safetensors")).unwrap();
    let table = p.ok(&["build", "--device", "cpu", "--only", "base"]);
    assert_eq!(result_of(&table, "base"), "trained");
}

#[test]
fn a_second_build_on_the_same_store_is_refused() {
    let p = TinyProject::new();
    fs::create_dir_all(p.path("out")).unwrap();
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(p.path("out/.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let err = p.fails(&["build", "--device", "cpu"]);
    assert!(err.contains("another build is writing this store"), "{err}");
    assert!(!p.path("out/runs").exists());
}

#[test]
fn jobs_train_runs_in_parallel_processes_into_the_same_store() {
    let p = TinyProject::new();
    let table = p.ok(&["build", "--device", "cpu", "--jobs", "2"]);
    for run in ["base", "child/sgd", "child/adam", "other"] {
        assert_eq!(result_of(&table, run), "trained", "{table}");
    }
    for run in ["base/main", "child/sgd", "child/adam", "other/main"] {
        let record: serde_json::Value = serde_json::from_slice(
            &fs::read(p.path(&format!("out/runs/test/{run}/seed-7/run.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(record["status"]["state"], "complete", "{run}");
        // Two workers share the two cores: one libtorch thread each.
        assert_eq!(record["threads"], 1, "{run}");
        assert_eq!(learning_curve(&metrics(&p, run)).len(), 3);
    }
    assert!(
        p.path("out/runs/test/child/sgd/seed-7/snapshots/epoch-003.npy")
            .is_file()
    );
    assert!(!p.path("out/runs/.staging").exists());
    let table = p.ok(&["build", "--device", "cpu", "--jobs", "2"]);
    assert_eq!(result_of(&table, "child/adam"), "cached", "{table}");
    let out = p.run(&["build", "--jobs", "0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value '0' for '--jobs"));
}
