"""NumPy backend: float64 math on NumPy scalars and arrays, evaluated in cache-sized chunks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from lrspec.backends.base import LazyStep, Ops

if TYPE_CHECKING:
    from lrspec.backends.base import Formula

_CHUNK = 8192  # elements: 64 KiB per float64 temporary


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


class NumpyOps(Ops):
    name = "numpy"
    xp = np

    def prepare(self, step: Any, dtype: Any | None) -> LazyStep:
        arr = np.asarray(step)
        _check(arr)
        return _view(arr, _precise(dtype))

    def evaluate(self, formula: Formula, spec: Any, step: Any, dtype: Any | None) -> Any:
        """Evaluate a large array in chunks into one output array.

        Chunks keep every temporary of the formula small (cache-resident, reused by the
        allocator), so a 10**7-step curve costs about the raw expression's time and no
        memory beyond its output.
        """
        arr = np.asarray(step)
        if arr.size <= _CHUNK:
            return self.finish(formula(spec, self.prepare(arr, dtype), self), step, dtype)
        _check(arr)
        precise = _precise(dtype)
        out = np.empty(arr.shape, dtype=np.float64 if dtype is None else dtype)
        flat_in, flat_out = arr.reshape(-1), out.reshape(-1)
        for start in range(0, arr.size, _CHUNK):
            chunk = _view(flat_in[start : start + _CHUNK], precise)
            flat_out[start : start + _CHUNK] = formula(spec, chunk, self)
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

    def rint(self, x: Any) -> Any:
        return np.rint(x)

    def native(self, steps: Any, variant: str) -> Any:
        return steps


OPS = NumpyOps()
