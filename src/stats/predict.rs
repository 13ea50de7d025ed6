//! The prediction interval of one more seed: where a new run of the same settings should
//! land, given the seeds already run. `report verify` holds a retrained run to it. The
//! interval of a mean shrinks with n; this one does not, since a single new value keeps
//! the full spread: mean ± t(1 − α/2, n − 1) · s · √(1 + 1/n).

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::moments::{finite, mean, variance};

/// The `level` (two-sided) prediction interval of one more draw beside `values`, the
/// standard deviation taken as at least `floor` (one test image: two equal seeds still
/// leave that much room). `None` below two finite values.
pub fn prediction_interval(values: &[f64], floor: f64, level: f64) -> Option<(f64, f64)> {
    let v = finite(values);
    let n = v.len();
    if n < 2 {
        return None;
    }
    let sd = variance(&v).sqrt().max(floor);
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .ok()?
        .inverse_cdf(0.5 + level / 2.0);
    let half = t * sd * (1.0 + 1.0 / n as f64).sqrt();
    let m = mean(&v);
    Some((m - half, m + half))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipys_t_quantile_and_keeps_the_floor() {
        // scipy 1.17.1: m = 0.6, s = 0.01, t.ppf(0.975, 2) = 4.302652729749462,
        // half = 4.302652729749462 * 0.01 * sqrt(1 + 1/3) = 0.04968275...
        let (lo, hi) = prediction_interval(&[0.59, 0.60, 0.61], 0.001, 0.95).unwrap();
        let half = 4.302652729749462 * 0.01 * (4.0f64 / 3.0).sqrt();
        assert!((lo - (0.6 - half)).abs() < 1e-12 && (hi - (0.6 + half)).abs() < 1e-12);
        // Two equal seeds: the floor, not a zero-width interval.
        // t.ppf(0.975, 1) = 12.706204736174694
        let (lo, hi) = prediction_interval(&[0.5, 0.5], 0.001, 0.95).unwrap();
        let half = 12.706204736174694 * 0.001 * 1.5f64.sqrt();
        assert!((hi - lo - 2.0 * half).abs() < 1e-12, "{lo} {hi}");
        assert_eq!(prediction_interval(&[0.5, f64::NAN], 0.001, 0.95), None);
    }
}
