//! The report's statement of what its intervals mean: one paragraph, generated from the
//! settings and the runs, that a reader can check every number against.

use super::evidence::bootstrap_word;
use super::model::StatisticsInfo;
use crate::experiment::statistics::StatisticsSettings;
use crate::stats::{self, IntervalKind};
use crate::text;

/// What the statement is made from besides the settings.
pub(super) struct Facts {
    /// The seed counts of the runs, distinct, ascending.
    pub(super) seed_counts: Vec<usize>,
    /// Test images of the data, when known.
    pub(super) test_images: Option<usize>,
    /// Claims with a test: the family Holm's correction spans.
    pub(super) family: usize,
    /// Claims in all.
    pub(super) claims: usize,
}

/// The statistics part of the context.
pub(super) fn statistics(settings: &StatisticsSettings, facts: &Facts) -> StatisticsInfo {
    let method = settings.method();
    let bootstrap = method.interval == IntervalKind::Bootstrap;
    let confidence = text::percent(stats::CONFIDENCE, 0);
    let alpha = text::percent(stats::ALPHA, 0);
    let claim_level = text::percent(stats::CLAIM_LEVEL, 0);
    let mut s = String::new();
    s.push_str(&match &facts.seed_counts[..] {
        [] => "No run is planned. ".to_owned(),
        [1] => "Each run was trained with one seed, so no run has a spread. ".to_owned(),
        [n] => format!("Each run was trained with {n} seeds. "),
        [lo, .., hi] => format!("Runs were trained with {lo} to {hi} seeds. "),
    });
    s.push_str(
        "A seed fixes the initial weights, the order of the training images and the random \
         augmentation; the data and its split into training and test images are the same \
         for every seed, so the spread is that of training alone. ",
    );
    s.push_str(&format!(
        "± is one sample standard deviation over a run's complete seeds; brackets are \
         {confidence} intervals of the mean, or of the difference of two means, "
    ));
    s.push_str(&if bootstrap {
        format!(
            "by the {} over {} resamples (generator seed {}). ",
            bootstrap_word(&method),
            text::thousands(method.resamples as i64),
            method.seed
        )
    } else {
        "by Student's t. ".to_owned()
    });
    s.push_str(
        "Two runs trained on the same seeds are compared seed by seed (the paired test), \
         others by Welch's test. ",
    );
    if let Some(n) = facts.test_images.filter(|n| *n > 0) {
        s.push_str(&format!(
            "A spread smaller than one test image ({} on {} images) is counted as one image, \
             since the measurement cannot resolve less. ",
            text::percent(1.0 / n as f64, 2).replace(" %", " pp"),
            text::thousands(n as i64)
        ));
    }
    if facts.claims > 0 {
        let correction = match facts.family {
            0 => "No claim has two complete seeds or more on each side yet, so none is tested"
                .to_owned(),
            1 => "Only one claim is tested, so Holm's correction leaves its p-value as it is"
                .to_owned(),
            k => format!(
                "The p-values of the {k} tested claims are adjusted together by Holm's method"
            ),
        };
        s.push_str(&format!(
            "Each claim is a one-sided test at {alpha}, read from the {claim_level} interval: \
             better and worse against 0; same by two one-sided tests against ±{:.2} pp \
             (TOST: the interval must lie inside the margin); not better and not worse by a \
             non-inferiority test against the same margin. {correction}; a claim is \
             confirmed, or contradicted, only when its adjusted p-value is below {alpha}; \
             otherwise it is inconclusive.",
            settings.margin_pp
        ));
    }
    StatisticsInfo {
        interval: method.interval,
        bootstrap: bootstrap.then_some(method.bootstrap),
        resamples: bootstrap.then_some(method.resamples),
        confidence: stats::CONFIDENCE,
        confidence_text: confidence,
        alpha: stats::ALPHA,
        alpha_text: alpha,
        claim_level_text: claim_level,
        margin_pp: settings.margin_pp,
        family: facts.family,
        statement: s.trim_end().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::BootstrapKind;

    #[test]
    fn the_statement_names_seeds_intervals_tests_margin_and_correction() {
        let facts = Facts {
            seed_counts: vec![3],
            test_images: Some(1000),
            family: 14,
            claims: 14,
        };
        let info = statistics(&StatisticsSettings::default(), &facts);
        let s = &info.statement;
        for part in [
            "Each run was trained with 3 seeds.",
            "the initial weights, the order of the training images and the random augmentation",
            "± is one sample standard deviation",
            "95 % intervals of the mean",
            "by Student's t.",
            "the paired test",
            "Welch's test",
            "(0.10 pp on 1,000 images)",
            "one-sided test at 5 %, read from the 90 % interval",
            "against ±1.00 pp (TOST",
            "The p-values of the 14 tested claims are adjusted together by Holm's method",
        ] {
            assert!(s.contains(part), "{part:?} not in {s}");
        }
        assert_eq!(info.interval, IntervalKind::T);
        assert_eq!((info.bootstrap, info.family), (None, 14));
        let boot = StatisticsSettings {
            interval: IntervalKind::Bootstrap,
            bootstrap: BootstrapKind::Percentile,
            margin_pp: 0.5,
            ..StatisticsSettings::default()
        };
        let facts = Facts {
            seed_counts: vec![1, 5],
            test_images: None,
            family: 1,
            claims: 2,
        };
        let info = statistics(&boot, &facts);
        assert!(
            info.statement
                .contains("Runs were trained with 1 to 5 seeds.")
        );
        assert!(
            info.statement
                .contains("by the percentile bootstrap over 10,000 resamples (generator seed 0).")
        );
        assert!(info.statement.contains("±0.50 pp"));
        assert!(
            info.statement
                .contains("Only one claim is tested, so Holm's correction leaves")
        );
        assert_eq!(info.bootstrap, Some(BootstrapKind::Percentile));
    }
}
