//! Statistics over seeds: the spread of one run's numbers, the comparison of two runs,
//! the decision on a family of claims, effect sizes and seeds needed. Distributions come
//! from `statrs`, integrals from `quadrature`, resamples from `rand_xoshiro`: no special
//! function is written here.
//!
//! Conventions, the ones a reader checks against scipy (`bench/stats/reference.py`
//! computes every reference value of the unit tests): the standard deviation is the
//! sample one (n − 1); intervals of means and differences are two-sided 95 %; two runs
//! are compared by Welch's t-test, or by the paired t-test when both ran the same seeds
//! (or by the bootstrap of either, `[statistics] interval = "bootstrap"`); a claim is a
//! one-sided test at 5 % (TOST for sameness), Holm-adjusted over the report's claims. A
//! value that is not finite (a diverged seed) is left out and counted, never averaged
//! in; with fewer than two values there is no spread and no comparison; a spread below
//! the measurement's resolution (one test image) is taken as that resolution.
//!
//! - `moments`: mean and sample variance.
//! - `method`: t or bootstrap, and the floor.
//! - `bootstrap`: seeded resamples, percentile and BCa intervals.
//! - `confidence`: the distribution an interval and its one-sided tests are read from.
//! - `summary`: one number over seeds.
//! - `compare`: Welch's and the paired comparison.
//! - `holm`: Holm's step-down adjustment.
//! - `decide`: claims as hypotheses, tested and adjusted as a family.
//! - `effect`: Hedges' g and the probability of improvement.
//! - `power`: power and seeds needed.
//! - `predict`: where one more seed should land (`report verify`).

mod bootstrap;
mod compare;
mod confidence;
mod decide;
mod effect;
#[cfg(test)]
mod fixtures;
mod holm;
mod method;
mod moments;
mod power;
mod predict;
mod summary;

pub use compare::{Comparison, Direction, Test, paired, welch};
pub use decide::{ALPHA, CLAIM_LEVEL, Decision, Evidence, Hypothesis, Outcome, decide};
pub use effect::{Improvement, hedges_g, probability_of_improvement};
pub use holm::holm;
pub use method::{BootstrapKind, CONFIDENCE, DEFAULT_RESAMPLES, IntervalKind, Method, Options};
pub use power::{Design, MAX_SEEDS, Question, SeedsNeeded, TARGET_POWER, power, seeds_needed};
pub use predict::prediction_interval;
pub use summary::Summary;
