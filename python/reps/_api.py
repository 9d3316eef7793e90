"""The public functions of ``reps``: each turns its arguments into what the extension module
``reps._reps`` reads, calls it (without the GIL) and returns plain Python objects."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence, Union

import numpy as np

from . import _reps
from ._arrays import float_array, int_array
from ._reps import RepsError

PathLike = Union[str, "os.PathLike[str]"]

#: Above this many bytes of arrays in all, ``analyze(stream=None)`` reads the models in row chunks
#: (the streamed analysis) instead of centring whole layers in float64, which would take about
#: twice the arrays' size again.
STREAM_ABOVE = 512 << 20


@dataclass
class Model:
    """One model's activations on the N samples every model shares.

    ``layers`` maps a layer's name to an array of shape ``(N, ...)`` (flattened per sample in C
    order; with ``tokens=True`` every axis but the last is a sample). ``logits`` (N x K) is
    analysed as the layer ``logits`` too, and gives pseudo-labels, accuracy and the logit
    baselines; a layer named ``logits`` serves as the logits when ``logits`` is not given.
    ``labels`` (N integers) are the samples' true labels. ``accuracy`` (in [0, 1]), ``method``,
    ``parameter`` and ``parameter_name`` say how the model was made, as the keys of the same names
    in a ``.npz`` file.

    Arrays may be anything with ``__dlpack__`` or ``__array__`` (NumPy, PyTorch CPU tensors, JAX),
    in float16, bfloat16, float32 or float64. C-contiguous float32/float64 arrays are read without
    a copy; anything else is converted once when it is analysed.
    """

    name: str
    layers: Mapping[str, Any]
    logits: Any | None = None
    labels: Any | None = None
    accuracy: float | None = None
    method: str | None = None
    parameter: float | None = None
    parameter_name: str | None = None


def _model_tuple(m: Model) -> tuple[Any, ...]:
    """What the extension reads for ``m``: its arrays converted, nothing copied that need not be."""
    if not isinstance(m.name, str) or not m.name:
        raise RepsError(f"a model's name must be a non-empty string, got {m.name!r}")
    where = f"model '{m.name}'"
    layers = [(str(k), float_array(v, f"{where}, layer '{k}'")) for k, v in m.layers.items()]
    logits_key = None
    if m.logits is not None:
        if "logits" in m.layers:
            raise RepsError(f"{where}: has a layer named 'logits' and logits=; give one of them")
        layers.append(("logits", float_array(m.logits, f"{where}, logits")))
        logits_key = "logits"
    labels = None if m.labels is None else int_array(m.labels, f"{where}, labels")
    parameter = None if m.parameter is None else float(m.parameter)
    accuracy = None if m.accuracy is None else float(m.accuracy)
    return (m.name, layers, logits_key, labels, accuracy, m.method, parameter, m.parameter_name)


def _items(models: Sequence[Model | PathLike] | Model | PathLike) -> list[Any]:
    if isinstance(models, (Model, str, os.PathLike)):
        models = [models]
    items: list[Any] = []
    for m in models:
        if isinstance(m, Model):
            items.append(_model_tuple(m))
        elif isinstance(m, (str, os.PathLike)):
            items.append(os.fspath(m))
        else:
            raise RepsError(f"models: expected reps.Model objects or paths, got {type(m).__name__}")
    return items


def _labels(labels: Any) -> Any:
    if labels is None or isinstance(labels, (str, os.PathLike)):
        return None if labels is None else os.fspath(labels)
    return int_array(labels, "labels")


def _nbytes(items: list[Any]) -> int:
    total = 0
    for item in items:
        if isinstance(item, str):
            try:
                total += os.path.getsize(item)
            except OSError:
                pass  # the engine names the file when it cannot read it
        else:
            total += sum(a.nbytes for _, a in item[1])
    return total


def analyze(
    models: Sequence[Model | PathLike],
    *,
    reference: str | None = None,
    labels: Any = None,
    layers: Sequence[str] | None = None,
    tokens: bool = False,
    attention_mask: Any = None,
    weights: Sequence[float] | None = None,
    top_m: int = 10,
    bootstrap: int = 10_000,
    permutations: int = 10_000,
    seed: int = 0,
    stable_drop: float = 0.05,
    sample_bootstrap: int | None = None,
    claims: bool = True,
    stream: bool | None = None,
    max_memory: int | None = None,
) -> dict[str, Any]:
    """The full report of ``native analyze --format json``, as a dict (the same keys and values).

    ``models``: ``reps.Model`` objects, paths to ``.npz``, ``.npy``, ``.safetensors`` files (one
    model each, named by the file's stem) or one ``.reps`` snapshot, or a mix of models and
    activation files. The first is the reference unless ``reference`` names another.

    ``labels``: the N true labels (an array, or a labels file as ``--labels`` reads it); without
    them, labels inside the files or models, else the reference's predictions (pseudo-labels).
    ``layers``: the layers to analyse (default: the paper's pair when every model has it, else
    every shared layer). ``tokens``: read every axis but the last as samples (a language model's
    ``(batch, sequence, hidden)`` states), leaving out the padding given by ``attention_mask``
    (``(batch, sequence)``, 0/1; files carry their own). ``weights``: four REPS weights of your
    own, reported as ``reps_user``. ``top_m``: M of the decay fit. ``bootstrap``,
    ``permutations``, ``seed``, ``stable_drop``, ``sample_bootstrap``: the statistics, as the
    command line's flags of the same names. ``claims=False`` leaves the paper's claims out.

    ``stream``: read the layers in row chunks (``--stream``: for inputs larger than memory
    allows in float64); ``None`` streams with ``tokens`` or above ``STREAM_ABOVE`` bytes of
    arrays in all. ``max_memory``: the reading budget in bytes (default half the machine's
    memory).

    The GIL is released while the engine works; Ctrl-C stops it at the next (model, layer) step
    with ``KeyboardInterrupt``. Bad input raises ``RepsError`` naming the model or file, the layer
    and what is wrong.
    """
    items = _items(models)
    if stream is None:
        stream = tokens or _nbytes(items) > STREAM_ABOVE
    text = _reps.analyze(
        items,
        reference=reference,
        labels=_labels(labels),
        layers=None if layers is None else [layers] if isinstance(layers, str) else [str(x) for x in layers],
        tokens=bool(tokens),
        attention_mask=None if attention_mask is None else int_array(attention_mask, "attention_mask"),
        weights=None if weights is None else [float(w) for w in weights],
        top_m=top_m,
        bootstrap=bootstrap,
        permutations=permutations,
        seed=seed,
        stable_drop=float(stable_drop),
        sample_bootstrap=sample_bootstrap,
        stream=bool(stream),
        claims=bool(claims),
        max_memory=max_memory,
    )
    report: dict[str, Any] = json.loads(text)
    return report


def compare(reference: Any, other: Any, *, labels: Any = None, top_m: int = 10) -> dict[str, Any]:
    """One layer of a model against the same layer of the reference: the four REPS component
    scores (``effective_rank``, ``alive``, ``separation``, ``decay``), ``reps_weighted`` and
    ``reps_equal``, ``cka`` and ``cka_debiased`` (None for N < 4), and the model's ``raw``
    values; the same dict as one entry of a report's ``models[i]["layers"]``.

    Both arrays have shape ``(N, ...)`` over the same N samples (their widths may differ).
    Without ``labels`` class separation is None and REPS is renormalised over the other three.
    Made for the inner loop of a search or a training callback: no statistics, no files.
    """
    text = _reps.compare(
        float_array(reference, "reference"),
        float_array(other, "other"),
        labels=None if labels is None else int_array(labels, "labels"),
        top_m=top_m,
    )
    result: dict[str, Any] = json.loads(text)
    return result


def load(path: PathLike, *, max_memory: int | None = None) -> list[Model]:
    """The models of a ``.reps`` snapshot, or the one model of an activation file (``.npz``,
    ``.npy``, ``.safetensors``), as ``reps.Model`` objects holding NumPy arrays (one copy each):
    every layer in its shape at capture ``(N, ...)``, the logits as the layer ``logits``, the
    labels, and how the model was made."""
    out = []
    for name, layers, logits, labels, accuracy, method, parameter, parameter_name in _reps.load(
        os.fspath(path), max_memory=max_memory
    ):
        arrays = dict(layers)
        if logits is not None and logits != "logits":
            arrays["logits"] = arrays.pop(logits)
        out.append(Model(name, arrays, labels=labels, accuracy=accuracy, method=method,
                         parameter=parameter, parameter_name=parameter_name))
    return out


def save(
    models: Sequence[Model | PathLike],
    path: PathLike,
    *,
    labels: Any = None,
    max_memory: int | None = None,
) -> None:
    """Writes ``models`` (and ``labels``) as a ``.reps`` snapshot that ``native analyze`` and the
    viewer open (layers stored as float32, as snapshots store them), atomically: a crash never
    leaves half a file under ``path``."""
    _reps.save(_items(models), os.fspath(path), labels=_labels(labels), max_memory=max_memory)
