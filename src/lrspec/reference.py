"""Each schedule's exact value, and the one table of promised error bounds.

A spec class names its reference (``class InverseTimeDecay(Schedule, ...,
reference=reference.inverse_time_decay)``). A reference is written from the schedule's
definition, independently of the fast formulas in :mod:`lrspec.formulas`: rational
schedules are evaluated exactly with :class:`fractions.Fraction`; ``exp``, ``log``, ``cos``
and non-integer powers with :mod:`decimal` at 50 significant digits (the angle of a cosine
reduced exactly first), then taken as an exact fraction. Their error is then ~1e-45
relative: far below a float64 ulp. ``lrspec check`` and the tests measure every backend
against these values, in units in the last place (:func:`ulp`), against :data:`BOUNDS`.

>>> from lrspec import InverseTimeDecay
>>> exact(InverseTimeDecay(0.1, 1.0, 0.5), 2)
Fraction(3602879701896397, 72057594037927936)
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

TYPE_CHECKING = False  # no runtime typing import: start-up time
if TYPE_CHECKING:
    from typing import Any

    Schedule = Any  # the specs (lrspec.schedules) are the layer above: not imported here

__all__ = ["BOUNDS", "FLOAT32_MAX", "bound", "bounds_for", "exact", "gain", "ulp"]

FLOAT32_MAX = 3.4028234663852886e38

#: The promised accuracy of each kind of result, in units in the last place of its own
#: dtype, against :func:`exact`. "float32-jax" is JAX without x64 (float32 throughout);
#: float32 elsewhere is computed in float64 and rounded once. Rational schedules
#: (``rational = True`` on the spec class) have the tighter row. The only table of bounds:
#: ``lrspec check``, the tests and docs/guarantees.md read it.
BOUNDS: dict[str, dict[str, float]] = {
    "rational": {"float32": 1.0, "float32-jax": 3.0, "float64": 2.0},
    "transcendental": {"float32": 1.0, "float32-jax": 8.0, "float64": 6.0},
}

_FORMATS = {"float32": (24, -126), "float64": (53, -1022)}  # (precision, min exponent)
_DIGITS = 50
_PI = Decimal("3.14159265358979323846264338327950288419716939937510582097494459230781640628")


def exact(spec: Schedule, step: int | float | Fraction) -> Fraction:
    """The exact learning rate of ``spec`` at ``step`` (a non-negative number)."""
    value: Fraction = type(spec).reference(spec, Fraction(step))
    return value


def bounds_for(spec: Schedule) -> dict[str, float]:
    """The row of :data:`BOUNDS` that applies to ``spec`` (a composite: its loosest part)."""
    return BOUNDS["rational" if _rational(spec) else "transcendental"]


def bound(spec: Schedule, kind: str) -> float:
    """The promised bound, in ulps, for results of ``kind`` (a key of a :data:`BOUNDS` row),
    plus :func:`gain` ulps where the result is computed in its own float."""
    base = bounds_for(spec)[kind]
    return base if kind == "float32" else base + gain(spec)


def gain(spec: Schedule) -> float:
    """How many ulps a rounded phase can cost: an :class:`~lrspec.Anneal` whose shape is
    exponential in its phase (``"tanh"``, ``"exp"``) with a ``progress_power`` ``k`` other
    than 1 evaluates ``exp(c * q)`` at ``q = p ** k``, ``p`` rounded once and ``q`` to
    ``k + 2`` units of roundoff: the rate's relative error grows by ``|c| (k + 2)`` of them
    (``c = 2 (tanh_upper - tanh_lower) * power``, or ``ln(end / initial)``). 0 for every
    other spec (their phases are exact, or enter linearly); a composite: its parts' largest.
    A float32 result computed in float64 keeps it far below its own ulp.

    >>> from lrspec import Anneal
    >>> gain(Anneal(1.0, 0.001, 100, "tanh", progress_power=2.0))
    80.0
    """
    k = float(getattr(spec, "progress_power", 1.0))
    shape = getattr(spec, "shape", "")
    own = 0.0
    if k != 1 and shape == "tanh":
        own = 2 * (float(spec.tanh_upper) - float(spec.tanh_lower)) * float(spec.power)
    elif k != 1 and shape == "exp":
        own = abs(math.log(float(spec.end_learning_rate) / float(spec.initial_learning_rate)))
    own *= k + 2
    return max([own, *(gain(part) for part in getattr(spec, "parts", ()))])


def peak(spec: Schedule, slack: float = 0.0) -> float:
    """The largest rate the spec's arguments name: no value of the schedule exceeds it (a
    :class:`~lrspec.Sum` or :class:`~lrspec.Product`: its parts' peaks added or multiplied,
    times ``1 + slack`` per part; growing restarts, ``m_mul > 1``: float32's max). Errors
    of rates that cancel (cosine ends, rising ramps) are measured in ulps of it too.

    >>> from lrspec import Constant, Join, Linear
    >>> peak(Join([Constant(0.1), Linear(0.3, 0.0, 10)], [5]))
    0.3
    """
    if getattr(spec, "m_mul", 0) > 1:
        return FLOAT32_MAX
    kind = type(spec).reference
    if kind is sum_ or kind is product:
        peaks = [peak(part, slack) for part in spec.schedules]
        total = math.fsum(peaks) if kind is sum_ else math.prod(peaks)
        return min(total * (1 + slack * len(peaks)), FLOAT32_MAX)
    rates: list[float] = []
    for field, value in spec.get_config().items():  # the constructor's arguments
        value = getattr(spec, field)
        if hasattr(value, "get_config"):
            rates.append(peak(value, slack))
        elif field == "schedules":
            rates += [peak(part, slack) for part in value]
        elif field == "values":
            rates += [float(v) for v in value]
        elif (field.endswith("learning_rate") or field == "warmup_target") and value is not None:
            rates.append(float(value))
    return max(rates)


def _rational(spec: Any) -> bool:
    if not getattr(type(spec), "rational", False):
        return False
    return all(_rational(part) for part in getattr(spec, "parts", ()))


def ulp(value: Fraction, dtype: str) -> Fraction:
    """One unit in the last place of ``dtype`` (``"float32"``/``"float64"``) at ``value``."""
    precision, min_exp = _FORMATS[dtype]
    value = abs(value)
    if value == 0:
        return Fraction(2) ** (min_exp - precision + 1)
    exp = value.numerator.bit_length() - value.denominator.bit_length()
    if Fraction(2) ** exp > value:  # make 2**exp <= value < 2**(exp + 1)
        exp -= 1
    return Fraction(2) ** (max(exp, min_exp) - precision + 1)


# --- extended-precision helpers -----------------------------------------------------------


def _dec(x: Fraction) -> Decimal:
    return Decimal(x.numerator) / Decimal(x.denominator)


def _fr(x: Decimal) -> Fraction:
    return Fraction(x)


def power(base: Fraction, p: Fraction) -> Fraction:
    """``base ** p`` for ``base >= 0``: exact for small integer ``p``, else to 50 digits.

    A power below 1e-400 is 0 and one above 1e400 is 1e400: far outside every float's range
    either way (and exact fractions of them would have millions of digits).
    """
    if base == 0:
        return Fraction(0) if p > 0 else Fraction(1)
    if p.denominator == 1 and abs(p.numerator) <= 64:
        return base**p.numerator
    with localcontext() as ctx:
        ctx.prec = _DIGITS + 10
        exponent = _dec(p) * _dec(base).ln()  # of e
        if exponent < -921:  # e**-921 < 1e-400
            return Fraction(0)
        if exponent > 921:
            return Fraction(10) ** 400
        return _fr(exponent.exp())


def sqrt(x: Fraction) -> Fraction:
    """``sqrt(x)``: exact for squares of rationals, else to 50 digits."""
    root = Fraction(math.isqrt(x.numerator), math.isqrt(x.denominator))
    if root * root == x:
        return root
    with localcontext() as ctx:
        ctx.prec = _DIGITS + 10
        return _fr(_dec(x).sqrt())


def _sin_cos(x: Decimal) -> tuple[Decimal, Decimal]:
    """``(sin x, cos x)`` for ``0 <= x <= pi/4`` by their Taylor series."""
    tiny = Decimal(10) ** -(_DIGITS + 8)
    xx = x * x
    s, c, k = Decimal(0), Decimal(0), 1
    s_term, c_term = x, Decimal(1)  # sin: x - x^3/3! + ...; cos: 1 - x^2/2! + ...
    while abs(s_term) >= tiny or abs(c_term) >= tiny:
        s += s_term
        c += c_term
        s_term = -s_term * xx / ((2 * k) * (2 * k + 1))
        c_term = -c_term * xx / ((2 * k - 1) * (2 * k))
        k += 1
    return s, c


def half_one_plus_cos_pi(t: Fraction) -> Fraction:
    """``(1 + cos(pi t)) / 2 = cos(pi t / 2)**2`` to full relative precision, also where it
    is tiny (``t`` near odd integers): the angle is reduced exactly, in fractions, to at most
    pi/4 before any rounding."""
    u = (t % 2) / 2  # cos(pi t / 2)**2 = cos(pi u)**2, 0 <= u < 1
    if u in (0, Fraction(1, 2)):
        return Fraction(1 - 2 * u)
    with localcontext() as ctx:
        ctx.prec = _DIGITS + 10
        if u <= Fraction(1, 4):
            c = _sin_cos(_PI * _dec(u))[1]
        elif u <= Fraction(3, 4):
            c = _sin_cos(_PI * _dec(abs(Fraction(1, 2) - u)))[0]  # |cos(pi u)|
        else:
            c = _sin_cos(_PI * _dec(1 - u))[1]
        return _fr(c * c)


# --- the references -------------------------------------------------------------------------


def inverse_time_decay(s: Any, step: Fraction) -> Fraction:
    """``a / (1 + r * p)``, ``p = step / decay_steps``, floored when staircase."""
    p = step / Fraction(s.decay_steps)
    if s.staircase:
        p = Fraction(math.floor(p))
    return Fraction(s.initial_learning_rate) / (1 + Fraction(s.decay_rate) * p)


def exponential_decay(s: Any, step: Fraction) -> Fraction:
    """``a * r ** p``, ``p = step / decay_steps``, floored when staircase."""
    p = step / Fraction(s.decay_steps)
    if s.staircase:
        p = Fraction(math.floor(p))
    return Fraction(s.initial_learning_rate) * power(Fraction(s.decay_rate), p)


def piecewise_constant_decay(s: Any, step: Fraction) -> Fraction:
    """``values[k]`` for ``boundaries[k-1] < step <= boundaries[k]``."""
    for boundary, value in zip(s.boundaries, s.values, strict=False):
        if step <= Fraction(boundary):
            return Fraction(value)
    return Fraction(s.values[-1])


def polynomial_decay(s: Any, step: Fraction) -> Fraction:
    """``(a - e) * (1 - min(step, d) / d) ** power + e``; cycle: ``d *= ceil(step / d)``."""
    a, e = Fraction(s.initial_learning_rate), Fraction(s.end_learning_rate)
    d = Fraction(s.decay_steps)
    if s.cycle:
        d = d * (1 if step == 0 else math.ceil(step / d))
    else:
        step = min(step, d)
    return (a - e) * power(1 - step / d, Fraction(s.power)) + e


def _cosine_part(t: Fraction, alpha: Fraction, scale: Fraction = Fraction(1)) -> Fraction:
    return (1 - alpha) * scale * half_one_plus_cos_pi(t) + alpha


def cosine_decay(s: Any, step: Fraction) -> Fraction:
    """Keras's ``CosineDecay``: an optional linear warmup, then ``peak * ((1 - alpha) *
    (1 + cos(pi t)) / 2 + alpha)``, ``t = min(step, d) / d``."""
    a, d, alpha = Fraction(s.initial_learning_rate), Fraction(s.decay_steps), Fraction(s.alpha)
    if s.warmup_target is None:
        return a * _cosine_part(min(step, d) / d, alpha)
    target, warmup = Fraction(s.warmup_target), Fraction(s.warmup_steps)
    step = min(step, d + warmup)
    if step < warmup:
        return (target - a) * (step / warmup) + a
    return target * _cosine_part((step - warmup) / d, alpha)


def cosine_decay_restarts(s: Any, step: Fraction) -> Fraction:
    """SGDR: period ``k`` lasts ``first_decay_steps * t_mul ** k`` steps, its cosine scaled
    by ``m_mul ** k`` (never above float32's max for a growing ``m_mul``)."""
    a, first = Fraction(s.initial_learning_rate), Fraction(s.first_decay_steps)
    t_mul, m_mul, alpha = Fraction(s.t_mul), Fraction(s.m_mul), Fraction(s.alpha)
    done = step / first
    if t_mul == 1:
        k = math.floor(done)
        frac = done - k
    else:
        # the restart k: the largest with (t**k - 1) / (t - 1) <= done; estimated with
        # floats, then corrected exactly (no walk over every period)
        k = max(int(math.log1p(float(done) * float(t_mul - 1)) / math.log(float(t_mul))), 0)

        def start(j: int) -> Fraction:
            return (t_mul**j - 1) / (t_mul - 1)

        while k > 0 and start(k) > done:
            k -= 1
        while start(k + 1) <= done:
            k += 1
        frac = (done - start(k)) / t_mul**k
    value = a * _cosine_part(frac, alpha, power(m_mul, Fraction(k)))
    return min(value, Fraction(FLOAT32_MAX))


def constant(s: Any, step: Fraction) -> Fraction:
    """``learning_rate``."""
    return Fraction(s.learning_rate)


def linear(s: Any, step: Fraction) -> Fraction:
    """``a + (e - a) * min(step / n, 1)``."""
    a, e = Fraction(s.initial_learning_rate), Fraction(s.end_learning_rate)
    return a + (e - a) * min(step / Fraction(s.transition_steps), Fraction(1))


def _ramp(start: Any, peak: Fraction, warmup: Fraction, step: Fraction) -> Fraction:
    if start is None:  # from 0 at step -1: the first update is not wasted at rate 0
        return peak * (step + 1) / (warmup + 1)
    return Fraction(start) + (peak - Fraction(start)) * step / warmup


def inverse_sqrt(s: Any, step: Fraction) -> Fraction:
    """The warmup ramp below ``warmup_steps``, then ``lr * sqrt(warmup_steps / step)``."""
    peak, warmup = Fraction(s.learning_rate), Fraction(s.warmup_steps)
    if step < warmup:
        return _ramp(s.initial_learning_rate, peak, warmup, step)
    return peak * sqrt(warmup / step)


def warmup(s: Any, step: Fraction) -> Fraction:
    """The ramp to ``schedule(0)`` below ``warmup_steps``, then ``schedule(step - w)``."""
    w = Fraction(s.warmup_steps)
    if step < w:
        return _ramp(s.initial_learning_rate, exact(s.schedule, Fraction(0)), w, step)
    return exact(s.schedule, step - w)


def join(s: Any, step: Fraction) -> Fraction:
    """``schedules[k](step - boundaries[k-1])`` from boundary ``k - 1`` on."""
    k, start = 0, Fraction(0)
    for boundary in s.boundaries:
        if step < Fraction(boundary):
            break
        k, start = k + 1, Fraction(boundary)
    return exact(s.schedules[k], step - start)


# --- composable specs ----------------------------------------------------------------------


def _one_over_one_plus_exp(z: Fraction) -> Fraction:
    """``1 / (1 + exp(2 z)) = (1 - tanh(z)) / 2`` to 50 digits."""
    with localcontext() as ctx:
        ctx.prec = _DIGITS + 10
        return _fr(1 / (1 + (2 * _dec(z)).exp()))


def _log(x: Fraction) -> Fraction:
    with localcontext() as ctx:
        ctx.prec = _DIGITS + 10
        return _fr(_dec(x).ln())


def anneal(s: Any, step: Fraction) -> Fraction:
    """From ``initial`` to ``end`` along ``shape`` over ``transition_steps``, then ``end``
    (``mirror``: back and forth, period ``2 n``)."""
    a, e = Fraction(s.initial_learning_rate), Fraction(s.end_learning_rate)
    n = Fraction(s.transition_steps)
    if s.mirror:
        r = step % (2 * n)
        done = r if r <= n else 2 * n - r
    else:
        done = min(step, n)
    p = power(done / n, Fraction(s.progress_power))
    if s.shape == "exp":
        if a == e:
            return a
        with localcontext() as ctx:
            ctx.prec = _DIGITS + 10
            return a * _fr((_dec(p) * (_dec(e).ln() - _dec(a).ln())).exp())
    if s.shape == "linear":
        keep = 1 - p
    elif s.shape == "cos":
        keep = half_one_plus_cos_pi(p)
    elif s.shape == "1-sqrt":
        keep = 1 - sqrt(p)
    else:  # tanh
        lower, upper = Fraction(s.tanh_lower), Fraction(s.tanh_upper)
        keep = _one_over_one_plus_exp(lower + (upper - lower) * p)
    return e + (a - e) * power(keep, Fraction(s.power))


def _cycle_at(s: Any, step: Fraction) -> tuple[int, Fraction]:
    """``(i, position)``: the cycle ``step`` falls in and the schedule's time within it."""
    size, start, i = Fraction(s.period), Fraction(0), 0
    period, mul = Fraction(s.period), Fraction(s.period_mul)
    if mul == 1:
        i = math.floor(step / period)
        start = i * period
    else:
        while step >= start + size:
            start, size, i = start + size, size * mul, i + 1
    if s.cycles is not None and i >= s.cycles:
        return s.cycles - 1, period
    return i, (step - start) / size * period


def cycle(s: Any, step: Fraction) -> Fraction:
    """``decay ** i * schedule(position in cycle i, scaled to period)``; after ``cycles``
    cycles, the end of the last one."""
    i, position = _cycle_at(s, step)
    return power(Fraction(s.decay), Fraction(i)) * exact(s.schedule, position)


def shift(s: Any, step: Fraction) -> Fraction:
    """``schedule(scale * step + steps)``: at that exact step when ``scale`` and ``steps``
    are whole numbers, else at its float64 value (``scale * step + steps`` as Python
    computes it: ``Shift(s, 0, scale=0.7)`` at step 10 is ``s(7.0)``, not ``s`` just below
    7, which a staircase would tell apart)."""
    scale, steps = Fraction(s.scale), Fraction(s.steps)
    if scale.denominator == 1 and steps.denominator == 1:
        return exact(s.schedule, scale * step + steps)
    return exact(s.schedule, Fraction(float(s.scale) * float(step) + float(s.steps)))


def sum_(s: Any, step: Fraction) -> Fraction:
    """The sum of the parts (capped at float32's largest value)."""
    return min(sum((exact(p, step) for p in s.schedules), Fraction(0)), Fraction(FLOAT32_MAX))


def product(s: Any, step: Fraction) -> Fraction:
    """The product of the parts (capped at float32's largest value)."""
    out = Fraction(1)
    for part in s.schedules:
        out *= exact(part, step)
    return min(out, Fraction(FLOAT32_MAX))
