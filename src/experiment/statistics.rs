//! `[statistics]` in `report.toml`: the margin that sameness and non-inferiority claims
//! are judged against, and how intervals are made. Values are checked as the file is
//! read, so a negative margin is blamed on its line.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::stats::{BootstrapKind, DEFAULT_RESAMPLES, IntervalKind, Method};

/// The margin of accuracy claims unless `[statistics] margin_pp` says otherwise.
pub const DEFAULT_MARGIN_PP: f64 = 1.0;

/// `[statistics]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatisticsSettings {
    /// The margin, in percentage points, within which two accuracies count as the same
    /// (`same`) or one as no worse than the other (`not_worse`, `not_better`).
    #[serde(default = "default_margin", deserialize_with = "positive")]
    pub margin_pp: f64,
    /// The same for losses, in the loss's own units; a loss claim of sameness needs it
    /// here or in the claim, since no default fits every loss.
    #[serde(default, deserialize_with = "positive_option")]
    pub loss_margin: Option<f64>,
    /// `"t"` (Student t, the default) or `"bootstrap"`.
    #[serde(default)]
    pub interval: IntervalKind,
    /// With `interval = "bootstrap"`: `"bca"` (the default) or `"percentile"`.
    #[serde(default)]
    pub bootstrap: BootstrapKind,
    /// Resamples of the bootstrap (10,000 unless set; at least 1,000).
    #[serde(default = "default_resamples", deserialize_with = "resamples")]
    pub resamples: usize,
    /// The bootstrap generator's seed, so that two renders give the same bytes.
    #[serde(default)]
    pub seed: u64,
}

impl Default for StatisticsSettings {
    fn default() -> Self {
        StatisticsSettings {
            margin_pp: DEFAULT_MARGIN_PP,
            loss_margin: None,
            interval: IntervalKind::default(),
            bootstrap: BootstrapKind::default(),
            resamples: DEFAULT_RESAMPLES,
            seed: 0,
        }
    }
}

impl StatisticsSettings {
    /// The method these settings choose.
    pub fn method(&self) -> Method {
        Method {
            interval: self.interval,
            bootstrap: self.bootstrap,
            resamples: self.resamples,
            seed: self.seed,
        }
    }
}

fn default_margin() -> f64 {
    DEFAULT_MARGIN_PP
}

fn default_resamples() -> usize {
    DEFAULT_RESAMPLES
}

/// A margin: a positive, finite number.
pub fn positive<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if !(v.is_finite() && v > 0.0) {
        return Err(D::Error::custom(format!(
            "a margin must be a positive number, got {v}"
        )));
    }
    Ok(v)
}

/// An optional margin.
/// `[verify]`: how far a retrained run may land from its record where it cannot be
/// equal bit for bit. Without `tolerance_pp`, a run's final test accuracy must fall in
/// the 95 % prediction interval of its stored seeds (the claims' `margin_pp` for a run
/// of one seed).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySettings {
    /// Every epoch's train and test accuracy within this many percentage points.
    #[serde(default, deserialize_with = "positive_option")]
    pub tolerance_pp: Option<f64>,
    /// With `tolerance_pp`: every epoch's train and test loss within this much.
    #[serde(default, deserialize_with = "positive_option")]
    pub tolerance_loss: Option<f64>,
}

/// A positive number that may be absent.
pub fn positive_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    positive(d).map(Some)
}

fn resamples<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let n = usize::deserialize(d)?;
    if !(1_000..=1_000_000).contains(&n) {
        return Err(D::Error::custom(format!(
            "resamples must be between 1000 and 1000000, got {n}"
        )));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        #[serde(default)]
        statistics: StatisticsSettings,
    }

    #[test]
    fn statistics_default_to_a_1_pp_margin_and_t_intervals() {
        let doc: Doc = toml::from_str("").unwrap();
        assert_eq!(doc.statistics, StatisticsSettings::default());
        assert_eq!(doc.statistics.method(), Method::default());
        let doc: Doc = toml::from_str(
            "[statistics]\nmargin_pp = 0.5\ninterval = \"bootstrap\"\nbootstrap = \"percentile\"\nresamples = 2000\nseed = 3\n",
        )
        .unwrap();
        let s = doc.statistics;
        assert_eq!(
            (s.margin_pp, s.interval, s.bootstrap, s.resamples, s.seed),
            (
                0.5,
                IntervalKind::Bootstrap,
                BootstrapKind::Percentile,
                2000,
                3
            )
        );
    }

    #[test]
    fn bad_statistics_are_refused_with_the_reason() {
        for (text, why) in [
            ("margin_pp = 0", "positive number"),
            ("margin_pp = -1", "positive number"),
            ("loss_margin = -0.1", "positive number"),
            ("interval = \"wilson\"", "unknown variant `wilson`"),
            ("resamples = 10", "between 1000 and 1000000"),
            ("alpha = 0.1", "unknown field `alpha`"),
        ] {
            let err = toml::from_str::<Doc>(&format!("[statistics]\n{text}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
