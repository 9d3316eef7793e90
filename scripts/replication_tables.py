#!/usr/bin/env python3
"""The tables of docs/REPLICATION.md, from the committed summaries in docs/replication/*/summary.json.

Usage: python3 scripts/replication_tables.py [SETTING ...]   (default: every folder there)
Prints Markdown: Table 2 pooled with 95% cluster-bootstrap intervals for the scores the paper
compares, REPS against each of them, Table 3 pooled, and every claim's verdict per seed and pooled.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "docs" / "replication"
SCORES = ["reps_equal", "reps_weighted", "prediction_agreement", "logits_cosine", "cka",
          "separation", "decay", "effective_rank", "alive", "weight_similarity"]


def ci(i):
    return f"[{i[0]:.3f}, {i[1]:.3f}]" if i else "no interval"


def main(settings):
    for setting in settings:
        s = json.loads((ROOT / setting / "summary.json").read_text())
        print(f"### {setting}: {len(s['seeds'])} seeds ({', '.join(map(str, s['seeds']))}), "
              f"{len(s['models']) - 1} compressed models each\n")
        print("| score | pooled PLCC | 95% interval | pooled SRCC | 95% interval | PLCC per seed |")
        print("|---|---|---|---|---|---|")
        for key in SCORES:
            c = s["correlations"].get(key)
            if not c:
                continue
            p = c["pooled"]
            per = ", ".join("n/a" if x["plcc"] is None else f"{x['plcc']:.2f}" for x in c["per_seed"])
            plcc = "n/a" if p["plcc"] is None else f"{p['plcc']:.3f}"
            srcc = "n/a" if p["srcc"] is None else f"{p['srcc']:.3f}"
            print(f"| {key} | {plcc} | {ci(p['plcc_ci'])} | {srcc} | {ci(p['srcc_ci'])} | {per} |")
        print("\n| REPS (equal) against | \\|PLCC\\| difference | 95% interval |")
        print("|---|---|---|")
        for key in SCORES[1:6]:
            c = s["comparisons"].get(f"reps_equal_vs_{key}") or s["comparisons"].get(f"{key}_vs_reps_equal")
            if not c:
                continue
            d, i = c["diff"], c["diff_ci"]
            if c["a"] != "reps_equal":
                d, i = -d, [-i[1], -i[0]]
            print(f"| {key} | {d:+.3f} | {ci(i)} |")
        print("\n| Table 3 configuration | pooled PLCC | 95% interval |")
        print("|---|---|---|")
        for r in s["sensitivity"]:
            print(f"| {r['name']} | {r['plcc']:.3f} | {ci(r['plcc_ci'])} |")
        print("\n| claim | " + " | ".join(f"seed {x}" for x in s["seeds"]) + " | pooled |")
        print("|---|" + "---|" * (len(s["seeds"]) + 1))
        for c in s["claims"]:
            per = []
            for claims in s["claims_per_seed"]:
                own = next((x for x in claims if x["id"] == c["id"]), None)
                per.append(own["verdict"] if own else "–")
            print(f"| `{c['id']}` | " + " | ".join(per) + f" | **{c['verdict']}** |")
        print()


if __name__ == "__main__":
    main(sys.argv[1:] or sorted(p.name for p in ROOT.iterdir() if (p / "summary.json").exists()))
