#!/usr/bin/env bash
# Prepares gpu-kit/ (git-ignored) for bench/gpu.sh on a GPU machine: the release binary
# stripped of its debug information, and the CIFAR-10 archive, at most 40 MB in all, so
# that the device tool can carry the one folder (`carry: ["gpu-kit"]`).
#
#   bench/gpu-prepare.sh [ARCHIVE]    ARCHIVE: CIFAR-10 as .tar.gz (default: the shared
#                                     JPEG copy, ../shared/datasets/cifar10-jpeg.tar.gz)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
archive=${1:-$root/../shared/datasets/cifar10-jpeg.tar.gz}
kit=$root/gpu-kit
limit=$((40 * 1024 * 1024))

[ -f "$archive" ] || { echo "gpu-prepare: no CIFAR-10 archive at $archive" >&2; exit 1; }
make -C "$root" build >/dev/null
rm -rf "$kit"
mkdir -p "$kit"
# --strip-debug keeps the symbols a backtrace names; the debug lines are most of the size.
strip --strip-debug -o "$kit/report" "$root/target/release/report"
cp "$archive" "$kit/cifar10.tar.gz"
git -C "$root" rev-parse --short HEAD >"$kit/commit" 2>/dev/null || echo unknown >"$kit/commit"
size=$(du -cb "$kit"/* | tail -1 | cut -f1)
if [ "$size" -gt "$limit" ]; then
    echo "gpu-prepare: $kit holds $size bytes, over the 40 MB the GPU machine is sent" >&2
    exit 1
fi
echo "gpu-kit ready: $(du -sh "$kit" | cut -f1) ($(ls "$kit" | tr '\n' ' '))"
