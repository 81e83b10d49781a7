"""Independent references for the tests: exact rationals and extended-precision closed forms.

Nothing here imports lrspec: the formulas are written again, from Keras's documentation.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

LONG = np.longdouble
HAVE_EXTENDED = np.finfo(LONG).nmant >= 63


def inverse_time_exact(
    a: float, d: float, r: float, staircase: bool, step: int | float
) -> Fraction:
    """``a / (1 + r * p)``, ``p = step / d`` (floored when staircase), exactly."""
    p = Fraction(step) / Fraction(d)
    if staircase:
        p = Fraction(math.floor(p))
    return Fraction(a) / (1 + Fraction(r) * p)


def inverse_time_long(
    a: float, d: float, r: float, staircase: bool, steps: np.ndarray
) -> np.ndarray:
    """The same closed form in extended precision (x87: 64-bit mantissa), vectorized.

    Its error is a few units of 2**-64 relative: thousandths of a float64 ulp. Integer steps
    are floored with integer arithmetic when ``d`` is an integer.
    """
    s = np.asarray(steps)
    if staircase:
        if float(d).is_integer() and s.dtype.kind in "iu":
            p = (s // int(d)).astype(LONG)
        else:
            p = np.array(
                [
                    math.floor(Fraction(int(v) if s.dtype.kind in "iu" else float(v)) / Fraction(d))
                    for v in s.ravel()
                ],
                dtype=LONG,
            ).reshape(s.shape)
    else:
        p = s.astype(LONG) / LONG(d)
    return LONG(a) / (LONG(1) + LONG(r) * p)


def ulp_of(exact: np.ndarray | float, dtype: type) -> np.ndarray:
    """The ulp of ``dtype`` at each exact value (the spacing of its binade)."""
    info = np.finfo(dtype)
    x = np.abs(np.asarray(exact, dtype=LONG))
    e = np.floor(np.log2(np.maximum(x, LONG(info.smallest_normal)))).astype(LONG)
    return np.exp2(e - info.nmant)


def ulp_error_long(result: np.ndarray, exact_long: np.ndarray, dtype: type) -> np.ndarray:
    """``|result - exact| / ulp`` with the exact value in extended precision."""
    res = np.asarray(result).astype(LONG)
    return np.abs(res - exact_long) / ulp_of(exact_long, dtype)


def ulp_error_exact(result: float, exact: Fraction, dtype: type) -> float:
    """``|result - exact| / ulp``, computed exactly."""
    info = np.finfo(dtype)
    if exact == 0:
        return 0.0 if result == 0 else math.inf
    e = math.floor(math.log2(exact)) if exact > 0 else 0
    # log2 of a Fraction may be off by one near powers of two: fix e so 2**e <= exact < 2**(e+1)
    while Fraction(2) ** e > exact:
        e -= 1
    while Fraction(2) ** (e + 1) <= exact:
        e += 1
    e = max(e, int(np.log2(float(info.smallest_normal))))
    ulp = Fraction(2) ** (e - info.nmant)
    return float(abs(Fraction(float(result)) - exact) / ulp)
