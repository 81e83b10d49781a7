"""Each schedule's formula, written once against the backend ops of :mod:`lrspec.backends`.

A spec class names its formula (``class InverseTimeDecay(Schedule,
formula=formulas.inverse_time_decay, ...)``); nothing here knows the spec classes, and
nothing here is imported by the backends. A formula takes the spec, a prepared step
(:class:`~lrspec.backends.base.LazyStep`: the step as a non-negative compute float ``x.f``
and, for integer steps, as a non-negative integer ``x.i``) and the backend's ops, and
returns the learning rate in the compute dtype (float64 wherever the backend has it). Spec
parameters enter as Python floats, which every backend combines with its arrays without
changing their dtype. The backend rounds the result once, to the output dtype.

Numeric rules kept here:

* constants that are ratios of spec arguments are formed exactly (``fractions.Fraction``)
  and rounded once, when the spec is first evaluated;
* ``floor(step / d)`` is exact for integer steps (integer arithmetic), never computed from a
  rounded quotient;
* formulas are arranged so that step 0 gives the initial rate exactly and a decaying
  schedule never exceeds it.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

from lrspec.backends.base import LazyStep

# No runtime import of typing or collections.abc: they cost ~10 ms of `import lrspec`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeAlias

    from lrspec.backends.base import LazyStep as StepView
    from lrspec.backends.base import Ops

    # The specs live in the layer above (lrspec.schedules), which is not imported here, not
    # even for type checking: a formula reads the fields its spec class declares.
    Schedule: TypeAlias = Any
    Constant: TypeAlias = Any
    CosineDecay: TypeAlias = Any
    CosineDecayRestarts: TypeAlias = Any
    ExponentialDecay: TypeAlias = Any
    InverseSqrt: TypeAlias = Any
    InverseTimeDecay: TypeAlias = Any
    Join: TypeAlias = Any
    Linear: TypeAlias = Any
    PiecewiseConstantDecay: TypeAlias = Any
    PolynomialDecay: TypeAlias = Any
    Warmup: TypeAlias = Any
    Anneal: TypeAlias = Any
    Cycle: TypeAlias = Any
    Shift: TypeAlias = Any
    Sum: TypeAlias = Any
    Product: TypeAlias = Any

__all__ = ["FLOAT32_MAX", "FLOAT32_TINY", "evaluate", "floor_ratio"]

FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_TINY = 1.1754943508222875e-38  # smallest normal float32


def evaluate(spec: Schedule, x: StepView, ops: Ops) -> Any:
    """The learning rate of ``spec`` at the prepared step ``x``, in the compute dtype: the
    formula its class names (composite formulas evaluate their parts through this)."""
    return type(spec).formula(spec, x, ops)


def constants(spec: Schedule, make: Callable[[Any], tuple[Any, ...]]) -> tuple[Any, ...]:
    """``make(spec)``, computed once per spec object (specs are immutable).

    Kept as a plain attribute of the spec, filled when the spec is built (it is evaluated
    once at construction): traced code (``torch.compile(fullgraph=True)``) then only reads an
    attribute, which every dynamo version follows (older ones refuse ``__dict__.setdefault``).
    """
    name = "_lrspec_" + make.__name__
    value: tuple[Any, ...] | None = getattr(spec, name, None)
    if value is None:
        value = make(spec)
        object.__setattr__(spec, name, value)  # specs are frozen dataclasses
    return value


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
        n, m = d.as_integer_ratio()
        if n * m <= ops.int_max:
            n_i = ops.int_like(i, n)
            if m == 1:
                return ops.to_float(i // n_i)
            rest = ((i % n_i) * ops.int_like(i, m)) // n_i
            return ops.to_float(i // n_i) * float(m) + ops.to_float(rest)
    f = x.f
    return ops.rint((f - ops.fmod(f, d)) / d)


def _is_normal(value: float) -> bool:
    return FLOAT32_TINY <= value <= FLOAT32_MAX


def quotient_constants(numerator: Fraction, offset: Fraction) -> tuple[float, float, float] | None:
    """Constants of :func:`quotient` for ``numerator / (offset + t)``, or ``None`` when they
    fall outside float32's normal range (then use a direct form instead).

    ``offset`` is rounded once to ``b``; the numerator is then taken as exactly
    ``numerator / offset * b`` and split into a float ``hi`` and a relative remainder ``k``,
    so that ``t = 0`` gives exactly ``numerator / offset``.
    """
    if not 0 < offset <= FLOAT32_MAX:  # e.g. 1 / a subnormal decay_rate: no float holds it
        return None
    b = float(offset)
    if not _is_normal(b):
        return None
    exact = numerator / offset * Fraction(b)
    if not 0 < exact <= FLOAT32_MAX:
        return None
    hi = float(exact)
    if not _is_normal(hi):
        return None
    return hi, float((exact - Fraction(hi)) / Fraction(hi)), b


def quotient(
    x: StepView, t: Any, integral: bool, consts: tuple[float, ...], cap: float, ops: Ops
) -> Any:
    """``hi * (1 + k) / (b + t)`` for ``t >= 0`` (``integral``: ``t`` holds integers), never
    above ``cap``.

    For a float64 result the rounding of ``b + t`` is recovered exactly (TwoSum) and folded
    in with the numerator's remainder ``k``: what is left is the rounding of one division
    and of the final sum, so the result is within about 1.5 ulp, where the plain expression
    is up to ~2.6 ulp off. When ``b`` and ``t`` are integers the sum is exact already (below
    2**53, where a float64 step is exact at all) and only ``k`` needs folding in, if any. A
    float32 result needs no compensation (the float64 error is far below a float32 ulp).
    """
    hi, k, b = consts
    den = b + t
    if not x.precise:
        return ops.minimum(hi / den, cap)
    q = ops.div(hi, den)
    if integral and b.is_integer():
        if k == 0.0:
            return q  # correctly rounded, so never above the (representable) cap
        return ops.minimum(q + q * k, cap)
    back = den - b
    err = (b - (den - back)) + (t - back)  # exact: b + t == den + err
    return ops.minimum(q + q * (k - err / den), cap)


def _inverse_time_constants(s: InverseTimeDecay) -> tuple[Any, ...]:
    """``(lr0, rate, rate / decay_steps, stairs, smooth)``; the last two are the
    :func:`quotient` constants of each form, or ``None`` (then the direct form is used)."""
    a, d, r = Fraction(s.initial_learning_rate), Fraction(s.decay_steps), Fraction(s.decay_rate)
    if r == 0 or a == 0:
        return float(a), 0.0, 0.0, None, None
    # lr = a / (1 + r p) = (a / r) / (1 / r + p)  (staircase: p = floor(step / d))
    #    = (a d / r) / (d / r + step)             (otherwise)
    stairs = quotient_constants(a / r, 1 / r)
    smooth = quotient_constants(a * d / r, d / r)
    return float(a), float(r), float(r / d), stairs, smooth


def inverse_time_decay(s: InverseTimeDecay, x: StepView, ops: Ops) -> Any:
    """``lr0 / (1 + decay_rate * p)``, ``p = step / decay_steps`` (floored if staircase)."""
    lr0, rate, per_step, stairs, smooth = constants(s, _inverse_time_constants)
    if rate == 0.0 or lr0 == 0.0:
        return ops.full(x, lr0)
    if s.staircase:
        p = floor_ratio(x, float(s.decay_steps), ops)
        if stairs is not None:
            return quotient(x, p, True, stairs, lr0, ops)
        return lr0 / (1.0 + rate * p)
    if smooth is not None:
        return quotient(x, x.f, x.i is not None, smooth, lr0, ops)
    if per_step <= FLOAT32_MAX:
        return lr0 / (1.0 + per_step * x.f)
    return lr0 / (1.0 + rate * (x.f / float(s.decay_steps)))


# --- the family: shared helpers -----------------------------------------------------------


def high_ln(value: float) -> Fraction:
    """``ln(value)`` to ~70 significant digits (``value > 0``)."""
    with localcontext() as ctx:
        ctx.prec = 70
        return Fraction(Decimal(value).ln())


def split12(c: Fraction) -> tuple[float, float]:
    """``c`` as ``hi + lo``, ``hi`` with 12 significant bits (see :func:`exp_mul`)."""
    if c == 0:
        return 0.0, 0.0
    m, e = math.frexp(float(c))
    hi = math.ldexp(round(m * 4096), e - 12)
    return hi, float(c - Fraction(hi))


def exp_mul(t: Any, c: tuple[float, float], ops: Ops) -> Any:
    """``exp(c * t)`` for ``t >= 0`` and ``c = hi + lo`` from :func:`split12`.

    The plain ``exp(c * t)`` loses ``|c t|`` units of the compute dtype's rounding in the
    product, which near the end of a long decay is many float32 ulps (JAX without x64) or
    float64 ulps. Here ``t`` is cut at 2**12 into ``t1 + t0`` so that ``t1 * hi`` and
    ``t0 * hi`` are exact (in float32 and float64 alike, for integer steps below 2**24 and
    2**53); ``t * lo`` is small, so its own rounding is negligible; the two sums' roundings
    are recovered (TwoSum) and folded in: ``exp(s) * (1 + err)`` is within ~1.5 ulp of exact.
    """
    hi, lo = c
    if hi < 0 and 1100 / -(hi + lo) < 2.0**100:
        # past exp(-1100) the result is 0 in every float: stop t there, so that the
        # products and their error terms stay small (a huge t made err ~ 1, and -0 or NaN)
        t = ops.minimum(t, 2.0 ** math.ceil(math.log2(1100 / -(hi + lo))))
    s, err = exp_parts(t, c, ops)
    return ops.exp(s) * (1.0 + err)


def exp_parts(t: Any, c: tuple[float, float], ops: Ops) -> tuple[Any, Any]:
    """``(s, err)`` with ``c * t = s * (1 + ...)``: ``exp(c * t) = exp(s) * (1 + err)`` to
    ~1 ulp (:func:`exp_mul` without its clamp, for callers that scale ``exp(s)`` first)."""
    hi, lo = c
    t1 = ops.floor(t * 2.0**-12) * 4096.0
    a, err = _two_sum(t1 * hi, (t - t1) * hi)
    s, err2 = _two_sum(a, t * lo)
    return s, err + err2


def _two_sum(a: Any, b: Any) -> tuple[Any, Any]:
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e = a + b`` exactly (Knuth's TwoSum)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _series(coefficients: list[Fraction]) -> tuple[float, ...]:
    return tuple(float(c) for c in coefficients)


def _cosine_series() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Taylor coefficients of cos(pi t / 2)**2 and sin(pi u / 2)**2 / u**2, each rounded
    once from 70-digit values; computed on first use (not at import: start-up time)."""
    global _COS_SIN
    if _COS_SIN is None:
        pi = Fraction(Decimal("3.14159265358979323846264338327950288419716939937510582097494459"))
        # cos(pi t / 2)**2 = (1 + cos(pi t)) / 2 = 1 + sum_{k>=1} (-1)^k pi^2k t^2k / (2 (2k)!)
        cos2 = [Fraction(1)] + [
            (-1) ** k * pi ** (2 * k) / (2 * math.factorial(2 * k)) for k in range(1, 14)
        ]
        # sin(pi u / 2)**2 = (1 - cos(pi u)) / 2 = u**2 sum_{k>=1} (-1)^(k+1) pi^2k u^(2k-2) / ...
        sin2 = [(-1) ** (k + 1) * pi ** (2 * k) / (2 * math.factorial(2 * k)) for k in range(1, 14)]
        _COS_SIN = _series(cos2), _series(sin2)
    return _COS_SIN


_COS_SIN: tuple[tuple[float, ...], tuple[float, ...]] | None = None


def _horner(z: Any, coefficients: tuple[float, ...]) -> Any:
    acc = z * coefficients[-1] + coefficients[-2]
    for c in reversed(coefficients[:-2]):
        acc = acc * z + c
    return acc


def cosine_weight(done: Any, left: Any, length: Any, ops: Ops) -> Any:
    """``(1 + cos(pi t)) / 2`` for ``t = done / length`` in [0, 1], ``left = length - done``.

    ``1 + cos(pi t)`` cancels near ``t = 1``, and so does ``cos`` of a rounded argument near
    pi: the end of a cosine decay would be off by thousands of ulps. Instead the weight is
    a Taylor polynomial in ``t**2`` for ``t <= 1/2`` and ``u**2`` times one in ``u**2`` above
    (``sin(pi u / 2)**2``): both converge fast on [0, 1/2], need no backend ``cos``, give
    exactly 1 at ``t = 0`` and exactly 0 at ``u = 0``. The squares are taken before dividing
    (``t**2 = done**2 / length**2``): exact integer squares then round once, not thrice.
    """
    square = length * length
    uu = (left * left) / square
    cos2, sin2 = _COS_SIN or _cosine_series()
    return ops.where(done <= left, _horner((done * done) / square, cos2), uu * _horner(uu, sin2))


def shift(x: StepView, k: int, ops: Ops) -> StepView:
    """The step ``max(step - k, 0)`` (``k >= 0`` an integer), as a new :class:`StepView`.

    Integer steps stay integers (never wrapping below 0, also for JAX's unsigned counters
    without x64); the float form is taken from them, so it is exact wherever it can be.
    """
    if k == 0:
        return x
    i = x.i
    if i is not None:
        if k > ops.int_max:  # every step the counter can hold is below k

            def make_i() -> Any:
                return i * 0

        else:

            def make_i() -> Any:
                # i >= k is tested first: i - k wraps for unsigned i < k, but is not selected
                kk = ops.int_like(i, k)  # typed like i: JAX's uint32 holds k up to 2**32-1
                return ops.where(i >= kk, i - kk, i * 0)

        view = LazyStep(lambda: ops.to_float(view.i), make_i, x.precise)
        return view
    f = x.f
    return LazyStep(lambda: ops.maximum(f - float(k), 0.0), None, x.precise)


def before(x: StepView, k: int, ops: Ops) -> Any:
    """``step < k`` for an integer ``k >= 0``, exactly for integer steps."""
    i = x.i
    if i is not None:
        return i < ops.int_like(i, k) if k <= ops.int_max else i >= 0
    return x.f < float(k)


def at_most(x: StepView, b: float, ops: Ops) -> Any:
    """``step <= b`` for any number ``b``, exactly for integer steps."""
    i = x.i
    if i is not None:
        k = math.floor(b)
        if k < 0:
            return i < 0
        return i <= ops.int_like(i, k) if k <= ops.int_max else i >= 0
    return x.f <= float(b)


def ramp(x: StepView, start: float | None, peak: float, steps: int, ops: Ops) -> Any:
    """The linear warmup of :class:`~lrspec.Warmup` at steps below ``steps``.

    ``start`` given: from ``start`` at step 0 to ``peak`` at ``steps``.
    ``start`` None: ``peak * (step + 1) / (steps + 1)``, the ramp from 0 at step -1, so the
    first update is never wasted at rate 0.
    """
    f = x.f
    if start is None:
        return ops.minimum(((f + 1.0) / float(steps + 1)) * peak, peak)
    delta = float(Fraction(peak) - Fraction(start))
    if delta >= 0:
        return ops.minimum(start + delta * (f / float(steps)), peak)
    return ops.maximum(start + delta * (f / float(steps)), peak)


def polynomial_weight(q: Any, power: float, ops: Ops, go: Any = None) -> Any:
    """``q ** power`` for ``q`` in [0, 1] and ``power > 0`` (0 at ``q = 0``, no log(0)).

    ``go``: ``1 - q`` to full precision, if known. Near ``q = 1`` the logarithm is then
    taken of it (``log1p(-go)``): ``q`` itself may have rounded to 1, and a large power
    would make that rounding the whole result.
    """
    if power == 1:
        return q
    if power == 2:
        return q * q
    if power == 0.5:
        return ops.sqrt(q)
    positive = q > 0.0
    safe = ops.where(positive, q, q * 0.0 + 1.0)
    ln = ops.log(safe)
    if go is not None:
        ln = ops.where(go < 0.25, log1p(-go, ops), ln)
    return ops.where(positive, ops.exp(power * ln), q * 0.0)


def remainder(x: StepView, d: float, ops: Ops) -> Any:
    """``step mod d`` (``d > 0``), exact: for integer steps by integer arithmetic (``d = n /
    m``: ``(step * m mod n) / m``, while ``n * m`` fits the backend's integers), else
    ``fmod``, which is exact for the float step. (``fmod`` of an integer step past 2**53
    would take the remainder of the rounded step: the phase of a cycle lost.)"""
    i = x.i
    if i is not None:
        n, m = d.as_integer_ratio()
        if n * m <= ops.int_max:
            n_i = ops.int_like(i, n)
            if m == 1:
                return ops.to_float(i % n_i)
            return ops.to_float(((i % n_i) * ops.int_like(i, m)) % n_i) / float(m)
    return ops.fmod(x.f, d)


# --- the family: formulas ----------------------------------------------------------------


def _exponential_constants(s: ExponentialDecay) -> tuple[Any, ...]:
    a, r = s.initial_learning_rate, s.decay_rate
    if r in (0, 1) or a == 0:
        return (float(a),)
    ln = high_ln(float(r))
    return float(a), split12(ln), split12(ln / Fraction(s.decay_steps))


def exponential_decay(s: ExponentialDecay, x: StepView, ops: Ops) -> Any:
    """``lr0 * decay_rate ** p``, ``p = step / decay_steps`` (floored if staircase)."""
    consts: tuple[Any, ...] = constants(s, _exponential_constants)
    lr0 = consts[0]
    p = floor_ratio(x, float(s.decay_steps), ops) if s.staircase else x.f
    if len(consts) == 1:
        if s.decay_rate == 0 and lr0 != 0:  # 0 ** 0 = 1: lr0 until p > 0, then 0
            return ops.where(p > 0.0, p * 0.0, p * 0.0 + lr0)
        return ops.full(x, lr0)
    c = consts[1] if s.staircase else consts[2]
    return ops.minimum(lr0 * exp_mul(p, c, ops), lr0)


def piecewise_constant_decay(s: PiecewiseConstantDecay, x: StepView, ops: Ops) -> Any:
    """``values[k]`` for ``boundaries[k-1] < step <= boundaries[k]`` (exact for integer steps)."""
    out = ops.full(x, float(s.values[-1]))
    for b, v in zip(reversed(s.boundaries), reversed(s.values[:-1]), strict=True):
        out = ops.where(at_most(x, b, ops), ops.full(x, float(v)), out)
    return out


def _polynomial_constants(s: PolynomialDecay | Linear) -> tuple[float, ...]:
    a, e = s.initial_learning_rate, s.end_learning_rate
    return float(a), float(e), float(Fraction(a) - Fraction(e))


def _fraction_left(x: StepView, d: float, ops: Ops) -> Any:
    """``1 - min(step, d) / d = max(d - step, 0) / d``, rounded once."""
    return ops.maximum(d - x.f, 0.0) / d


def _between(value: Any, a: float, b: float, ops: Ops) -> Any:
    return ops.minimum(ops.maximum(value, min(a, b)), max(a, b))


def polynomial_decay(s: PolynomialDecay, x: StepView, ops: Ops) -> Any:
    """``(lr0 - end) * (1 - p) ** power + end``, ``p = min(step, decay_steps) / decay_steps``.

    cycle=True: ``decay_steps`` is first multiplied by ``ceil(step / decay_steps)`` (1 at 0).
    ``1 - p`` is formed as ``(d - step) / d``, exactly rounded, so the end of the decay keeps
    its precision (Keras rounds ``p`` in float32 first).
    """
    a, e, delta = constants(s, _polynomial_constants)
    if s.power == 0 or delta == 0:
        return ops.full(x, a)
    d = float(s.decay_steps)
    if s.cycle:
        # span = d * ceil(step / d) (d at step 0); span - step = d - (step mod d), exactly
        k = floor_ratio(x, d, ops)
        rem = remainder(x, d, ops)
        inside = rem > 0.0
        span = d * ops.maximum(ops.where(inside, k + 1.0, k), 1.0)
        left = ops.where(inside, d - rem, ops.where(k > 0.5, rem * 0.0, rem * 0.0 + d))
        keep, go = left / span, x.f / span
    else:
        done = ops.minimum(x.f, d)
        keep, go = (d - done) / d, done / d
    # anchored at the nearer end: step 0 gives exactly lr0 (rising or falling), the end
    # exactly end_learning_rate
    keep, go = _powers(keep, go, float(s.power), ops)
    return _between(ops.where(keep >= 0.5, a - delta * go, e + delta * keep), a, e, ops)


def _cosine_constants(s: CosineDecay) -> tuple[float, ...]:
    a = Fraction(s.initial_learning_rate)
    peak = a if s.warmup_target is None else Fraction(s.warmup_target)
    alpha = Fraction(s.alpha)
    return float(a), float(peak), float(peak * (1 - alpha)), float(peak * alpha)


def cosine_decay(s: CosineDecay, x: StepView, ops: Ops) -> Any:
    """``peak * ((1 - alpha) * (1 + cos(pi t)) / 2 + alpha)``, ``t = min(step, d) / d``.

    With ``warmup_target``: linear from ``initial_learning_rate`` to ``warmup_target`` over
    ``warmup_steps``, then the cosine from ``peak = warmup_target`` on ``step - warmup_steps``.
    """
    a, peak, scale, floor_ = constants(s, _cosine_constants)
    d = float(s.decay_steps)
    w = float(s.warmup_steps) if s.warmup_target is not None else 0.0
    if w and w.is_integer():  # integer steps: step - w exactly (also past 2**53)
        g, warming = shift(x, int(w), ops).f, before(x, int(w), ops)
    else:
        g, warming = (ops.maximum(x.f - w, 0.0) if w else x.f), x.f < w
    done = ops.minimum(g, d)
    decayed = ops.minimum(scale * cosine_weight(done, d - done, d, ops) + floor_, peak)
    # the peak exactly where the cosine starts (scale + floor_ may round below it in float32)
    decayed = ops.where(done > 0.0, decayed, ops.full(x, peak))
    if not w:
        return decayed
    warm = ops.minimum(x.f, w) / w * float(Fraction(peak) - Fraction(a)) + a
    return ops.where(warming, _between(warm, a, peak, ops), decayed)


def _restart_constants(s: CosineDecayRestarts) -> tuple[Any, ...]:
    a, alpha = Fraction(s.initial_learning_rate), Fraction(s.alpha)
    m, tm, first = float(s.m_mul), float(s.t_mul), float(s.first_decay_steps)
    m_split = split12(high_ln(m)) if 0 < m != 1 else (0.0, 0.0)
    if tm == 1:
        return float(a * (1 - alpha)), float(a * alpha), m_split, 0, (), {}
    # the last period index any step below 2**128 (float32's range: any traced float32 step,
    # any integer counter) can reach: t_mul ** i <= 1 + 2**128 (t - 1) / d
    top = math.log1p(2.0**128 * (tm - 1) / first) / math.log(tm) + 2
    bits = int(top).bit_length()
    last = 2**bits - 2
    # double-floats (:func:`_restart_phase`) for float64 (53 bits) and float32 (24 bits),
    # up to the restart ``most`` past which d t**(k + 1) / min(t - 1, 1) would pass 2**100 in
    # float32 (float64: t**2**b <= t**top ~ (1 + 2**128 (t - 1) / d) t**2)
    room = 100 * math.log(2) - math.log(first) + min(math.log(tm - 1), 0.0)
    with localcontext() as ctx:  # t ** 2**b to ~60 digits (exact for whole t: below 2**184)
        ctx.prec = 60
        exact = [Decimal(tm) ** 2**b for b in range(bits)]
        pairs = {}
        for n, most in ((53, last), (24, min(math.floor(room / math.log(tm)) - 2, last))):
            d, u = (_pair(Decimal(v), n) for v in (first, tm - 1))
            keep = exact[: max(most, 0).bit_length()]
            pairs[n] = (most, d, u, tuple(_pair(c, n) for c in keep))
    powers = tuple(float(c) for c in exact)  # each rounded once
    return float(a * (1 - alpha)), float(a * alpha), m_split, last, powers, pairs


def _pair(c: Decimal, n: int) -> tuple[float, float, float, float]:
    """``c`` as ``hi + lo`` in a float of ``n`` significant bits (53 or 24: float32 rounds
    twice, which only moves where ``c`` is cut), and ``hi`` cut in two halves of at most
    ``n // 2`` bits, whose products with :func:`_dd_mul`'s halves are exact."""
    hi = _round_bits(float(c), n)
    lo = _round_bits(float(c - Decimal(hi)), n)
    h1 = _round_bits(hi, n // 2)
    return hi, lo, h1, hi - h1


def _round_bits(x: float, n: int) -> float:
    """``x`` rounded to ``n`` significant bits (to nearest, ties to even)."""
    m, e = math.frexp(x)
    return math.ldexp(round(m * 2**n), e - n)


def _int_power(i: Any, powers: tuple[float, ...], ops: Ops) -> Any:
    """``t ** i`` for integer-valued ``i`` in [0, 2**len(powers)), ``powers[b] = t ** 2**b``:
    exact whenever ``t ** i`` is an integer the compute float holds."""
    out = i * 0.0 + 1.0
    for b, p in enumerate(powers):
        bit = ops.fmod(ops.floor(i * 2.0**-b), 2.0) > 0.5
        out = ops.where(bit, out * p, out)
    return out


def _fast_two_sum(a: Any, b: Any) -> tuple[Any, Any]:
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e = a + b`` exactly, for ``|a| >= |b|``."""
    s = a + b
    return s, b - (s - a)


def _dd_mul(h: Any, lo: Any, c: tuple[float, ...], split: float) -> tuple[Any, Any]:
    """``(h + lo) * (c[0] + c[1])`` as a float and its remainder, ``c`` from :func:`_pair`.

    ``h * c[0]`` and its rounding error are exact (Dekker's TwoProduct: ``h`` cut in halves
    by Veltkamp's ``split = 2**ceil(n / 2) + 1``, overflowing past ``max / split``; no FMA,
    which not every backend has); the small cross terms round once.
    """
    ch, cl, c1, c0 = c
    p = h * ch
    big = h * split
    h1 = big - (big - h)
    h0 = h - h1
    return _fast_two_sum(p, h1 * c1 - p + h1 * c0 + h0 * c1 + h0 * c0 + (h * cl + lo * ch))


def _dd_add(h: Any, lo: Any, b: Any, b_lo: Any) -> tuple[Any, Any]:
    """``(h + lo) + (b + b_lo)`` as a float and its remainder (TwoSum of the high parts)."""
    s, e = _two_sum(h, b)
    return _fast_two_sum(s, e + (lo + b_lo))


def _restart_phase(f: Any, k: Any, consts: tuple[Any, ...], wide: bool, ops: Ops) -> Any:
    """``(k, done, left, length)`` of the step ``f``, the period ``k`` being the estimate
    ``k`` (>= 1) or a neighbour: ``done = f - S_k``, ``left = S_(k+1) - f``.

    From rounded powers, ``t**k`` is ~k ulps off for a fractional ``t``, and the phase
    ``f - S_k`` (``S_k = d (t**k - 1) / (t - 1)``) inherits ~k / (t - 1) ulps of the period
    length: tens of ulps of the rate after ~100 restarts, and near 2**48 (float64) restarts a
    step early or late. Here ``d t**j`` and ``S_j`` are double-floats (a float and its
    remainder, ~2**-100 relative error in float64, ~2**-44 in float32) built with error-free
    products and sums from constants split exactly (:func:`_pair`): exact wherever the exact
    values fit in twice the float's bits (whole ``t`` and ``d``: every restart the float's
    integers reach), and ``done`` rounded once.
    """
    _, (d, d_lo, *_), u, powers = consts
    split = 134217729.0 if wide else 4097.0  # 2**27 + 1, 2**12 + 1
    k = k - 1.0
    h, lo = k * 0.0 + d, k * 0.0 + d_lo  # d t**k: times t**(2**b) for each bit b of k
    for b, p in enumerate(powers):
        bit = ops.fmod(ops.floor(k * 2.0**-b), 2.0) > 0.5
        mh, ml = _dd_mul(h, lo, p, split)
        h, lo = ops.where(bit, mh, h), ops.where(bit, ml, lo)
    lengths = [(h, lo), _dd_mul(h, lo, powers[0], split)]
    lengths.append(_dd_mul(*lengths[1], powers[0], split))
    # S_k = (d t**k - d) / (t - 1): the quotient q, then the remainder's own quotient
    h, lo = _dd_add(h, lo, -d, -d_lo)
    q = h / u[0]
    p, e = _dd_mul(q, 0.0, (u[0], 0.0, *u[2:]), split)
    starts = [_fast_two_sum(q, (h - p - e + (lo - q * u[1])) / u[0])]
    starts += [_dd_add(*starts[0], *lengths[0])]
    starts += [_dd_add(*starts[1], *lengths[1])]
    # f - S_j rounded once (f - hi is exact near S_j: Sterbenz); >= 0 from S_j on
    dones = [(f - s_hi) - s_lo for s_hi, s_lo in starts]
    one, two = dones[1] >= 0.0, dones[2] >= 0.0
    done = ops.maximum(ops.where(two, dones[2], ops.where(one, dones[1], dones[0])), 0.0)
    length, length_lo = (
        ops.where(two, l2, ops.where(one, l1, l0)) for l0, l1, l2 in zip(*lengths, strict=True)
    )
    left = ops.maximum(length - done + length_lo, 0.0)
    return ops.where(two, k + 2.0, ops.where(one, k + 1.0, k)), done, left, length


def _float_phase(f: Any, k: Any, d: float, tm: float, powers: tuple[float, ...], ops: Ops) -> Any:
    """:func:`_restart_phase` in single floats, for float32 computation past the range of
    its double-floats: restart points exact for integer steps when ``first_decay_steps``
    and ``t_mul`` are integers and ``t**k`` is an integer float32 holds."""
    powers = tuple(min(p, ops.float_max) for p in powers)  # past float32's range: no warning
    power = _int_power(k, powers, ops)  # t ** k
    length = d * power
    if tm - 1 >= 2.0**-8:  # exact for integers
        start = d * ((power - 1.0) / (tm - 1))
    else:  # t**k - 1 cancels (~2**-24 / (t - 1) of it; all where t - 1 is below float32's
        # ulp), while expm1 errs by ~k ln(t) 2**-24, below 2**-16 (k ln(t) < ~90 here)
        start = d * (ops.expm1(k * math.log(tm)) / (tm - 1))
    prev_len = length / tm
    prev_start = start - prev_len
    next_start = start + length
    low, high = f < start, f >= next_start
    k = ops.where(low, k - 1.0, ops.where(high, k + 1.0, k))
    start = ops.where(low, prev_start, ops.where(high, next_start, start))
    length = ops.where(low, prev_len, ops.where(high, length * tm, length))
    done = ops.maximum(f - start, 0.0)
    return k, done, ops.maximum(start + length - f, 0.0), length


def cosine_decay_restarts(s: CosineDecayRestarts, x: StepView, ops: Ops) -> Any:
    """SGDR: period ``k`` lasts ``first_decay_steps * t_mul ** k`` steps and its cosine
    starts from ``m_mul ** k``; ``lr0 * ((1 - alpha) m_mul**k (1 + cos(pi t)) / 2 + alpha)``.

    Period starts are ``S_k = d (t**k - 1) / (t - 1)``; the log-based estimate of ``k`` is
    corrected against them. They are double-floats (:func:`_restart_phase`), so that
    restart points are right for integer steps the float holds exactly and the phase is
    within an ulp, for any ``t_mul``; computed in float32 (JAX without x64), single floats
    (:func:`_float_phase`) past the restart where double-floats would leave float32's range.
    """
    consts: tuple[Any, ...] = constants(s, _restart_constants)
    scale, floor_, m_split, top, powers, pairs = consts
    d, tm, f = float(s.first_decay_steps), float(s.t_mul), x.f
    if tm == 1:
        k = floor_ratio(x, d, ops)
        rem = remainder(x, d, ops)
        done, left, length = rem, d - rem, d
    else:
        ln_t = math.log(tm)
        k = ops.floor(ops.log(f * ((tm - 1) / d) + 1.0) / ln_t)
        k = ops.minimum(ops.maximum(k, 1.0), float(top))
        # the estimate is k or k+1 or k-1 (k was clamped >= 1 so that k - 1 >= 0 exists)
        if ops.float_max > 1e300:  # computed in float64 (a float32 result too: a restart
            # a step off would be a whole rate off, whatever the result's precision)
            k, done, left, length = _restart_phase(f, k, pairs[53], True, ops)
        else:
            phase = _float_phase(f, k, d, tm, powers, ops)
            most = pairs[24][0]
            if ops.float_max < 1e300 and most >= 1:
                # computed in float32 (JAX without x64), whose ulp is the result's: the
                # double-floats too, up to the restart ``most`` (they stay finite below it)
                near = _restart_phase(f, ops.minimum(k, float(most)), pairs[24], False, ops)
                phase = tuple(ops.where(k <= most, v, w) for v, w in zip(near, phase, strict=True))
            k, done, left, length = phase
            # float32 lengths past 2**64 would overflow cosine_weight's squares (inf / inf,
            # or a rate back at the period's start): scale by 2**-64, exactly
            scaled = ops.where(length > 2.0**60, 2.0**-64, 1.0)
            done, left, length = done * scaled, left * scaled, length * scaled
        # past 2**128 (float64 steps only) the period is clamped: its end, not an overflow
        done = ops.minimum(done, length)
    weight = cosine_weight(done, left, length, ops)
    m = float(s.m_mul)
    if s.alpha == 1 or s.initial_learning_rate == 0 or (scale == 0.0 and m <= 1):
        return ops.full(x, floor_)  # the floor at every step
    if m == 0:
        weight = ops.where(k > 0.5, weight * 0.0, weight)
    elif m < 1:
        weight = weight * exp_mul(k, m_split, ops)
    if m > 1:
        value = _growing(s, weight, k, (scale, floor_, m_split), ops)
    else:  # (not scale + floor_: that sum may round above the initial rate)
        value = ops.minimum(scale * weight + floor_, float(s.initial_learning_rate))
    # step 0: the initial rate exactly (scale + floor_ may round off it in float32)
    return ops.where(f > 0.0, value, ops.full(x, float(s.initial_learning_rate)))


def _growth_constants(s: CosineDecayRestarts) -> tuple[Any, ...]:
    """``(near, far, ln_scale)`` for :func:`_growing`: ``near[w]`` the last restart whose
    ``m**k`` stays below 2**(w - 2) for a float of ``w`` exponent bits' range (1024 or 128),
    ``far[w]`` the first past which the rate is capped whatever the (positive) weight, and
    ``ln(scale)`` as a 24-bit float and its remainder."""
    a, alpha = Fraction(s.initial_learning_rate), Fraction(s.alpha)
    log2_m = math.log2(float(s.m_mul))
    with localcontext() as ctx:
        ctx.prec = 70
        ln_scale = Fraction(_decimal(a * (1 - alpha)).ln())  # (may be below float64's range)
    log2_scale = float(ln_scale) / math.log(2)
    near = {w: math.floor((w - 2) / log2_m) for w in (128, 1024)}
    # the smallest positive weight: the float's smallest subnormal (2**-1074, 2**-149)
    far = {
        w: math.ceil((130 - log2_scale + tiny) / log2_m) for w, tiny in ((128, 149), (1024, 1074))
    }
    hi = _round_bits(float(ln_scale), 24)  # a float32 too: exact in either compute float
    return near, far, (hi, float(ln_scale - Fraction(hi)))


def _growing(s: CosineDecayRestarts, weight: Any, k: Any, consts: tuple[Any, ...], ops: Ops) -> Any:
    """Growing restarts (``m_mul > 1``, as Keras allows): ``min(scale * weight * m**k +
    floor, float32 max)``, where ``m**k`` and ``scale`` may each leave the compute float's
    range while the rate does not.

    While ``m**k`` stays inside (and, computed in float32, ``scale`` is a normal float32),
    the product is formed directly, as for a decaying ``m``. Past that, ``ln(scale)`` joins
    the exponent, ``scale m**k = exp(s) (1 + err)``, and ``exp(s)`` is taken in pieces that
    stay finite: ``exp(s - h)`` (times the weight, capped where the rate surely is), then
    ``exp(h / 2)`` twice, ``h`` a whole number so that ``s - h`` is exact. Past ``far``
    restarts the rate is capped whatever the weight: ``k`` stops there, keeping ``s`` small.
    """
    scale, floor_, m_split = consts
    near, far, ln_scale = constants(s, _growth_constants)
    wide = ops.float_max > 1e300
    bits = 1024 if wide else 128
    # direct: m**k below 2**(bits - 2), weight * m**k capped where scale * it is past the cap
    cap = min(2.0 ** (bits - 2), 2 * FLOAT32_MAX / max(scale, 2.0**-1000))
    direct = scale * ops.minimum(
        weight * exp_mul(ops.minimum(k, float(near[bits])), m_split, ops), cap
    )
    # in pieces: exp(s) = exp(s - h) * exp(h / 2)**2
    e, err = exp_parts(ops.minimum(k, float(far[bits])), m_split, ops)
    e, err2 = _two_sum(e, ln_scale[0])
    e, err3 = _two_sum(e, ln_scale[1])  # (exp(s) (1 + err) holds only for a tiny err)
    err = err + (err2 + err3)
    h = ops.maximum(ops.floor(e - (700.0 if wide else 80.0)), 0.0)
    head = weight * (ops.exp(e - h) * (1.0 + err))
    if wide:  # past 2**130 the rate is capped whatever exp(h) is: no float64 overflow
        head = ops.minimum(head, 2.0**130)
    half = ops.exp(h * 0.5)
    pieces = head * half * half
    if scale >= (2.0**-1022 if wide else FLOAT32_TINY):
        grown = ops.where(k > float(near[bits]), pieces, direct)
    else:  # a scale below the float's normal range loses its bits (or is 0): pieces only
        grown = pieces
    grown = ops.where(weight > 0.0, grown, weight * 0.0)
    return ops.minimum(grown + floor_, FLOAT32_MAX)


def constant(s: Constant, x: StepView, ops: Ops) -> Any:
    """``learning_rate`` at every step."""
    return ops.full(x, float(s.learning_rate))


def linear(s: Linear, x: StepView, ops: Ops) -> Any:
    """``end + (initial - end) * max(transition_steps - step, 0) / transition_steps``
    (``initial + (end - initial) * min(step, transition_steps) / transition_steps`` rising)."""
    a, e, delta = constants(s, _polynomial_constants)
    if delta == 0:
        return ops.full(x, a)
    n = float(s.transition_steps)
    if delta < 0:  # rising: add to the start, which keeps small early rates exact
        return _between(a - delta * (ops.minimum(x.f, n) / n), a, e, ops)
    return _between(delta * _fraction_left(x, n, ops) + e, a, e, ops)


def _peak(s: Warmup) -> tuple[float, ...]:
    return (float(s.schedule(0)),)


def inverse_sqrt(s: InverseSqrt, x: StepView, ops: Ops) -> Any:
    """Warmup (as :class:`~lrspec.Warmup`) to ``learning_rate`` at ``warmup_steps``, then
    ``learning_rate * sqrt(warmup_steps / step)``."""
    peak, w = float(s.learning_rate), int(s.warmup_steps)
    decay = ops.minimum(peak * ops.sqrt(float(w) / ops.maximum(x.f, float(w))), peak)
    return ops.where(before(x, w, ops), ramp(x, s.initial_learning_rate, peak, w, ops), decay)


def warmup(s: Warmup, x: StepView, ops: Ops) -> Any:
    """The ramp of :func:`ramp` below ``warmup_steps``, then ``schedule(step - warmup_steps)``."""
    w = int(s.warmup_steps)
    inner = evaluate(s.schedule, shift(x, w, ops), ops)
    if w == 0:
        return inner
    (peak,) = constants(s, _peak)
    start = None if s.initial_learning_rate is None else float(s.initial_learning_rate)
    return ops.where(before(x, w, ops), ramp(x, start, peak, w, ops), inner)


def join(s: Join, x: StepView, ops: Ops) -> Any:
    """optax's ``join_schedules``: ``schedules[k](step - boundaries[k-1])`` from that boundary."""
    out = evaluate(s.schedules[0], x, ops)
    for b, schedule in zip(s.boundaries, s.schedules[1:], strict=True):
        out = ops.where(before(x, b, ops), out, evaluate(schedule, shift(x, b, ops), ops))
    return out


# --- composable specs: Anneal, Cycle, Shift, Sum, Product --------------------------------
# (to be appended to src/lrspec/formulas.py)


def _anneal_constants(s: Anneal) -> tuple[Any, ...]:
    """``(a, e, a - e, n, exp_split, tanh)``: ``ln(e / a)`` per unit of progress split for
    :func:`exp_mul` (shape "exp"), and for shape "tanh" ``exp(2 tanh_lower)`` with the slope
    of ``2 z`` split likewise (``exp(2 z)`` then loses nothing to the rounding of ``z``)."""
    a, e = Fraction(s.initial_learning_rate), Fraction(s.end_learning_rate)
    n = Fraction(s.transition_steps)
    unit = n if s.progress_power == 1 else Fraction(1)  # what "done" is measured in
    exp_split: tuple[float, float] = (0.0, 0.0)
    tanh: tuple[Any, ...] = ()
    with localcontext() as ctx:
        ctx.prec = 70
        if s.shape == "exp" and a != e:
            ln = Fraction(_decimal(e).ln()) - Fraction(_decimal(a).ln())
            exp_split = split12(ln / unit)
        if s.shape == "tanh":
            lo, hi = Fraction(s.tanh_lower), Fraction(s.tanh_upper)
            tanh = (
                float(Fraction((2 * _decimal(lo)).exp())),
                split12(2 * (hi - lo) / unit),
                float(Fraction(_decimal(lo).exp())),
                split12((hi - lo) / unit),
            )
    return float(a), float(e), float(a - e), float(n), exp_split, tanh


def _decimal(x: Fraction) -> Decimal:
    return Decimal(x.numerator) / Decimal(x.denominator)


def progress(x: StepView, n: float, mirror: bool, ops: Ops) -> tuple[Any, Any]:
    """``(done, left)``: how far into a transition of ``n`` steps the step is, and how far
    from its end (``done + left = n``, both >= 0). ``mirror``: the transition runs back and
    forth (a triangle wave of period ``2 n``). Exact for integer steps and whole ``n``."""
    if not mirror:
        done = ops.minimum(x.f, n)
        return done, n - done
    r = remainder(x, 2.0 * n, ops)
    done = ops.where(r <= n, r, 2.0 * n - r)
    return done, n - done


def log1p(x: Any, ops: Ops) -> Any:
    """``log(1 + x)`` for ``x >= -1``, accurate also for tiny ``x`` (Goldberg's trick);
    ``x = -1`` gives ``log(FLOAT32_TINY)`` (about -87), not ``-inf``."""
    u = ops.maximum(1.0 + x, FLOAT32_TINY)
    exact = u == 1.0
    den = ops.where(exact, x * 0.0 + 1.0, u - 1.0)
    return ops.where(exact, x, ops.log(u) * (x / den))


def expm1(x: Any, ops: Ops) -> Any:
    """``exp(x) - 1`` for ``x <= 0`` (``-inf`` included), accurate also for tiny ``x``
    (Kahan's trick)."""
    u = ops.exp(x)
    inside = (u < 1.0) & (u > 0.0)
    safe = ops.where(inside, u, x * 0.0 + 0.5)
    value = (safe - 1.0) * (x / ops.log(safe))
    return ops.where(u >= 1.0, x, ops.where(inside, value, x * 0.0 - 1.0))


def _powers(keep: Any, go: Any, p: float, ops: Ops) -> tuple[Any, Any]:
    """``(keep ** p, 1 - keep ** p)`` for ``keep + go = 1`` (both in [0, 1]), each to full
    relative precision: ``1 - keep ** p = -expm1(p * log(keep))``, the logarithm taken of
    whichever of ``keep`` and ``1 - go`` is exact (``log1p(-go)`` for small ``go``)."""
    if p == 1.0:
        return keep, go
    powered = polynomial_weight(keep, p, ops, go)
    small = keep < 0.5
    log_keep = ops.where(
        small, ops.log(ops.maximum(keep, FLOAT32_TINY)), log1p(ops.where(small, go * 0.0, -go), ops)
    )
    return powered, -expm1(p * log_keep, ops)


def cosine_pair(done: Any, left: Any, n: Any, ops: Ops, precise: bool) -> tuple[Any, Any]:
    """``(cos(pi t / 2)**2, sin(pi t / 2)**2)``, ``t = done / n``, ``left = n - done``: the
    two series of :func:`cosine_weight`, each evaluated once at the nearer end (8 terms where
    the result is float32: enough for 2**-24, about half the work)."""
    cos2, sin2 = _COS_SIN or _cosine_series()
    if not precise:
        cos2, sin2 = cos2[:8], sin2[:8]
    near = ops.minimum(done, left)
    z = (near * near) / (n * n)
    head, tail = _horner(z, cos2), z * _horner(z, sin2)
    first = done <= left
    return ops.where(first, head, tail), ops.where(first, tail, head)


def _weights(s: Anneal, done: Any, left: Any, n: float, ops: Ops, precise: bool) -> tuple[Any, Any]:
    """``(keep, go)``: the shape's weight on the initial rate and its complement."""
    shape = s.shape
    if shape == "linear":
        return left / n, done / n
    if shape == "cos":
        return cosine_pair(done, left, n, ops, precise)
    if shape == "1-sqrt":
        root = ops.sqrt(done / n)
        return (left / n) / (1.0 + root), root  # 1 - sqrt(p) without cancellation
    # tanh: (1 - tanh(z)) / 2 = 1 / (1 + exp(2 z)), z running from tanh_lower to tanh_upper:
    # exp(2 z) = exp(2 lower) * exp(slope * done), never overflowing float64 (|bounds| <= 40)
    start, slope, half_start, half_slope = constants(s, _anneal_constants)[5]
    if precise:
        big = start * exp_mul(done, slope, ops)
    else:
        # computed in float32 (JAX without x64), exp(2 lower) and exp(slope * done) can each
        # leave float32's range (e**-80, e**80) while their product is in it: square exp(z)
        root = half_start * exp_mul(done, half_slope, ops)
        big = root * root
    return 1.0 / (1.0 + big), big / (1.0 + big)


def anneal(s: Anneal, x: StepView, ops: Ops) -> Any:
    """From ``initial`` to ``end`` along ``shape``: ``end + (initial - end) * keep(p)``.

    ``keep`` and its complement ``go = 1 - keep`` are each computed to full relative
    precision, and the value is anchored at the nearer end (``initial - delta * go`` while
    ``keep >= 1/2``, else ``end + delta * keep``): step 0 gives exactly ``initial`` and the
    end exactly ``end``, and small rates near either end keep their precision.
    """
    a, e, delta, n, log_ratio, _ = constants(s, _anneal_constants)
    if delta == 0.0:
        return ops.full(x, a)
    done, left = progress(x, n, s.mirror, ops)
    k = float(s.progress_power)
    if k != 1.0:  # timm's k-decay: p ** k, and 1 - p ** k without cancellation
        done, left = _powers(done / n, left / n, k, ops)
        n = 1.0
    if s.shape == "exp":
        grown = exp_mul(done, log_ratio, ops)
        return _between(a * grown, a, e, ops)
    keep, go = _weights(s, done, left, n, ops, x.precise)
    keep, go = _powers(keep, go, float(s.power), ops)
    value = ops.where(keep >= 0.5, a - delta * go, e + delta * keep)
    return _between(value, a, e, ops)


def _cycle_constants(s: Cycle) -> tuple[Any, ...]:
    """``(starts, decay_split)``: each cycle's start as ``(whole, exact float, length)`` for a
    growing period (``()`` for a fixed one), and ``ln(decay)`` split for :func:`exp_mul`."""
    d = float(s.decay)
    decay_split = split12(high_ln(d)) if 0 < d < 1 else (0.0, 0.0)
    if s.period_mul == 1:
        end = Fraction(s.cycles or 0) * Fraction(s.period)  # the end of the last cycle
        return (), decay_split, (math.ceil(end), float(end))
    p, m = Fraction(s.period), Fraction(s.period_mul)
    starts = []
    start, size, j = Fraction(0), p, 0
    limit = s.cycles if s.cycles is not None else CYCLE_LIMIT
    while j < limit and start <= 2**63:
        starts.append((math.ceil(start), float(start), float(size)))
        start, size, j = start + size, size * m, j + 1
    starts.append((math.ceil(start), float(start), float(size)))  # the end of the last cycle
    return tuple(starts), decay_split, starts[-1][:2]


#: the most cycles a growing period may run before step 2**63 unless ``cycles`` bounds it
CYCLE_LIMIT = 512


def at_least(x: StepView, whole: int, exact: float, ops: Ops) -> Any:
    """``step >= b`` for a number ``b >= 0`` given as ``whole = ceil(b)`` and ``exact =
    float(b)``: exact for integer steps."""
    i = x.i
    if i is not None:
        return i >= ops.int_like(i, whole) if whole <= ops.int_max else i < 0
    return x.f >= exact


def cycle(s: Cycle, x: StepView, ops: Ops) -> Any:
    """``decay ** i * schedule(position)`` in cycle ``i``, the schedule's own time running
    over ``period`` steps whatever the cycle's length; after ``cycles`` cycles, the value at
    the end of the last one."""
    starts, decay_split, (end_whole, end) = constants(s, _cycle_constants)
    p = float(s.period)
    f = x.f
    if not starts:  # a fixed period: exact integer arithmetic where the period is whole
        i = x.i
        index = floor_ratio(x, p, ops)
        if s.cycles is None:
            ended = None
        else:
            ended = at_least(x, end_whole, end, ops)
            index = ops.where(ended, index * 0.0 + float(s.cycles - 1), index)
        if i is not None and p.is_integer() and p <= ops.int_max:
            p_i = int(p)

            def make_i() -> Any:
                rem = i % ops.int_like(i, p_i)
                if ended is None:
                    return rem
                return ops.where(ended, i * 0 + ops.int_like(i, p_i), rem)

            view = LazyStep(lambda: ops.to_float(view.i), make_i, x.precise)
            inner_x = view
        else:

            def make_f() -> Any:
                rem = remainder(x, p, ops)
                return rem if ended is None else ops.where(ended, rem * 0.0 + p, rem)

            inner_x = LazyStep(make_f, None, x.precise)
    else:  # a growing period: the cycle found among the exact starts
        index = f * 0.0
        start = f * 0.0
        size = f * 0.0 + starts[0][2]
        for j, (whole, exact, length) in enumerate(starts[1:-1], 1):
            hit = at_least(x, whole, exact, ops)
            index = ops.where(hit, index * 0.0 + float(j), index)
            start = ops.where(hit, start * 0.0 + exact, start)
            size = ops.where(hit, size * 0.0 + length, size)
        local = ops.minimum(ops.maximum(f - start, 0.0), size) / size * p
        if s.cycles is not None:
            local = ops.where(at_least(x, end_whole, end, ops), local * 0.0 + p, local)
        inner_x = LazyStep(lambda: local, None, x.precise)
    inner = evaluate(s.schedule, inner_x, ops)
    d = float(s.decay)
    if d == 1:
        return inner
    if d == 0:
        return ops.where(index > 0.5, inner * 0.0, inner)
    return inner * exp_mul(index, decay_split, ops)


def advance(x: StepView, k: float, ops: Ops, scale: float = 1.0) -> StepView:
    """The step ``scale * step + k`` (``k >= 0``, ``scale > 0``). Integer steps with a whole
    ``k`` and ``scale`` stay integers, saturating at the backend's largest integer instead of
    wrapping."""
    if k == 0 and scale == 1:
        return x
    i = x.i
    whole = float(k).is_integer() and float(scale).is_integer()
    if i is not None and whole and k <= ops.int_max and scale <= ops.int_max:
        kk, m = int(k), int(scale)
        top_i = (ops.int_max - kk) // m  # the largest step that does not overflow

        def make_i() -> Any:
            top = ops.int_like(i, top_i)
            moved = (i * ops.int_like(i, m) if m != 1 else i) + ops.int_like(i, kk)
            return ops.where(i <= top, moved, i * 0 + ops.int_like(i, ops.int_max))

        view = LazyStep(lambda: ops.to_float(view.i), make_i, x.precise)
        return view
    f = x.f
    return LazyStep(lambda: f * float(scale) + float(k), None, x.precise)


def shifted(s: Shift, x: StepView, ops: Ops) -> Any:
    """``schedule(scale * step + steps)``: the inner step exact where :func:`advance` keeps
    integers, else its float value (the spec's definition: a staircase inside floors the
    number ``scale * step + steps`` rounds to, as Python would, not the exact product)."""
    return evaluate(s.schedule, advance(x, float(s.steps), ops, float(s.scale)), ops)


def sum_(s: Sum, x: StepView, ops: Ops) -> Any:
    """The sum of the schedules' rates."""
    out = evaluate(s.schedules[0], x, ops)
    for part in s.schedules[1:]:
        out = out + evaluate(part, x, ops)
    return ops.minimum(out, FLOAT32_MAX)


def product(s: Product, x: StepView, ops: Ops) -> Any:
    """The product of the schedules' rates."""
    out = evaluate(s.schedules[0], x, ops)
    for part in s.schedules[1:]:
        out = out * evaluate(part, x, ops)
    return ops.minimum(out, FLOAT32_MAX)
