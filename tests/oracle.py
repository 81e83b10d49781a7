"""Measuring against the one exact reference (:mod:`lrspec.reference`): no formulas here.

Every expected learning rate in the tests is ``reference.exact(spec, step)`` (a Fraction),
taken as the nearest float64 (:func:`exact_float`), as a long double (:func:`exact_long`,
whose rounding is a thousandth of a float64 ulp where it is x87 extended), or compared in
Fractions (:func:`ulp_error_exact`). Bounds come from ``reference.bound`` / ``BOUNDS``.

Importing this module imports neither lrspec nor a framework (lrspec is imported on first
use): test files that run themselves as scripts, to import lrspec after a framework, can
import it at the top.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np

LONG = np.longdouble
HAVE_EXTENDED = np.finfo(LONG).nmant >= 63


def to_long(value: Fraction) -> np.longdouble:
    """``value`` as a long double: 63 significant bits, exactly (a uint64), scaled by a power
    of two (as ``tests/test_properties.py::oracle``)."""
    if value == 0:
        return LONG(0)
    e = value.numerator.bit_length() - value.denominator.bit_length()
    mantissa = round(value * Fraction(2) ** (63 - e))
    return np.ldexp(LONG(np.uint64(mantissa)), e - 63)


def _reference() -> Any:
    from lrspec import reference

    return reference


@cache
def _exact(spec: Any, step: int | float) -> Fraction:
    return _reference().exact(spec, step)


def exact(spec: Any, step: Any) -> Fraction:
    """``reference.exact`` of a Python or NumPy step (cached: many tests share steps)."""
    step = step.item() if isinstance(step, np.generic) else step
    return _exact(spec, step)


def exact_float(spec: Any, step: Any) -> float:
    """The float64 nearest to the exact rate (``Fraction.__float__`` rounds correctly)."""
    return float(exact(spec, step))


def exact_floats(spec: Any, steps: Iterable[Any]) -> np.ndarray:
    return np.array([exact_float(spec, s) for s in np.asarray(steps).ravel()], np.float64)


def exact_long(spec: Any, steps: Iterable[Any]) -> np.ndarray:
    """The exact rates at ``steps`` as long doubles, in the shape of ``steps``."""
    s = np.asarray(steps)
    return np.array([to_long(exact(spec, v)) for v in s.ravel()], dtype=LONG).reshape(s.shape)


def exact_slope(spec: Any, step: int | float, h: Fraction = Fraction(1, 10**9)) -> float:
    """``d rate / d step`` from the exact reference: a central difference (a forward one at
    steps below ``h``), whose relative error is far below float32's."""
    step = Fraction(step)
    if step < h:
        return float((_exact(spec, step + h) - _exact(spec, step)) / h)
    return float((_exact(spec, step + h) - _exact(spec, step - h)) / (2 * h))


def ulp_of(value: np.ndarray | float, dtype: type) -> np.ndarray:
    """The ulp of ``dtype`` at each value (the spacing of its binade)."""
    info = np.finfo(dtype)
    x = np.abs(np.asarray(value, dtype=LONG))
    e = np.floor(np.log2(np.maximum(x, LONG(info.smallest_normal)))).astype(LONG)
    return np.exp2(e - info.nmant)


def ulp_error_long(result: np.ndarray, exact_values: np.ndarray, dtype: type) -> np.ndarray:
    """``|result - exact| / ulp`` with the exact values in extended precision."""
    res = np.asarray(result).astype(LONG)
    return np.abs(res - exact_values) / ulp_of(exact_values, dtype)


def ulp_error_exact(result: float, exact_value: Fraction, dtype: type) -> float:
    """``|result - exact| / ulp``, computed exactly (``reference.ulp``)."""
    unit = _reference().ulp(exact_value, np.dtype(dtype).name)
    return float(abs(Fraction(float(result)) - exact_value) / unit)


def assert_within_bound(spec: Any, steps: Iterable[Any], got: Iterable[Any], kind: str) -> None:
    """Each of ``got`` within ``reference.bound(spec, kind)`` ulps of the exact rate at the
    step beside it (``kind``: "float32", "float32-jax" or "float64"), measured exactly."""
    dtype = np.float64 if kind == "float64" else np.float32
    steps, got = list(np.asarray(steps).ravel()), list(np.asarray(got, np.float64).ravel())
    assert len(steps) == len(got), (len(steps), len(got))
    errors = [ulp_error_exact(g, exact(spec, s), dtype) for s, g in zip(steps, got, strict=True)]
    worst = int(np.argmax(errors))
    assert errors[worst] <= _reference().bound(spec, kind), (
        f"{spec} at step {steps[worst]}: {got[worst]!r} is {errors[worst]:.3f} ulp ({kind}) "
        f"from {float(exact(spec, steps[worst]))!r}"
    )


def sample_steps(
    limit: int, boundaries: Iterable[int] = (), dense: int = 3000, n: int = 2000, seed: int = 0
) -> np.ndarray:
    """A representative subset of ``0..limit - 1`` where a dense sweep would be too slow for
    the exact reference: the first ``dense`` steps, each boundary and its neighbours, a
    stride of ``n`` steps and ``n`` random ones up to the end."""
    rng = np.random.default_rng(seed)
    near = [b + k for b in boundaries for k in (-2, -1, 0, 1, 2)]
    parts = [
        np.arange(min(dense, limit)),
        np.linspace(0, limit - 1, n).astype(np.int64),
        rng.integers(0, limit, n),
        np.asarray([b for b in near if 0 <= b < limit], np.int64),
        [limit - 1],
    ]
    return np.unique(np.concatenate(parts).astype(np.int64))
