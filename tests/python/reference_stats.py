#!/usr/bin/env python3
"""scipy's bootstrap intervals, permutation p-values and Steiger's Z, for the statistics tests.

Usage: reference_stats.py OUT_DIR
Writes OUT_DIR/stats_cases.json:
  cases: [{name, x, y, resamples, permutations,
           ci: {plcc: [lo, hi], srcc: [...], krcc: [...]},   scipy.stats.bootstrap, 'percentile'
           ci_tol: {plcc: [tol_lo, tol_hi], ...},              what the tests allow (below)
           p: {plcc: p, srcc: p, krcc: p}}]                    scipy.stats.permutation_test
  steiger: [{r_ak, r_bk, r_ab, n, z, p}]                       Steiger (1980) eq. 15, written here

Written from scipy and the textbook formulas, not from the Rust code. The correlations are
vectorised numpy (scipy's resampling calls them on whole batches): Pearson from centred sums,
Spearman as Pearson of scipy.stats.rankdata (average ranks), Kendall tau-b from pair signs.

Monte-Carlo tolerance. Both sides estimate the same quantities with independent random draws.
A percentile endpoint from B = 10,000 resamples has a Monte-Carlo standard deviation sigma,
measured here over 8 seeds; the difference of two independent estimates has sd sigma * sqrt(2).
The tests allow ci_tol = max(0.02, 4 sqrt(2) sigma): 0.02 for smooth statistics (sigma is about
0.001 to 0.003 here), more where a statistic takes few values (Kendall's tau on 16 models moves
in steps of about 0.017, and a quantile can fall on either side of a step). A case needing more
than 0.06 is refused, so the allowance stays derived and tight rather than tuned.
A permutation p-value from B = 10,000 permutations has sd sqrt(p (1 - p) / B) <= 0.005; the
difference of two has sd <= 0.0071, and the tests allow 0.03 (over 4 sd).
"""
import json, math, os, sys
import numpy as np
from scipy import stats

B = 10_000
MAX_TOL = 0.06


def pearson(x, y, axis=-1):
    xm = x - x.mean(axis=axis, keepdims=True)
    ym = y - y.mean(axis=axis, keepdims=True)
    return (xm * ym).sum(axis=axis) / np.sqrt((xm**2).sum(axis=axis) * (ym**2).sum(axis=axis))


def spearman(x, y, axis=-1):
    return pearson(stats.rankdata(x, axis=axis), stats.rankdata(y, axis=axis), axis=axis)


def kendall(x, y, axis=-1):
    x = np.moveaxis(x, axis, -1)
    y = np.moveaxis(y, axis, -1)
    i, j = np.triu_indices(x.shape[-1], 1)
    sx = np.sign(x[..., i] - x[..., j])
    sy = np.sign(y[..., i] - y[..., j])
    return (sx * sy).sum(-1) / np.sqrt((sx != 0).sum(-1) * (sy != 0).sum(-1))


STATS = {"plcc": pearson, "srcc": spearman, "krcc": kendall}


def interval(x, y, f, seed):
    r = stats.bootstrap((x, y), f, paired=True, vectorized=True, n_resamples=B, batch=1000,
                        method="percentile", confidence_level=0.95,
                        rng=np.random.default_rng(seed))
    return [float(r.confidence_interval.low), float(r.confidence_interval.high)]


def p_value(x, y, f, seed):
    r = stats.permutation_test((x, y), f, permutation_type="pairings", vectorized=True,
                               n_resamples=B, batch=1000, alternative="two-sided",
                               rng=np.random.default_rng(seed))
    return float(r.pvalue)


def case(name, x, y):
    ci, tol, p = {}, {}, {}
    for key, f in STATS.items():
        ends = np.array([interval(x, y, f, 100 + s) for s in range(8)])
        ci[key] = ends[0].tolist()
        sd = ends.std(axis=0, ddof=1)
        tol[key] = np.maximum(0.02, 4 * math.sqrt(2) * sd).tolist()
        assert max(tol[key]) <= MAX_TOL, f"{name} {key}: Monte-Carlo sd {sd} too large"
        p[key] = p_value(x, y, f, 7)
    return {"name": name, "x": x.tolist(), "y": y.tolist(), "resamples": B, "permutations": B,
            "ci": ci, "ci_tol": tol, "p": p}


def steiger(r_ak, r_bk, r_ab, n):
    """Steiger (1980), eq. 15, with the pooled correlation r_bar = (r_ak + r_bk) / 2."""
    rb = (r_ak + r_bk) / 2
    s = (r_ab * (1 - 2 * rb**2) - 0.5 * rb**2 * (1 - 2 * rb**2 - r_ab**2)) / (1 - rb**2) ** 2
    z = (math.atanh(r_ak) - math.atanh(r_bk)) * math.sqrt(n - 3) / math.sqrt(2 - 2 * s)
    return {"r_ak": r_ak, "r_bk": r_bk, "r_ab": r_ab, "n": n, "z": z,
            "p": float(2 * stats.norm.sf(abs(z)))}


rng = np.random.default_rng(11)
# A moderate correlation on 20 models.
d1 = rng.uniform(0, 0.3, 20)
x1 = -d1 + rng.normal(0, 0.15, 20)
# A sweep: 18 models near the reference and 6 collapsed ones, a similarity that falls with drop.
d2 = np.concatenate([rng.uniform(-0.01, 0.04, 18), rng.uniform(0.3, 0.8, 6)])
x2 = 1 - 0.8 * d2 + rng.normal(0, 0.08, 24)
# A weak one on 16 models.
d3 = rng.uniform(0, 0.2, 16)
x3 = 0.3 * d3 + rng.normal(0, 0.06, 16)

out = {
    "cases": [case("moderate", x1, d1), case("sweep", x2, d2), case("weak", x3, d3)],
    "steiger": [steiger(*a) for a in [(0.7, 0.5, 0.6, 50), (-0.2, 0.45, 0.1, 24),
                                      (0.95, 0.9, 0.85, 24), (0.3, 0.31, -0.4, 12)]],
}
with open(os.path.join(sys.argv[1], "stats_cases.json"), "w") as f:
    json.dump(out, f, indent=1)
