//! A project with a hand-written store, for the render tests: runs with chosen
//! accuracies, no training.

use std::collections::BTreeMap;
use std::fs;

use chrono::{TimeZone, Utc};

use crate::analyze::{Analysis, FigureKind, FigureRef, RunFigures, SectionFigures};
use crate::fsx;
use crate::plan::{RunKey, RunSpec};
use crate::project::Project;
use crate::store::record::{BuildInfo, DataInfo, RECORD_FORMAT, RunRecord};
use crate::store::{EpochMetrics, Metrics, RunStatus};
use crate::testutil::BASE_TOML;

pub(super) const FINGERPRINT: &str =
    "f1f2f3f4f5f6f7f8f9f0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// `base` → `child` (variants sgd, adam; adds bn1) → `grand` (inherits the variants,
/// widens conv1); `results` (a name that collides with a fixed anchor) extends `base`.
pub(super) fn project() -> (tempfile::TempDir, Project) {
    let dir = tempfile::tempdir().unwrap();
    write_data(&dir.path().join("data/none"));
    let exp = dir.path().join("experiments");
    fs::create_dir_all(exp.join("prose")).unwrap();
    let write = |name: &str, text: &str| fs::write(exp.join(name), text).unwrap();
    write(
        "report.toml",
        r#"
title = "T <script>alert(1)</script>"
author = "A"
default_profile = "p"
references = ["R <https://example.org>."]
[prose]
explanations = "prose/e.md"
[profiles.p]
data = "data/none"
epochs = 2
tsne_epochs = [0, 2]
"#,
    );
    write("prose/e.md", "Some *prose* <b>raw</b>.\n");
    write("base.toml", BASE_TOML);
    write(
        "child.toml",
        r#"
extends = "base"
title = "Child"
summary = "Adds **batch norm**."
[[edit]]
after = "conv1"
insert = [{ type = "batchnorm" }]
[variants.sgd]
title = "SGD"
[variants.adam]
title = "Adam"
training = { optimizer = { type = "adam", lr = 0.01 } }
"#,
    );
    write(
        "grand.toml",
        r#"
extends = "child"
title = "Grand"
[[edit]]
layer = "conv1"
set = { out = 8 }
"#,
    );
    write(
        "results.toml",
        r#"
extends = "base"
title = "Results Section"
[augment]
vflip = 0.5
"#,
    );
    let project = Project::open(dir.path()).unwrap();
    (dir, project)
}

/// CIFAR-10's binary layout with one black image per batch: what planning reads of
/// the data (10 classes of 3×32×32 images) when a test renders without build.json.
fn write_data(dir: &std::path::Path) {
    fs::create_dir_all(dir).unwrap();
    let record = [vec![0u8], vec![0u8; 3072]].concat();
    for k in 1..=5 {
        fs::write(dir.join(format!("data_batch_{k}.bin")), &record).unwrap();
    }
    fs::write(dir.join("test_batch.bin"), &record).unwrap();
    fs::write(
        dir.join("batches.meta.txt"),
        crate::testutil::CIFAR10_CLASSES.join("\n"),
    )
    .unwrap();
}

/// The spec of `section/variant` under profile `p`.
pub(super) fn spec(project: &Project, id: &str) -> RunSpec {
    project
        .runs("p", &[], &crate::data::Description::cifar10(FINGERPRINT))
        .unwrap()
        .into_iter()
        .find(|s| s.id.to_string() == id)
        .unwrap_or_else(|| panic!("no run {id}"))
}

/// base 50 %; child/sgd 55 %, child/adam 40 %; grand/sgd 60 %, grand/adam missing;
/// results diverged in epoch 2.
pub(super) fn stored() -> (tempfile::TempDir, Project) {
    let (dir, p) = project();
    store_build_info(&p);
    store_run(
        &p,
        &spec(&p, "base"),
        &[(0.4, 0.45), (0.6, 0.5)],
        RunStatus::Complete,
    );
    store_run(
        &p,
        &spec(&p, "child/sgd"),
        &[(0.5, 0.5), (0.684, 0.55)],
        RunStatus::Complete,
    );
    store_run(
        &p,
        &spec(&p, "child/adam"),
        &[(0.5, 0.42), (0.5, 0.4)],
        RunStatus::Complete,
    );
    store_run(
        &p,
        &spec(&p, "grand/sgd"),
        &[(0.6, 0.6), (0.7, 0.6)],
        RunStatus::Complete,
    );
    store_run(
        &p,
        &spec(&p, "results"),
        &[(0.3, 0.35)],
        RunStatus::Diverged { epoch: 2 },
    );
    (dir, p)
}

/// [`project`] with `base` (and so `results`, which extends it) trained with seeds 7, 8
/// and 9, and a claim of `results` that its change lowers final test accuracy.
pub(super) fn seeded() -> (tempfile::TempDir, Project) {
    let (dir, _) = project();
    let exp = dir.path().join("experiments");
    fs::write(
        exp.join("base.toml"),
        BASE_TOML.replace("seed = 7", "seeds = [7, 8, 9]"),
    )
    .unwrap();
    let results = fs::read_to_string(exp.join("results.toml")).unwrap();
    fs::write(
        exp.join("results.toml"),
        results.replace(
            "title = \"Results Section\"",
            "title = \"Results Section\"\nclaim = \"worse\"",
        ),
    )
    .unwrap();
    let project = Project::open(dir.path()).unwrap();
    (dir, project)
}

/// The spec of `section/variant` with `seed` under profile `p`.
pub(super) fn seed_spec(project: &Project, id: &str, seed: u64) -> RunSpec {
    project
        .runs("p", &[], &crate::data::Description::cifar10(FINGERPRINT))
        .unwrap()
        .into_iter()
        .find(|s| s.id.to_string() == id && s.train.seed == seed)
        .unwrap_or_else(|| panic!("no run {id} seed {seed}"))
}

/// Stores `spec` as trained on [`FINGERPRINT`] data with these (train, test)
/// accuracies per epoch.
pub(super) fn store_run(project: &Project, spec: &RunSpec, accs: &[(f64, f64)], status: RunStatus) {
    store_run_with(project, spec, accs, status, FINGERPRINT);
}

/// [`store_run`] with the key of another data fingerprint.
pub(super) fn store_run_with(
    project: &Project,
    spec: &RunSpec,
    accs: &[(f64, f64)],
    status: RunStatus,
    fingerprint: &str,
) {
    let files = project.store.run("p", &spec.seed_run());
    let metrics = Metrics {
        classes: vec!["a".into(), "b".into()],
        epochs: accs
            .iter()
            .enumerate()
            .map(|(i, (train, test))| EpochMetrics {
                epoch: i as i64 + 1,
                train_loss: 1.0,
                train_accuracy: *train,
                test_loss: 1.5,
                test_accuracy: *test,
                seconds: 2.0,
                images_per_second: 100.0,
                lr: None,
            })
            .collect(),
        confusion: vec![vec![1, 0], vec![0, 1]],
    };
    fsx::write_json(&files.metrics_json(), &metrics).unwrap();
    let started = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let record = RunRecord {
        format: RECORD_FORMAT,
        key: RunKey::of(spec, fingerprint, crate::plan::DeviceKind::Cpu),
        id: spec.id.clone(),
        profile: "p".into(),
        status,
        device: "cpu".into(),
        device_name: "Test CPU".into(),
        numerics: None,
        threads: 2,
        torch_version: None,
        data: DataInfo {
            source: "data/none".into(),
            fingerprint: fingerprint.into(),
            train: 5000,
            test: 1000,
        },
        started,
        finished: started + chrono::Duration::seconds(125),
        snapshots: vec![],
        files: BTreeMap::new(),
    };
    fsx::write_json(&files.record(), &record).unwrap();
}

/// `out/build.json` for profile `p`.
pub(super) fn store_build_info(project: &Project) {
    let t = Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap();
    let info = BuildInfo {
        command: vec![
            "report".into(),
            "build".into(),
            "--data".into(),
            "my data".into(),
        ],
        profile: "p".into(),
        only: vec![],
        crate_version: "0.1.0".into(),
        tch_version: "0.24.0".into(),
        torch_version: "2.11.0".into(),
        git_commit: Some("abc1234".into()),
        data: "data/none".into(),
        data_fingerprint: FINGERPRINT.into(),
        data_description: Some(crate::data::Description::cifar10(FINGERPRINT)),
        device: crate::plan::DeviceKind::Cpu,
        reuse_any_device: false,
        started: t,
        finished: t,
    };
    fsx::write_json(&project.store.build_info(), &info).unwrap();
}

/// A figure reference; its files are written when `present`.
pub(super) fn figure(
    project: &Project,
    id: &str,
    stem: &str,
    kind: FigureKind,
    present: bool,
) -> FigureRef {
    let f = FigureRef {
        id: id.into(),
        kind,
        title: format!("Title of {id}"),
        svg: format!("{stem}.svg"),
        png: format!("{stem}.png"),
        data: None,
    };
    if present {
        let site = project.store.site();
        fsx::write_atomic(
            &site.join(&f.svg),
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        )
        .unwrap();
        fsx::write_atomic(&site.join(&f.png), b"\x89PNG").unwrap();
    }
    f
}

/// A manifest with an overview, base's architecture and accuracy (present) and loss
/// (listed but absent on disk).
pub(super) fn store_figures(project: &Project) {
    let base = spec(project, "base");
    let f = |id: &str, stem: &str, kind, present| figure(project, id, stem, kind, present);
    let analysis = Analysis {
        profile: "p".into(),
        overview: Some(f(
            "overview",
            "figures/overview/test-accuracy",
            FigureKind::OverviewAccuracy,
            true,
        )),
        sections: vec![SectionFigures {
            section: "base".into(),
            digest: "d".into(),
            architecture: f(
                "base-architecture",
                "figures/base/architecture",
                FigureKind::Architecture,
                true,
            ),
            variants: None,
            runs: vec![RunFigures {
                run: base.id.clone(),
                accuracy: f(
                    "base-accuracy",
                    "figures/base/accuracy",
                    FigureKind::Accuracy,
                    true,
                ),
                loss: f("base-loss", "figures/base/loss", FigureKind::Loss, false),
                learning_rate: None,
                confusion: f(
                    "base-confusion",
                    "figures/base/confusion",
                    FigureKind::Confusion,
                    true,
                ),
                tsne: vec![],
                tsne_panel: None,
            }],
        }],
    };
    fsx::write_json(&project.store.figure_manifest(), &analysis).unwrap();
}
