"""A small typed use of the package, checked with `mypy --strict` against its stubs and inline
annotations (test_api.py::test_typed_usage_passes_mypy_strict). Type-checked only, never run."""
from pathlib import Path
from typing import Any

import numpy as np

import reps


def damaged(a: np.ndarray, b: np.ndarray, threshold: float = 0.9) -> list[str]:
    """The models whose weighted REPS on layer `h` falls below `threshold`."""
    models = [reps.Model("original", {"h": a}), reps.Model("compressed", {"h": b}, method="prune")]
    report: dict[str, Any] = reps.analyze(models, bootstrap=0, permutations=0, layers=["h"])
    return [m["name"] for m in report["models"] if (m["reps_weighted"] or 0.0) < threshold]


def cka(a: np.ndarray, b: np.ndarray, labels: np.ndarray) -> float:
    return float(reps.compare(a, b, labels=labels)["cka"])


def round_trip(path: Path) -> list[str]:
    models: list[reps.Model] = reps.load(path)
    reps.save(models, path.with_suffix(".copy.reps"))
    return [m.name for m in models]


def message(a: np.ndarray) -> str:
    try:
        reps.analyze([reps.Model("only", {"h": a})], layers=["missing"])
    except reps.RepsError as e:
        return str(e)
    return ""
