# Type stubs of the extension module reps._reps (python/src/lib.rs); the public API is in _api.py.
from typing import Any, Sequence

__version__: str

class RepsError(ValueError): ...

def analyze(
    items: Sequence[Any],
    *,
    reference: str | None,
    labels: Any,
    layers: Sequence[str] | None,
    tokens: bool,
    attention_mask: Any,
    weights: Sequence[float] | None,
    top_m: int,
    bootstrap: int,
    permutations: int,
    seed: int,
    stable_drop: float,
    sample_bootstrap: int | None,
    stream: bool,
    claims: bool,
    max_memory: int | None,
) -> str: ...
def compare(reference: Any, other: Any, *, labels: Any, top_m: int) -> str: ...
def load(path: str, *, max_memory: int | None) -> list[tuple[Any, ...]]: ...
def save(items: Sequence[Any], path: str, *, labels: Any, max_memory: int | None) -> None: ...
