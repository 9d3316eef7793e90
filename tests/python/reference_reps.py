#!/usr/bin/env python3
"""An independent numpy/scipy implementation of docs/DESIGN.md's numbers, for the end-to-end tests.

Usage: reference_reps.py OUT_DIR [--tokens]
With --tokens the files hold the same samples as language-model token arrays: each layer
(N, ...) flattened to (N, D) and cut into 4 sequences of 17, 9, 12 and 10 tokens, right-padded with garbage
tokens to (4, 17, D), with an `attention_mask` (4, 17) and per-token `labels` (-100 on padding);
expected.json is unchanged, since `native analyze --tokens` must see exactly the N real tokens.
Writes per-model activation files with np.savez / np.savez_compressed (ref.npz, prune.npz,
quant.npz, coreset.npz, noisy.npz) and expected.json: what `native analyze ... --format json`
must report. Written from the definitions, not from the Rust code: singular values come from
np.linalg.svd (not a Gram eigendecomposition), CKA from explicit centred Gram matrices,
correlations from scipy.stats.
"""
import json, os, sys
import numpy as np
from scipy import stats

out = sys.argv[1]
tokens = "--tokens" in sys.argv[2:]
rng = np.random.default_rng(7)
N, C, H, W, K = 48, 4, 3, 3, 5
y = np.arange(N) % K
proto = rng.normal(size=(K, C, H, W)) * 2.0
conv_ref = np.maximum(proto[y] + rng.normal(size=(N, C, H, W)), 0)
w_fc = rng.normal(size=(C * H * W, K)) * 0.3
logits_ref = conv_ref.reshape(N, -1) @ w_fc + np.eye(K)[y] * 3.0

def variant(kind):
    c = conv_ref.copy()
    if kind == "prune":      # kill a third of the channels
        c[:, ::3] = 0.0
    elif kind == "quant":    # coarse rounding
        c = np.round(c * 2) / 2
    elif kind == "coreset":  # weaker class structure
        c = 0.5 * c + rng.normal(size=c.shape)
    elif kind == "noisy":
        c = c + 1.5 * rng.normal(size=c.shape)
    lg = c.reshape(N, -1) @ w_fc + np.eye(K)[y] * (3.0 if kind != "coreset" else 1.0)
    return c, lg

models = {"ref": (conv_ref, logits_ref)}
for k in ["prune", "quant", "coreset", "noisy"]:
    models[k] = variant(k)
acc = {name: float((lg.argmax(1) == y).mean()) for name, (_, lg) in models.items()}
LENGTHS = [17, 9, 12, 10]           # sequences of these many real tokens (sum N), right-padded
MASK = np.zeros((len(LENGTHS), max(LENGTHS)), dtype=bool)
for b, n_b in enumerate(LENGTHS):
    MASK[b, :n_b] = True
assert MASK.sum() == N
TOKEN_ROWS = np.flatnonzero(MASK.reshape(-1))

def as_tokens(a):
    """(N, ...) -> (B, T, D) with the N rows at the mask's real tokens, garbage elsewhere."""
    flat = a.reshape(N, -1)
    filler = -100 if flat.dtype.kind == "i" else 1e3
    out = np.full((MASK.size, flat.shape[1]), filler, dtype=flat.dtype)
    out[TOKEN_ROWS] = flat
    if flat.dtype.kind == "i":
        return out.reshape(MASK.shape)          # labels: (B, T)
    return out.reshape(MASK.shape + (flat.shape[1],))

# Give three models an explicit accuracy; the others get it from labels and logits.
for i, (name, (c, lg)) in enumerate(models.items()):
    arrays = {"conv": c.astype(np.float32), "logits": lg.astype(np.float64 if i % 2 else np.float32)}
    if name == "ref":
        arrays["labels"] = y.astype(np.int64)
    if tokens:
        arrays = {k: as_tokens(v) for k, v in arrays.items()}
        arrays["attention_mask"] = MASK.astype(np.int64)
    if i % 2 == 0:
        arrays["accuracy"] = np.float64(acc[name])
    (np.savez_compressed if i % 2 else np.savez)(os.path.join(out, f"{name}.npz"), **arrays)

def as_matrix(a):
    return np.asarray(a, dtype=np.float64).reshape(N, -1)

def raw(a):
    x = as_matrix(a)
    xc = x - x.mean(0)
    s = np.linalg.svd(xc, compute_uv=False)
    # SVD's rounding-level singular values (~1e-16 s_1) fall below both thresholds (p > 1e-12,
    # lambda > 1e-12 lambda_1) by themselves, so no clean-up is needed here.
    tot = s.sum()
    if tot > 0:
        p = s / tot
        p = p[p > 1e-12]
        er = float(np.exp(-(p * np.log(p)).sum()))
    else:
        er = 0.0
    var = xc.var(0)
    alive = 0.0 if var.mean() == 0 else 1 - np.mean(var < 0.01 * var.mean())
    cls = np.unique(y)
    cent = np.array([x[y == c].mean(0) for c in cls])
    intra = np.mean([np.linalg.norm(x[y == c] - cent[i], axis=1).mean() for i, c in enumerate(cls)])
    inter = np.mean([np.linalg.norm(cent[i] - cent[j]) for i in range(len(cls)) for j in range(i + 1, len(cls))])
    lam = s ** 2
    k = int((lam > 1e-12 * lam[0]).sum()) if lam[0] > 0 else 0
    m = min(10, k)
    if m >= 2:
        xs, ys = np.log(np.arange(1, m + 1)), np.log(lam[:m])
        slope, icpt = np.polyfit(xs, ys, 1)
        r2 = 1 - ((ys - (icpt + slope * xs)) ** 2).sum() / ((ys - ys.mean()) ** 2).sum()
        delta = -slope
    else:
        delta, r2 = 0.0, None
    return dict(effective_rank=er, dead_fraction=1 - alive, alive=alive, separation=0.0 if inter == 0 else inter / (intra + 1e-12 * np.abs(xc).max()), decay_slope=delta, decay_r2=r2)

def cka(a, b):
    def cgram(m):
        g = as_matrix(m) @ as_matrix(m).T
        h = np.eye(N) - np.ones((N, N)) / N
        return h @ g @ h
    ka, kb = cgram(a), cgram(b)
    return float((ka * kb).sum() / np.sqrt((ka * ka).sum() * (kb * kb).sum()))

def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return np.clip(e / e.sum(1, keepdims=True), 1e-12, None)

def wasserstein(a, b):
    return float(stats.wasserstein_distance(a.ravel(), b.ravel()))

layers = ["conv", "logits"]
ref_raw = {l: raw(models["ref"][0] if l == "conv" else models["ref"][1]) for l in layers}
report = {"reference": "ref", "label_source": "labels", "layers": layers, "models": []}
for name, (c, lg) in models.items():
    entry = {"name": name, "accuracy": acc[name], "accuracy_drop": acc["ref"] - acc[name], "layers": {}}
    reps_w, reps_e = [], []
    for l in layers:
        a = c if l == "conv" else lg
        r, r0 = raw(a), ref_raw[l]
        se = 1.0 if r0["effective_rank"] == 0 else min(r["effective_rank"] / r0["effective_rank"], 1)
        ss = 1.0 if r0["separation"] == 0 else min(r["separation"] / r0["separation"], 1)
        sd = 1 / (1 + abs(r["decay_slope"] - r0["decay_slope"]))
        comps = np.array([se, r["alive"], ss, sd])
        lw, le = float(comps @ [0.15, 0.05, 0.35, 0.45]), float(comps.mean())
        reps_w.append(lw); reps_e.append(le)
        ref_a = models["ref"][0] if l == "conv" else models["ref"][1]
        entry["layers"][l] = {"effective_rank": se, "alive": r["alive"], "separation": ss, "decay": sd,
                              "reps_weighted": lw, "reps_equal": le, "cka": cka(ref_a, a),
                              "raw": {k: r[k] for k in ["effective_rank", "dead_fraction", "separation", "decay_slope", "decay_r2"]}}
    entry["reps_weighted"], entry["reps_equal"] = float(np.mean(reps_w)), float(np.mean(reps_e))
    lr = models["ref"][1]
    p, q = softmax(lr), softmax(lg)
    cos = (lr * lg).sum(1) / (np.linalg.norm(lr, axis=1) * np.linalg.norm(lg, axis=1))
    entry["baselines"] = {"prediction_agreement": float((lr.argmax(1) == lg.argmax(1)).mean()),
                          "logits_cosine": float(cos.mean()),
                          "logits_l2": float(np.linalg.norm(lr - lg, axis=1).mean()),
                          "kl_divergence": float((p * np.log(p / q)).sum(1).mean()),
                          "wasserstein": wasserstein(lr, lg), "weight_similarity": None}
    report["models"].append(entry)

comp = [m for m in report["models"] if m["name"] != "ref"]
drops = [m["accuracy_drop"] for m in comp]
def corr(vals):
    return {"plcc": float(stats.pearsonr(vals, drops)[0]), "srcc": float(stats.spearmanr(vals, drops)[0]),
            "krcc": float(stats.kendalltau(vals, drops)[0])}
report["correlations"] = {
    "reps_weighted": corr([m["reps_weighted"] for m in comp]),
    "reps_equal": corr([m["reps_equal"] for m in comp]),
    "cka": corr([np.mean([m["layers"][l]["cka"] for l in layers]) for m in comp]),
    "prediction_agreement": corr([m["baselines"]["prediction_agreement"] for m in comp]),
    "kl_divergence": corr([m["baselines"]["kl_divergence"] for m in comp]),
    "wasserstein": corr([m["baselines"]["wasserstein"] for m in comp]),
}
configs = [[0.15, 0.05, 0.35, 0.45], [0.25] * 4, [1, 0, 0, 0], [0.1, 0.1, 0.6, 0.2], [0.1, 0.1, 0.2, 0.6], [0.2, 0, 0.4, 0.4]]
means = np.array([[np.mean([m["layers"][l][k] for l in layers]) for k in ["effective_rank", "alive", "separation", "decay"]] for m in comp])
report["sensitivity_plcc"] = [float(stats.pearsonr(means @ np.array(w, float), drops)[0]) for w in configs]
json.dump(report, open(os.path.join(out, "expected.json"), "w"), indent=1)
