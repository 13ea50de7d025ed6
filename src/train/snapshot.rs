//! Latent snapshots: the test set's flatten outputs, compressed by PCA on the device
//! so that a full build stores megabytes, not gigabytes.

use tch::{Device, Kind, Tensor};

/// A PCA projection of latent vectors.
#[derive(Debug)]
pub struct Projection {
    /// N × k projected vectors.
    pub points: Tensor,
    /// Fraction of the total variance each component explains.
    pub explained_variance: Vec<f64>,
}

/// Projects the rows of `x` (N × D) onto their top `k` principal components with a
/// randomized SVD (Halko et al., two power iterations). The random test matrix comes
/// from a fixed-seed generator of our own, not libtorch's, so taking a snapshot never
/// shifts the random stream training draws from. Component signs are fixed so the
/// largest loading of each is positive, making the output reproducible. Where every
/// vector is the same (a dead layer) there is no variance to explain: the fractions
/// are empty, never a made-up 0 % or a NaN.
pub fn pca(x: &Tensor, k: i64) -> anyhow::Result<Projection> {
    let (n, d) = x.size2()?;
    let x = x.to_kind(Kind::Float);
    let x = &x - x.mean_dim(0, true, Kind::Float);
    let k = k.min(d).min(n);
    let l = (k + 10).min(d).min(n);
    let omega = test_matrix(d, l, x.device());
    let orth = |m: &Tensor| Tensor::linalg_qr(m, "reduced").0;
    let mut q = orth(&x.matmul(&omega));
    for _ in 0..2 {
        let z = orth(&x.tr().matmul(&q));
        q = orth(&x.matmul(&z));
    }
    let b = q.tr().matmul(&x);
    // `svd` rather than `linalg_svd`: tch passes linalg_svd's optional driver as a
    // string, and libtorch rejects any driver on the CPU.
    let (_, s, v) = b.svd(true, true);
    let comps = v.tr().narrow(0, 0, k);
    let pivots = comps.abs().argmax(1, true);
    let signs = comps.gather(1, &pivots, false).sign();
    let comps = comps * signs;
    let total = f64::try_from(x.square().sum(Kind::Double))?;
    let s: Vec<f64> = Vec::try_from(s.narrow(0, 0, k).to_kind(Kind::Double))?;
    let explained_variance = if total > 0.0 {
        s.iter().map(|v| v * v / total).collect()
    } else {
        Vec::new()
    };
    Ok(Projection {
        points: x.matmul(&comps.tr()),
        explained_variance,
    })
}

/// A D × L matrix of uniform values in [-1, 1) from SplitMix64 with a fixed seed.
fn test_matrix(d: i64, l: i64, device: Device) -> Tensor {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let values: Vec<f32> = (0..d * l)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    Tensor::from_slice(&values).view([d, l]).to_device(device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_low_rank_structure_and_is_reproducible() {
        tch::manual_seed(0);
        // 200 points on a 3-D subspace of R^40, plus tiny noise.
        let basis = Tensor::randn([3, 40], tch::kind::FLOAT_CPU);
        let coords =
            Tensor::randn([200, 3], tch::kind::FLOAT_CPU) * Tensor::from_slice(&[5.0f32, 3.0, 1.0]);
        let x = coords.matmul(&basis) + Tensor::randn([200, 40], tch::kind::FLOAT_CPU) * 1e-3;
        let p = pca(&x, 5).unwrap();
        assert_eq!(p.points.size(), [200, 5]);
        let top3: f64 = p.explained_variance[..3].iter().sum();
        assert!(top3 > 0.999, "{:?}", p.explained_variance);
        assert!(p.explained_variance[0] >= p.explained_variance[1]);
        // The projection preserves pairwise distances of rank-3 data.
        let d_in = (x.get(0) - x.get(1)).norm();
        let d_out = (p.points.get(0) - p.points.get(1)).norm();
        assert!((f64::try_from(d_in - d_out).unwrap()).abs() < 1e-2);
        assert!(pca(&x, 5).unwrap().points.equal(&p.points));
    }

    #[test]
    fn equal_vectors_have_no_variance_to_explain() {
        let x = Tensor::ones([50, 8], tch::kind::FLOAT_CPU) * 3.0;
        let p = pca(&x, 4).unwrap();
        assert_eq!(p.points.size(), [50, 4]);
        assert!(
            p.explained_variance.is_empty(),
            "{:?}",
            p.explained_variance
        );
    }
}
