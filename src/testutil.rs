//! Fixtures shared by the unit tests of several modules (test builds only); each
//! module's own `testutil` builds its inputs from these.

/// CIFAR-10's class names, in label order.
pub(crate) const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// The base section of the unit tests' projects, `experiments/base.toml`: one conv
/// layer (`conv1`, 4 channels), ReLU, 4×4 max-pooling, flatten and the 10-way
/// classifier, trained with SGD. No batch norm (a test project's child section adds
/// `bn1`) and no augmentation.
pub(crate) const BASE_TOML: &str = r#"
title = "Base"
layers = [
    { type = "conv", out = 4, kernel = 3, padding = 1 },
    { type = "relu" },
    { type = "maxpool", kernel = 4 },
    { type = "flatten" },
    { type = "linear", out = 10 },
]
[training]
batch_size = 16
seed = 7
optimizer = { type = "sgd", lr = 0.05, momentum = 0.9 }
"#;
