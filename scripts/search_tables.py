#!/usr/bin/env python3
"""The results table of docs/SEARCH.md and the README from `native search` output directories.

Usage: python3 scripts/search_tables.py DIR...   (each DIR holds a search.json)

Prints one Markdown row per search: the setting, the budget, each strategy's test accuracy with
the paired 95% interval of its difference with uniform, the two claims' verdicts and the time.
"""
import json
import sys
from pathlib import Path

STRATEGIES = ["reps", "agreement", "cka", "labels", "uniform", "global"]


def cell(model):
    if model is None:
        return "–"
    text = f"{model['accuracy']:.3f}"
    d = model.get("vs_uniform")
    if d and d.get("interval"):
        lo, hi = d["interval"]
        text += f" ({d['difference']:+.3f} [{lo:+.3f}, {hi:+.3f}])"
    return text


def main(dirs):
    print("| sweep | method | budget | original | " + " | ".join(STRATEGIES)
          + " | REPS > uniform | REPS > agreement | time (s) |")
    print("|" + "---|" * (len(STRATEGIES) + 7))
    for d in dirs:
        r = json.loads((Path(d) / "search.json").read_text())
        s = r["settings"]
        models = {m["strategy"]: m for m in r["models"]}
        claims = {c["id"]: c["verdict"] for c in r["claims"]}
        target = s["budget"] if s["budget"] is not None else f"REPS ≥ {s['min_reps']}"
        sweep = Path(s["from"]).name
        print(f"| {sweep} | {s['method']} | {target} | {r['original_accuracy']:.3f} | "
              + " | ".join(cell(models.get(k)) for k in STRATEGIES)
              + f" | {claims.get('reps_beats_uniform', '–')} | {claims.get('reps_beats_agreement', '–')}"
              + f" | {r['seconds']:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
