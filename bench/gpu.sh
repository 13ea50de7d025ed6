#!/usr/bin/env bash
# The homework on one NVIDIA GPU, in phases under one time limit, everything that
# matters written to RESULTS (at most 8 files, each well under 16 MB):
#
#   1. proof   one run of Model 1 for 2 epochs on CUDA; its run.json must say "cuda"
#   2. steps   all 11 runs for 2 epochs at --jobs 1, 4 and 11 (with the CUDA MPS daemon
#              when MPS=1): wall time and each model's ms per training step
#   3. full    the whole homework (50 epochs, t-SNE at 0/20/40/50) at the fastest --jobs,
#              stopped with SIGINT when the limit comes (finished runs are kept), then
#              rendered
#
#   bench/gpu-prepare.sh            on the CPU machine: gpu-kit/ (report.xz, the data,
#                                   the commit; <= 40 MB)
#   bench/gpu.sh RESULTS            on the GPU machine, in a copy of the repository
#   bench/gpu.sh --dry-run RESULTS  the same steps on the CPU (unpacking the kit, the
#                                   binary's --version, every phase with the same flags)
#                                   on the repository's sample and 1 epoch, so that only
#                                   the device itself is untried (DRY=1 says the same)
#
# Needs bash, coreutils and python3 with torch 2.11.0 (whose libtorch the binary loads);
# xz, nvidia-smi, timeout, ldd and nvidia-cuda-mps-control are used when present (the
# binary is unpacked with Python's lzma without xz). LIMIT (seconds, default 480) bounds
# the phases together, so that the whole call stays inside 10 minutes of device time;
# JOBS ("1 4 11") the settings of phase 2; KIT (default gpu-kit/, for a dry run
# target/gpu-kit-check when there is no gpu-kit/) where the kit is. Every phase prints
# its start and its wall time to gpu.log as it goes, so a run cut off still says where
# the time went.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dry=${DRY:-0}
if [ "${1:-}" = --dry-run ]; then
    dry=1
    shift
fi
results=${1:?usage: bench/gpu.sh [--dry-run] RESULTS_DIR}
mkdir -p "$results"
results=$(cd "$results" && pwd)
kit=${KIT:-$root/gpu-kit}
if [ "$dry" = 1 ] && [ -z "${KIT:-}" ] && [ ! -d "$kit" ]; then
    kit=$root/target/gpu-kit-check
fi
limit=${LIMIT:-480}
python=${PYTHON:-python3}

now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }
start_us=$(now_us)
elapsed() { echo $((($(now_us) - start_us) / 1000000)); }
left() { echo $((limit - $(elapsed))); }
seconds_since() { # microsecond timestamp -> "12.345"
    local d=$(($(now_us) - $1))
    printf '%d.%03d' $((d / 1000000)) $((d % 1000000 / 1000))
}
say() { echo "[$(elapsed) s] $*" | tee -a "$results/gpu.log"; }
fail() { say "FAILED: $*"; exit 1; }
: >"$results/gpu.log"

if [ "$dry" = 1 ]; then
    device=cpu
    data=$root/data/cifar10-sample.tar.gz
    epochs_steps=1 epochs_full=1 tsne_full="[0, 1]"
    jobs_list=${JOBS:-1 2}
else
    device=cuda
    data=$kit/cifar10.tar.gz
    epochs_steps=2 epochs_full=50 tsne_full="[0, 20, 40, 50]"
    jobs_list=${JOBS:-1 4 11}
fi
[ -f "$kit/report.xz" ] || fail "no $kit/report.xz: run bench/gpu-prepare.sh on the CPU machine (--check for a dry run) and carry the kit"
[ -f "$data" ] || fail "no data at $data"

# The binary travels xz-compressed; any Python unpacks it where xz is missing.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=$work/report
t=$(now_us)
if command -v xz >/dev/null; then
    xz -dc "$kit/report.xz" >"$bin" || fail "xz could not unpack $kit/report.xz"
else
    "$python" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
        "$kit/report.xz" "$bin" || fail "$python could not unpack $kit/report.xz"
fi
chmod +x "$bin"
say "unpacked the binary ($(stat -c %s "$bin") bytes) in $(seconds_since "$t") s"

# The binary names the build machine's libtorch in its rpath; this machine's torch wins.
torch_lib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') ||
    fail "$python has no torch"
export LD_LIBRARY_PATH=$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if command -v ldd >/dev/null; then
    missing=$(ldd "$bin" 2>&1 | "$python" -c 'import sys; print(" ".join(l.split()[0] for l in sys.stdin if "not found" in l))')
    [ -z "$missing" ] || fail "the binary cannot load: $missing (LD_LIBRARY_PATH=$LD_LIBRARY_PATH)"
fi

version=$("$bin" --version) || fail "the binary does not run: $bin --version failed"
say "$version"
{
    echo "# GPU benchmark"
    echo
    echo "- commit: $(cat "$kit/commit" 2>/dev/null || git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "- machine: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi'), $(nproc) CPU cores"
    echo "- torch: $("$python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda, "available:", torch.cuda.is_available())')"
    echo "- binary: $version"
    echo "- command: bench/gpu.sh$([ "$dry" = 1 ] && echo " --dry-run"), limit ${limit} s, device $device, data $(basename "$data")"
} >"$results/summary.md"

# A scratch project per phase: the shipped experiments plus the benchmark's profiles.
project() { # name -> a fresh project folder
    local p=$work/$1
    mkdir -p "$p"
    cp -r "$root/experiments" "$p/"
    printf '\n[profiles.steps]\ndata = "%s"\nepochs = %d\ntsne_epochs = []\n' "$data" "$epochs_steps" >>"$p/experiments/report.toml"
    printf '\n[profiles.homework]\ndata = "%s"\nepochs = %d\ntsne_epochs = %s\n' "$data" "$epochs_full" "$tsne_full" >>"$p/experiments/report.toml"
    echo "$p"
}
# Runs the binary with a deadline: SIGINT at the limit (the build stops after the
# current batch and keeps finished runs), SIGKILL 30 s later.
run_until() { # seconds log args...
    local secs=$1 log=$2
    shift 2
    if command -v timeout >/dev/null; then
        timeout -s INT -k 30 "$secs" "$bin" "$@" >>"$log" 2>&1
    else
        "$bin" "$@" >>"$log" 2>&1 &
        local pid=$!
        (sleep "$secs" && kill -INT "$pid" 2>/dev/null && sleep 30 && kill -KILL "$pid" 2>/dev/null) &
        local watchdog=$!
        wait "$pid"
        local rc=$?
        kill "$watchdog" 2>/dev/null
        return $rc
    fi
}

# Phase 1: CUDA proof.
say "phase 1: proof ($device)"
p=$(project proof)
proof=$p
t=$(now_us)
run_until "$(left)" "$results/proof.log" --root "$p" build --profile steps --device "$device" --only model-1 ||
    fail "the proof run failed: see proof.log"
ran_on=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["device"])' "$p/out/runs/steps/model-1/main/seed-0/run.json") ||
    fail "no run.json after the proof run"
[ "$ran_on" = "$device" ] || fail "the proof run trained on $ran_on, not $device"
say "phase 1 done in $(seconds_since "$t") s: Model 1 trained on $ran_on"
echo "- proof: Model 1, $epochs_steps epochs, trained on \`$ran_on\` ($(seconds_since "$t") s with start-up)" >>"$results/summary.md"

# Phase 2: per-model ms/step at each --jobs.
if [ "${MPS:-0}" = 1 ] && command -v nvidia-cuda-mps-control >/dev/null; then
    nvidia-cuda-mps-control -d && say "CUDA MPS daemon started"
fi
best_jobs=1 best_wall=
phase2=$(now_us)
steps_table=$work/steps.json
echo "{}" >"$steps_table"
for jobs in $jobs_list; do
    [ "$(left)" -gt 60 ] || { say "phase 2: skipping --jobs $jobs, $(left) s left"; continue; }
    say "phase 2: 11 runs x $epochs_steps epochs at --jobs $jobs"
    p=$(project "steps-$jobs")
    t=$(now_us)
    if run_until "$(left)" "$results/steps.log" --root "$p" build --profile steps --device "$device" --jobs "$jobs"; then
        wall=$(seconds_since "$t")
        say "--jobs $jobs: $wall s"
        "$python" - "$p/out/runs/steps" "$jobs" "$wall" "$steps_table" <<'EOF'
import json, os, sys
runs, jobs, wall, table = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
t = json.load(open(table))
# out/runs/<profile>/<section>/<variant>/seed-0/: the homework's runs have one seed.
for section in sorted(os.listdir(runs)):
    for variant in sorted(os.listdir(os.path.join(runs, section))):
        d = os.path.join(runs, section, variant, "seed-0")
        if not os.path.isfile(os.path.join(d, "metrics.json")):
            continue
        spec = json.load(open(os.path.join(d, "spec.json")))
        batch = spec["train"]["batch_size"]
        last = json.load(open(os.path.join(d, "metrics.json")))["epochs"][-1]
        run = section if variant == "main" else f"{section}/{variant}"
        # The last epoch: the first also pays for cuDNN's and the allocator's warm-up.
        t.setdefault(run, {})[jobs] = 1000.0 * batch / last["images_per_second"]
t.setdefault("_wall", {})[jobs] = wall
json.dump(t, open(table, "w"))
EOF
        if [ -z "$best_wall" ] || "$python" -c "import sys; sys.exit(0 if $wall < $best_wall else 1)"; then
            best_wall=$wall best_jobs=$jobs
        fi
    else
        say "--jobs $jobs did not finish: see steps.log"
    fi
done
say "phase 2 done in $(seconds_since "$phase2") s; fastest: --jobs $best_jobs"
"$python" - "$steps_table" "$epochs_steps" >>"$results/summary.md" <<'EOF'
import json, sys
t, epochs = json.load(open(sys.argv[1])), sys.argv[2]
wall = t.pop("_wall", {})
jobs = sorted(wall, key=int)
print(f"\n## Phase 2: 11 runs x {epochs} epochs\n")
print("| ms per step (last epoch) | " + " | ".join(f"--jobs {j}" for j in jobs) + " |")
print("|---|" + "--:|" * len(jobs))
for run in t:
    print(f"| {run} | " + " | ".join(f"{t[run][j]:.2f}" if j in t[run] else "–" for j in jobs) + " |")
print("| **wall seconds, all 11** | " + " | ".join(f"{wall[j]:.1f}" for j in jobs) + " |")
EOF

# Phase 3: the homework at the fastest setting, until the limit less the minute that
# phase 4 (verify) may take.
secs=$(( $(left) - 60 ))
[ "$secs" -gt 30 ] || secs=30
say "phase 3: the homework ($epochs_full epochs) at --jobs $best_jobs, $secs s left"
p=$(project full)
t=$(now_us)
run_until "$secs" "$results/full.log" --root "$p" build --profile homework --device "$device" --jobs "$best_jobs"
rc=$?
wall=$(seconds_since "$t")
[ $rc = 0 ] && say "phase 3 done in $wall s: the homework built" || say "phase 3 stopped after $wall s (exit $rc): the finished runs are kept"
# Phase 4: report verify of the proof run (Model 1, the steps profile): retrained on the
# same device with the recorded switches, it must come back identical (CUDA with the
# deterministic switches) or say why not.
say "phase 4: verify of the proof run"
t=$(now_us)
run_until 60 "$results/verify.log" --root "$proof" verify --profile steps --only model-1 --device "$device"
rc=$?
outcome=$("$python" -c 'import json, sys; r = json.load(open(sys.argv[1]))["runs"][0]; print(r["outcome"], "-", r["reason"])' "$proof/out/verify.json" 2>/dev/null || echo "no verify.json")
say "phase 4 done in $(seconds_since "$t") s (exit $rc): $outcome"
echo "- verify of the proof run: $outcome ($(seconds_since "$t") s)" >>"$results/summary.md"
"$bin" --root "$p" render --profile homework >>"$results/full.log" 2>&1 || say "render failed: see full.log"
"$bin" --root "$p" list --profile homework >>"$results/full.log" 2>&1 || true
"$python" - "$p/out" "$results" "$wall" "$rc" "$best_jobs" "$epochs_full" >>"$results/summary.md" <<'EOF'
import json, os, sys, tarfile
out, results, wall, rc, jobs, epochs = sys.argv[1:]
print(f"\n## Phase 3: the homework, {epochs} epochs, --jobs {jobs}\n")
print(f"{'Finished' if rc == '0' else f'Stopped at the limit (exit {rc})'} after {float(wall):.1f} s.\n")
print("| run | status | epochs | train acc. | test acc. | seconds | cuDNN autotuner, conv / matmul precision |")
print("|---|---|--:|--:|--:|--:|---|")
runs = os.path.join(out, "runs", "homework")
# out/runs/<profile>/<section>/<variant>/seed-<n>/
for section in sorted(os.listdir(runs)) if os.path.isdir(runs) else []:
    for variant in sorted(os.listdir(os.path.join(runs, section))):
        for seed in sorted(os.listdir(os.path.join(runs, section, variant))):
            d = os.path.join(runs, section, variant, seed)
            if not os.path.isfile(os.path.join(d, "run.json")):
                continue
            rec = json.load(open(os.path.join(d, "run.json")))
            m = json.load(open(os.path.join(d, "metrics.json")))["epochs"]
            last = m[-1] if m else {}
            run = section if variant == "main" else f"{section}/{variant}"
            num = rec.get("numerics") or {}
            switches = (f"{'on' if num.get('cudnn_benchmark') else 'off'}, "
                        f"{num.get('cuda_conv_precision', '?')} / {num.get('cuda_matmul_precision', '?')}")
            state = rec['status']['state'] if isinstance(rec['status'], dict) else rec['status']
            print(f"| {run} {seed} | {state} | {len(m)} | "
                  f"{100 * last.get('train_accuracy', float('nan')):.2f} % | {100 * last.get('test_accuracy', float('nan')):.2f} % | "
                  f"{sum(e['seconds'] for e in m):.1f} | {switches} |")
manifest = os.path.join(out, "site", "figures", "figures.json")
if os.path.isfile(manifest):
    by_method = {}
    for s in json.load(open(manifest)).get("sections", []):
        for r in s.get("runs", []):
            for t in r.get("tsne", []):
                st = t["stats"]
                n, secs = by_method.get(st.get("method", "?"), (0, 0.0))
                by_method[st.get("method", "?")] = (n + 1, secs + st["seconds"])
    for method, (n, secs) in sorted(by_method.items()):
        print(f"\nt-SNE: {n} embeddings by {method}, {secs:.1f} s in all (each timed alone).")
site = os.path.join(out, "site")
if os.path.isdir(site):
    with tarfile.open(os.path.join(results, "site.tar.gz"), "w:gz") as t:
        t.add(site, arcname="site")
for name in ("report.md",):
    if os.path.isfile(os.path.join(out, name)):
        with open(os.path.join(out, name), "rb") as f, open(os.path.join(results, name), "wb") as g:
            g.write(f.read())
EOF
say "done in $(elapsed) s; results in $results: $(ls "$results" | tr '\n' ' ')"
