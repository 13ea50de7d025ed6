#!/usr/bin/env bash
# A newcomer's first `make report`, timed: a clean clone of this checkout's HEAD in a
# temporary folder, then the three steps `make report` runs, in its order, each timed:
# torch (scripts/torch-python: reuses a python3 with torch 2.11.0, else installs it into
# the clone's .venv), the release build (`make build`, an empty target/), and the quick
# profile's build (`make report`, which then compiles nothing). Prints a Markdown table
# for BENCHMARKS.md ("A fresh clone's make report").
#
# usage: bench/fresh-clone.sh [WORK_DIR]     (default: a new folder under /tmp)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/fresh-clone.XXXXXX)}
commit=$(git -C "$root" rev-parse --short HEAD)
rm -rf "$work/clone"
git clone --quiet "$root" "$work/clone"
cd "$work/clone"

step() { # wall seconds of a command, its output kept in $work/<name>.log
    local name=$1
    shift
    local start end
    start=$(date +%s.%N)
    "$@" >"$work/$name.log" 2>&1 || { tail -20 "$work/$name.log" >&2; exit 1; }
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}
mmss() { awk -v s="$1" 'BEGIN { printf "%d min %02d s", s / 60, s % 60 }'; }

torch=$(step torch scripts/torch-python)
build=$(step build make build)
report=$(step report make report)
total=$(awk -v a="$torch" -v b="$build" -v c="$report" 'BEGIN { printf "%.1f", a + b + c }')

echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB  "
echo "Command: \`bench/fresh-clone.sh\` on commit $commit ($(date -u +%F))"
echo
echo "| step of \`make report\` | wall |"
echo "|---|--:|"
echo "| torch 2.11.0 (\`scripts/torch-python\`) | $(mmss "$torch") |"
echo "| release build from an empty \`target/\` (\`make build\`) | $(mmss "$build") |"
echo "| the quick profile: $(grep -c ' trained ' "$work/report.log") trainings, figures, site, PDF | $(mmss "$report") |"
echo "| **all of \`make report\`** | **$(mmss "$total")** |"
