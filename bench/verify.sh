#!/usr/bin/env bash
# `report verify` against the build that made the store, on the quick profile (the
# sample, 8 epochs, 3 seeds) restricted to SECTIONS (default model-2 model-3 model-5):
# the build from an empty store, then verify's default sample (one seed per section),
# then --all (every seed), each timed as a whole process. Prints a Markdown table with
# the machine and the commands.
#
#   bench/verify.sh [SECTIONS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=$("$root/scripts/torch-python")
export PATH=$(dirname "$py"):$PATH LIBTORCH_USE_PYTORCH=1
make -s -C "$root" build >&2
bin=$root/target/release/report
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(model-2 model-3 model-5)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/experiments" "$root/data" "$work/"
timed() { # label command... -> one table row
    local label=$1
    shift
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; echo "bench/verify.sh: $label failed" >&2; exit 1; }
    t1=$(date +%s.%N)
    awk -v l="$label" -v a="$t0" -v b="$t1" 'BEGIN { printf "| %s | %.1f s |\n", l, b - a }'
}
echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB"
echo "Command: bench/verify.sh ${sections[*]} ($(date -u +%F), $("$bin" --version))"
echo
echo "| what | wall time |"
echo "|---|--:|"
timed "\`report build --profile quick --only ${sections[*]}\`, empty store" \
    "$bin" --root "$work" build --profile quick --device cpu --only "${sections[@]}"
timed "\`report verify --profile quick --only ${sections[*]}\` (one seed per section)" \
    "$bin" --root "$work" verify --profile quick --device cpu --only "${sections[@]}"
outcomes=$("$py" -c 'import json, sys; print(", ".join(r["run"] + " " + r["outcome"] for r in json.load(open(sys.argv[1]))["runs"]))' "$work/out/verify.json")
timed "\`report verify --profile quick --only ${sections[*]} --all\`" \
    "$bin" --root "$work" verify --profile quick --device cpu --all --only "${sections[@]}"
all=$("$py" -c 'import json, sys, collections; print(dict(collections.Counter(r["outcome"] for r in json.load(open(sys.argv[1]))["runs"])))' "$work/out/verify.json")
echo
echo "Sample: $outcomes. All: $all."
