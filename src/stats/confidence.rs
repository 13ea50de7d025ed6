//! A confidence distribution of one quantity (a mean, or a difference of means): its
//! quantiles are the interval's bounds at any level, and its value at x is the
//! one-sided p-value of "the quantity is at most x". Intervals and tests are read
//! from the same object, so they can never disagree.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::bootstrap::Bootstrap;

/// The distribution an interval and its tests are read from.
#[derive(Debug, Clone, PartialEq)]
pub enum Confidence {
    /// `estimate + se · T` with T Student's t on `df` degrees of freedom.
    T {
        /// The point estimate.
        estimate: f64,
        /// Its standard error (the floor applied), positive.
        se: f64,
        /// Degrees of freedom.
        df: f64,
    },
    /// A point known exactly: no spread and no floor.
    Exact(f64),
    /// A bootstrap distribution.
    Bootstrap(Box<Bootstrap>),
}

impl Confidence {
    /// The quantile of probability `q`.
    pub fn quantile(&self, q: f64) -> f64 {
        match self {
            Confidence::T { estimate, se, df } => estimate + se * t(*df).inverse_cdf(q),
            Confidence::Exact(x) => *x,
            Confidence::Bootstrap(b) => b.quantile(q),
        }
    }

    /// The two-sided interval of level `level` (0.95: from the 2.5 % to the 97.5 %
    /// quantile).
    pub fn interval(&self, level: f64) -> (f64, f64) {
        let tail = (1.0 - level) / 2.0;
        (self.quantile(tail), self.quantile(1.0 - tail))
    }

    /// The one-sided p-value of "the quantity is at most `x`", against "it is above
    /// `x`": small when the distribution lies above `x`.
    pub fn p_above(&self, x: f64) -> f64 {
        match self {
            Confidence::T { estimate, se, df } => t(*df).cdf((x - estimate) / se),
            Confidence::Exact(v) => f64::from(u8::from(*v <= x)),
            Confidence::Bootstrap(b) => b.cdf(x),
        }
    }

    /// The one-sided p-value of "the quantity is at least `x`", against "it is below".
    pub fn p_below(&self, x: f64) -> f64 {
        match self {
            Confidence::T { estimate, se, df } => t(*df).cdf((estimate - x) / se),
            Confidence::Exact(v) => f64::from(u8::from(*v >= x)),
            Confidence::Bootstrap(b) => 1.0 - b.cdf(x),
        }
    }

    /// The two-sided p-value of "the quantity is `x`": twice the smaller tail.
    pub fn two_sided(&self, x: f64) -> f64 {
        match self {
            Confidence::Exact(v) => f64::from(u8::from(*v == x)),
            // From the lower tail of |t|, which keeps the digits of a tiny p-value.
            Confidence::T { estimate, se, df } => {
                (2.0 * t(*df).cdf(-((estimate - x) / se).abs())).min(1.0)
            }
            Confidence::Bootstrap(b) => {
                let below = b.cdf(x);
                (2.0 * below.min(1.0 - below)).min(1.0)
            }
        }
    }
}

/// Student's t with `df` degrees of freedom.
fn t(df: f64) -> StudentsT {
    StudentsT::new(0.0, 1.0, df).expect("df > 0")
}
