//! What can be wrong with a data source, each worded to name the file and the fix.

/// The layouts [`super::load`] recognises, quoted when a source matches none of them.
const LAYOUTS: &str = "a cifar-10-batches-bin folder (data_batch_1.bin … data_batch_5.bin, \
     test_batch.bin, batches.meta.txt), a cifar-100-binary folder (train.bin, test.bin, \
     fine_label_names.txt, coarse_label_names.txt), MNIST-style IDX files \
     (train-images-idx3-ubyte[.gz] and the three others) or train/<class>/<image> and \
     test/<class>/<image> folders, at the top or one folder down";

/// A data source that cannot be decoded. Paths are strings because a file inside an
/// archive is named `archive:member`, which is no filesystem path.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The source, or a file it must contain, does not exist.
    #[error("{0}: no such file or folder")]
    Missing(String),
    /// A file source that is not a (gzipped) tar archive.
    #[error("{0}: not a folder, .tar, .tar.gz or .tgz archive")]
    NotArchive(String),
    /// Neither dataset layout was found.
    #[error("{0}: unrecognised dataset layout; expected {LAYOUTS}")]
    UnknownLayout(String),
    /// Several datasets side by side, so which one is meant is a guess.
    #[error("{path}: holds several datasets ({found}); point at one of them")]
    Ambiguous {
        /// The source.
        path: String,
        /// The candidate folders.
        found: String,
    },
    /// A CIFAR binary folder lacks one of its six batch files.
    #[error(
        "{0}: missing; a CIFAR-10 binary folder needs data_batch_1.bin … data_batch_5.bin, \
         test_batch.bin and batches.meta.txt"
    )]
    MissingBatch(String),
    /// A CIFAR-100 binary folder lacks one of its four files.
    #[error(
        "{0}: missing; a CIFAR-100 binary folder needs train.bin, test.bin, \
         fine_label_names.txt and coarse_label_names.txt"
    )]
    MissingCifar100(String),
    /// `labels = "coarse"` (or `"fine"`) for data that has one label set.
    #[error(
        "{0}: [data] labels = \"coarse\" is for CIFAR-100 (its fine and coarse labels); this data has one set of labels"
    )]
    LabelsNotCifar100(String),
    /// An IDX dataset lacks one of its four files.
    #[error(
        "{0}: missing; an IDX dataset needs train-images-idx3-ubyte, train-labels-idx1-ubyte, \
         t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may be .gz)"
    )]
    MissingIdx(String),
    /// An IDX file that is not one of unsigned bytes with the expected dimensions.
    #[error("{file}: not an IDX file of unsigned bytes: {why}")]
    BadIdx {
        /// The file.
        file: String,
        /// What is wrong.
        why: String,
    },
    /// Files of one dataset that disagree (counts, image sizes, class lists).
    #[error("{0}")]
    Inconsistent(String),
    /// A CIFAR batch file whose size is not a whole number of records.
    #[error(
        "{file}: truncated {release} batch: {size} bytes is not a multiple of {record} \
         ({labels} + 3072 pixel bytes per image)"
    )]
    Truncated {
        /// The batch file.
        file: String,
        /// Its size in bytes.
        size: usize,
        /// CIFAR-10 or CIFAR-100.
        release: &'static str,
        /// Bytes per record.
        record: usize,
        /// The label bytes of a record, in words.
        labels: &'static str,
    },
    /// A CIFAR batch file with no record at all.
    #[error("{0}: empty CIFAR batch, no images")]
    EmptyBatch(String),
    /// A label that indexes past the class list.
    #[error("{file}: image {index} has label {label}, but there are only {classes} classes")]
    BadLabel {
        /// The batch file.
        file: String,
        /// The image's position in the file, from 0.
        index: usize,
        /// The label byte.
        label: u8,
        /// How many classes there are.
        classes: usize,
    },
    /// No class names (an empty `batches.meta.txt`, or a split with no class folders).
    #[error("{0}: no classes")]
    NoClasses(String),
    /// More classes than a `u8` label can index.
    #[error("{path}: {count} classes, at most 256 are supported")]
    TooManyClasses {
        /// Where the classes come from.
        path: String,
        /// How many there are.
        count: usize,
    },
    /// A file in a class folder that is neither JPEG nor PNG.
    #[error("{0}: not a JPEG or PNG image")]
    NotImage(String),
    /// A JPEG or PNG that does not decode.
    #[error("{file}: cannot decode image: {reason}")]
    Undecodable {
        /// The image file.
        file: String,
        /// The decoder's complaint.
        reason: String,
    },
    /// An image of another size than the first one, with no `image_size` to make them
    /// alike.
    #[error(
        "{file}: image is {width}×{height}, but {first} is {first_width}×{first_height}; \
         set [data] image_size in report.toml to resize and centre-crop every image"
    )]
    WrongSize {
        /// The image file.
        file: String,
        /// Its width in pixels.
        width: usize,
        /// Its height in pixels.
        height: usize,
        /// The first image, whose size the others must have.
        first: String,
        /// Its width.
        first_width: usize,
        /// Its height.
        first_height: usize,
    },
    /// A class folder without images.
    #[error("{0}: empty class folder")]
    EmptyClass(String),
    /// A dataset with a train split but no test split, or the reverse.
    #[error("{path}: no {split}/ folder; expected both train/<class>/ and test/<class>/")]
    MissingSplit {
        /// The dataset root.
        path: String,
        /// The missing split.
        split: &'static str,
    },
    /// Train and test disagree on the classes, so labels would mean different things.
    #[error("{path}: train and test have different classes ({difference})")]
    ClassMismatch {
        /// The dataset root.
        path: String,
        /// Which classes are only on one side.
        difference: String,
    },
    /// A file or folder where the layout has no place for one.
    #[error("{path}: unexpected {what}; {expected}")]
    Unexpected {
        /// The entry.
        path: String,
        /// "file" or "folder".
        what: &'static str,
        /// What belongs there instead.
        expected: &'static str,
    },
}
