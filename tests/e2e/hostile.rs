//! Input and faults that once crashed the program, blamed the wrong file or wrote
//! what they should not: each gets one clear line, a non-zero exit, and nothing
//! half-written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fixture::{self, BASE_TOML, REPORT_TOML, TinyProject};

/// A tmpfs of `size` mounted on `dir` for as long as it lives; `None` (and a SKIPPED
/// line, or a failure under `REPORT_REQUIRE_TMPFS`) where this process may not mount
/// (not root, or no tmpfs).
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> Option<SmallDisk> {
        fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .is_ok_and(|o| o.status.success());
        let why = format!("cannot mount a tmpfs on {} (needs root)", dir.display());
        fixture::available("REPORT_REQUIRE_TMPFS", "a full disk", (!ok).then_some(why))
            .then(|| SmallDisk(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Every `.tmp-*` file or folder under `dir`.
fn temps(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        if e.file_name().to_string_lossy().starts_with(".tmp-") {
            out.push(path.clone());
        }
        if path.is_dir() {
            out.extend(temps(&path));
        }
    }
    out
}

#[test]
fn a_full_disk_while_the_weights_are_saved_fails_with_one_line() {
    let p = TinyProject::new();
    // A 2 MB hidden layer: everything else of the run fits in 256 KiB, its weights do not.
    p.write(
        "experiments/base.toml",
        &BASE_TOML.replace(
            r#"{ type = "flatten" },"#,
            r#"{ type = "flatten" }, { type = "linear", out = 2048 }, { type = "relu" },"#,
        ),
    );
    let Some(_disk) = SmallDisk::mount(&p.path("out/runs"), "256k") else {
        return;
    };
    for attempt in ["first", "second, disk still full"] {
        let out = p.run(&["build", "--device", "cpu", "--only", "base"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{attempt}: {stderr}");
        let last = stderr.trim().lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ")
                && last.contains("weights.safetensors")
                && last.contains("No space left on device"),
            "{attempt}: {stderr}"
        );
        assert!(!stderr.contains("terminate called"), "{stderr}");
        assert_eq!(
            temps(&p.path("out/runs")),
            Vec::<PathBuf>::new(),
            "{attempt}"
        );
        assert!(!p.path("out/runs/test/base").exists(), "{attempt}");
        assert!(!p.path("out/runs/.staging").exists(), "{attempt}");
    }
}

#[test]
fn equal_trainings_store_equal_weight_bytes() {
    let (a, b) = (TinyProject::new(), TinyProject::new());
    for p in [&a, &b] {
        p.ok(&["build", "--device", "cpu", "--only", "base"]);
    }
    let weights = "out/runs/test/base/main/seed-7/weights.safetensors";
    let (wa, wb) = (
        fs::read(a.path(weights)).unwrap(),
        fs::read(b.path(weights)).unwrap(),
    );
    assert!(
        wa == wb,
        "two identical trainings stored different weight bytes"
    );
    // Nothing of the temporary file or of the machine is inside.
    assert!(!String::from_utf8_lossy(&wa).contains(".tmp-"));
    assert!(!String::from_utf8_lossy(&wa).contains(&*a.root().to_string_lossy()));
    let header = String::from_utf8_lossy(&wa[8..]);
    assert!(header.contains("\"conv1.weight\"") && header.contains("\"bn1.running_mean\""));
}

/// `REPORT_TOML` with `[prose] explanations = "prose/e.md"`.
fn with_prose(p: &TinyProject) {
    p.write(
        "experiments/report.toml",
        &REPORT_TOML.replace(
            "default_profile = \"test\"\n",
            "default_profile = \"test\"\n[prose]\nexplanations = \"prose/e.md\"\n",
        ),
    );
}

/// `check` and `build` both refuse, with one line naming `names`, and the build has
/// trained nothing and recorded no build.
fn refused_before_training(p: &TinyProject, names: &[&str]) {
    for args in [&["check"][..], &["build", "--device", "cpu"][..]] {
        let err = p.fails(args);
        for n in names {
            assert!(err.contains(n), "{args:?}: {err} should name {n}");
        }
    }
    assert!(!p.path("out/runs/test").exists(), "trained before failing");
    assert!(!p.path("out/build.json").exists());
    assert!(!p.path("out/site/index.html").exists());
}

#[test]
fn a_prose_file_that_is_missing_a_folder_or_not_utf8_is_refused_before_training() {
    let p = TinyProject::new();
    with_prose(&p);
    refused_before_training(&p, &["prose/e.md", "explanations"]);
    fs::create_dir_all(p.path("experiments/prose/e.md")).unwrap();
    refused_before_training(&p, &["prose/e.md", "is a folder"]);
    fs::remove_dir(p.path("experiments/prose/e.md")).unwrap();
    fs::write(p.path("experiments/prose/e.md"), b"caf\xe9 latin-1\n").unwrap();
    refused_before_training(&p, &["prose/e.md", "not UTF-8"]);
    fs::write(p.path("experiments/prose/e.md"), "café, UTF-8\n").unwrap();
    p.ok(&["check"]);
}

#[test]
fn a_prose_file_that_would_loop_or_write_without_bound_is_refused_at_once() {
    // Tera's own range took minutes and 15 GB with this; now it is one line, and no
    // training starts.
    let p = TinyProject::new();
    with_prose(&p);
    p.write(
        "experiments/prose/e.md",
        "# Notes\n\n{% for i in range(end=100000000) %}x{% endfor %}\n",
    );
    refused_before_training(
        &p,
        &["prose/e.md:3: range(start=0, end=100000000) makes 100,000,000 values"],
    );
    // Within the range bound, but 9,000 × 200 bytes is more than a prose file may be.
    p.write(
        "experiments/prose/e.md",
        &format!(
            "{{% for i in range(end=9000) %}}{}{{% endfor %}}\n",
            "y".repeat(200)
        ),
    );
    refused_before_training(&p, &["prose/e.md:1: renders to more than 1 MiB"]);
}

#[test]
fn a_broken_user_template_is_refused_before_training() {
    let p = TinyProject::new();
    p.write("templates/report.html", "<h1>{{ title }</h1>\n");
    refused_before_training(&p, &["report.html"]);
    // A template that parses but fails when rendered (an unknown variable) too.
    p.write("templates/report.html", "<h1>{{ no_such_field }}</h1>\n");
    refused_before_training(&p, &["report.html"]);
    fs::remove_file(p.path("templates/report.html")).unwrap();
    // A Typst mistake in the PDF's template: typeset before training, named with the
    // line of the rendered source (kept for reading) and the template it came from.
    p.write("templates/report.typ", "= Title\n\n#let x = (1, 2\nText.\n");
    refused_before_training(&p, &["out/report.typ:3:", "templates/report.typ"]);
    assert!(
        fs::read_to_string(p.path("out/report.typ"))
            .unwrap()
            .contains("#let x = (1, 2")
    );
}

#[test]
fn a_bad_profile_value_is_blamed_on_report_toml_with_its_line() {
    let p = TinyProject::new();
    p.write(
        "experiments/report.toml",
        &REPORT_TOML.replace("epochs = 3", "epochs = 0"),
    );
    let err = p.fails(&["check"]);
    assert!(
        err.contains("experiments/report.toml:8:")
            && err.contains("epochs must be positive, got 0"),
        "{err}"
    );
    assert!(!err.contains("base.toml"), "{err}");
    p.write(
        "experiments/report.toml",
        &REPORT_TOML.replace("tsne_epochs = [0, 3]", "tsne_epochs = [0, 4]"),
    );
    let err = p.fails(&["build", "--device", "cpu"]);
    assert!(
        err.contains("experiments/report.toml:") && err.contains("epoch 4 is outside 0..=3"),
        "{err}"
    );
}

#[test]
fn render_and_figures_are_refused_while_another_writer_holds_the_store() {
    let p = TinyProject::new();
    p.ok(&["build", "--device", "cpu", "--only", "base"]);
    let index = p.path("out/site/index.html");
    let page = fs::read(&index).unwrap();
    fs::remove_dir_all(p.path("out/site/figures")).unwrap();
    let lock = fs::OpenOptions::new()
        .write(true)
        .open(p.path("out/.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    for args in [&["render"][..], &["figures"][..]] {
        let err = p.fails(args);
        assert!(
            err.contains("another build is writing this store"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(fs::read(&index).unwrap(), page);
    assert!(!p.path("out/site/figures").exists());
    drop(lock);
    p.ok(&["render"]);
}

#[test]
fn oversized_files_and_titles_are_refused_naming_the_limit() {
    let p = TinyProject::new();
    let padding = format!("# {}\n", "x".repeat(1 << 20));
    p.write(
        "experiments/other.toml",
        &format!("{padding}extends = \"base\"\n"),
    );
    let err = p.fails(&["check"]);
    assert!(
        err.contains("other.toml") && err.contains("limited to 1 MiB"),
        "{err}"
    );

    let p = TinyProject::new();
    with_prose(&p);
    p.write("experiments/prose/e.md", &padding);
    let err = p.fails(&["check"]);
    assert!(
        err.contains("prose/e.md") && err.contains("limited to 1 MiB"),
        "{err}"
    );

    let p = TinyProject::new();
    let long = "T".repeat(201);
    p.write(
        "experiments/report.toml",
        &REPORT_TOML.replace("title = \"Tiny\"", &format!("title = \"{long}\"")),
    );
    let err = p.fails(&["check"]);
    assert!(
        err.contains("report.toml") && err.contains("titles are limited to 200"),
        "{err}"
    );
    p.write(
        "experiments/report.toml",
        &REPORT_TOML.replace(
            "title = \"Tiny\"",
            &format!("title = \"{}\"", "T".repeat(200)),
        ),
    );
    p.ok(&["check"]);
}

#[test]
fn a_damaged_build_json_is_an_error_naming_it_not_ignored() {
    // Without build.json's data fingerprint, render would trust each run's own record.
    let p = TinyProject::new();
    fs::remove_file(p.path("experiments/child.toml")).unwrap();
    p.ok(&["build", "--device", "cpu"]);
    p.write("out/build.json", "{\"profile\": \"test\", \"trunc");
    for command in [&["render"][..], &["list"], &["figures"]] {
        let err = p.fails(command);
        assert!(
            err.contains("out/build.json") && err.contains("invalid JSON"),
            "{command:?}: {err}"
        );
        assert!(err.contains("run “report build --profile test”"), "{err}");
    }
    // A build writes it anew.
    p.ok(&["build", "--device", "cpu"]);
    p.ok(&["render"]);
}
