//! End-to-end: each dataset format beyond CIFAR-10 builds a report on tiny generated data
//! (MNIST-style IDX, CIFAR-100 binary, a non-32 px RGB folder, a grayscale folder), the
//! data's shape and classes reach the plan, `check` and the results, and bad data or a
//! model that does not fit it is a one-line error.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::fixture::TinyProject;

/// One experiment whose last layer follows the data's class count.
const NET_TOML: &str = r#"
title = "Net"
layers = [
    { type = "conv", out = 4, kernel = 3, padding = 1 },
    { type = "relu" },
    { type = "maxpool", kernel = 2 },
    { type = "flatten" },
    { type = "linear", out = "classes" },
]

[training]
batch_size = 8
seed = 7
optimizer = { type = "sgd", lr = 0.05, momentum = 0.9 }

[tsne]
enabled = true
perplexity = 2.0
"#;

/// A project of `net.toml` alone on `data/set`, with `data` as its `[data]` table.
pub(crate) fn project(data: &str) -> TinyProject {
    let p = TinyProject::new();
    for f in ["base", "child", "other"] {
        fs::remove_file(p.path(&format!("experiments/{f}.toml"))).unwrap();
    }
    p.write("experiments/net.toml", NET_TOML);
    p.write(
        "experiments/report.toml",
        &format!(
            "title = \"Datasets\"\ndefault_profile = \"test\"\n\n[profiles.test]\n\
             data = \"data/set\"\nepochs = 2\ntsne_epochs = [0, 2]\n\n[data]\n{data}\n"
        ),
    );
    p
}

/// A pseudo-random byte stream, so generated images differ.
fn noise(seed: u64) -> impl FnMut() -> u8 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u8
    }
}

/// An image of `label` (its brightness) with noise, `len` bytes.
fn image_bytes(label: u8, len: usize, rand: &mut impl FnMut() -> u8) -> Vec<u8> {
    (0..len)
        .map(|_| (label as u32 * 80 + (rand() as u32 % 40)).min(255) as u8)
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// `dir` as `report data fetch fashion-mnist` leaves it: four gzipped IDX files and
/// `classes.txt`, 3 classes of 28×28 images.
pub(crate) fn write_idx(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let mut rand = noise(1);
    for (prefix, n) in [("train", 24), ("t10k", 9)] {
        let labels: Vec<u8> = (0..n).map(|i| (i % 3) as u8).collect();
        let mut images = vec![0, 0, 0x08, 3];
        for d in [n as u32, 28, 28] {
            images.extend(d.to_be_bytes());
        }
        for &l in &labels {
            images.extend(image_bytes(l, 28 * 28, &mut rand));
        }
        let mut label_file = vec![0, 0, 0x08, 1];
        label_file.extend((n as u32).to_be_bytes());
        label_file.extend(&labels);
        fs::write(
            dir.join(format!("{prefix}-images-idx3-ubyte.gz")),
            gzip(&images),
        )
        .unwrap();
        fs::write(
            dir.join(format!("{prefix}-labels-idx1-ubyte.gz")),
            gzip(&label_file),
        )
        .unwrap();
    }
    fs::write(dir.join("classes.txt"), "T-shirt/top\nTrouser\nPullover\n").unwrap();
}

/// A CIFAR-100 binary folder: 4 fine classes in 2 coarse ones.
fn write_cifar100(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let mut rand = noise(2);
    for (file, n) in [("train.bin", 24), ("test.bin", 8)] {
        let mut bytes = Vec::new();
        for i in 0..n {
            let fine = (i % 4) as u8;
            bytes.extend([fine / 2, fine]);
            bytes.extend(image_bytes(fine, 3072, &mut rand));
        }
        fs::write(dir.join(file), bytes).unwrap();
    }
    fs::write(dir.join("fine_label_names.txt"), "apple\npear\nbee\nwasp\n").unwrap();
    fs::write(dir.join("coarse_label_names.txt"), "fruit\ninsects\n").unwrap();
}

/// `train/<class>/` and `test/<class>/` of `width`×`height` images, PNG and JPEG.
fn write_folder(dir: &Path, width: u32, height: u32, grey: bool) {
    let mut rand = noise(3);
    for (split, n) in [("train", 8), ("test", 5)] {
        for (label, class) in ["cat", "dog"].iter().enumerate() {
            let d = dir.join(split).join(class);
            fs::create_dir_all(&d).unwrap();
            for i in 0..n {
                let c = if grey { 1 } else { 3 };
                let px = image_bytes(label as u8, (width * height * c) as usize, &mut rand);
                let image: image::DynamicImage = if grey {
                    image::GrayImage::from_raw(width, height, px)
                        .unwrap()
                        .into()
                } else {
                    image::RgbImage::from_raw(width, height, px).unwrap().into()
                };
                let ext = if i % 2 == 0 { "png" } else { "jpg" };
                image.save(d.join(format!("{i:02}.{ext}"))).unwrap();
            }
        }
    }
}

/// The first file under `dir` whose name ends with `suffix`.
fn find_file(dir: &Path, suffix: &str) -> std::path::PathBuf {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                return path;
            }
        }
    }
    panic!("no {suffix} file under {}", dir.display())
}

fn metrics(p: &TinyProject) -> Value {
    let text = fs::read_to_string(p.path("out/runs/test/net/main/seed-7/metrics.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Builds and returns what `check --verbose` printed.
fn check_and_build(p: &TinyProject) -> String {
    let check = p.ok(&["check", "--verbose"]);
    p.ok(&["build"]);
    assert!(p.path("out/site/index.html").is_file());
    check
}

#[test]
fn an_idx_dataset_trains_on_one_channel_28_px_images_with_its_class_names() {
    let p = project("");
    write_idx(&p.path("data/set"));
    let check = check_and_build(&p);
    // conv keeps 28×28, maxpool halves it: 4 × 14 × 14 = 784 latent values; 36 + 784·3 + 3.
    assert!(
        check.contains("4×28×28") && check.contains("4×14×14"),
        "{check}"
    );
    assert!(check.contains("flatten size 784"), "{check}");
    let m = metrics(&p);
    assert_eq!(
        m["classes"],
        serde_json::json!(["T-shirt/top", "Trouser", "Pullover"])
    );
    assert_eq!(m["confusion"].as_array().unwrap().len(), 3);
    // The t-SNE figures label the points with the class names.
    let coords = find_file(&p.path("out/site/figures/net"), ".csv");
    let text = fs::read_to_string(&coords).unwrap();
    assert!(text.contains("T-shirt/top"), "{}", coords.display());
}

#[test]
fn cifar100_trains_on_fine_labels_or_on_coarse_ones_by_setting() {
    let p = project("");
    write_cifar100(&p.path("data/set/cifar-100-binary"));
    check_and_build(&p);
    assert_eq!(
        metrics(&p)["classes"],
        serde_json::json!(["apple", "pear", "bee", "wasp"])
    );

    // Another label set is other data: the run retrains, with two outputs.
    p.write(
        "experiments/report.toml",
        &fs::read_to_string(p.path("experiments/report.toml"))
            .unwrap()
            .replace("[data]\n", "[data]\nlabels = \"coarse\"\n"),
    );
    let check = p.ok(&["check", "--verbose"]);
    assert!(check.contains("linear 2"), "{check}");
    let stdout = p.ok(&["build"]);
    assert!(stdout.contains("trained"), "{stdout}");
    assert_eq!(
        metrics(&p)["classes"],
        serde_json::json!(["fruit", "insects"])
    );
}

#[test]
fn a_folder_of_40_by_30_images_is_resized_and_centre_cropped_to_image_size() {
    let p = project("image_size = 24\nresize = 26");
    write_folder(&p.path("data/set"), 40, 30, false);
    let check = check_and_build(&p);
    assert!(
        check.contains("4×24×24") && check.contains("flatten size 576"),
        "{check}"
    );
    assert_eq!(metrics(&p)["classes"], serde_json::json!(["cat", "dog"]));

    // Without image_size the sizes must agree; one other-sized image is named.
    let q = project("");
    write_folder(&q.path("data/set"), 40, 30, false);
    image::RgbImage::new(41, 30)
        .save(q.path("data/set/test/dog/zz.png"))
        .unwrap();
    let err = q.fails(&["build"]);
    assert!(
        err.contains("test/dog/zz.png: image is 41×30, but"),
        "{err}"
    );
    assert!(err.contains("set [data] image_size"), "{err}");
}

#[test]
fn a_grayscale_folder_keeps_one_channel_and_auto_normalize_has_one_value() {
    let p = project("color = \"grayscale\"");
    write_folder(&p.path("data/set"), 20, 20, true);
    // `normalize` is a top-level key: it comes before the tables.
    p.write(
        "experiments/net.toml",
        &format!("normalize = \"auto\"\n{NET_TOML}"),
    );
    let check = check_and_build(&p);
    assert!(
        check.contains("4×20×20") && check.contains("flatten size 400"),
        "{check}"
    );
    let model = fs::read_to_string(p.path("out/runs/test/net/main/seed-7/model.py")).unwrap();
    let mean = model.lines().find(|l| l.starts_with("MEAN = (")).unwrap();
    assert_eq!(
        mean.matches(',').count(),
        1,
        "one channel, one mean: {mean}"
    );

    // Three means for one channel is the experiment's mistake, named there.
    let three = "normalize = { mean = [0.5, 0.5, 0.5], std = [0.2, 0.2, 0.2] }";
    p.write("experiments/net.toml", &format!("{three}\n{NET_TOML}"));
    let err = p.fails(&["check"]);
    assert!(
        err.contains("net.toml")
            && err.contains("3 means and 3 stds but the data's images have 1 channels"),
        "{err}"
    );
}

#[test]
fn a_last_layer_that_does_not_fit_the_classes_is_named_with_the_fix() {
    let p = project("");
    write_idx(&p.path("data/set"));
    p.write(
        "experiments/net.toml",
        &NET_TOML.replace("out = \"classes\"", "out = 10"),
    );
    let err = p.fails(&["build"]);
    assert!(err.contains("net.toml"), "{err}");
    assert!(
        err.contains("the last layer outputs 10 values but the data has 3 classes"),
        "{err}"
    );
    assert!(err.contains("out = \"classes\""), "{err}");
    let bad = project("image_size = 5000");
    write_idx(&bad.path("data/set"));
    let err = bad.fails(&["check"]);
    assert!(
        err.contains("report.toml") && err.contains("image_size must be between 1 and 1024"),
        "{err}"
    );
}
