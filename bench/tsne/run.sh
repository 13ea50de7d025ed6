#!/usr/bin/env bash
# t-SNE side by side: report's embed (bhtsne, Rust) vs openTSNE vs scikit-learn on the same
# latent vectors; wall seconds, 10-NN accuracy and KL divergence of each, medians of
# interleaved repeats. See bench/tsne/compare.py for what is measured and how.
#
# Usage: bench/tsne/run.sh [POINTS.npy LABELS.npy] [--repeats N]
# Default input: Model 9 (SGD) after 3 epochs of the smoke profile, 10,000 × 50, made by
#   report build --profile smoke --only model-9 --data ../shared/datasets/cifar10-jpeg.tar.gz
# Installs numpy, scikit-learn and openTSNE into a throwaway venv under target/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
command="bench/tsne/run.sh $*"
snapshots=out/runs/smoke/model-9/sgd/snapshots
points=$snapshots/epoch-003.npy
labels=$snapshots/labels.npy
repeats=3
positional=()
while [ $# -gt 0 ]; do
    case "$1" in
    --repeats) repeats=${2:?--repeats needs a number}; shift 2 ;;
    *) positional+=("$1"); shift ;;
    esac
done
if [ ${#positional[@]} -eq 2 ]; then
    points=${positional[0]} labels=${positional[1]}
elif [ ${#positional[@]} -ne 0 ]; then
    echo "usage: bench/tsne/run.sh [POINTS.npy LABELS.npy] [--repeats N]" >&2
    exit 2
fi
for f in "$points" "$labels"; do
    [ -f "$f" ] || { echo "missing $f (see the usage at the top of $0)" >&2; exit 1; }
done

venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    numpy==2.4.6 scikit-learn==1.9.1 openTSNE==1.0.4 >&2

py=$(scripts/torch-python)
PATH="$(dirname "$py"):$PATH" LIBTORCH_USE_PYTORCH=1 \
    cargo build --release --locked --quiet --example tsne_bench >&2

exec "$venv/bin/python" bench/tsne/compare.py --points "$points" --labels "$labels" \
    --ours target/release/examples/tsne_bench --repeats "$repeats" --command "$command"
