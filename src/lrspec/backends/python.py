"""Python-number backend: ``int``/``float`` steps, float64 math, a Python ``float`` result."""

from __future__ import annotations

import math

from lrspec.backends.base import Ops

TYPE_CHECKING = False  # no runtime typing import: start-up time
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class _View:
    """Eager and cheap (a :class:`~lrspec.backends.base.LazyStep` with both forms built)."""

    __slots__ = ("f", "i")
    precise = True
    may_be_nan = False  # refused by prepare

    def __init__(self, f: float, i: int | None) -> None:
        self.f = f
        self.i = i


class PythonOps(Ops):
    name = "python"
    xp = math

    def prepare(self, step: Any, dtype: Any | None) -> Any:
        if isinstance(step, float) and not math.isfinite(step):
            raise ValueError(f"step must be finite, got step={step!r}")
        if step < 0:
            raise ValueError(f"step must be >= 0, got step={step!r}")
        if isinstance(step, int):
            return _View(float(step), int(step))
        return _View(float(step), None)

    def finish(self, value: Any, step: Any, dtype: Any | None) -> Any:
        if dtype is not None:
            import numpy as np

            return np.asarray(value, dtype=dtype)[()]
        return float(value)

    def to_float(self, x: Any) -> float:
        return float(x)

    def full(self, view: Any, value: float) -> float:
        return value

    def rint(self, x: Any) -> float:
        return float(round(x))

    def floor(self, x: Any) -> float:
        return float(math.floor(x))

    def where(self, cond: Any, x: Any, y: Any) -> Any:
        return x if cond else y

    def minimum(self, x: Any, y: Any) -> Any:
        return x if x <= y else y

    def maximum(self, x: Any, y: Any) -> Any:
        return x if x >= y else y

    def native(self, steps: Any, variant: str) -> list[int | float]:
        return [v.item() for v in steps.ravel()]

    def call(self, fn: Callable[[Any], Any], steps: Any) -> list[float]:
        return [fn(v) for v in steps]


OPS = PythonOps()
