"""NumPy backend: float64 math on NumPy scalars and arrays (also the tests' float64 path)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lrspec.backends import LazyStep

_CHUNK = 8192  # elements: 64 KiB per float64 temporary

Evaluate = Callable[[Any, LazyStep, Any], Any]


def _check(arr: np.ndarray) -> None:
    kind = arr.dtype.kind
    if kind not in "iuf":
        raise TypeError(f"step must have an integer or floating dtype, got dtype={arr.dtype}")
    if arr.size:
        # Two reductions instead of boolean temporaries: min() also catches NaN.
        low = arr.min()
        if not low >= 0:
            raise ValueError(f"step must be >= 0 and not NaN, got a step of {low!r}")
        if kind == "f" and np.isinf(arr.max()):
            raise ValueError("step must be finite, got a step of inf")


def _precise(dtype: Any | None) -> bool:
    return dtype is None or np.dtype(dtype) == np.float64


def _view(arr: np.ndarray, precise: bool) -> LazyStep:
    if arr.dtype.kind in "iu":
        wide = arr if arr.dtype in (np.int64, np.uint64) else arr.astype(np.int64)
        return LazyStep(lambda: arr.astype(np.float64), lambda: wide, precise)
    return LazyStep(lambda: arr.astype(np.float64, copy=False), None, precise)


class NumpyOps:
    name = "numpy"
    int_max = 2**63 - 1

    def prepare(self, step: Any, dtype: Any | None) -> LazyStep:
        arr = np.asarray(step)
        _check(arr)
        return _view(arr, _precise(dtype))

    def run(self, spec: Any, step: Any, dtype: Any | None, evaluate: Evaluate) -> Any:
        """Evaluate a large array in chunks into one output array.

        Chunks keep every temporary of the formula small (cache-resident, reused by the
        allocator), so a 10**7-step curve costs about the raw expression's time and no
        memory beyond its output.
        """
        arr = np.asarray(step)
        if arr.size <= _CHUNK:
            return self.finish(evaluate(spec, self.prepare(arr, dtype), self), step, dtype)
        _check(arr)
        precise = _precise(dtype)
        out = np.empty(arr.shape, dtype=np.float64 if dtype is None else dtype)
        flat_in, flat_out = arr.reshape(-1), out.reshape(-1)
        for start in range(0, arr.size, _CHUNK):
            chunk = _view(flat_in[start : start + _CHUNK], precise)
            flat_out[start : start + _CHUNK] = evaluate(spec, chunk, self)
        return out

    def finish(self, value: Any, step: Any, dtype: Any | None) -> Any:
        out = np.asarray(value, dtype=np.float64 if dtype is None else dtype)
        if out.ndim == 0 and not isinstance(step, np.ndarray):
            return out[()]
        return out

    def to_float(self, x: Any) -> Any:
        return np.asarray(x, dtype=np.float64)

    def full(self, view: Any, value: float) -> Any:
        return np.full(np.shape(view.f), value, dtype=np.float64)

    def int_like(self, i: Any, value: int) -> Any:
        return value

    def div(self, num: Any, den: Any) -> Any:
        return num / den

    def fmod(self, x: Any, d: float) -> Any:
        return np.fmod(x, d)

    def rint(self, x: Any) -> Any:
        return np.rint(x)

    def floor(self, x: Any) -> Any:
        return np.floor(x)

    def exp(self, x: Any) -> Any:
        return np.exp(x)

    def log(self, x: Any) -> Any:
        return np.log(x)

    def cos(self, x: Any) -> Any:
        return np.cos(x)

    def sqrt(self, x: Any) -> Any:
        return np.sqrt(x)

    def where(self, cond: Any, x: Any, y: Any) -> Any:
        return np.where(cond, x, y)

    def minimum(self, x: Any, y: Any) -> Any:
        return np.minimum(x, y)

    def maximum(self, x: Any, y: Any) -> Any:
        return np.maximum(x, y)


OPS = NumpyOps()
