"""Training throughput: `report` against the PyTorch pipelines it replaces.

Runs, interleaved round by round, each model with each pipeline on the same data,
batch size, optimizer and epochs, and prints the medians as a Markdown table:

  dataloader      torchvision ImageFolder + transforms + DataLoader (bench/reference.py)
  tensor          the pure-tensor PyTorch loop (bench/reference.py)
  tensor-cl       the same with channels-last memory format
  report          `report build`, as shipped (channels-last, fp32)
  report-nchw     `report build` with memory_format = "contiguous"
  report-bf16     `report build` with precision = "bf16"

Round r uses seed r for every pipeline, so the spread of test accuracy across rounds is
the seed-to-seed noise that accuracy differences are judged against.
Usage: bench/run.sh training [--epochs N] [--rounds N] [--models ...] [--pipelines ...].
"""

import argparse
import json
import re
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def machine():
    model = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = int(open("/proc/meminfo").readline().split()[1]) // (1024 * 1024)
    return f"{model}, {os.cpu_count()} cores, {mem} GiB, {platform.system()} {platform.release()}"


def timed(cmd, env=None):
    """Runs cmd under GNU time; returns (stdout, peak RSS in MiB, wall seconds)."""
    out = subprocess.run(["/usr/bin/time", "-f", "RSS_KB %M"] + cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr[-3000:]}")
    rss = next(int(l.split()[1]) for l in out.stderr.splitlines() if l.startswith("RSS_KB"))
    return out.stdout, rss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--archive", default=os.path.join(ROOT, "..", "shared", "datasets", "cifar10-jpeg.tar.gz"))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--models", nargs="+", default=["model-5", "model-9"])
    ap.add_argument("--pipelines", nargs="+", default=["dataloader", "tensor", "tensor-cl", "report", "report-nchw"],
                    choices=["dataloader", "tensor", "tensor-cl", "report", "report-nchw", "report-bf16"])
    ap.add_argument("--python", required=True, help="python with torch 2.11.0 (+ torchvision on PYTHONPATH)")
    ap.add_argument("--report", default=os.path.join(ROOT, "target", "release", "report"))
    args = ap.parse_args()
    if not os.path.isfile(args.archive):
        sys.exit(f"no CIFAR-10 archive at {args.archive}: pass --archive PATH to the image-folder "
                 f".tar.gz (train/<class>/, test/<class>/ JPEGs), e.g. ../shared/datasets/cifar10-jpeg.tar.gz")
    work = os.path.join(ROOT, "target", "bench")
    os.makedirs(work, exist_ok=True)

    # Image folders for torchvision, extracted once.
    folder = os.path.join(work, "cifar10-jpeg")
    if not os.path.isdir(os.path.join(folder, "train")):
        with tarfile.open(args.archive) as t:
            t.extractall(work, filter="data")
    # A throwaway project: the shipped experiments plus a profile for this benchmark.
    project = os.path.join(work, "project")
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "experiments"), os.path.join(project, "experiments"))
    profiles = {"report": "", "report-nchw": 'memory_format = "contiguous"\n', "report-bf16": 'precision = "bf16"\n'}
    with open(os.path.join(project, "experiments", "report.toml"), "a") as f:
        for pipe, extra in profiles.items():
            f.write(f'\n[profiles.{pipe}]\ndata = "{os.path.abspath(args.archive)}"\nepochs = {args.epochs}\n'
                    f'tsne_epochs = [0]\nseeds = [0]\n{extra}')
    # Round r trains seed r: the benchmark profiles' `seeds`, rewritten each round.
    base = os.path.join(project, "experiments", "report.toml")
    base_text = open(base).read()

    results = {}
    pipelines = args.pipelines
    for r in range(args.rounds):
        seed = r
        with open(base, "w") as f:
            f.write(re.sub(r"(?m)^seeds = \[\d+\]$", f"seeds = [{seed}]", base_text))
        for model in args.models:
            # Rotate the order each round so no pipeline always runs first or last.
            k = r % len(pipelines)
            for pipe in pipelines[k:] + pipelines[:k]:
                if pipe.startswith("report"):
                    only = model + ("/sgd" if model == "model-9" else "")
                    _, rss = timed([args.report, "--root", project, "build", "--profile", pipe,
                                    "--only", only, "--force", "--device", "cpu"])
                    run = os.path.join(project, "out", "runs", pipe, *only.split("/"))
                    if "/" not in only:
                        run = os.path.join(run, "main")
                    run = os.path.join(run, f"seed-{seed}")  # one stored run per seed
                    m = json.load(open(os.path.join(run, "metrics.json")))["epochs"]
                    row = {"images_per_second": statistics.mean(e["images_per_second"] for e in m),
                           "epoch_seconds": statistics.mean(e["seconds"] for e in m),
                           "train_accuracy": m[-1]["train_accuracy"], "test_accuracy": m[-1]["test_accuracy"]}
                else:
                    flags = ["--channels-last"] if pipe.endswith("-cl") else []
                    out, rss = timed([args.python, os.path.join(ROOT, "bench", "reference.py"),
                                      "--pipeline", pipe.removesuffix("-cl"), "--model", model, "--data", folder,
                                      "--epochs", str(args.epochs), "--seed", str(seed)] + flags)
                    row = json.loads(out.strip().splitlines()[-1])
                row["rss_mib"] = rss
                results.setdefault((model, pipe), []).append(row)
                print(f"round {r + 1} (seed {seed}) {model} {pipe}: {row['images_per_second']:.0f} img/s, "
                      f"train {100 * row['train_accuracy']:.1f} %, test {100 * row['test_accuracy']:.1f} %, "
                      f"{rss:.0f} MiB", file=sys.stderr, flush=True)

    med = lambda model, pipe, k: statistics.median(x[k] for x in results[(model, pipe)])
    every = lambda model, pipe, k, f: " / ".join(f(x[k]) for x in results[(model, pipe)])
    print(f"Machine: {machine()}  ")
    print(f"Command: `bench/run.sh training --epochs {args.epochs} --rounds {args.rounds} --models {' '.join(args.models)} "
          f"--pipelines {' '.join(pipelines)}` ({time.strftime('%Y-%m-%d')}); medians of {args.rounds} interleaved "
          f"rounds (round r: seed r); {args.epochs} epoch(s) on all 50,000 training images, batch 64, "
          f"SGD lr 0.01 momentum 0.9, random crop.\n")
    with open(os.path.join(work, "training-results.json"), "w") as f:
        json.dump([{"model": m, "pipeline": p, "rounds": rows} for (m, p), rows in results.items()], f, indent=1)
    print("| model | pipeline | train images/s (median) | every round | epoch s | test acc % (median) | every round "
          "| train acc % (median) | peak RSS MiB | report speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model in args.models:
        ours = med(model, "report", "images_per_second") if "report" in pipelines else None
        for pipe in pipelines:
            ips = med(model, pipe, "images_per_second")
            ratio = "" if pipe == "report" or ours is None else f"{ours / ips:.2f}×"
            print(f"| {model} | {pipe} | {ips:,.0f} | {every(model, pipe, 'images_per_second', lambda v: f'{v:,.0f}')} | "
                  f"{med(model, pipe, 'epoch_seconds'):.1f} | {100 * med(model, pipe, 'test_accuracy'):.1f} | "
                  f"{every(model, pipe, 'test_accuracy', lambda v: f'{100 * v:.1f}')} | "
                  f"{100 * med(model, pipe, 'train_accuracy'):.1f} | {med(model, pipe, 'rss_mib'):,.0f} | {ratio} |")


if __name__ == "__main__":
    main()
