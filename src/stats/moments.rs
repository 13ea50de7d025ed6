//! The few sums every statistic starts from: finite values, their mean and their sample
//! variance, written once so that every statistic agrees on them.

/// The finite values of `values`, in order (a diverged seed's NaN is left out).
pub(super) fn finite(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|v| v.is_finite()).collect()
}

/// The arithmetic mean, summed in order (as numpy's reference values are computed).
pub(super) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The sample variance (n − 1 in the denominator, numpy's `ddof=1`).
pub(super) fn variance(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_numpys() {
        assert_eq!(finite(&[1.0, f64::NAN, 2.0, f64::INFINITY]), [1.0, 2.0]);
        assert!((mean(&[0.1, 0.2, 0.6]) - 0.3).abs() < 1e-15);
        // np.var([0.1, 0.2, 0.6], ddof=1) = 0.07
        assert!((variance(&[0.1, 0.2, 0.6]) - 0.07).abs() < 1e-15);
    }
}
