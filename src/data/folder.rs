//! Image-folder datasets: `train/<class>/<image>` and `test/<class>/<image>`, JPEG or
//! PNG, as torchvision's `ImageFolder` reads them: converted to RGB unless `[data]`
//! asks for grayscale, then prepared as `[data]` says.
//!
//! Classes are the sorted folder names (for CIFAR-10 that is the official label order)
//! and images are taken in file-name order, so two machines get the same bytes. The
//! layout is strict, because a stray file silently dropped or a mis-sized image silently
//! resized would change the experiment without anyone noticing: without `image_size`,
//! every image must have the first one's size.

use std::collections::BTreeSet;
use std::thread;

use anyhow::Result;
use image::ImageFormat;

use super::dataset::{Decoded, ImageShape, Split};
use super::error::DataError;
use super::jpeg;
use super::transform::{Pixels, Transform};
use super::tree::{Tree, join};
use crate::experiment::dataset::Color;

/// One class folder: its name and its image files in order.
struct Class<'a> {
    name: &'a str,
    images: Vec<&'a str>,
}

/// Classes, shape and splits of the image-folder dataset rooted at `root`, each image
/// prepared by `transform`.
pub(super) fn decode(tree: &Tree, root: &str, transform: &Transform) -> Result<Decoded> {
    let train = list_split(tree, root, "train")?;
    let test = list_split(tree, root, "test")?;
    let (train_names, test_names) = (class_names(&train), class_names(&test));
    if train_names != test_names {
        let side = |label: &str, a: &BTreeSet<&str>, b: &BTreeSet<&str>| {
            let only: Vec<&str> = a.difference(b).copied().collect();
            (!only.is_empty()).then(|| format!("only in {label}: {}", only.join(", ")))
        };
        let difference = [
            side("train", &train_names, &test_names),
            side("test", &test_names, &train_names),
        ];
        let difference: Vec<String> = difference.into_iter().flatten().collect();
        return Err(DataError::ClassMismatch {
            path: tree.display(root),
            difference: difference.join("; "),
        }
        .into());
    }
    if train.len() > 256 {
        let path = tree.display(&join(root, "train"));
        return Err(DataError::TooManyClasses {
            path,
            count: train.len(),
        }
        .into());
    }
    let classes = train.iter().map(|c| c.name.to_string()).collect();
    let transform = transform.or_color(Color::Rgb);
    // The first image sets the shape every other one must come out with.
    let first_file = train[0].images[0];
    let first = prepare(tree, first_file, &transform)?;
    let shape = Target {
        shape: first.shape(),
        file: first_file,
    };
    Ok(Decoded {
        classes,
        shape: shape.shape,
        train: decode_split(tree, &train, &transform, &shape)?,
        test: decode_split(tree, &test, &transform, &shape)?,
    })
}

/// The shape every image must have, and the image that set it.
struct Target<'a> {
    shape: ImageShape,
    file: &'a str,
}

fn class_names<'a>(split: &[Class<'a>]) -> BTreeSet<&'a str> {
    split.iter().map(|c| c.name).collect()
}

/// The class folders of `root/split`, checking that they hold images and nothing else.
fn list_split<'a>(tree: &'a Tree, root: &str, split: &'static str) -> Result<Vec<Class<'a>>> {
    let dir = join(root, split);
    if !tree.is_dir(&dir) {
        let path = tree.display(root);
        return Err(DataError::MissingSplit { path, split }.into());
    }
    let unexpected = |path: &str, what, expected| DataError::Unexpected {
        path: tree.display(path),
        what,
        expected,
    };
    let mut classes = Vec::new();
    for (class_dir, is_dir) in tree.children(&dir) {
        if !is_dir {
            let expected = "a split folder holds only class folders";
            return Err(unexpected(class_dir, "file", expected).into());
        }
        let mut images = Vec::new();
        for (file, is_dir) in tree.children(class_dir) {
            if is_dir {
                let expected = "a class folder holds only images";
                return Err(unexpected(file, "folder", expected).into());
            }
            images.push(file);
        }
        if images.is_empty() {
            return Err(DataError::EmptyClass(tree.display(class_dir)).into());
        }
        let name = &class_dir[dir.len() + 1..];
        classes.push(Class { name, images });
    }
    if classes.is_empty() {
        return Err(DataError::NoClasses(tree.display(&dir)).into());
    }
    Ok(classes)
}

/// Decodes every image of a split, in parallel, into its fixed slot of the output.
fn decode_split(
    tree: &Tree,
    classes: &[Class<'_>],
    transform: &Transform,
    target: &Target<'_>,
) -> Result<Split> {
    let bytes = target.shape.bytes();
    let labels: Vec<u8> = (0u8..=255)
        .zip(classes)
        .flat_map(|(label, c)| std::iter::repeat_n(label, c.images.len()))
        .collect();
    let files: Vec<&str> = classes
        .iter()
        .flat_map(|c| c.images.iter().copied())
        .collect();
    let mut images = vec![0u8; files.len() * bytes];
    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = files.len().div_ceil(threads).max(1);
    thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(per_thread)
            .zip(images.chunks_mut(per_thread * bytes))
            .map(|(files, out)| {
                scope.spawn(move || -> Result<()> {
                    for (file, dst) in files.iter().zip(out.chunks_exact_mut(bytes)) {
                        let image = prepare(tree, file, transform)?;
                        if image.shape() != target.shape {
                            return Err(DataError::WrongSize {
                                file: tree.display(file),
                                width: image.width,
                                height: image.height,
                                first: tree.display(target.file),
                                first_width: target.shape.width,
                                first_height: target.shape.height,
                            }
                            .into());
                        }
                        image.write_chw(dst);
                    }
                    Ok(())
                })
            })
            .collect();
        // Workers own consecutive ranges and stop at their first failure, so taking the
        // first failing worker reports the first bad file in order, run after run.
        workers
            .into_iter()
            .try_for_each(|w| w.join().expect("image decoder panicked"))
    })?;
    Ok(Split { images, labels })
}

/// Decodes one JPEG or PNG and prepares it. JPEGs go through libjpeg-turbo as PIL's
/// do; PNGs are lossless, so any decoder gives PIL's pixels.
fn prepare(tree: &Tree, path: &str, transform: &Transform) -> Result<Pixels> {
    let bytes = tree.read(path)?;
    let file = || tree.display(path);
    let undecodable = |reason: String| DataError::Undecodable {
        file: file(),
        reason: reason.replace('\n', " "),
    };
    let grey = transform.color == Some(Color::Grayscale);
    let image = match image::guess_format(&bytes) {
        Ok(ImageFormat::Jpeg) => jpeg::decode(&bytes, grey).map_err(undecodable)?,
        Ok(ImageFormat::Png) => {
            let image = image::load_from_memory_with_format(&bytes, ImageFormat::Png)
                .map_err(|e| undecodable(e.to_string()))?;
            let (width, height) = (image.width() as usize, image.height() as usize);
            if grey && !image.color().has_color() {
                let data = image.into_luma8().into_raw();
                Pixels {
                    width,
                    height,
                    channels: 1,
                    data,
                }
            } else {
                let data = image.into_rgb8().into_raw();
                Pixels {
                    width,
                    height,
                    channels: 3,
                    data,
                }
            }
        }
        _ => return Err(DataError::NotImage(file()).into()),
    };
    Ok(transform.image(image))
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use super::super::load;
    use super::super::testutil::*;
    use crate::experiment::dataset::DataSettings;

    fn error_of(source: &Path) -> String {
        let cache = tempfile::tempdir().unwrap();
        format!(
            "{:#}",
            load(source, &DataSettings::default(), cache.path()).unwrap_err()
        )
    }

    #[test]
    fn png_pixels_land_in_chw_order_with_sorted_classes_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("set");
        for (split, class, file) in [
            ("train", "b", "2.png"),
            ("train", "b", "1.png"),
            ("train", "a", "x.png"),
            ("test", "a", "y.png"),
            ("test", "b", "z.png"),
        ] {
            fs::create_dir_all(root.join(split).join(class)).unwrap();
            let mut chw = vec![0u8; IMAGE_BYTES];
            chw[0] = file.as_bytes()[0];
            fs::write(root.join(split).join(class).join(file), png(&chw)).unwrap();
        }
        // Pixel (row 1, column 2) is R=10, G=20, B=30: CHW puts them 1024 bytes apart.
        let mut img = image::RgbImage::new(32, 32);
        img.put_pixel(2, 1, image::Rgb([10, 20, 30]));
        img.save(root.join("train/a/x.png")).unwrap();

        let cache = tempfile::tempdir().unwrap();
        let got = load(dir.path(), &DataSettings::default(), cache.path()).unwrap();
        assert_eq!(got.classes, ["a", "b"]);
        assert_eq!(got.train.labels, [0, 1, 1]);
        assert_eq!(got.test.labels, [0, 1]);
        let x = got.train.image(0, CIFAR);
        let at = 32 + 2;
        assert_eq!((x[at], x[1024 + at], x[2048 + at]), (10, 20, 30));
        assert_eq!(x.iter().map(|&v| v as u32).sum::<u32>(), 60);
        let firsts: Vec<u8> = (0..3).map(|i| got.train.image(i, CIFAR)[0]).collect();
        assert_eq!(firsts, [0, b'1', b'2']);
    }

    #[test]
    fn grey_and_rgba_become_rgb_and_jpeg_decodes() {
        let dir = tempfile::tempdir().unwrap();
        for split in ["train", "test"] {
            fs::create_dir_all(dir.path().join(split).join("c")).unwrap();
        }
        image::GrayImage::from_pixel(32, 32, image::Luma([77]))
            .save(dir.path().join("train/c/grey.png"))
            .unwrap();
        image::RgbaImage::from_pixel(32, 32, image::Rgba([1, 2, 3, 0]))
            .save(dir.path().join("train/c/rgba.png"))
            .unwrap();
        image::RgbImage::from_pixel(32, 32, image::Rgb([200, 100, 50]))
            .save(dir.path().join("test/c/photo.jpg"))
            .unwrap();
        let cache = tempfile::tempdir().unwrap();
        let got = load(dir.path(), &DataSettings::default(), cache.path()).unwrap();
        assert!(got.train.image(0, CIFAR).iter().all(|&v| v == 77));
        let rgba = got.train.image(1, CIFAR);
        assert_eq!((rgba[0], rgba[1024], rgba[2048], rgba[3071]), (1, 2, 3, 3));
        let jpeg = got.test.image(0, CIFAR);
        let near = |v: u8, want: u8| v.abs_diff(want) <= 3;
        assert!(near(jpeg[500], 200) && near(jpeg[1524], 100) && near(jpeg[2548], 50));
    }

    #[test]
    fn each_broken_layout_is_named() {
        type Breakage = fn(&Path);
        let cases: [(Breakage, &str); 8] = [
            (
                |r| fs::write(r.join("train/cat/notes.txt"), "hello").unwrap(),
                "train/cat/notes.txt: not a JPEG or PNG image",
            ),
            (
                |r| {
                    image::RgbImage::new(64, 48)
                        .save(r.join("test/dog/big.png"))
                        .unwrap();
                },
                "test/dog/big.png: image is 64×48, but",
            ),
            (
                |r| fs::write(r.join("train/cat/0.png"), &png(&[0; 3072])[..40]).unwrap(),
                "train/cat/0.png: cannot decode image:",
            ),
            (
                |r| fs::create_dir(r.join("train/zebra")).unwrap(),
                "train/zebra: empty class folder",
            ),
            (
                |r| {
                    fs::rename(r.join("test/cat"), r.join("test/lion")).unwrap();
                    fs::create_dir(r.join("test/owl")).unwrap();
                    fs::copy(r.join("test/lion/0000.png"), r.join("test/owl/1.png")).unwrap();
                },
                "train and test have different classes (only in train: cat; only in test: lion, owl)",
            ),
            (
                |r| fs::remove_dir_all(r.join("test")).unwrap(),
                "no test/ folder; expected both train/<class>/ and test/<class>/",
            ),
            (
                |r| fs::write(r.join("train/labels.csv"), "x").unwrap(),
                "train/labels.csv: unexpected file; a split folder holds only class folders",
            ),
            (
                |r| fs::create_dir(r.join("test/dog/more")).unwrap(),
                "test/dog/more: unexpected folder; a class folder holds only images",
            ),
        ];
        for (break_it, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            write_png_tree(dir.path(), &sample());
            break_it(dir.path());
            let msg = error_of(dir.path());
            assert!(msg.contains(expected), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
    }

    #[test]
    fn errors_inside_archives_name_the_member() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        write_png_tree(&root.join("cifar"), &sample());
        fs::write(root.join("cifar/test/dog/readme.md"), "#").unwrap();
        let tgz = dir.path().join("set.tar.gz");
        fs::write(&tgz, gzip(&tar_of(&root))).unwrap();
        let msg = error_of(&tgz);
        let expected = format!("{}:cifar/test/dog/readme.md: not a JPEG", tgz.display());
        assert!(msg.contains(&expected), "{msg}");
    }
}
