//! From a release and the command line's options to the list of files to download: the
//! URLs of each, in the order to try them, what it must be, and its `.part` file.

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::checksum::Expected;
use super::common::Release;

/// Sizes and checksums given on the command line instead of the catalogue's.
#[derive(Debug, Clone)]
pub enum Override {
    /// `--sha256`/`--size`: the one file of a single-file release.
    Single(Expected),
    /// `--checksums FILE`: every file of a multi-file release, by name.
    PerFile(Vec<(String, Expected)>),
}

/// One file to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// Its name in the release.
    pub name: &'static str,
    /// Where it is, in the order to try.
    pub urls: Vec<String>,
    /// What it must be.
    pub expected: Expected,
    /// Where its bytes go until the release is in place.
    pub part: PathBuf,
}

/// The files of `release` to download, with `opts`' mirrors and overrides applied. Wrong
/// overrides (the wrong kind for the release, names not of the release) are refused here,
/// before anything is downloaded.
pub fn plan(release: &Release, opts: &Options) -> Result<Vec<Download>> {
    let single = release.files.len() == 1;
    let n = release.files.len();
    match (&opts.expected, single) {
        (Some(Override::Single(_)), false) => bail!(
            "--sha256/--size are for single-file releases; {} has {n} files: pass \
             --checksums FILE",
            release.name
        ),
        (Some(Override::PerFile(_)), true) => bail!(
            "--checksums is for multi-file releases; {} is one file: pass --sha256 and --size",
            release.name
        ),
        (Some(Override::PerFile(table)), false) => {
            for (name, _) in table {
                if !release.files.iter().any(|f| f.name == name) {
                    bail!("--checksums: {name} is not a file of {}", release.name);
                }
            }
        }
        _ => {}
    }
    release
        .files
        .iter()
        .map(|file| {
            let expected = match &opts.expected {
                None => file.expected(),
                Some(Override::Single(e)) => e.clone(),
                Some(Override::PerFile(table)) => {
                    match table.iter().find(|(n, _)| n == file.name) {
                        Some((_, e)) => e.clone(),
                        None => bail!("--checksums: no line for {}", file.name),
                    }
                }
            };
            let urls = if opts.urls.is_empty() {
                release
                    .mirrors
                    .iter()
                    .map(|m| format!("{m}{}", file.name))
                    .collect()
            } else if single {
                opts.urls.clone()
            } else {
                opts.urls.iter().map(|base| join(base, file.name)).collect()
            };
            // The files of MNIST and its look-alikes share names: the release's name keeps
            // a part of one from being resumed by another fetched into the same folder. A
            // single file keeps its bare name, which is unique and what earlier versions
            // resumed.
            let part = if single {
                format!(".{}.part", file.name)
            } else {
                format!(".{}-{}.part", release.name, file.name)
            };
            Ok(Download {
                name: file.name,
                urls,
                expected,
                part: opts.dest.join(part),
            })
        })
        .collect()
}

/// `base` (with a `/` added where it has none) followed by `name`.
fn join(base: &str, name: &str) -> String {
    if base.ends_with('/') {
        format!("{base}{name}")
    } else {
        format!("{base}/{name}")
    }
}

/// How to fetch a release.
#[derive(Debug, Clone)]
pub struct Options {
    /// Mirrors instead of the release's, tried in order: for a single-file release each is
    /// the file's URL, for a multi-file release a base URL the file names are appended to.
    pub urls: Vec<String>,
    /// The folder that receives `<release.folder>/` and, while downloading, the `.part`s.
    pub dest: PathBuf,
    /// Other sizes and checksums instead of the release's.
    pub expected: Option<Override>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::fetch::{CIFAR10, Checksum, MNIST};

    fn opts(urls: &[&str], expected: Option<Override>) -> Options {
        Options {
            urls: urls.iter().map(|u| u.to_string()).collect(),
            dest: PathBuf::from("/d"),
            expected,
        }
    }

    #[test]
    fn the_catalogue_mirrors_are_tried_in_order_for_every_file() {
        let got = plan(&MNIST, &opts(&[], None)).unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(
            got[1].urls,
            [
                "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
                "http://yann.lecun.com/exdb/mnist/train-labels-idx1-ubyte.gz",
            ]
        );
        assert_eq!(got[1].expected, MNIST.files[1].expected());
        assert_eq!(
            got[1].part,
            PathBuf::from("/d/.mnist-train-labels-idx1-ubyte.gz.part")
        );
        let cifar = plan(&CIFAR10, &opts(&[], None)).unwrap();
        assert_eq!(
            cifar[0].urls,
            ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"]
        );
        assert_eq!(
            cifar[0].part,
            PathBuf::from("/d/.cifar-10-binary.tar.gz.part")
        );
    }

    #[test]
    fn url_is_the_file_of_a_single_file_release_and_a_base_otherwise() {
        let cifar = plan(&CIFAR10, &opts(&["http://m/x.tgz", "http://n/y"], None)).unwrap();
        assert_eq!(cifar[0].urls, ["http://m/x.tgz", "http://n/y"]);
        let mnist = plan(&MNIST, &opts(&["http://m/a/", "http://n"], None)).unwrap();
        assert_eq!(
            mnist[3].urls,
            [
                "http://m/a/t10k-labels-idx1-ubyte.gz",
                "http://n/t10k-labels-idx1-ubyte.gz"
            ]
        );
    }

    #[test]
    fn overrides_must_fit_the_kind_of_release_and_its_files() {
        let e = Expected {
            size: None,
            checksum: Checksum::md5("d41d8cd98f00b204e9800998ecf8427e"),
        };
        let err = plan(&MNIST, &opts(&[], Some(Override::Single(e.clone())))).unwrap_err();
        assert!(
            err.to_string()
                .contains("mnist has 4 files: pass --checksums FILE")
        );
        let table = |names: &[&str]| {
            let rows = names.iter().map(|n| (n.to_string(), e.clone())).collect();
            Some(Override::PerFile(rows))
        };
        let err = plan(&CIFAR10, &opts(&[], table(&["cifar-10-binary.tar.gz"]))).unwrap_err();
        assert!(
            err.to_string()
                .contains("cifar10 is one file: pass --sha256"),
            "{err}"
        );
        let names: Vec<&str> = MNIST.files.iter().map(|f| f.name).collect();
        let err = plan(&MNIST, &opts(&[], table(&names[..3]))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--checksums: no line for t10k-labels-idx1-ubyte.gz"
        );
        let mut extra = names.clone();
        extra.push("README");
        let err = plan(&MNIST, &opts(&[], table(&extra))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--checksums: README is not a file of mnist"
        );
        let ok = plan(&MNIST, &opts(&[], table(&names))).unwrap();
        assert!(ok.iter().all(|d| d.expected == e));
    }
}
