//! Holm's step-down adjustment (Holm, 1979): p-values of a family of tests made
//! comparable to one level, so that the chance of any false finding in the family stays
//! at most that level (`statsmodels.stats.multitest.multipletests(p, method="holm")`).

/// The Holm-adjusted p-values of `p`, in the same order.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let k = p.len();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let mut adjusted = vec![0.0; k];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        // The smallest p-value is multiplied by k, the next by k − 1, …; a later one is
        // never adjusted below an earlier one.
        running = running.max(((k - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::fixtures;

    #[test]
    fn holm_is_statsmodels() {
        for case in fixtures::HOLM {
            let got = holm(case.p);
            assert_eq!(got.len(), case.adjusted.len());
            for (g, w) in got.iter().zip(case.adjusted) {
                assert!((g - w).abs() < 1e-9, "{got:?} vs {:?}", case.adjusted);
            }
        }
        assert!(holm(&[]).is_empty());
        assert_eq!(holm(&[0.03]), [0.03]);
    }
}
