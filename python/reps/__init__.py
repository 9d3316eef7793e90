"""reps: did compression damage your network's representations?

The REPS metric of "Do Coresets, Pruning, and Quantization Preserve Neural Network
Representations?" and the tools around it (CKA, the paper's baselines, Tables 2 and 3 with their
intervals, the paper's claims), computed by the same Rust engine as the ``native`` command line
and the browser viewer. Arrays go in, the report comes out as a dict; no files in between::

    import reps
    report = reps.analyze([
        reps.Model("original", {"layer4": a0, "fc": l0}, logits=l0),
        reps.Model("pruned", {"layer4": a1, "fc": l1}, logits=l1),
    ])
    report["models"][1]["reps_weighted"]
"""

from ._api import STREAM_ABOVE, Model, analyze, compare, load, save
from ._reps import RepsError, __version__

__all__ = ["Model", "RepsError", "STREAM_ABOVE", "analyze", "compare", "load", "save", "__version__"]
