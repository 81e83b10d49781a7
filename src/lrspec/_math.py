"""Each schedule's formula, written once against the backend ops of :mod:`lrspec.backends`.

A formula takes the spec, a prepared step (:class:`~lrspec.backends.StepView`: the step as a
non-negative compute float ``x.f`` and, for integer steps, as a non-negative integer ``x.i``)
and the backend's ops, and returns the learning rate in the compute dtype (float64 wherever
the backend has it). Spec parameters enter as Python floats, which every backend combines
with its arrays without changing their dtype. The backend rounds the result once, to the
output dtype.

Numeric rules kept here:

* constants that are ratios of spec arguments are formed exactly (``fractions.Fraction``)
  and rounded once, when the spec is first evaluated;
* ``floor(step / d)`` is exact for integer steps (integer arithmetic), never computed from a
  rounded quotient;
* formulas are arranged so that step 0 gives the initial rate exactly and a decaying
  schedule never exceeds it.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lrspec.backends import Ops, StepView
    from lrspec.schedules import InverseTimeDecay, Schedule

__all__ = ["FORMULAS", "evaluate", "floor_ratio", "formula"]

Formula = Callable[[Any, "StepView", "Ops"], Any]

#: spec class name -> its formula.
FORMULAS: dict[str, Formula] = {}

FLOAT32_MAX = 3.4028234663852886e38


def formula(class_name: str) -> Callable[[Formula], Formula]:
    """Register ``fn`` as the formula of the spec class named ``class_name``."""

    def register(fn: Formula) -> Formula:
        FORMULAS[class_name] = fn
        return fn

    return register


def evaluate(spec: Schedule, x: StepView, ops: Ops) -> Any:
    """The learning rate of ``spec`` at the prepared step ``x``, in the compute dtype."""
    return FORMULAS[type(spec).__name__](spec, x, ops)


def constants(spec: Schedule, make: Callable[[Any], tuple[float, ...]]) -> tuple[float, ...]:
    """``make(spec)``, computed once per spec object (specs are immutable)."""
    memo: dict[str, tuple[float, ...]] = spec.__dict__.setdefault("_lrspec_constants", {})
    key = make.__name__
    try:
        return memo[key]
    except KeyError:
        memo[key] = value = make(spec)
        return value


def exact_ratio(num: float, den: float) -> float:
    """``num / den`` rounded once from the exact quotient of the two floats."""
    return float(Fraction(num) / Fraction(den))


def floor_ratio(x: StepView, d: float, ops: Ops) -> Any:
    """Exactly ``floor(step / d)`` for ``d > 0``, as a compute float.

    Integer steps use integer arithmetic, ``d = n / m`` being the float's exact ratio:
    ``floor(s * m / n) = (s // n) * m + ((s % n) * m) // n``, which never overflows while
    ``n * m`` fits the backend's integer type (every integer ``d``, and fractions such as
    2.5 or 0.75). Float steps, and integer steps with other ``d``, use ``fmod``, which is
    exact, rather than flooring a rounded quotient.
    """
    i = x.i
    if i is not None:
        n, m = Fraction(d).as_integer_ratio()
        if n * m <= ops.int_max:
            if m == 1:
                return ops.to_float(i // n)
            return ops.to_float(i // n) * float(m) + ops.to_float(((i % n) * m) // n)
    f = x.f
    return ops.rint((f - ops.fmod(f, d)) / d)


def _is_normal(value: float) -> bool:
    return 1.1754943508222875e-38 <= value <= FLOAT32_MAX


def quotient_constants(numerator: Fraction, offset: Fraction) -> tuple[float, float, float] | None:
    """Constants of :func:`quotient` for ``numerator / (offset + t)``, or ``None`` when they
    fall outside float32's normal range (then use a direct form instead).

    ``offset`` is rounded once to ``b``; the numerator is then taken as exactly
    ``numerator / offset * b`` and split into a float ``hi`` and a relative remainder ``k``,
    so that ``t = 0`` gives exactly ``numerator / offset``.
    """
    b = float(offset)
    if not (_is_normal(b) and offset > 0):
        return None
    exact = numerator / offset * Fraction(b)
    hi = float(exact)
    if not _is_normal(hi):
        return None
    return hi, float((exact - Fraction(hi)) / Fraction(hi)), b


def quotient(x: StepView, t: Any, consts: tuple[float, ...], cap: float, ops: Ops) -> Any:
    """``hi * (1 + k) / (b + t)`` for ``t >= 0``, never above ``cap``.

    For a float64 result the rounding of ``b + t`` is recovered exactly (TwoSum) and folded
    in with the numerator's remainder ``k``: what is left is the rounding of one division
    and of the final sum, so the result is within about 1 ulp, where the plain expression
    is up to ~2.6 ulp off. A float32 result needs no compensation (the float64 error is
    far below a float32 ulp).
    """
    hi, k, b = consts
    den = b + t
    q = hi / den
    if x.precise:
        back = den - b
        err = (b - (den - back)) + (t - back)  # exact: b + t == den + err
        q = q + q * (k - err / den)
    return ops.minimum(q, cap)


def _inverse_time_constants(s: InverseTimeDecay) -> tuple[float, ...]:
    a, d, r = Fraction(s.initial_learning_rate), Fraction(s.decay_steps), Fraction(s.decay_rate)
    if r == 0 or a == 0:
        return (float(a),)
    # lr = a / (1 + r p) = (a / r) / (1 / r + p)  (staircase: p = floor(step / d))
    #    = (a d / r) / (d / r + step)             (otherwise)
    stairs = quotient_constants(a / r, 1 / r)
    smooth = quotient_constants(a * d / r, d / r)
    return float(a), float(r), float(r / d), *(stairs or (0.0,) * 3), *(smooth or (0.0,) * 3)


@formula("InverseTimeDecay")
def inverse_time_decay(s: InverseTimeDecay, x: StepView, ops: Ops) -> Any:
    """``lr0 / (1 + decay_rate * p)``, ``p = step / decay_steps`` (floored if staircase)."""
    consts = constants(s, _inverse_time_constants)
    lr0 = consts[0]
    if len(consts) == 1:
        return ops.full(x, lr0)
    rate, per_step = consts[1], consts[2]
    if s.staircase:
        p = floor_ratio(x, float(s.decay_steps), ops)
        if consts[5] > 0:
            return quotient(x, p, consts[3:6], lr0, ops)
        return lr0 / (1.0 + rate * p)
    if consts[8] > 0:
        return quotient(x, x.f, consts[6:9], lr0, ops)
    if per_step <= FLOAT32_MAX:
        return lr0 / (1.0 + per_step * x.f)
    return lr0 / (1.0 + rate * (x.f / float(s.decay_steps)))
