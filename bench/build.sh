#!/usr/bin/env bash
# Whole-build figures: a quick-profile build from scratch, no-change rebuilds and renders,
# and the peak memory of the full profile on full CIFAR-10 with its epoch count cut to 1
# (all 11 runs, t-SNE of 10,000 test vectors at epochs 0 and 1; memory does not grow with
# epochs: each epoch reuses the same buffers and snapshots go to disk). Run through
# bench/run.sh build [ARCHIVE].
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
archive=${1:-$root/../shared/datasets/cifar10-jpeg.tar.gz}
bin=$root/target/release/report
work=$root/target/bench/build
rm -rf "$work"
mkdir -p "$work"
cp -r "$root/experiments" "$root/data" "$work/"
# The full profile, one epoch: the same runs, data, snapshot count per run and analysis.
printf '\n[profiles.full-1]\ndata = "data/cifar-10-batches-bin"\nepochs = 1\ntsne_epochs = [0, 1]\n' \
    >>"$work/experiments/report.toml"

seconds() { # prints the wall seconds and peak RSS (MiB) of a command, quietly
    /usr/bin/time -f "%e %M" -o "$work/.time" "$@" >/dev/null 2>"$work/.log" || { cat "$work/.log" >&2; exit 1; }
    awk '{printf "%.2f s, peak %.0f MiB", $1, $2/1024}' "$work/.time"
}

echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB  "
echo "Command: \`bench/run.sh build\` ($(date -u +%F))"
echo
echo "| what | result |"
echo "|---|---|"
echo "| \`report build --profile quick\`, empty store (11 runs × 3 seeds, 8 epochs, 5,000 images) | $(seconds "$bin" --root "$work" build --profile quick --device cpu) |"
for i in 1 2 3; do
    echo "| no-change \`report build --profile quick\` (try $i) | $(seconds "$bin" --root "$work" build --profile quick --device cpu) |"
done
if "$bin" --help | grep -q '^  render'; then
    for i in 1 2 3; do
        echo "| \`report render --profile quick\` (try $i) | $(seconds "$bin" --root "$work" render --profile quick) |"
    done
fi
if [ -f "$archive" ]; then
    echo "| \`report build --profile full\` with epochs cut to 1, full CIFAR-10, empty store (11 runs, t-SNE of 10,000 test vectors at epochs 0 and 1) | $(seconds "$bin" --root "$work" build --profile full-1 --device cpu --data "$archive") |"
    for i in 1 2 3; do
        echo "| no-change \`report build\` of that full-data store (try $i) | $(seconds "$bin" --root "$work" build --profile full-1 --device cpu --data "$archive") |"
    done
    for i in 1 2 3; do
        echo "| \`report render\` of that full-data store (try $i) | $(seconds "$bin" --root "$work" render --profile full-1) |"
    done
else
    echo "no CIFAR-10 archive at $archive: the full-data rows were skipped (bench/run.sh build ARCHIVE)" >&2
fi
