#!/usr/bin/env bash
# The quick profile from an empty store, trained two runs at a time with one libtorch
# thread each, two ways side by side: local `--jobs 2`, and `--executor slurm` through
# the single-node cluster of scripts/slurm-up (cpus_per_task = 1, max_tasks = 2).
# Prints a Markdown table with the machine and the command. Usage: bench/slurm.sh [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-1}
bin=$root/target/release/report
work=$root/target/bench/slurm
scontrol ping | grep -q 'is UP' || { echo "bench/slurm.sh: no Slurm cluster is up (scripts/slurm-up)" >&2; exit 1; }

fresh() { # a copy of the project with its own empty store
    rm -rf "$work/$1"
    mkdir -p "$work/$1"
    cp -r "$root/experiments" "$root/data" "$work/$1/"
    printf '\n[executor.slurm]\ncpus_per_task = 1\nmax_tasks = 2\n' >>"$work/$1/experiments/report.toml"
}
timed() { # wall seconds of a command, by bash's own clock
    local start=$EPOCHREALTIME
    "$@" >/dev/null 2>"$work/last.log" || { cat "$work/last.log" >&2; exit 1; }
    awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(sinfo --version)  "
echo "Command: \`bench/slurm.sh $rounds\` ($(date -u +%F)), quick profile (11 runs × 3 seeds, 8 epochs, 5,000 images), empty store each time"
echo
echo "| round | local \`--jobs 2\` | \`--executor slurm\`, 2 tasks × 1 CPU | slurm / local |"
echo "|---|---|---|---|"
for r in $(seq 1 "$rounds"); do
    fresh local
    a=$(timed "$bin" --root "$work/local" build --profile quick --device cpu --jobs 2)
    fresh slurm
    b=$(timed "$bin" --root "$work/slurm" build --profile quick --device cpu --executor slurm)
    echo "| $r | $a s | $b s | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }') |"
done
# The same numbers either way: every run's per-epoch accuracies and losses.
for m in "$work"/local/out/runs/quick/*/*/seed-*/metrics.json; do
    s=${m/\/local\//\/slurm\/}
    python3 - "$m" "$s" <<'PY' || { echo "results differ: $m" >&2; exit 1; }
import json, sys
strip = lambda p: [{k: v for k, v in e.items() if k not in ("seconds", "images_per_second")}
                   for e in json.load(open(p))["epochs"]]
sys.exit(strip(sys.argv[1]) != strip(sys.argv[2]))
PY
done
echo
echo "Every run's per-epoch metrics are equal, bit for bit, between the two builds."
