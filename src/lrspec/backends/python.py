"""Python-number backend: ``int``/``float`` steps, float64 math, a Python ``float`` result."""

from __future__ import annotations

import math

TYPE_CHECKING = False  # no runtime typing import: start-up time
if TYPE_CHECKING:
    from typing import Any


class _View:
    """Eager and cheap: the torch scheduler's float path calls this every step."""

    __slots__ = ("f", "i")
    precise = True

    def __init__(self, f: float, i: int | None) -> None:
        self.f = f
        self.i = i


def _check_step(step: int | float) -> None:
    if isinstance(step, float) and not math.isfinite(step):
        raise ValueError(f"step must be finite, got step={step!r}")
    if step < 0:
        raise ValueError(f"step must be >= 0, got step={step!r}")


class PythonOps:
    name = "python"
    int_max = 2**63 - 1

    def prepare(self, step: Any, dtype: Any | None) -> _View:
        _check_step(step)
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

    def int_like(self, i: Any, value: int) -> Any:
        return value

    def div(self, num: Any, den: Any) -> Any:
        return num / den

    def fmod(self, x: Any, d: float) -> float:
        return math.fmod(x, d)

    def rint(self, x: Any) -> float:
        return float(round(x))

    def floor(self, x: Any) -> float:
        return float(math.floor(x))

    def exp(self, x: Any) -> float:
        return math.exp(x)

    def log(self, x: Any) -> float:
        return math.log(x)

    def cos(self, x: Any) -> float:
        return math.cos(x)

    def sqrt(self, x: Any) -> float:
        return math.sqrt(x)

    def where(self, cond: Any, x: Any, y: Any) -> Any:
        return x if cond else y

    def minimum(self, x: Any, y: Any) -> Any:
        return x if x <= y else y

    def maximum(self, x: Any, y: Any) -> Any:
        return x if x >= y else y


OPS = PythonOps()
