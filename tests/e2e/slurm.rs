//! `--executor slurm` against a real Slurm: the single-node cluster `scripts/slurm-up`
//! starts (CI runs it). Without a cluster these tests say so and pass, unless
//! `REPORT_REQUIRE_SLURM` (set by `.ci/run`) makes a missing cluster a failure.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use crate::fixture::{self, TinyProject, result_of};

/// Whether a cluster answers; panics when one is required and none does.
fn slurm_up(test: &str) -> bool {
    let up = Command::new("scontrol")
        .arg("ping")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("is UP"));
    fixture::available(
        "REPORT_REQUIRE_SLURM",
        test,
        (!up).then(|| {
            "no Slurm cluster answers `scontrol ping` (scripts/slurm-up starts one)".into()
        }),
    )
}

/// The tiny project with `[executor.slurm]` settings and `epochs` epochs.
fn slurm_project(epochs: u32, slurm: &str) -> TinyProject {
    let p = TinyProject::new();
    p.write(
        "experiments/report.toml",
        &format!(
            "{}\n[executor.slurm]\n{slurm}\n",
            fixture::REPORT_TOML.replace("epochs = 3", &format!("epochs = {epochs}"))
        ),
    );
    p
}

/// The batch script that `build ARGS --executor slurm --dry-run` prints.
fn dry_run(p: &TinyProject, args: &[&str]) -> String {
    p.ok(&[&["build"], args, &["--executor", "slurm", "--dry-run"]].concat())
}

/// A build started in the background, its stderr lines arriving on a channel.
struct Background {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Background {
    fn start(p: &TinyProject, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_report"))
            .arg("--root")
            .arg(p.root())
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Background {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The array's job id, once the build says it submitted it.
    fn job_id(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(300);
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                self.seen.push(line.clone());
                if let Some(rest) = line.strip_prefix("slurm: submitted array job ") {
                    return rest.split(':').next().unwrap().to_owned();
                }
            }
        }
        panic!(
            "the build never said it submitted:\n{}",
            self.seen.join("\n")
        );
    }

    /// Waits for the build to end: its exit code and everything it printed.
    fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        self.seen.extend(self.lines.iter());
        (status.code(), self.seen.join("\n"))
    }
}

/// `squeue`'s lines for `job`: `task state`, one per task still queued.
fn queued(job: &str) -> Vec<String> {
    let out = Command::new("squeue")
        .args(["-h", "-r", "-j", job, "-o", "%K %T"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Polls `what` every 100 ms for up to five minutes.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// A run's metrics without the fields that measure time.
fn results(p: &TinyProject, run: &str) -> serde_json::Value {
    let mut m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(p.path(&format!("out/runs/test/{run}/seed-7/metrics.json"))).unwrap(),
    )
    .unwrap();
    for epoch in m["epochs"].as_array_mut().unwrap() {
        let epoch = epoch.as_object_mut().unwrap();
        epoch.remove("seconds");
        epoch.remove("images_per_second");
    }
    m
}

const RUNS: [&str; 4] = ["base/main", "child/sgd", "child/adam", "other/main"];

#[test]
fn a_slurm_build_gives_the_local_build_s_results_bit_for_bit() {
    if !slurm_up("a_slurm_build_gives_the_local_build_s_results_bit_for_bit") {
        return;
    }
    // One libtorch thread each way: a Slurm task gets one CPU; the local build runs as
    // many workers as there are cores, which leaves each one thread.
    let cores = std::thread::available_parallelism().unwrap().get();
    let local = TinyProject::new();
    local.ok(&["build", "--device", "cpu", "--jobs", &cores.to_string()]);
    let slurm = slurm_project(3, "cpus_per_task = 1\nmax_tasks = 2");

    let script = dry_run(&slurm, &["--device", "cpu"]);
    assert!(script.starts_with("#!/bin/bash\n"), "{script}");
    assert!(script.contains("#SBATCH --array=0-3%2\n"), "{script}");
    assert!(script.contains("--threads 1"), "{script}");
    assert!(
        !slurm.path("out/runs").exists(),
        "a dry run trained something"
    );

    let table = slurm.ok(&["build", "--device", "cpu", "--executor", "slurm"]);
    for run in ["base", "child/sgd", "child/adam", "other"] {
        assert_eq!(result_of(&table, run), "trained", "{table}");
    }
    for run in RUNS {
        assert_eq!(results(&slurm, run), results(&local, run), "{run}");
        let weights = |p: &TinyProject| {
            std::fs::read(p.path(&format!("out/runs/test/{run}/seed-7/weights.safetensors")))
                .unwrap()
        };
        assert!(weights(&slurm) == weights(&local), "{run}: weights differ");
        let record: serde_json::Value = serde_json::from_slice(
            &std::fs::read(slurm.path(&format!("out/runs/test/{run}/seed-7/run.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(record["threads"], 1, "{run}");
    }
    assert!(slurm.path("out/site/index.html").is_file());
    assert!(!slurm.path("out/runs/.staging").exists());
    let logs = std::fs::read_dir(slurm.path("out/slurm"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "log")
        })
        .count();
    assert_eq!(logs, 4, "one log per task");

    // Nothing is missing now: nothing to submit, and a rebuild submits nothing.
    let out = slurm.run(&[
        "build",
        "--device",
        "cpu",
        "--executor",
        "slurm",
        "--dry-run",
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to submit"));
    let out = slurm.run(&["build", "--device", "cpu", "--executor", "slurm"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("submitted"));

    // `report verify` retrains as one array job too, into its scratch store, and the
    // tasks' one thread each gives back every run bit for bit.
    let before = std::fs::read(slurm.path("out/runs/test/base/main/seed-7/run.json")).unwrap();
    let out = slurm.ok(&["verify", "--all", "--device", "cpu", "--executor", "slurm"]);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(slurm.path("out/verify.json")).unwrap()).unwrap();
    let outcomes: Vec<&str> = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["identical"; 4], "{out}");
    assert!(slurm.path("out/.verify/slurm/array.sh").is_file());
    assert_eq!(
        std::fs::read(slurm.path("out/runs/test/base/main/seed-7/run.json")).unwrap(),
        before
    );
}

#[test]
fn a_cancelled_task_fails_the_build_naming_its_run_and_only_it_is_retrained() {
    if !slurm_up("a_cancelled_task_fails_the_build_naming_its_run_and_only_it_is_retrained") {
        return;
    }
    // Enough images that a run trains for a few seconds; one task at a time.
    let p = slurm_project(4, "max_tasks = 1");
    fixture::write_cifar_bin(&p.path("data/tiny"), 300, 10);
    let mut build = Background::start(&p, &["build", "--device", "cpu", "--executor", "slurm"]);
    let job = build.job_id();
    let task = eventually("a running task", || {
        queued(&job)
            .iter()
            .find(|l| l.ends_with(" RUNNING"))
            .map(|l| l.split(' ').next().unwrap().to_owned())
    });
    // The script names each task's run: `  2) # child/adam`.
    let script = std::fs::read_to_string(p.path("out/slurm/array.sh")).unwrap();
    let label = script
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{task}) # ")))
        .unwrap()
        .to_owned();
    let (section, variant) = label.split_once('/').unwrap_or((&label, "main"));
    let staging = p.path(&format!(
        "out/runs/.staging/test--{section}--{variant}--seed-7"
    ));
    eventually("the task to start training", || {
        staging.exists().then_some(())
    });
    let status = Command::new("scancel")
        .arg(format!("{job}_{task}"))
        .status()
        .unwrap();
    assert!(status.success());

    let (code, stderr) = build.finish();
    assert_eq!(code, Some(1), "{stderr}");
    let error = stderr
        .lines()
        .position(|l| l.starts_with("error: 1 of 4 runs did not finish on Slurm"))
        .unwrap_or_else(|| panic!("no failure summary in:\n{stderr}"));
    let named = stderr.lines().nth(error + 1).unwrap();
    assert!(
        named.starts_with(&format!("  {label}: CANCELLED (task {job}_{task})")),
        "{named}\n{stderr}"
    );
    assert!(stderr.contains("CANCELLED AT"), "no log tail in:\n{stderr}");
    let cancelled = if label.contains('/') {
        label.clone()
    } else {
        format!("{label}/main")
    };
    for run in RUNS.iter().filter(|r| **r != cancelled) {
        assert!(
            p.path(&format!("out/runs/test/{run}/seed-7/run.json"))
                .is_file(),
            "{run} was lost"
        );
    }

    let table = p.ok(&["build", "--device", "cpu", "--executor", "slurm"]);
    for run in ["base", "child/sgd", "child/adam", "other"] {
        let expected = if run == label { "trained" } else { "cached" };
        assert_eq!(result_of(&table, run), expected, "{run}:\n{table}");
    }
}

#[test]
fn a_running_slurm_build_holds_the_store_and_ctrl_c_cancels_its_array() {
    if !slurm_up("a_running_slurm_build_holds_the_store_and_ctrl_c_cancels_its_array") {
        return;
    }
    let p = slurm_project(4, "max_tasks = 1");
    fixture::write_cifar_bin(&p.path("data/tiny"), 300, 10);
    let mut build = Background::start(&p, &["build", "--device", "cpu", "--executor", "slurm"]);
    let job = build.job_id();
    assert!(!queued(&job).is_empty(), "the array is not in the queue");

    for executor in ["slurm", "local"] {
        let err = p.fails(&["build", "--device", "cpu", "--executor", executor]);
        assert!(err.contains("another build is writing this store"), "{err}");
    }

    let status = Command::new("kill")
        .args(["-INT", &build.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (code, stderr) = build.finish();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!("slurm: cancelled array job {job}")),
        "{stderr}"
    );
    assert_eq!(queued(&job), Vec::<String>::new(), "tasks left in squeue");
}

#[test]
fn bad_slurm_settings_and_misused_flags_are_one_line_errors() {
    let p = slurm_project(3, "time = \"2 hours\"");
    let err = p.fails(&["check"]);
    assert!(
        err.contains("report.toml") && err.contains("not a Slurm time limit"),
        "{err}"
    );
    let p = slurm_project(3, "max_tasks = 2");
    let err = p.fails(&["build", "--device", "cpu", "--dry-run"]);
    assert!(err.contains("add --executor slurm"), "{err}");
    let err = p.fails(&[
        "build",
        "--device",
        "cpu",
        "--executor",
        "slurm",
        "--jobs",
        "2",
    ]);
    assert!(err.contains("--jobs is for --executor local"), "{err}");
}

#[test]
fn slurm_device_auto_is_resolved_by_each_task_on_its_node() {
    // The submitting machine's own devices must not decide: the script hands `auto`
    // on, and asks for no GPU that `[executor.slurm]` does not name.
    let p = slurm_project(3, "cpus_per_task = 1");
    let script = dry_run(&p, &["--only", "base"]);
    assert!(script.contains("--device auto"), "{script}");
    assert!(
        !script.contains("--gres") && !script.contains("--gpus"),
        "{script}"
    );
    let p = slurm_project(3, "cpus_per_task = 1\ngpus_per_task = 2");
    let script = dry_run(&p, &["--only", "base"]);
    assert!(script.contains("--device auto"), "{script}");
    assert!(script.contains("#SBATCH --gres=gpu:2\n"), "{script}");
    if !slurm_up("slurm_device_auto_is_resolved_by_each_task_on_its_node") {
        return;
    }
    let p = slurm_project(3, "cpus_per_task = 1");
    let table = p.ok(&["build", "--only", "base", "--executor", "slurm"]);
    assert_eq!(result_of(&table, "base"), "trained", "{table}");
    // This cluster's node has no GPU: the task found the CPU and recorded it.
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(p.path("out/runs/test/base/main/seed-7/run.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["device"], "cpu", "{record}");
}
