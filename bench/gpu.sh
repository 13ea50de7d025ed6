#!/usr/bin/env bash
# The whole homework on one NVIDIA GPU, end to end, with the binary built on the CPU
# machine (`make build`): 11 runs x 50 epochs on all 50,000 images, t-SNE at epochs
# 0/20/40/50, figures and report, with JOBS runs (default 4) training at once on the one
# GPU: these models are too small to fill it alone. Needs python3 with torch 2.11.0 on the GPU machine:
# the binary is pointed at that machine's libtorch (its own rpath names the build
# machine's folder, which LD_LIBRARY_PATH overrides).
#
#   bench/gpu.sh [DATA] [OUT_LOG]     DATA: CIFAR-10 (binary folder, image folder, or .tar.gz)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$root/data/cifar10-jpeg.tar.gz}
log=${2:-$root/out/gpu-build.log}
bin=${REPORT_BIN:-$root/target/release/report}
torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH=$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
mkdir -p "$(dirname "$log")"
{
    echo "machine: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi'), $(nproc) CPU cores"
    echo "torch: $(python3 -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)')"
    jobs=${JOBS:-4}
    echo "command: $bin build --profile full --device cuda --jobs $jobs --data $data"
    start=$(date +%s.%N)
    /usr/bin/time -v "$bin" --root "$root" build --profile full --device cuda --jobs "$jobs" --data "$data"
    end=$(date +%s.%N)
    echo "wall seconds end to end: $(echo "$end - $start" | bc)"
} 2>&1 | tee "$log"
