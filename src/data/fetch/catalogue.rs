//! The releases `report data fetch` knows, with where every URL, size and digest comes
//! from. None of them can be checked here (only package registries are reachable from
//! the machines that test this), so each is copied from its publisher as stated.

use anyhow::{Context, Result};

use super::checksum::Checksum;
use super::common::{Archive, Content, Release, Remote, Text};

/// The Toronto page that publishes both CIFAR releases:
/// <https://www.cs.toronto.edu/~kriz/cifar.html>.
const TORONTO: &[&str] = &["https://www.cs.toronto.edu/~kriz/"];

/// The CIFAR-10 binary release. The page above prints its MD5,
/// c32a1d4ab5d03f1284b67883e8d87530; the size and the SHA-256 used here were taken from
/// the downloaded archive that matches it.
pub const CIFAR10: Release = Release {
    name: "cifar10",
    title: "CIFAR-10",
    mirrors: TORONTO,
    files: &[Remote {
        name: "cifar-10-binary.tar.gz",
        size: Some(170_052_171),
        checksum: Checksum::sha256(
            "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
        ),
    }],
    folder: "cifar-10-batches-bin",
    content: Content::Archive(Archive {
        required: &[
            "data_batch_1.bin",
            "data_batch_2.bin",
            "data_batch_3.bin",
            "data_batch_4.bin",
            "data_batch_5.bin",
            "test_batch.bin",
            "batches.meta.txt",
        ],
        optional: &["readme.html"],
        // A batch: 10,000 records of 1 label byte and 3,072 pixel bytes.
        max_member: 10_000 * 3_073,
    }),
};

/// The CIFAR-100 binary release; its MD5 is the one printed on the Toronto page above.
/// Its size is not printed there, so the MD5 alone decides.
pub const CIFAR100: Release = Release {
    name: "cifar100",
    title: "CIFAR-100",
    mirrors: TORONTO,
    files: &[Remote {
        name: "cifar-100-binary.tar.gz",
        size: None,
        checksum: Checksum::md5("03b5dce01913d631647c71ecec9e9cb8"),
    }],
    folder: "cifar-100-binary",
    content: Content::Archive(Archive {
        required: &[
            "train.bin",
            "test.bin",
            "fine_label_names.txt",
            "coarse_label_names.txt",
        ],
        optional: &[],
        // train.bin: 50,000 records of a coarse and a fine label byte and 3,072 pixel bytes.
        max_member: 50_000 * 3_074,
    }),
};

/// One of the four IDX files of MNIST and its look-alikes, which share the names.
const fn idx(name: &'static str, size: Option<u64>, md5: &'static str) -> Remote {
    Remote {
        name,
        size,
        checksum: Checksum::md5(md5),
    }
}

/// MNIST. The mirrors, in torchvision's order, the MD5s and the class names are those of
/// torchvision/datasets/mnist.py (`MNIST.mirrors`, `.resources`, `.classes`); the sizes
/// are those printed on <http://yann.lecun.com/exdb/mnist/>.
pub const MNIST: Release = Release {
    name: "mnist",
    title: "MNIST",
    mirrors: &[
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    files: &[
        idx(
            "train-images-idx3-ubyte.gz",
            Some(9_912_422),
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        ),
        idx(
            "train-labels-idx1-ubyte.gz",
            Some(28_881),
            "d53e105ee54ea40749a09fcbcd1e9432",
        ),
        idx(
            "t10k-images-idx3-ubyte.gz",
            Some(1_648_877),
            "9fb629c4189551a2d022fa330f9573f3",
        ),
        idx(
            "t10k-labels-idx1-ubyte.gz",
            Some(4_542),
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    ],
    folder: "mnist",
    content: Content::Files(&[Text {
        name: "classes.txt",
        lines: &[
            "0 - zero",
            "1 - one",
            "2 - two",
            "3 - three",
            "4 - four",
            "5 - five",
            "6 - six",
            "7 - seven",
            "8 - eight",
            "9 - nine",
        ],
    }]),
};

/// Fashion-MNIST. Mirror, MD5s and class names from torchvision/datasets/mnist.py
/// (`FashionMNIST`); torchvision states no sizes, so the MD5s alone decide.
pub const FASHION_MNIST: Release = Release {
    name: "fashion-mnist",
    title: "Fashion-MNIST",
    mirrors: &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    files: &[
        idx(
            "train-images-idx3-ubyte.gz",
            None,
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        ),
        idx(
            "train-labels-idx1-ubyte.gz",
            None,
            "25c81989df183df01b3e8a0aad5dffbe",
        ),
        idx(
            "t10k-images-idx3-ubyte.gz",
            None,
            "bef4ecab320f06d8554ea6380940ec79",
        ),
        idx(
            "t10k-labels-idx1-ubyte.gz",
            None,
            "bb300cfdad3c16e7a12a480ee83cd310",
        ),
    ],
    folder: "fashion-mnist",
    content: Content::Files(&[Text {
        name: "classes.txt",
        lines: &[
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ],
    }]),
};

/// Kuzushiji-MNIST. Mirror, MD5s and class names from torchvision/datasets/mnist.py
/// (`KMNIST`); torchvision states no sizes, so the MD5s alone decide.
pub const KMNIST: Release = Release {
    name: "kmnist",
    title: "KMNIST",
    mirrors: &["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"],
    files: &[
        idx(
            "train-images-idx3-ubyte.gz",
            None,
            "bdb82020997e1d708af4cf47b453dcf7",
        ),
        idx(
            "train-labels-idx1-ubyte.gz",
            None,
            "e144d726b3acfaa3e44228e80efcd344",
        ),
        idx(
            "t10k-images-idx3-ubyte.gz",
            None,
            "5c965bf0a639b31b8f53240b1b52f4d7",
        ),
        idx(
            "t10k-labels-idx1-ubyte.gz",
            None,
            "7320c461ea6c1c855c0b718fb2a4b134",
        ),
    ],
    folder: "kmnist",
    content: Content::Files(&[Text {
        name: "classes.txt",
        lines: &["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
    }]),
};

/// Every release `report data fetch` knows, in the order `--help` lists them.
pub const RELEASES: &[Release] = &[CIFAR10, CIFAR100, MNIST, FASHION_MNIST, KMNIST];

/// The release called `name` on the command line.
pub fn release(name: &str) -> Result<&'static Release> {
    RELEASES.iter().find(|r| r.name == name).with_context(|| {
        let known: Vec<&str> = RELEASES.iter().map(|r| r.name).collect();
        format!("unknown dataset {name:?} (known: {})", known.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::fetch::checksum::Algorithm;

    /// A typo in a copied digest would only show on the user's machine, as a download
    /// refused after it completed; the catalogue is checked here instead.
    #[test]
    fn every_entry_is_well_formed() {
        for r in RELEASES {
            assert_eq!(release(r.name).unwrap().title, r.title);
            assert!(!r.mirrors.is_empty(), "{}", r.name);
            for m in r.mirrors {
                assert!(m.starts_with("http") && m.ends_with('/'), "{m}");
            }
            for f in r.files {
                let again = Checksum::of_kind(f.checksum.algorithm, &f.checksum.hex).unwrap();
                assert_eq!(again, f.checksum, "{}: not lowercase hex", f.name);
                assert_ne!(f.size, Some(0), "{}", f.name);
            }
            match &r.content {
                Content::Archive(a) => {
                    assert_eq!(r.files.len(), 1, "{}: one archive", r.name);
                    assert!(r.files[0].name.ends_with(".tar.gz"));
                    assert!(!a.required.is_empty() && a.max_member > 0);
                }
                Content::Files(texts) => {
                    for t in *texts {
                        assert!(r.files.iter().all(|f| f.name != t.name), "{}", t.name);
                        assert!(t.lines.iter().all(|l| !l.contains('\n')));
                    }
                }
            }
        }
        let mut folders: Vec<&str> = RELEASES.iter().map(|r| r.folder).collect();
        folders.sort();
        folders.dedup();
        assert_eq!(folders.len(), RELEASES.len(), "two releases share a folder");
        let err = release("svhn").unwrap_err().to_string();
        assert!(
            err.contains("known: cifar10, cifar100, mnist, fashion-mnist, kmnist"),
            "{err}"
        );
    }

    #[test]
    fn the_mnist_family_has_ten_classes_and_torchvision_md5s() {
        for r in [&MNIST, &FASHION_MNIST, &KMNIST] {
            let Content::Files([classes]) = r.content else {
                panic!("{}: one text file", r.name)
            };
            assert_eq!((classes.name, classes.lines.len()), ("classes.txt", 10));
            assert_eq!(r.files.len(), 4);
            assert!(
                r.files
                    .iter()
                    .all(|f| f.checksum.algorithm == Algorithm::Md5)
            );
        }
        assert_eq!(MNIST.mirrors.len(), 2, "torchvision's two MNIST mirrors");
        assert_eq!(CIFAR10.files[0].checksum.algorithm, Algorithm::Sha256);
        assert_eq!(CIFAR100.files[0].checksum.algorithm, Algorithm::Md5);
    }
}
