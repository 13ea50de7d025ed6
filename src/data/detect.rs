//! Works out which layout a source holds and where its root is.
//!
//! Datasets are usually shipped with one wrapping folder (`cifar-10-batches-bin/`,
//! `cifar10-jpeg/`), and users point at either side of it, so the top level is tried
//! first, then each top-level folder.

use anyhow::Result;

use super::cifar_bin::CIFAR100;
use super::error::DataError;
use super::idx::FILES as IDX_FILES;
use super::tree::{Tree, join};

/// Marker files of the CIFAR binary layout: any one of them claims the folder, so that
/// a missing sibling is reported by name instead of as an unknown layout.
const CIFAR_MARKERS: [&str; 3] = ["batches.meta.txt", "data_batch_1.bin", "test_batch.bin"];

/// A recognised layout with its root folder (`""` for the top of the source).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Layout {
    /// The official CIFAR-10 binary batches.
    Cifar10(String),
    /// The official CIFAR-100 binary files.
    Cifar100(String),
    /// The MNIST family's IDX files.
    Idx(String),
    /// `train/<class>/<image>` and `test/<class>/<image>`.
    Folders(String),
}

impl Layout {
    fn root(&self) -> &str {
        match self {
            Layout::Cifar10(r) | Layout::Cifar100(r) | Layout::Idx(r) | Layout::Folders(r) => r,
        }
    }
}

/// The one layout in `tree`.
pub(super) fn layout(tree: &Tree) -> Result<Layout> {
    if let Some(found) = layout_at(tree, "") {
        return Ok(found);
    }
    let found: Vec<Layout> = tree.top_dirs().filter_map(|d| layout_at(tree, d)).collect();
    match found.len() {
        0 => Err(DataError::UnknownLayout(tree.display("")).into()),
        1 => Ok(found.into_iter().next().expect("one layout")),
        _ => {
            let roots: Vec<&str> = found.iter().map(Layout::root).collect();
            Err(DataError::Ambiguous {
                path: tree.display(""),
                found: roots.join(", "),
            }
            .into())
        }
    }
}

fn layout_at(tree: &Tree, dir: &str) -> Option<Layout> {
    let has = |name: &str| tree.is_file(&join(dir, name));
    let idx = IDX_FILES.iter().flat_map(|(i, l)| [*i, *l]);
    if CIFAR_MARKERS.iter().any(|m| has(m)) {
        Some(Layout::Cifar10(dir.to_string()))
    } else if CIFAR100.iter().any(|m| has(m)) {
        Some(Layout::Cifar100(dir.to_string()))
    } else if idx.into_iter().any(|m| has(m) || has(&format!("{m}.gz"))) {
        Some(Layout::Idx(dir.to_string()))
    } else if tree.is_dir(&join(dir, "train")) || tree.is_dir(&join(dir, "test")) {
        Some(Layout::Folders(dir.to_string()))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn tree(files: &[&str]) -> Tree {
        let mut t = Tree::for_archive(Path::new("s.tar"));
        for f in files {
            t.add_file(f.to_string(), Vec::new());
        }
        t
    }

    #[test]
    fn finds_layouts_at_the_top_or_one_folder_down() {
        let cases = [
            (vec!["batches.meta.txt"], Layout::Cifar10("".into())),
            (
                vec!["cifar-10-batches-bin/data_batch_1.bin", "README"],
                Layout::Cifar10("cifar-10-batches-bin".into()),
            ),
            (
                vec!["cifar-100-binary/train.bin"],
                Layout::Cifar100("cifar-100-binary".into()),
            ),
            (
                vec!["mnist/t10k-labels-idx1-ubyte.gz", "mnist/classes.txt"],
                Layout::Idx("mnist".into()),
            ),
            (vec!["train-images-idx3-ubyte"], Layout::Idx("".into())),
            (vec!["train/a/1.png"], Layout::Folders("".into())),
            (
                vec!["cifar10-jpeg/test/a/1.jpg", "notes/x.txt"],
                Layout::Folders("cifar10-jpeg".into()),
            ),
        ];
        for (files, expected) in cases {
            assert_eq!(layout(&tree(&files)).unwrap(), expected, "{files:?}");
        }
    }

    #[test]
    fn unknown_and_ambiguous_layouts_are_explained() {
        let msg = format!("{:#}", layout(&tree(&["a/b/train/c/1.png"])).unwrap_err());
        assert!(
            msg.starts_with("s.tar: unrecognised dataset layout; expected"),
            "{msg}"
        );
        assert!(msg.contains("train/<class>/<image>"), "{msg}");
        let two = tree(&["x/train/a/1.png", "y/batches.meta.txt"]);
        let msg = format!("{:#}", layout(&two).unwrap_err());
        assert!(
            msg.contains("s.tar: holds several datasets (x, y)"),
            "{msg}"
        );
    }
}
