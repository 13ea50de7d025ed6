#!/usr/bin/env python3
"""Reference values for the unit tests of src/stats/: writes src/stats/fixtures.rs.

Every number the statistics layer is tested against comes from here, computed by scipy
and statsmodels (the versions are pinned below and written into the file):

- summaries: numpy's mean and std(ddof=1), scipy's t interval of the mean;
- two samples: scipy.stats.ttest_ind(equal_var=False) and ttest_rel, two-sided and
  one-sided, with their confidence intervals;
- the bootstrap: the very same resamples as the Rust code draws (SplitMix64, the index
  as the high 64 bits of next_u64() * n), their percentile interval by scipy.stats.quantile
  and their BCa interval by scipy's own _bca_interval;
- Holm: statsmodels.stats.multitest.multipletests(method="holm");
- effect sizes: Hedges' g from scipy.special.gamma, the probability of improvement as
  scipy.stats.mannwhitneyu's U / (n m), its percentile interval over the same resamples;
- power: scipy.stats.nct for the one-sided and two-sided t-tests, scipy.integrate.quad
  of the TOST rejection probability for equivalence; seeds needed by statsmodels'
  TTestIndPower / TTestPower.solve_power (and a search over the quad power for TOST).

Run it in a virtual environment with the pinned versions:

    python3 -m venv /tmp/statsref
    /tmp/statsref/bin/pip install scipy==1.17.1 numpy==2.4.6 statsmodels==0.15.0
    /tmp/statsref/bin/python bench/stats/reference.py      # rewrites src/stats/fixtures.rs
"""

import math
import os
import subprocess
import sys
import warnings

import numpy as np
import scipy
import statsmodels
from scipy import integrate, special, stats
from scipy.stats._resampling import _bca_interval
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestIndPower, TTestPower
from statsmodels.tools.sm_exceptions import ConvergenceWarning

# The solver warns where it finds no root below 2 seeds; solve() settles those itself.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

PINNED = {"scipy": "1.17.1", "numpy": "2.4.6", "statsmodels": "0.15.0"}
for mod, want in [(scipy, PINNED["scipy"]), (np, PINNED["numpy"]), (statsmodels, PINNED["statsmodels"])]:
    if mod.__version__ != want:
        sys.exit(f"{mod.__name__} {mod.__version__}: this script is pinned to {want}")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "src", "stats", "fixtures.rs")
MASK = (1 << 64) - 1


class SplitMix64:
    """splitmix64.c, as rand_xoshiro's SplitMix64 seeded with seed_from_u64."""

    def __init__(self, seed):
        self.x = seed & MASK

    def next_u64(self):
        self.x = (self.x + 0x9E3779B97F4A7C15) & MASK
        z = self.x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def index(self, n):
        return (self.next_u64() * n) >> 64


def seq_mean(x, axis=-1):
    """The mean summed in order along the last axis, as the Rust code sums."""
    x = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    s = np.zeros(x.shape[:-1])
    for i in range(x.shape[-1]):
        s = s + x[..., i]
    return s / x.shape[-1]


def resampled(samples, resamples, seed, statistic):
    """statistic of each resample, drawn sample by sample in the Rust order."""
    rng = SplitMix64(seed)
    out = []
    for _ in range(resamples):
        drawn = []
        for s in samples:
            drawn.append([s[rng.index(len(s))] for _ in range(len(s))])
        out.append(statistic(*drawn))
    return np.sort(np.array(out))


def rust(v):
    """A Python value as a Rust literal."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not math.isfinite(v):
            return {"nan": "f64::NAN", "inf": "f64::INFINITY", "-inf": "f64::NEG_INFINITY"}[repr(v)]
        r = repr(v)
        return r if ("." in r or "e" in r) else r + ".0"
    if isinstance(v, str):
        return '"' + v + '"'
    if isinstance(v, tuple):
        return "(" + ", ".join(rust(x) for x in v) + ")"
    if isinstance(v, list):
        return "&[" + ", ".join(rust(x) for x in v) + "]"
    if v is None:
        return "None"
    raise TypeError(v)


class Raw(str):
    """Rust source written as is."""


def struct(name, fields):
    parts = []
    for k, v in fields.items():
        parts.append(f"{k}: {v if isinstance(v, Raw) else rust(v)}")
    return f"{name} {{ " + ", ".join(parts) + " }"


# --- the cases -------------------------------------------------------------------------

# Final test accuracies on 1,000 test images (0.1 pp steps), 2 to 7 seeds, and losses.
PAIRS = [
    ("two seeds of Model 5 and Model 7", [0.697, 0.718], [0.711, 0.714]),
    ("three seeds, better by Welch", [0.512, 0.498, 0.530], [0.471, 0.489, 0.466]),
    ("four against three seeds", [0.61, 0.64, 0.59, 0.62], [0.55, 0.60, 0.58]),
    ("equal means", [0.5, 0.6, 0.7], [0.6, 0.5, 0.7]),
    ("five paired seeds", [0.702, 0.711, 0.693, 0.700, 0.704], [0.700, 0.710, 0.690, 0.698, 0.702]),
    ("three seeds of a loss", [1.234, 1.301, 1.187], [1.402, 1.356, 1.380]),
    ("seven seeds", [0.61, 0.64, 0.59, 0.62, 0.66, 0.60, 0.63], [0.55, 0.60, 0.58, 0.57, 0.61, 0.56, 0.59]),
]

SUMMARY_VALUES = [
    ("two seeds", [0.697, 0.718]),
    ("three seeds", [0.59, 0.60, 0.61]),
    ("five seeds", [0.702, 0.711, 0.693, 0.700, 0.704]),
    ("diverged seeds left out", [0.512, float("nan"), 0.498, 0.530, float("inf")]),
    ("a loss", [1.234, 1.301, 1.187]),
]


def summaries():
    out = []
    for name, values in SUMMARY_VALUES:
        v = np.array([x for x in values if math.isfinite(x)])
        n = len(v)
        m, sd = float(seq_mean(v)), float(np.std(v, ddof=1))
        lo, hi = stats.t.interval(0.95, n - 1, loc=m, scale=sd / math.sqrt(n))
        out.append(struct("SummaryCase", {
            "name": name, "values": values, "n": n, "excluded": len(values) - n,
            "mean": m, "std": sd, "interval": (float(lo), float(hi)),
        }))
    return out


def test_ref(res, difference):
    ci = res.confidence_interval(0.95)
    return {"difference": difference, "df": float(res.df), "p_value": float(res.pvalue),
            "interval": (float(ci.low), float(ci.high))}


def two_sample():
    out = []
    for name, a, b in PAIRS:
        w = stats.ttest_ind(a, b, equal_var=False)
        welch = test_ref(w, float(seq_mean(a) - seq_mean(b)))
        welch["p_greater"] = float(stats.ttest_ind(a, b, equal_var=False, alternative="greater").pvalue)
        welch["p_less"] = float(stats.ttest_ind(a, b, equal_var=False, alternative="less").pvalue)
        if len(a) == len(b):
            p = stats.ttest_rel(a, b)
            d = [x - y for x, y in zip(a, b)]
            paired = test_ref(p, float(seq_mean(d)))
            paired["p_greater"] = float(stats.ttest_rel(a, b, alternative="greater").pvalue)
            paired["p_less"] = float(stats.ttest_rel(a, b, alternative="less").pvalue)
            paired_src = Raw("Some(" + struct("TestRef", paired) + ")")
        else:
            paired_src = Raw("None")
        out.append(struct("TwoSampleCase", {
            "name": name, "a": a, "b": b,
            "welch": Raw(struct("TestRef", welch)), "paired": paired_src,
        }))
    return out


def bca(samples, theta_b, statistic):
    """scipy's BCa levels of the 95 % interval for these resamples, and z0, a."""
    data = [np.asarray(s, dtype=float) for s in samples]
    alpha_1, alpha_2, a_hat = _bca_interval(
        data, statistic, axis=-1, alpha=0.025, theta_hat_b=theta_b, batch=None, xp=np)
    theta_hat = statistic(*data, axis=-1)
    z0 = special.ndtri(((theta_b < theta_hat).sum() + (theta_b <= theta_hat).sum()) / (2 * len(theta_b)))
    return float(alpha_1), float(alpha_2), float(z0), float(a_hat)


def bootstrap():
    cases = [
        ("mean of five seeds", [0.512, 0.498, 0.530, 0.521, 0.505], [], 10000, 0),
        ("mean of three seeds", [0.59, 0.60, 0.63], [], 10000, 1),
        ("difference of five and five", PAIRS[4][1], PAIRS[4][2], 10000, 0),
        ("difference of four and three", PAIRS[2][1], PAIRS[2][2], 2000, 42),
        ("difference of seven and seven", PAIRS[6][1], PAIRS[6][2], 10000, 7),
        ("paired differences of five", [x - y for x, y in zip(PAIRS[4][1], PAIRS[4][2])], [], 10000, 3),
    ]
    out = []
    for name, a, b, resamples, seed in cases:
        samples = [a] if not b else [a, b]

        def stat(*s, axis=-1):
            return seq_mean(s[0], axis) - seq_mean(s[1], axis) if len(s) == 2 else seq_mean(s[0], axis)

        theta_b = resampled(samples, resamples, seed, lambda *s: float(stat(*[np.array(x) for x in s])))
        for kind in ("Percentile", "Bca"):
            if kind == "Bca":
                lo_q, hi_q, z0, accel = bca(samples, theta_b, stat)
            else:
                lo_q, hi_q, z0, accel = 0.025, 0.975, 0.0, 0.0
            lo, hi = stats.quantile(theta_b, [lo_q, hi_q])
            out.append(struct("BootstrapCase", {
                "name": f"{name}, {kind.lower()}", "kind": Raw(f"BootstrapKind::{kind}"),
                "resamples": resamples, "seed": seed, "a": a, "b": b,
                "interval": (float(lo), float(hi)), "z0": z0, "accel": accel,
            }))
        # The same algorithm with scipy's own generator lands close: a check that the
        # cases above exercise scipy's bootstrap, not something else.
        own = stats.bootstrap(tuple(np.array(s) for s in samples), stat, n_resamples=resamples,
                              method="BCa", rng=np.random.default_rng(seed))
        lo_q, hi_q, _, _ = bca(samples, theta_b, stat)
        ours = stats.quantile(theta_b, [lo_q, hi_q])
        theirs = (own.confidence_interval.low, own.confidence_interval.high)
        spread = float(np.std(theta_b))
        assert abs(ours[0] - theirs[0]) < 0.25 * spread and abs(ours[1] - theirs[1]) < 0.25 * spread, \
            (name, ours, theirs)
    return out


def holm():
    families = [
        [0.01, 0.04, 0.03, 0.005],
        [0.2, 0.001, 0.049, 0.049, 0.7],
        [0.03, 0.5],
        [0.04],
        [0.012, 0.3, 0.0002, 0.09, 0.026, 0.5, 0.041, 0.8, 0.0047, 0.15, 0.6, 0.033, 0.07, 0.99],
    ]
    return [struct("HolmCase", {"p": p, "adjusted": [float(x) for x in multipletests(p, method="holm")[1]]})
            for p in families]


def hedges(a, b):
    na, nb = len(a), len(b)
    df = na + nb - 2
    pooled = math.sqrt(((na - 1) * np.var(a, ddof=1) + (nb - 1) * np.var(b, ddof=1)) / df)
    j = special.gamma(df / 2) / (math.sqrt(df / 2) * special.gamma((df - 1) / 2))
    return float(j * (seq_mean(a) - seq_mean(b)) / pooled)


def effects():
    out = []
    for (name, a, b), (resamples, seed) in zip(PAIRS, [(2000, 3), (10000, 0), (5000, 11), (2000, 5),
                                                      (10000, 0), (2000, 9), (10000, 21)]):
        pi = float(stats.mannwhitneyu(a, b, alternative="greater").statistic / (len(a) * len(b)))

        def improvement(x, y):
            return float(stats.mannwhitneyu(x, y, alternative="greater").statistic / (len(x) * len(y)))

        theta_b = resampled([a, b], resamples, seed, improvement)
        lo, hi = stats.quantile(theta_b, [0.025, 0.975])
        out.append(struct("EffectCase", {
            "name": name, "a": a, "b": b, "hedges_g": hedges(a, b), "resamples": resamples,
            "seed": seed, "pi": pi, "pi_interval": (float(lo), float(hi)),
        }))
    return out


def se_df(sd, n, design):
    return (sd * math.sqrt(2 / n), 2 * n - 2) if design == "Independent" else (sd / math.sqrt(n), n - 1)


def tost_power(delta, sd, n, design, alpha, margin):
    """P(both one-sided tests reject), integrated over the chi-square of the SE."""
    se, df = se_df(sd, n, design)
    c = stats.t.ppf(1 - alpha, df)
    k, mu = margin / se, delta / se
    v_max = df * (k / c) ** 2

    def f(v):
        s = math.sqrt(v / df)
        return stats.chi2.pdf(v, df) * max(0.0, stats.norm.cdf(k - c * s - mu) - stats.norm.cdf(-k + c * s - mu))

    points = [df] if df < v_max else None
    value, _ = integrate.quad(f, 0, v_max, points=points, epsabs=1e-15, epsrel=1e-13, limit=500)
    return value


def quad_power(kind, bound, delta, sd, n, design, alpha):
    """The rejection probability integrated over the chi-square of the SE (quad)."""
    se, df = se_df(sd, n, design)
    two = kind == "Differ"
    c = stats.t.ppf(1 - alpha / 2 if two else 1 - alpha, df)
    lam = (delta - bound) / se

    def reject(s):
        if kind == "Above":
            return stats.norm.cdf(lam - c * s)
        if kind == "Below":
            return stats.norm.cdf(-lam - c * s)
        return stats.norm.cdf(lam - c * s) + stats.norm.cdf(-lam - c * s)

    def f(v):
        return stats.chi2.pdf(v, df) * reject(math.sqrt(v / df))

    # The chi-square's mass sits around df: split there so quad cannot miss it.
    cut = 3 * df + 50
    head, _ = integrate.quad(f, 0, cut, points=[df], epsabs=1e-15, epsrel=1e-13, limit=500)
    tail, _ = integrate.quad(f, cut, math.inf, epsabs=1e-15, epsrel=1e-13, limit=500)
    return head + tail


def t_power(kind, bound, delta, sd, n, design, alpha):
    """scipy's noncentral t for the t-tests, checked against quad_power; quad_power
    alone where the noncentral t gives no number (nan for df = 1 and a large λ)."""
    if kind == "Within":
        return tost_power(delta, sd, n, design, alpha, bound)
    se, df = se_df(sd, n, design)
    lam = (delta - bound) / se
    if kind == "Differ":
        c = stats.t.ppf(1 - alpha / 2, df)
        nct = float(stats.nct.sf(c, df, lam) + stats.nct.cdf(-c, df, lam))
    else:
        c = stats.t.ppf(1 - alpha, df)
        nct = float(stats.nct.sf(c, df, lam) if kind == "Above" else stats.nct.cdf(-c, df, lam))
    quad = quad_power(kind, bound, delta, sd, n, design, alpha)
    if not math.isfinite(nct):
        return quad
    assert abs(nct - quad) < 1e-8, (kind, bound, delta, sd, n, design, nct, quad)
    return nct


POWER_CASES = [
    ("better, five independent seeds", "Above", 0.0, 0.01, 0.01, 5, "Independent"),
    ("better, two paired seeds", "Above", 0.0, 0.012, 0.01, 2, "Paired"),
    ("not worse by 1 pp, paired", "Above", -0.01, -0.002, 0.008, 6, "Paired"),
    ("worse, three independent seeds", "Below", 0.0, -0.02, 0.015, 3, "Independent"),
    ("not better by 1 pp, independent", "Below", 0.01, 0.003, 0.006, 8, "Independent"),
    ("any difference, ten independent seeds", "Differ", 0.0, 0.008, 0.012, 10, "Independent"),
    ("any difference, four paired seeds", "Differ", 0.0, -0.01, 0.009, 4, "Paired"),
    ("same within 1 pp, five paired seeds", "Within", 0.01, 0.002, 0.004, 5, "Paired"),
    ("same within 1 pp, three independent seeds", "Within", 0.01, 0.0, 0.005, 3, "Independent"),
    ("same within 2 pp, twelve independent seeds", "Within", 0.02, 0.006, 0.015, 12, "Independent"),
]


def question(kind, bound):
    if kind == "Differ":
        return Raw("Question::Differ")
    return Raw(f"Question::Claim(Hypothesis::{kind}({rust(float(bound))}))")


def power_cases():
    out = []
    for name, kind, bound, delta, sd, n, design in POWER_CASES:
        out.append(struct("PowerCase", {
            "name": name, "question": question(kind, bound), "delta": delta, "sd": sd, "n": n,
            "design": Raw(f"Design::{design}"), "alpha": 0.05,
            "power": t_power(kind, bound, delta, sd, n, design, 0.05),
        }))
    return out


def solve(kind, bound, delta, sd, design, alpha):
    """Seeds per side for 80 % power: statsmodels where it has the test, else a search."""
    if kind == "Within":
        for n in range(2, 1001):
            if tost_power(delta, sd, n, design, alpha, bound) >= 0.8:
                return n
        return None
    effect = (delta - bound) / sd
    alternative = {"Above": "larger", "Below": "smaller", "Differ": "two-sided"}[kind]
    solver = TTestIndPower() if design == "Independent" else TTestPower()
    solved = solver.solve_power(effect_size=effect, alpha=alpha, power=0.8, alternative=alternative)
    # Below about 2 seeds the solver finds no root; the search below settles it.
    n = max(math.ceil(solved), 2) if math.isfinite(solved) else 2
    # solve_power's root lies within its tolerance: settle the integer by the power itself.
    while t_power(kind, bound, delta, sd, n, design, alpha) < 0.8:
        n += 1
    while n > 2 and t_power(kind, bound, delta, sd, n - 1, design, alpha) >= 0.8:
        n -= 1
    return n


SEEDS_CASES = [
    ("better by 1 pp, SD 1 pp, independent", "Above", 0.0, 0.01, 0.01, "Independent"),
    ("better by 0.5 pp, SD 1.5 pp, independent", "Above", 0.0, 0.005, 0.015, "Independent"),
    ("better by 1 pp, paired SD 0.6 pp", "Above", 0.0, 0.01, 0.006, "Paired"),
    ("worse by 2 pp, SD 1 pp, independent", "Below", 0.0, -0.02, 0.01, "Independent"),
    ("not worse by 1 pp at -0.2 pp, paired SD 0.8 pp", "Above", -0.01, -0.002, 0.008, "Paired"),
    ("a 0.8 pp difference, SD 1.2 pp, two-sided", "Differ", 0.0, 0.008, 0.012, "Independent"),
    ("a 3 pp difference, SD 0.5 pp, two-sided paired", "Differ", 0.0, 0.03, 0.005, "Paired"),
    ("same within 1 pp at 0.2 pp, paired SD 0.4 pp", "Within", 0.01, 0.002, 0.004, "Paired"),
    ("same within 1 pp at 0.5 pp, SD 1 pp, independent", "Within", 0.01, 0.005, 0.01, "Independent"),
]


def seeds_cases():
    out = []
    for name, kind, bound, delta, sd, design in SEEDS_CASES:
        n = solve(kind, bound, delta, sd, design, 0.05)
        out.append(struct("SeedsCase", {
            "name": name, "question": question(kind, bound), "delta": delta, "sd": sd,
            "design": Raw(f"Design::{design}"), "alpha": 0.05,
            "seeds": Raw(f"SeedsNeeded::Seeds({n})" if n else "SeedsNeeded::Beyond(1000)"),
        }))
    return out


HEADER = '''//! Reference values of the statistics' unit tests, written by `bench/stats/reference.py`
//! with scipy {scipy}, numpy {numpy} and statsmodels {statsmodels}: do not edit by hand,
//! run that script (its docstring says how) and commit what it writes.

#![allow(missing_docs, unreachable_pub, clippy::excessive_precision, clippy::approx_constant)]

use super::decide::Hypothesis;
use super::method::BootstrapKind;
use super::power::{{Design, Question, SeedsNeeded}};

pub struct SummaryCase {{
    pub name: &'static str,
    pub values: &'static [f64],
    pub n: usize,
    pub excluded: usize,
    pub mean: f64,
    pub std: f64,
    pub interval: (f64, f64),
}}

#[derive(Debug)]
pub struct TestRef {{
    pub difference: f64,
    pub df: f64,
    pub p_value: f64,
    pub interval: (f64, f64),
    pub p_greater: f64,
    pub p_less: f64,
}}

pub struct TwoSampleCase {{
    pub name: &'static str,
    pub a: &'static [f64],
    pub b: &'static [f64],
    pub welch: TestRef,
    pub paired: Option<TestRef>,
}}

pub struct BootstrapCase {{
    pub name: &'static str,
    pub kind: BootstrapKind,
    pub resamples: usize,
    pub seed: u64,
    pub a: &'static [f64],
    /// Empty: the bootstrap of `a`'s mean.
    pub b: &'static [f64],
    pub interval: (f64, f64),
    pub z0: f64,
    pub accel: f64,
}}

pub struct HolmCase {{
    pub p: &'static [f64],
    pub adjusted: &'static [f64],
}}

pub struct EffectCase {{
    pub name: &'static str,
    pub a: &'static [f64],
    pub b: &'static [f64],
    pub hedges_g: f64,
    pub resamples: usize,
    pub seed: u64,
    pub pi: f64,
    pub pi_interval: (f64, f64),
}}

pub struct PowerCase {{
    pub name: &'static str,
    pub question: Question,
    pub delta: f64,
    pub sd: f64,
    pub n: usize,
    pub design: Design,
    pub alpha: f64,
    pub power: f64,
}}

impl PowerCase {{
    pub fn question(&self) -> Question {{
        self.question
    }}
}}

pub struct SeedsCase {{
    pub name: &'static str,
    pub question: Question,
    pub delta: f64,
    pub sd: f64,
    pub design: Design,
    pub alpha: f64,
    pub seeds: SeedsNeeded,
}}

impl SeedsCase {{
    pub fn question(&self) -> Question {{
        self.question
    }}
}}
'''


def table(name, ty, items):
    body = "".join(f"    {item},\n" for item in items)
    return f"\npub const {name}: &[{ty}] = &[\n{body}];\n"


def main():
    text = HEADER.format(**PINNED)
    text += table("SUMMARIES", "SummaryCase", summaries())
    text += table("TWO_SAMPLE", "TwoSampleCase", two_sample())
    text += table("BOOTSTRAP", "BootstrapCase", bootstrap())
    text += table("HOLM", "HolmCase", holm())
    text += table("EFFECTS", "EffectCase", effects())
    text += table("POWER", "PowerCase", power_cases())
    text += table("SEEDS", "SeedsCase", seeds_cases())
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, OUT)
    # The file is committed formatted, as `cargo fmt --check` wants it.
    subprocess.run(["rustfmt", "--edition", "2024", OUT], check=False)
    print(f"wrote {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
