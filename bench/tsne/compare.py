"""t-SNE side by side: report (bhtsne), openTSNE and scikit-learn on the same vectors.

Run through bench/tsne/run.sh, which builds the Rust example and the Python venv. Each
tool runs in its own fresh process, the tools interleaved, `--repeats` times; the table
shows medians. Every embedding is scored by the same code here:

- 10-NN accuracy: leave-one-out, Euclidean in float64, majority vote, a tied vote going
  to the tied label met first walking outwards, equal distances to the lower index (the
  definition of `report::analyze::tsne::knn_accuracy`, whose own figure for our
  embedding is printed next to it as a cross-check);
- KL(P||Q) against one common P (exact 90 nearest neighbours, Gaussian bandwidths
  bisected to perplexity 30, symmetrised, as bhtsne and van der Maaten build it) with
  the normaliser Z summed exactly over all N^2 pairs, next to the KL each tool reports.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

PERPLEXITY = 30.0
ITERATIONS = 1000
EXAGGERATED = 250
THREADS = 2


def knn_accuracy(points, labels, k=10, block=500):
    """Leave-one-out k-NN accuracy (see the module docstring)."""
    x = np.asarray(points, dtype=np.float64)
    labels = np.asarray(labels)
    n = len(x)
    k = min(k, n - 1)
    margin = min(k + 8, n - 1)
    sq = (x * x).sum(1)
    hits = 0
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        d = distances2(x, rows, sq)
        d[np.arange(len(rows)), rows] = np.inf
        cand = np.argpartition(d, margin - 1, axis=1)[:, :margin]
        for r, i in enumerate(rows):
            c = cand[r]
            votes = labels[c[np.lexsort((c, d[r, c]))[:k]]]
            counts = np.bincount(votes, minlength=256)
            best = counts.max()
            hits += next(v for v in votes if counts[v] == best) == labels[i]
    return hits / n


def distances2(x, rows, sq):
    """Squared distances from x[rows] to every row of x, float64."""
    if x.shape[1] <= 4:
        return ((x[rows, None, :] - x[None, :, :]) ** 2).sum(-1)
    return np.maximum(sq[rows, None] + sq[None, :] - 2.0 * x[rows] @ x.T, 0.0)


def common_affinities(points, perplexity=PERPLEXITY, block=500):
    """Symmetric sparse P (as COO arrays) from the exact floor(3 * perplexity) nearest
    neighbours, Gaussian bandwidths bisected to the perplexity, (P + P^T) / 2N."""
    x = np.asarray(points, dtype=np.float64)
    n = len(x)
    k = min(n - 1, int(3 * perplexity))
    sq = (x * x).sum(1)
    idx = np.empty((n, k), dtype=np.int64)
    d2 = np.empty((n, k))
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        d = distances2(x, rows, sq)
        d[np.arange(len(rows)), rows] = np.inf
        cand = np.argpartition(d, k - 1, axis=1)[:, :k]
        cd = np.take_along_axis(d, cand, 1)
        order = np.argsort(cd, axis=1, kind="stable")
        idx[rows] = np.take_along_axis(cand, order, 1)
        d2[rows] = np.take_along_axis(cd, order, 1)
    # Bisection on beta for all rows at once: entropy H(P_i) = ln(perplexity).
    target = np.log(perplexity)
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    beta = np.ones(n)
    for _ in range(200):
        w = np.exp(-beta[:, None] * (d2 - d2[:, :1]))
        s = w.sum(1)
        h = np.log(s) + beta * (w * (d2 - d2[:, :1])).sum(1) / s
        too_flat = h > target
        lo = np.where(too_flat, beta, lo)
        hi = np.where(too_flat, hi, beta)
        beta = np.where(np.isinf(hi), beta * 2, (lo + hi) / 2)
        if np.all(np.abs(h - target) < 1e-10):
            break
    p = w / s[:, None]
    import scipy.sparse as sp

    cond = sp.csr_matrix((p.ravel(), idx.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n))
    joint = (cond + cond.T).tocoo()
    values = joint.data / joint.data.sum()
    return joint.row, joint.col, values


def exact_kl(rows, cols, values, y, block=500):
    """KL(P||Q) with Z summed exactly over all ordered pairs i != j (float64)."""
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    z = 0.0
    for start in range(0, n, block):
        d = ((y[start : start + block, None, :] - y[None, :, :]) ** 2).sum(-1)
        z += (1.0 / (1.0 + d)).sum() - min(block, n - start)  # minus the diagonal's 1s
    w = 1.0 / (1.0 + ((y[rows] - y[cols]) ** 2).sum(1))
    return float((values * (np.log(values) - np.log(w / z))).sum())


# --- workers: one tool, one fresh process, JSON on stdout -------------------------------


def work_opentsne(x, seed):
    import openTSNE

    t = time.perf_counter()
    e = openTSNE.TSNE(
        perplexity=PERPLEXITY,
        early_exaggeration_iter=EXAGGERATED,
        n_iter=ITERATIONS - EXAGGERATED,
        negative_gradient_method="fft",
        n_jobs=THREADS,
        random_state=seed,
    ).fit(x)
    seconds = time.perf_counter() - t
    return np.asarray(e), {"seconds": seconds, "kl_reported": float(e.kl_divergence)}


def work_sklearn(x, seed):
    from sklearn.manifold import TSNE

    t = time.perf_counter()
    model = TSNE(
        perplexity=PERPLEXITY,
        max_iter=ITERATIONS,
        init="pca",
        method="barnes_hut",
        angle=0.5,
        n_jobs=THREADS,
        random_state=seed,
    )
    y = model.fit_transform(x)
    seconds = time.perf_counter() - t
    return y, {
        "seconds": seconds,
        "kl_reported": float(model.kl_divergence_),
        "iterations_run": int(model.n_iter_),
    }


def worker(tool, points, out, seed):
    x = np.load(points).astype(np.float32)
    y, info = {"opentsne": work_opentsne, "sklearn": work_sklearn}[tool](x, seed)
    np.save(out, np.asarray(y, dtype=np.float32))
    print(json.dumps(info))


# --- driver ----------------------------------------------------------------------------


def run_tool(tool, args, out, seed):
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), RAYON_NUM_THREADS=str(THREADS))
    if tool == "report":
        cmd = [args.ours, args.points, args.labels, out, "--seed", str(seed)]
    else:
        cmd = [sys.executable, __file__, "--worker", tool, "--points", args.points,
               "--out", out, "--seed", str(seed)]
    t = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if res.returncode != 0:
        sys.exit(f"{tool} failed:\n{res.stderr}")
    info = json.loads(res.stdout.strip().splitlines()[-1])
    info["process_seconds"] = wall
    if tool == "report":
        info["kl_reported"] = info.pop("kl_divergence")
    return info


def median(xs):
    xs = [v for v in xs if v is not None]
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points")
    ap.add_argument("--labels")
    ap.add_argument("--ours", help="the tsne_bench example binary")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--command", default="")
    ap.add_argument("--worker")
    ap.add_argument("--out")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker, args.points, args.out, args.seed)

    import openTSNE
    import sklearn

    x = np.load(args.points)
    labels = np.load(args.labels)
    assert x.ndim == 2 and len(labels) == len(x), (x.shape, labels.shape)
    cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(
        ["lscpu"], capture_output=True, text=True).stdout.splitlines()
        if l.startswith("Model name")), "?")
    print(f"Machine: {cpu}, {os.cpu_count()} cores (lscpu), load before: "
          f"{os.getloadavg()[0]:.2f}")
    print(f"Command: {args.command}")
    print(f"Input: {args.points} ({x.shape[0]} x {x.shape[1]} {x.dtype}), labels {args.labels}")
    print(f"Settings: perplexity {PERPLEXITY:g}, {ITERATIONS} iterations "
          f"({EXAGGERATED} with early exaggeration 12), {THREADS} threads; "
          f"openTSNE {openTSNE.__version__} (FFT gradients, PCA init), "
          f"scikit-learn {sklearn.__version__} (Barnes-Hut, angle 0.5, PCA init), "
          f"numpy {np.__version__}; repeats: {args.repeats}, interleaved")
    print()

    tools = ["report", "opentsne", "sklearn"]
    results = {t: [] for t in tools}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            order = tools[rep % 3:] + tools[: rep % 3]  # rotate who goes first
            for tool in order:
                out = os.path.join(tmp, f"{tool}-{rep}.npy")
                info = run_tool(tool, args, out, seed=rep)
                info["embedding"] = np.load(out)
                results[tool].append(info)
                print(f"  repeat {rep + 1}, {tool}: {info['seconds']:.2f} s "
                      f"(process {info['process_seconds']:.2f} s)", flush=True)

    print("\nScoring every embedding with the same code...", flush=True)
    t = time.perf_counter()
    rows, cols, values = common_affinities(x)
    print(f"  common P: {len(values)} non-zeros ({time.perf_counter() - t:.1f} s)")
    for tool in tools:
        for info in results[tool]:
            info["knn10"] = knn_accuracy(info["embedding"], labels)
            info["kl_common"] = exact_kl(rows, cols, values, info["embedding"])
    knn_input = knn_accuracy(x, labels)

    names = {"report": "report (bhtsne, Rust)", "opentsne": "openTSNE", "sklearn": "scikit-learn"}
    print()
    print("| tool | wall s (median) | all tries, s | 10-NN acc. of embedding | "
          "KL, common P, exact Z | KL as reported by the tool |")
    print("|---|---|---|---|---|---|")
    for tool in tools:
        r = results[tool]
        secs = [i["seconds"] for i in r]
        fmt = lambda xs, f: " / ".join(f.format(v) for v in xs)
        print(f"| {names[tool]} | {median(secs):.2f} | {fmt(secs, '{:.2f}')} | "
              f"{median([i['knn10'] for i in r]):.4f} ({fmt([i['knn10'] for i in r], '{:.4f}')}) | "
              f"{median([i['kl_common'] for i in r]):.4f} | "
              f"{median([i['kl_reported'] for i in r]):.4f} |")
    print()
    print(f"10-NN accuracy in the input space ({x.shape[1]}-d): {knn_input:.4f}")
    ours = results["report"]
    print("report's own knn_accuracy (Rust) of its embeddings: "
          + ", ".join(f"{i['knn10_embedding']:.4f}" for i in ours)
          + f"; of the input: {ours[0]['knn10_input']:.4f}")
    print("report's coordinate digests (seeds 0..): "
          + ", ".join(i["coords_blake3"][:16] for i in ours))
    sk = results["sklearn"]
    print("scikit-learn iterations run: " + ", ".join(str(i["iterations_run"]) for i in sk))
    print("Seconds: the tool's fit call (neighbours, affinities, optimisation) timed inside "
          "its own process; 'process' adds start-up and file I/O. "
          "KL as reported: report = exact Z over bhtsne's P; openTSNE = its FFT estimate; "
          "scikit-learn = its Barnes-Hut estimate at its last check.")


if __name__ == "__main__":
    main()
