// libtorch's global switches that decide how CUDA kernels round and in which order they
// sum: read and set for `src/train/numerics.rs`. tch exposes only cuDNN's benchmark
// switch; these are ATen's own accessors, as torch.backends and
// torch.use_deterministic_algorithms call them from Python.
#include <ATen/Context.h>

namespace {
// The precision `op` runs in on CUDA: its own setting, else CUDA's for all ops, else
// the generic one; none set anywhere means full fp32 ("ieee").
int precision_code(const at::Context& c, at::Float32Op op) {
    auto p = c.float32Precision(at::Float32Backend::CUDA, op);
    if (p == at::Float32Precision::NONE) {
        p = c.float32Precision(at::Float32Backend::CUDA, at::Float32Op::ALL);
    }
    if (p == at::Float32Precision::NONE) {
        p = c.float32Precision(at::Float32Backend::GENERIC, at::Float32Op::ALL);
    }
    switch (p) {
    case at::Float32Precision::IEEE: return 1;
    case at::Float32Precision::TF32: return 2;
    case at::Float32Precision::BF16: return 3;
    default: return 1;
    }
}
}  // namespace

extern "C" {

struct report_numerics {
    int deterministic_algorithms;
    int cudnn_deterministic;
    int cudnn_benchmark;
    int cuda_conv_precision;
    int cuda_matmul_precision;
};

// Deterministic algorithms where libtorch has them; an operation without one warns
// (warn_only) instead of failing the run. cuDNN's autotuner picks among algorithms by
// timing them, so it is on only when determinism is not asked for.
int report_numerics_set(int deterministic, int benchmark) {
    try {
        auto& c = at::globalContext();
        c.setDeterministicAlgorithms(deterministic != 0, /*warn_only=*/true);
        c.setDeterministicCuDNN(deterministic != 0);
        c.setBenchmarkCuDNN(benchmark != 0);
        return 0;
    } catch (...) {
        return -1;
    }
}

int report_numerics_get(report_numerics* out) {
    try {
        auto& c = at::globalContext();
        out->deterministic_algorithms = c.deterministicAlgorithms();
        out->cudnn_deterministic = c.deterministicCuDNN();
        out->cudnn_benchmark = c.benchmarkCuDNN();
        out->cuda_conv_precision = precision_code(c, at::Float32Op::CONV);
        out->cuda_matmul_precision = precision_code(c, at::Float32Op::MATMUL);
        return 0;
    } catch (...) {
        return -1;
    }
}

}  // extern "C"
