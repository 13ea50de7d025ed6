#!/usr/bin/env bash
# Whole-build figures: a quick-profile build from scratch, a no-change rebuild, a render,
# and the peak memory of a full-data build. Run through bench/run.sh build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
archive=${1:-$root/../shared/datasets/cifar10-jpeg.tar.gz}
bin=$root/target/release/report
work=$root/target/bench/build
rm -rf "$work"
mkdir -p "$work"
cp -r "$root/experiments" "$root/data" "$work/"

seconds() { # prints the wall seconds and peak RSS (MiB) of a command, quietly
    /usr/bin/time -f "%e %M" -o "$work/.time" "$@" >/dev/null 2>"$work/.log" || { cat "$work/.log" >&2; exit 1; }
    awk '{printf "%.2f s, peak %.0f MiB", $1, $2/1024}' "$work/.time"
}

echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB  "
echo "Command: \`bench/run.sh build\` ($(date -u +%F))"
echo
echo "| what | result |"
echo "|---|---|"
echo "| \`report build --profile quick\`, empty store (11 runs, 8 epochs, 5,000 images) | $(seconds "$bin" --root "$work" build --profile quick --device cpu) |"
for i in 1 2 3; do
    echo "| no-change \`report build --profile quick\` (try $i) | $(seconds "$bin" --root "$work" build --profile quick --device cpu) |"
done
if "$bin" --help | grep -q '^  render'; then
    for i in 1 2 3; do
        echo "| \`report render --profile quick\` (try $i) | $(seconds "$bin" --root "$work" render --profile quick) |"
    done
fi
if [ -f "$archive" ]; then
    echo "| \`report build --profile smoke --only model-9/sgd\` on full CIFAR-10 (3 epochs, t-SNE of 10,000 test vectors at epochs 0 and 3) | $(seconds "$bin" --root "$work" build --profile smoke --only model-9/sgd --device cpu --data "$archive") |"
fi
