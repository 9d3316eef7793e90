"""A small typed use of the package, checked with `mypy --strict` against its stubs
(test_api.py::test_typed_usage_passes_mypy_strict)."""
from typing import Any

import numpy as np

import reps


def damaged_layers(a: np.ndarray, b: np.ndarray, threshold: float = 0.9) -> list[str]:
    models = [reps.Model("original", {"h": a}), reps.Model("compressed", {"h": b}, method="prune")]
    report: dict[str, Any] = reps.analyze(models, bootstrap=0, permutations=0)
    layer: dict[str, Any] = reps.compare(a, b)
    out: list[str] = []
    if float(layer["cka"]) < threshold:
        out.append("h")
    for model in report["models"]:
        assert isinstance(model["name"], str)
    return out


def main() -> None:
    try:
        reps.analyze([reps.Model("only", {"h": np.zeros((3, 2))})], layers=["missing"])
    except reps.RepsError as e:
        print(e)
    loaded: list[reps.Model] = reps.load("snapshot.reps") if False else []
    reps.save(loaded, "out.reps") if loaded else None
