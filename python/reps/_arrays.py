"""Turning what users pass (NumPy, PyTorch, JAX arrays; anything with ``__dlpack__`` or
``__array__``) into the C-contiguous float32/float64 and int64 ndarrays the extension reads.

C-contiguous float32 and float64 arrays are passed on as they are: the engine reads their memory
without a copy. Anything else is converted once: float16 and bfloat16 to float32, strided views to
a contiguous copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._reps import RepsError

# DLPack device types (dlpack.h): 1 CPU, 3 CUDA pinned host memory, both readable here.
_HOST_DEVICES = (1, 3)
_DEVICE_NAMES = {2: "a CUDA GPU", 4: "an OpenCL device", 7: "a Vulkan device", 8: "a Metal device",
                 9: "a VPI device", 10: "a ROCm GPU", 13: "a CUDA managed-memory device",
                 14: "a oneAPI device"}


def _on_host(x: Any, where: str) -> None:
    device = getattr(x, "__dlpack_device__", None)
    if device is None:
        return
    try:
        kind = int(device()[0])
    except Exception:  # an object whose method fails tells us nothing; let numpy try
        return
    if kind not in _HOST_DEVICES:
        name = _DEVICE_NAMES.get(kind, f"device type {kind}")
        raise RepsError(f"{where}: the array is on {name}; call .cpu() first "
                        "(reps reads arrays in host memory)")


def _to_numpy(x: Any, where: str) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x
    _on_host(x, where)
    if hasattr(x, "__dlpack__"):
        try:
            return np.from_dlpack(x)
        except (BufferError, TypeError, ValueError, RuntimeError):
            pass  # a dtype numpy lacks (bfloat16): try the routes below
    try:
        return np.asarray(x)
    except (TypeError, ValueError, RuntimeError):
        pass
    # PyTorch's bfloat16 has neither a numpy dtype nor an __array__ route: widen it there.
    if "bfloat16" in str(getattr(x, "dtype", "")) and hasattr(x, "float"):
        return np.from_dlpack(x.float())
    raise RepsError(f"{where}: cannot read {type(x).__name__} as an array "
                    "(pass a NumPy array or an object with __dlpack__ or __array__)")


def float_array(x: Any, where: str) -> np.ndarray:
    """``x`` as a C-contiguous float32 or float64 ndarray of rank >= 1; ``where`` names it in
    errors (``model 'm', layer 'fc'``)."""
    a = _to_numpy(x, where)
    if a.ndim == 0:
        raise RepsError(f"{where}: a 0-d array is not a layer; a layer has shape (N, ...)")
    if a.dtype == np.float32 or a.dtype == np.float64:
        return np.ascontiguousarray(a)
    if a.dtype == np.float16 or a.dtype.name == "bfloat16":
        return np.ascontiguousarray(a, dtype=np.float32)
    raise RepsError(f"{where}: dtype {a.dtype} is not a float type "
                    "(float16, bfloat16, float32 or float64)")


def int_array(x: Any, where: str) -> np.ndarray:
    """``x`` (labels, an attention mask) as a C-contiguous int64 ndarray; floats must hold whole
    numbers."""
    a = _to_numpy(x, where)
    if a.dtype.kind in "iub":
        return np.ascontiguousarray(a, dtype=np.int64)
    if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
        return np.ascontiguousarray(a, dtype=np.int64)
    raise RepsError(f"{where}: expected integers, got dtype {a.dtype}")
