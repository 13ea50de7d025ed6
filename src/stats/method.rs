//! How intervals and tests are computed: Student t (the default), or a bootstrap with a
//! fixed generator seed, and the floor under a spread that the data cannot resolve.

use serde::{Deserialize, Serialize};

/// The confidence level of every interval of a mean or a difference.
pub const CONFIDENCE: f64 = 0.95;

/// The resamples of a bootstrap unless `[statistics] resamples` says otherwise.
pub const DEFAULT_RESAMPLES: usize = 10_000;

/// How intervals of means and differences, and the tests read from them, are made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntervalKind {
    /// Student t: the mean ± t·SE (Welch's or the paired t for differences).
    #[default]
    T,
    /// The bootstrap of [`BootstrapKind`].
    Bootstrap,
}

/// Which bootstrap interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BootstrapKind {
    /// The percentiles of the resampled statistic.
    Percentile,
    /// Bias-corrected and accelerated (Efron 1987), as `scipy.stats.bootstrap`'s
    /// default.
    #[default]
    Bca,
}

/// The method with its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Method {
    /// t or bootstrap.
    pub interval: IntervalKind,
    /// Which bootstrap, when `interval` is one.
    pub bootstrap: BootstrapKind,
    /// Resamples of a bootstrap.
    pub resamples: usize,
    /// The generator's seed: the same data give the same interval, byte for byte.
    pub seed: u64,
}

impl Default for Method {
    fn default() -> Self {
        Method {
            interval: IntervalKind::T,
            bootstrap: BootstrapKind::Bca,
            resamples: DEFAULT_RESAMPLES,
            seed: 0,
        }
    }
}

/// What a statistic over seeds needs besides the values.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Options {
    /// How intervals and tests are made.
    pub method: Method,
    /// The smallest spread the values can show: a standard deviation below it (two
    /// seeds that scored the same on 1,000 test images) is taken as this, since the
    /// measurement cannot resolve less. 0 turns it off.
    pub floor: f64,
}

impl Options {
    /// Student t with a floor of `floor`.
    pub fn t(floor: f64) -> Options {
        Options {
            method: Method::default(),
            floor,
        }
    }
}
