//! Exact t-SNE in tensor operations: the gradient over all N² pairs at every iteration,
//! as dense N×N matrices on the device, with bhtsne's schedule, adaptive gains and
//! centring. On a GPU 10,000 points are 10⁸ pairs an iteration, milliseconds of work;
//! Barnes-Hut's tree walk is single-threaded host code that a GPU cannot help.

use anyhow::{Result, ensure};
use tch::{Device, Kind, Tensor};

/// One phase of the optimisation. Each starts with zero velocity and unit gains, as
/// each of bhtsne's fits does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Phase {
    /// Iterations.
    pub iterations: usize,
    /// The factor P is multiplied by.
    pub exaggeration: f32,
    /// The step size.
    pub learning_rate: f32,
    /// The velocity kept from one iteration to the next.
    pub momentum: f32,
}

/// bhtsne's adaptive gains (Jacobs' delta-bar-delta): up by 0.2 where the gradient's sign
/// differs from the velocity's, down by ×0.8 where it agrees, within [0.01, 2].
const GAIN_INCREMENT: f64 = 0.2;
const GAIN_DECAY: f64 = 0.8;
const MIN_GAIN: f64 = 0.01;
const MAX_GAIN: f64 = 2.0;

/// The sparse symmetric affinities P in CSR form: row `i`'s entries are
/// `rows[i]..rows[i + 1]` of `columns` and `values`.
#[derive(Debug, Clone, Copy)]
pub struct Csr<'a> {
    /// N + 1 offsets.
    pub rows: &'a [usize],
    /// Column of each entry.
    pub columns: &'a [u32],
    /// Value of each entry.
    pub values: &'a [f32],
}

/// Optimises the layout `initial` (N·2 coordinates) for `p`, phase after phase, on
/// `device`; returns N·2 coordinates. Each iteration, as bhtsne's: the gradient
/// Σⱼ (pᵢⱼ − wᵢⱼ/Z)·wᵢⱼ·(yᵢ − yⱼ) with wᵢⱼ = 1/(1 + ‖yᵢ − yⱼ‖²) and Z = Σ_{i≠j} wᵢⱼ (the
/// t-SNE gradient without its factor 4, which the learning rates absorb), P
/// normalised to sum to one; the gains; velocity ← momentum·velocity − rate·gains·∇;
/// y ← y + velocity; y centred on its mean.
pub fn optimise(p: Csr<'_>, initial: &[f32], phases: &[Phase], device: Device) -> Result<Vec<f32>> {
    let n = initial.len() / 2;
    ensure!(
        p.rows.len() == n + 1 && p.columns.len() == p.values.len(),
        "affinities of {} rows for {n} points",
        p.rows.len().saturating_sub(1)
    );
    let total: f64 = p.values.iter().map(|&v| v as f64).sum();
    ensure!(total > 0.0, "the affinities sum to {total}");
    let flat_index: Vec<i64> = (0..n)
        .flat_map(|i| (p.rows[i]..p.rows[i + 1]).map(move |e| (i, e)))
        .map(|(i, e)| (i * n) as i64 + p.columns[e] as i64)
        .collect();
    let side = n as i64;
    let dense = Tensor::zeros([side * side], (Kind::Float, device));
    let values = Tensor::from_slice(p.values).to_device(device) / total;
    let index = Tensor::from_slice(&flat_index).to_device(device);
    let dense = dense.index_copy(0, &index, &values).view([side, side]);

    let mut y = Tensor::from_slice(initial)
        .view([side, 2])
        .to_device(device);
    tch::no_grad(|| {
        for phase in phases {
            let mut velocity = y.zeros_like();
            let mut gains = y.ones_like();
            for _ in 0..phase.iterations {
                let grad = gradient(&y, &dense, phase.exaggeration as f64);
                let flip = grad.ge(0.0).ne_tensor(&velocity.ge(0.0));
                gains = (&gains + GAIN_INCREMENT)
                    .where_self(&flip, &(&gains * GAIN_DECAY))
                    .clamp(MIN_GAIN, MAX_GAIN);
                velocity =
                    &velocity * phase.momentum as f64 - &gains * &grad * phase.learning_rate as f64;
                y = &y + &velocity;
                y = &y - y.mean_dim(0, true, Kind::Float);
            }
        }
    });
    Ok(Vec::<f32>::try_from(
        y.to_device(Device::Cpu).flatten(0, -1),
    )?)
}

/// Σⱼ (e·pᵢⱼ − wᵢⱼ/Z)·wᵢⱼ·(yᵢ − yⱼ) for every i, as an N×2 tensor, for P exaggerated
/// by `e`. Computed as e·Σⱼ (pᵢⱼ − wᵢⱼ/(e·Z))·wᵢⱼ·(yᵢ − yⱼ), so the factor scales two
/// columns instead of a copy of the N×N P (400 MB for 10,000 points).
fn gradient(y: &Tensor, p: &Tensor, exaggeration: f64) -> Tensor {
    let squares = (y * y).sum_dim_intlist(1, true, Kind::Float);
    // ‖yᵢ − yⱼ‖² = ‖yᵢ‖² + ‖yⱼ‖² − 2 yᵢ·yⱼ; rounding can take it a hair below zero.
    let distances =
        (&squares + squares.transpose(0, 1) - y.matmul(&y.transpose(0, 1)) * 2.0).clamp_min(0.0);
    let mut w = (distances + 1.0).reciprocal();
    let _ = w.fill_diagonal_(0.0, false);
    let z = w.sum(Kind::Float);
    let m = (p - &w / (z * exaggeration)) * &w;
    (m.sum_dim_intlist(1, true, Kind::Float) * y - m.matmul(y)) * exaggeration
}
