//! Bad input: one line naming the file and the problem, a non-zero exit, nothing
//! trained or written.

use crate::fixture::{self, BASE_TOML, TinyProject};

/// Writes `text` as `file`, checks that both `check` and `build` fail with an error
/// naming `file` and containing `needle`, and that nothing was trained.
fn rejects(file: &str, text: &str, needle: &str) {
    let p = TinyProject::new();
    p.write(file, text);
    for cmd in [&["check"][..], &["build", "--device", "cpu"][..]] {
        let err = p.fails(cmd);
        assert!(
            err.contains(file.rsplit('/').next().unwrap()),
            "{cmd:?}: {err}"
        );
        assert!(
            err.contains(needle),
            "{cmd:?}: expected {needle:?} in: {err}"
        );
    }
    assert!(!p.path("out/runs").exists(), "a failed build wrote runs");
}

#[test]
fn toml_syntax_error_names_line_and_column() {
    rejects(
        "experiments/base.toml",
        "title = \"x\nlayers = []\n",
        "base.toml:1:",
    );
}

#[test]
fn unknown_key() {
    rejects(
        "experiments/other.toml",
        "extends = \"base\"\n[training]\nepoch = 3\n",
        "other.toml:3:1: unknown field `epoch`",
    );
}

#[test]
fn unknown_memory_format_and_precision() {
    rejects(
        "experiments/other.toml",
        "extends = \"base\"\n[training]\nprecision = \"fp16\"\n",
        "other.toml:3:13: unknown variant `fp16`, expected `fp32` or `bf16`",
    );
    rejects(
        "experiments/other.toml",
        "extends = \"base\"\n[training]\nmemory_format = \"nhwc\"\n",
        "unknown variant `nhwc`",
    );
}

#[test]
fn wrong_type() {
    rejects(
        "experiments/other.toml",
        "extends = \"base\"\n[training]\nbatch_size = \"big\"\n",
        "other.toml:3:14:",
    );
}

#[test]
fn zero_and_negative_sizes() {
    rejects(
        "experiments/other.toml",
        "extends = \"base\"\n[training]\nbatch_size = 0\n",
        "batch_size must be positive, got 0",
    );
    rejects(
        "experiments/base.toml",
        &BASE_TOML.replace("out = 4, kernel = 3", "out = -4, kernel = 3"),
        "layer conv1: out must be positive, got -4",
    );
}

#[test]
fn unknown_layer_and_optimizer() {
    rejects(
        "experiments/base.toml",
        &BASE_TOML.replace("type = \"relu\"", "type = \"swish\""),
        "swish",
    );
    rejects(
        "experiments/base.toml",
        &BASE_TOML.replace("type = \"sgd\"", "type = \"lion\""),
        "lion",
    );
}

#[test]
fn layers_that_do_not_fit() {
    rejects(
        "experiments/base.toml",
        &BASE_TOML.replace("kernel = 4 }", "kernel = 64 }"),
        "layer pool1 (maxpool 64) gets a 4×32×32 input, smaller than its 64×64 window",
    );
    rejects(
        "experiments/base.toml",
        &BASE_TOML.replace("    { type = \"flatten\" },\n", ""),
        "layer fc1 (linear) gets a 4×8×8 image: put a flatten layer before it",
    );
}

#[test]
fn missing_and_cyclic_extends() {
    rejects(
        "experiments/other.toml",
        "extends = \"nope\"\n",
        "extends \"nope\", which is not an experiment",
    );
    let p = TinyProject::new();
    p.write(
        "experiments/base.toml",
        &format!("extends = \"child\"\n{BASE_TOML}"),
    );
    let err = p.fails(&["check"]);
    assert!(
        err.contains("child.toml: extends cycle: base → child → base"),
        "{err}"
    );
}

#[test]
fn section_names_that_would_escape_out() {
    rejects(
        "experiments/Bad Name.toml",
        BASE_TOML,
        "invalid name \"Bad Name\"",
    );
    rejects(
        "experiments/other.toml",
        "extends = \"base\"\n[variants.\"../x\"]\ntitle = \"x\"\n",
        "invalid name \"../x\"",
    );
}

#[test]
fn tsne_epoch_beyond_the_last_epoch() {
    rejects(
        "experiments/other.toml",
        "extends = \"base\"\n[tsne]\nenabled = true\n[profiles.test.tsne]\nepochs = [0, 9]\n",
        "[tsne] epoch 9 is outside 0..=3",
    );
}

#[test]
fn unknown_profile_in_an_experiment() {
    rejects(
        "experiments/other.toml",
        "extends = \"base\"\n[profiles.fast.training]\nepochs = 1\n",
        "profile \"fast\" is not defined",
    );
}

#[test]
fn missing_dataset() {
    let p = TinyProject::new();
    std::fs::remove_dir_all(p.path("data/tiny")).unwrap();
    let err = p.fails(&["build", "--device", "cpu"]);
    assert!(
        err.contains("data/tiny: dataset not found") && err.contains("--data"),
        "{err}"
    );
    let err = p.fails(&["build", "--device", "cpu", "--data", "/nonexistent/cifar"]);
    assert!(
        err.contains("/nonexistent/cifar: dataset not found"),
        "{err}"
    );
    assert!(!p.path("out/runs").exists());
}

#[test]
fn last_layer_must_match_the_class_count() {
    let p = TinyProject::new();
    p.write(
        "experiments/base.toml",
        &BASE_TOML.replace("out = 10 }", "out = 7 }"),
    );
    let err = p.fails(&["build", "--device", "cpu", "--only", "base"]);
    assert!(
        err.contains("base.toml") && err.contains("outputs 7 values but the data has 10 classes"),
        "{err}"
    );
    assert!(!p.path("out/runs/test/base").exists());
}

#[test]
fn unknown_section_in_only() {
    let p = TinyProject::new();
    let err = p.fails(&["build", "--only", "model-42"]);
    assert!(
        err.contains("--only model-42: no such section or variant"),
        "{err}"
    );
}

#[test]
fn epoch_counts_outside_profiles() {
    rejects(
        "experiments/other.toml",
        "extends = \"base\"\n[training]\nepochs = 9\n",
        "epoch counts belong to profiles",
    );
}

#[test]
fn a_truncated_cifar_batch_is_named_with_its_size() {
    let p = TinyProject::new();
    let batch = p.path("data/tiny/data_batch_3.bin");
    let bytes = std::fs::read(&batch).unwrap();
    std::fs::write(&batch, &bytes[..bytes.len() - 100]).unwrap();
    let err = p.fails(&["build", "--device", "cpu"]);
    assert!(
        err.contains("data_batch_3.bin: truncated CIFAR-10 batch: 92090 bytes is not a multiple of 3073 (1 label byte + 3072 pixel bytes per image)"),
        "{err}"
    );
    assert!(!p.path("out/runs").exists());
}

#[test]
fn image_folders_with_bad_members_are_named() {
    let p = TinyProject::new();
    let png = |w: u32, h: u32| {
        let mut bytes = std::io::Cursor::new(Vec::new());
        image::RgbImage::new(w, h)
            .write_to(&mut bytes, image::ImageFormat::Png)
            .unwrap();
        bytes.into_inner()
    };
    let folder = p.path("data/folder");
    for split in ["train", "test"] {
        for class in fixture::CLASSES {
            let dir = folder.join(split).join(class);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("0.png"), png(32, 32)).unwrap();
        }
    }
    let data = folder.to_str().unwrap().to_owned();
    std::fs::write(folder.join("train/cat/1.png"), png(64, 48)).unwrap();
    let err = p.fails(&["build", "--device", "cpu", "--data", &data]);
    assert!(
        err.contains("train/cat/1.png: image is 64×48, but")
            && err.contains("train/airplane/0.png is 32×32"),
        "{err}"
    );
    std::fs::remove_file(folder.join("train/cat/1.png")).unwrap();
    std::fs::write(folder.join("test/dog/notes.txt"), "hello").unwrap();
    let err = p.fails(&["build", "--device", "cpu", "--data", &data]);
    assert!(
        err.contains("test/dog/notes.txt: not a JPEG or PNG image"),
        "{err}"
    );
    std::fs::remove_file(folder.join("test/dog/notes.txt")).unwrap();
    std::fs::remove_file(folder.join("train/frog/0.png")).unwrap();
    let err = p.fails(&["build", "--device", "cpu", "--data", &data]);
    assert!(err.contains("train/frog: empty class folder"), "{err}");
    std::fs::remove_dir(folder.join("train/frog")).unwrap();
    let err = p.fails(&["build", "--device", "cpu", "--data", &data]);
    assert!(
        err.contains("train and test have different classes (only in test: frog)"),
        "{err}"
    );
    assert!(!p.path("out/runs").exists());
}

#[test]
fn an_output_folder_that_cannot_be_written() {
    let p = TinyProject::new();
    // `out` is a file: nothing can be created under it (root ignores permission bits).
    std::fs::write(p.path("out"), "not a folder").unwrap();
    let err = p.fails(&["build", "--device", "cpu"]);
    assert!(err.contains("out"), "{err}");
    assert_eq!(
        std::fs::read_to_string(p.path("out")).unwrap(),
        "not a folder"
    );
}
