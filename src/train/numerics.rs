//! libtorch's global switches that decide how a run's kernels round and in which order
//! they sum on CUDA — deterministic algorithms, cuDNN's autotuner and determinism, TF32
//! in convolutions and matrix products — set from the run's spec and recorded with it,
//! through the C++ shim `csrc/numerics.cpp` (tch exposes only the autotuner switch).
//!
//! On the CPU these switches change nothing the homework's layers use; they are recorded
//! there too, so every run says what it ran with.

use std::ffi::c_int;

use anyhow::{Result, bail};

use crate::store::record::Numerics;

#[repr(C)]
#[derive(Default)]
struct RawNumerics {
    deterministic_algorithms: c_int,
    cudnn_deterministic: c_int,
    cudnn_benchmark: c_int,
    cuda_conv_precision: c_int,
    cuda_matmul_precision: c_int,
}

unsafe extern "C" {
    fn report_numerics_set(deterministic: c_int, benchmark: c_int) -> c_int;
    fn report_numerics_get(out: *mut RawNumerics) -> c_int;
}

/// Sets the switches for a run: with `deterministic`, libtorch's deterministic
/// algorithms and cuDNN's, the autotuner off; without, the autotuner on when `cuda`
/// (the homework's inputs keep one shape, so tuning pays once per layer). Returns what
/// is now in force.
pub fn apply(deterministic: bool, cuda: bool) -> Result<Numerics> {
    let benchmark = cuda && !deterministic;
    // SAFETY: plain ints in; the shim catches every C++ exception.
    let status = unsafe { report_numerics_set(deterministic.into(), benchmark.into()) };
    if status != 0 {
        bail!("libtorch refused to set its deterministic and cuDNN switches");
    }
    current()
}

/// The switches in force now.
pub fn current() -> Result<Numerics> {
    let mut raw = RawNumerics::default();
    // SAFETY: `raw` is a valid, writable struct of the layout the shim declares.
    let status = unsafe { report_numerics_get(&mut raw) };
    if status != 0 {
        bail!("libtorch could not report its deterministic and cuDNN switches");
    }
    let precision = |code: c_int| match code {
        2 => "tf32",
        3 => "bf16",
        _ => "ieee",
    };
    Ok(Numerics {
        deterministic_algorithms: raw.deterministic_algorithms != 0,
        cudnn_deterministic: raw.cudnn_deterministic != 0,
        cudnn_benchmark: raw.cudnn_benchmark != 0,
        cuda_conv_precision: precision(raw.cuda_conv_precision).to_owned(),
        cuda_matmul_precision: precision(raw.cuda_matmul_precision).to_owned(),
        cublas_workspace_config: std::env::var("CUBLAS_WORKSPACE_CONFIG").ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_are_set_and_read_back_through_libtorch() {
        // libtorch's defaults, as PyTorch documents them: TF32 convolutions, fp32
        // matrix products.
        let before = current().unwrap();
        assert_eq!(before.cuda_conv_precision, "tf32");
        assert_eq!(before.cuda_matmul_precision, "ieee");

        let on = apply(true, true).unwrap();
        assert!(on.deterministic_algorithms && on.cudnn_deterministic);
        assert!(
            !on.cudnn_benchmark,
            "the autotuner is off when determinism is asked"
        );
        let off = apply(false, true).unwrap();
        assert!(!off.deterministic_algorithms && !off.cudnn_deterministic);
        assert!(off.cudnn_benchmark);
        let cpu = apply(false, false).unwrap();
        assert!(!cpu.cudnn_benchmark);
        assert_eq!(cpu, current().unwrap());
    }
}
