//! End-to-end: `report build` draws every figure of every run from the store.

use std::fs;

use crate::fixture::{self, TinyProject};

fn png_size(path: &std::path::Path) -> (u32, u32) {
    image::image_dimensions(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_run_gets_its_figures_and_the_manifest_lists_them() {
    let p = TinyProject::new();
    p.ok(&["build", "--device", "cpu"]);
    let site = p.path("out/site");
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(site.join("figures/figures.json")).unwrap()).unwrap();
    let sections = manifest["sections"].as_array().unwrap();
    let names: Vec<&str> = sections
        .iter()
        .map(|s| s["section"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["base", "child", "other"]);
    let mut files = Vec::new();
    for s in sections {
        files.push(s["architecture"].clone());
        for r in s["runs"].as_array().unwrap() {
            for k in ["accuracy", "loss", "confusion"] {
                files.push(r[k].clone());
            }
        }
    }
    assert_eq!(files.len(), 3 + 4 * 3);
    for f in &files {
        let svg = fs::read_to_string(site.join(f["svg"].as_str().unwrap())).unwrap();
        assert!(
            svg.starts_with("<svg") || svg.starts_with("<?xml"),
            "{}",
            f["svg"]
        );
        assert!(svg.contains(f["title"].as_str().unwrap().split(' ').next().unwrap()));
        let (w, h) = png_size(&site.join(f["png"].as_str().unwrap()));
        assert!(w >= 1200 && h >= 600, "{}: {w}×{h}", f["png"]);
    }
    // child has two variants: an overlay of both.
    assert!(sections[1]["variants"]["png"].is_string());
    // Only child/sgd asked for t-SNE: snapshots at epochs 0 and 3, and a panel.
    let sgd = &sections[1]["runs"][0];
    let tsne = sgd["tsne"].as_array().unwrap();
    assert_eq!(
        tsne.iter()
            .map(|t| t["stats"]["epoch"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [0, 3]
    );
    for t in tsne {
        let stats = &t["stats"];
        assert_eq!(stats["points"], 40);
        assert_eq!(stats["method"], "barnes-hut", "the default for CPU runs");
        for k in ["knn_embedding", "knn_latent"] {
            let v = stats[k].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{k} = {v}");
        }
        assert!(stats["kl_divergence"].as_f64().unwrap().is_finite());
        let csv = fs::read_to_string(site.join(t["figure"]["data"].as_str().unwrap())).unwrap();
        assert_eq!(csv.lines().count(), 41);
        assert!(csv.starts_with("x,y,label,class\n"));
    }
    assert!(sgd["tsne_panel"]["png"].is_string());
    assert!(
        sections[1]["runs"][1]["tsne"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(site.join("figures/overview/test-accuracy.svg").is_file());
}

#[test]
fn a_rebuild_draws_the_same_tsne_and_leaves_files_untouched() {
    let p = TinyProject::new();
    p.ok(&["build", "--device", "cpu", "--only", "child"]);
    let csv = p.path("out/site/figures/child/sgd/tsne-epoch-003.csv");
    let first = fs::read(&csv).unwrap();
    let png = p.path("out/site/figures/child/sgd/accuracy.png");
    let mtime = fs::metadata(&png).unwrap().modified().unwrap();
    // Nothing changed: no figure is rewritten.
    p.ok(&["build", "--device", "cpu", "--only", "child"]);
    assert_eq!(fs::metadata(&png).unwrap().modified().unwrap(), mtime);
    // Without the t-SNE cache and the figures, the same seed embeds to the same coordinates.
    fs::remove_dir_all(p.path("out/cache/tsne")).unwrap();
    fs::remove_dir_all(p.path("out/site/figures")).unwrap();
    p.ok(&["build", "--device", "cpu", "--only", "child"]);
    assert_eq!(fs::read(&csv).unwrap(), first);

    // The exact gradient is analysis only: nothing retrains, the same snapshot embeds
    // to other coordinates, and the figures say which method drew them.
    p.write(
        "experiments/child.toml",
        &fixture::CHILD_TOML.replace(
            "perplexity = 5.0 }",
            "perplexity = 5.0, method = \"exact\" }",
        ),
    );
    let table = p.ok(&["build", "--device", "cpu", "--only", "child"]);
    assert_eq!(fixture::result_of(&table, "child/sgd"), "cached", "{table}");
    assert_ne!(fs::read(&csv).unwrap(), first);
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(p.path("out/site/figures/figures.json")).unwrap())
            .unwrap();
    let child = manifest["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["section"] == "child")
        .unwrap();
    let stats = &child["runs"][0]["tsne"][1]["stats"];
    assert_eq!(stats["method"], "exact", "{stats}");
    assert!(stats["kl_divergence"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_corrupt_snapshot_is_named_and_retrained() {
    let p = TinyProject::new();
    p.ok(&["build", "--device", "cpu", "--only", "child"]);
    let snap = p.path("out/runs/test/child/sgd/seed-7/snapshots/epoch-003.npy");
    fs::write(&snap, b"\x93NUMPY garbage").unwrap();
    let out = p.succeeds(&["build", "--device", "cpu", "--only", "child"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: child/sgd: retraining") && stderr.contains("epoch-003.npy"),
        "{stderr}"
    );
    assert!(fs::read(&snap).unwrap().len() > 100);
}

#[test]
fn only_rebuilds_one_section_and_leaves_the_others_files_untouched() {
    let p = TinyProject::new();
    let out = p.ok(&["build", "--device", "cpu"]);
    assert!(out.trim_end().ends_with("out/site/index.html"), "{out}");
    let modified = |rel: &str| fs::metadata(p.path(rel)).unwrap().modified().unwrap();
    let others = [
        "out/site/figures/base/architecture.svg",
        "out/site/figures/base/accuracy.png",
        "out/site/figures/other/loss.svg",
        "out/site/figures/child/sgd/tsne-panel.png",
        "out/runs/test/base/main/seed-7/weights.safetensors",
    ];
    let before: Vec<_> = others.iter().map(|f| modified(f)).collect();
    let adam = modified("out/site/figures/child/adam/accuracy.png");
    std::thread::sleep(std::time::Duration::from_millis(50));
    p.write(
        "experiments/child.toml",
        &fixture::CHILD_TOML.replace("lr = 0.01", "lr = 0.03"),
    );
    let table = p.ok(&["build", "--device", "cpu", "--only", "child"]);
    assert_eq!(
        fixture::result_of(&table, "child/adam"),
        "trained",
        "{table}"
    );
    assert_eq!(fixture::result_of(&table, "child/sgd"), "cached", "{table}");
    assert_ne!(modified("out/site/figures/child/adam/accuracy.png"), adam);
    let after: Vec<_> = others.iter().map(|f| modified(f)).collect();
    assert_eq!(before, after, "files of other sections were rewritten");
    // The report itself is rewritten with the new numbers.
    let html = fs::read_to_string(p.path("out/site/index.html")).unwrap();
    assert!(html.contains("Child"), "index.html lost the section");
}

/// The t-SNE CSVs of child/sgd, then the same after the figures stage embedded its
/// snapshots again from the store, with no cache.
fn tsne_csvs_and_again(p: &TinyProject) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let read = || {
        ["000", "003"]
            .map(|e| {
                fs::read(p.path(&format!("out/site/figures/child/sgd/tsne-epoch-{e}.csv"))).unwrap()
            })
            .to_vec()
    };
    let first = read();
    // The figures stage found both in the cache: a key other than its own would have
    // left two more entries.
    let cached = fs::read_dir(p.path("out/cache/tsne")).unwrap().count();
    assert_eq!(cached, 2);
    fs::remove_dir_all(p.path("out/cache/tsne")).unwrap();
    fs::remove_dir_all(p.path("out/site/figures")).unwrap();
    p.ok(&["figures", "--only", "child"]);
    (first, read())
}

/// Builds child with one core kept for t-SNE (after `extra`), checks that the build
/// `said` how many snapshots it embedded beside training and that they are the
/// figures stage's own embeddings.
fn build_beside(extra: &[&str], said: &str) -> TinyProject {
    let p = TinyProject::new();
    let args = [
        "build",
        "--device",
        "cpu",
        "--only",
        "child",
        "--tsne-threads",
        "1",
    ];
    let out = p.succeeds(&[&args[..], extra].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(said), "{stderr}");
    let (beside, again) = tsne_csvs_and_again(&p);
    assert_eq!(beside, again);
    p
}

#[test]
fn tsne_beside_training_embeds_the_snapshots_as_the_figures_stage_would() {
    // child/sgd (the one with t-SNE) trains first: its epoch-0 snapshot is embedded on
    // the kept core while it trains, its epoch-3 one while child/adam trains.
    let p = build_beside(
        &[],
        "t-SNE: 2 snapshots embedded beside training (1 thread)",
    );
    // Training had the cores t-SNE left.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let record: serde_json::Value = serde_json::from_slice(
        &fs::read(p.path("out/runs/test/child/adam/seed-7/run.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["threads"], (cores - 1).max(1) as i64);
    // `--jobs` workers embed their own run's snapshots, the same way (how many before
    // the worker ends depends on timing).
    build_beside(&["--jobs", "2"], "embedded beside training (1 thread)");

    // CPU training needs a core of its own.
    let err = p.fails(&[
        "build",
        "--device",
        "cpu",
        "--force",
        "--tsne-threads",
        &cores.to_string(),
    ]);
    assert!(
        err.contains(&format!(
            "--tsne-threads {cores}: this machine has {cores} core"
        )),
        "{err}"
    );
    let err = p.fails(&["build", "--executor", "slurm", "--tsne-threads", "1"]);
    assert!(
        err.contains("--tsne-threads is for --executor local"),
        "{err}"
    );
}
