#!/usr/bin/env bash
# Benchmarks. Usage: bench/run.sh training|build [options]
#   training  report vs torchvision DataLoader vs pure-tensor PyTorch, both memory formats,
#             3 interleaved rounds (bench/training.py; --help for --pipelines, --epochs)
#   build     quick-profile build, no-change rebuilds, renders, and the full profile's
#             peak memory on full CIFAR-10 (bench/build.sh)
# Installs what it needs into target/ (a throwaway torchvision next to the project's torch).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
what=${1:?usage: bench/run.sh training|build [options]}
shift
py=$(scripts/torch-python)
make -s build >&2
case "$what" in
training)
    site=target/bench-site
    if [ ! -d "$site/torchvision" ] || [ ! -d "$site/numpy" ]; then
        "$py" -m pip install --quiet --disable-pip-version-check --target "$site" --no-deps \
            torchvision==0.26.0 pillow==11.3.0 numpy==2.2.6 >&2
    fi
    PYTHONPATH="$root/$site" exec "$py" bench/training.py --python "$py" "$@"
    ;;
build) exec bench/build.sh "$@" ;;
*) echo "unknown benchmark $what" >&2; exit 2 ;;
esac
