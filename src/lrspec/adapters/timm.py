"""timm -> lrspec: :func:`from_timm`.

``from_timm(scheduler)`` is the spec whose rate at ``t = k`` is the rate the timm scheduler
sets at ``t = k`` (``step(k)`` when ``t_in_epochs``, else ``step_update(k)``), before a param
group's ``lr_scale`` (which ``to_torch`` applies, as timm does). It reads the scheduler's
attributes only: timm's ``CosineLRScheduler``, ``PolyLRScheduler``, ``TanhLRScheduler``,
``StepLRScheduler``, ``MultiStepLRScheduler`` and ``WSDLRScheduler`` (most of its options),
noise off.
"""

from __future__ import annotations

import math
from fractions import Fraction

from lrspec.schedules import (
    Anneal,
    Constant,
    Cycle,
    ExponentialDecay,
    InverseSqrt,
    InverseTimeDecay,
    Join,
    PiecewiseConstantDecay,
    Product,
    Schedule,
    Shift,
    Sum,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["from_timm"]

_CYCLIC = ("CosineLRScheduler", "PolyLRScheduler", "TanhLRScheduler")
_KNOWN = (*_CYCLIC, "StepLRScheduler", "MultiStepLRScheduler", "WSDLRScheduler")


def from_timm(scheduler: Any, group: int = 0) -> Schedule:
    """The spec of a ``timm.scheduler`` object, for param group ``group``.

    Raises ``TypeError`` for a scheduler lrspec cannot read (``PlateauLRScheduler`` follows
    a metric) and ``ValueError`` for random noise (``noise_range_t``).
    """
    kind = type(scheduler).__name__
    if kind == "PlateauLRScheduler":
        raise TypeError(
            "cannot convert timm PlateauLRScheduler to an lrspec schedule: it follows the "
            "metric passed to step(), so it has no fixed curve"
        )
    if kind not in _KNOWN:
        raise TypeError(
            f"cannot convert timm {kind} to an lrspec schedule; known: {', '.join(_KNOWN)}"
        )
    if getattr(scheduler, "noise_range_t", None) is not None:
        raise ValueError(
            f"cannot convert timm {kind} with noise_range_t={scheduler.noise_range_t!r}: its "
            "rate is multiplied by random noise, so no fixed curve exists (set it to None)"
        )
    bases = scheduler.base_values
    if isinstance(group, bool) or not isinstance(group, int) or not 0 <= group < len(bases):
        raise ValueError(f"group must index one of {len(bases)} param groups, got {group!r}")
    base = float(bases[group])
    try:
        main = _main(scheduler, kind, base)
    except ValueError as err:  # a spec refused the arguments: say which scheduler
        raise ValueError(f"cannot convert timm {kind}: {err}") from err
    warmup = int(scheduler.warmup_t)
    if warmup <= 0:
        return main
    init = float(scheduler.warmup_lr_init)
    # timm's ramp: init + t * slope, slope = (target - init) / warmup_t
    target = init + warmup * float(scheduler.warmup_steps[group])
    ramp = Anneal(init, target, warmup, shape="linear")
    if not getattr(scheduler, "warmup_prefix", True):  # the main curve counts from t = 0
        main = Shift(main, warmup)
    return Join((ramp, main), (warmup,))


def _main(s: Any, kind: str, base: float) -> Schedule:
    """The curve after warmup, from its own t = 0."""
    if kind == "StepLRScheduler":
        return ExponentialDecay(base, float(s.decay_t), float(s.decay_rate), staircase=True)
    if kind == "WSDLRScheduler":
        return _wsd(s, base)
    if kind == "MultiStepLRScheduler":
        milestones = [int(m) for m in s.decay_t]
        if milestones != sorted(milestones):
            raise ValueError(f"decay_t must be sorted (timm bisects it), got {s.decay_t!r}")
        if not milestones:
            return Constant(base)
        rate = Fraction(float(s.decay_rate))
        values = [float(Fraction(base) * rate**j) for j in range(len(milestones) + 1)]
        # timm's milestone m applies from t = m - 1 on (it bisects t + 1)
        return PiecewiseConstantDecay(tuple(m - 2 for m in milestones), tuple(values))
    return _cycles(s, kind, base)


def _cycles(s: Any, kind: str, base: float) -> Schedule:
    """Cosine/poly/tanh cycles: in cycle ``i`` (``t_initial * cycle_mul ** i`` long),
    ``lr_min + (base * cycle_decay ** i - lr_min) * shape(t_curr / t_i)``; ``lr_min`` after
    ``cycle_limit`` cycles."""
    low = float(s.lr_min)
    period = float(s.t_initial)
    limit = int(s.cycle_limit)
    if limit <= 0:
        return Constant(low)
    options: dict[str, Any] = {}
    if kind == "CosineLRScheduler":
        options = {"shape": "cos", "progress_power": float(s.k_decay)}
    elif kind == "PolyLRScheduler":
        options = {
            "shape": "linear",
            "power": float(s.power),
            "progress_power": float(s.k_decay),
        }
    else:
        options = {"shape": "tanh", "tanh_lower": float(s.lb), "tanh_upper": float(s.ub)}
    mul, decay = float(s.cycle_mul), float(s.cycle_decay)
    if mul != 1 and limit <= _MAX_CYCLES:
        return _growing_cycles(s, base, low, period, mul, decay, limit, options)

    def cycles(a: float, b: float, d: float) -> Schedule:
        inner = Anneal(a, b, period, **options)
        return Cycle(inner, period=period, period_mul=mul, decay=d, cycles=limit)

    if decay == 1 or low == 0:
        curve = cycles(base, low, decay)
    else:  # timm decays the peak but not lr_min: lr_min * (1 - w) + base * decay ** i * w
        curve = Sum((cycles(0.0, low, 1.0), cycles(base, 0.0, decay)))
    # after cycle_limit cycles: lr_min (a tanh cycle ends above it), from the first whole step
    # at or past the end of the last cycle, period * (mul ** limit - 1) / (mul - 1)
    p, m = Fraction(period), Fraction(mul)
    end = p * limit if m == 1 else p * (m**limit - 1) / (m - 1)
    return Join((curve, Constant(low)), (math.ceil(end),))


#: growing cycles are converted one by one up to this cycle_limit (beyond: as a Cycle)
_MAX_CYCLES = 256


def _timm_cycle(t: int, period: float, mul: float) -> int:
    """The cycle timm finds for step ``t`` (its floating-point logarithm, as it computes)."""
    return math.floor(math.log(1 - t / period * (1 - mul), mul))


def _growing_cycles(
    s: Any,
    base: float,
    low: float,
    period: float,
    mul: float,
    decay: float,
    limit: int,
    options: dict[str, Any],
) -> Schedule:
    """``cycle_mul != 1``: each cycle its own ``Anneal`` from ``base * decay ** i`` to
    ``lr_min`` over ``t_i = mul ** i * t_initial``, starting at the first step where timm's
    floating-point logarithm says cycle ``i`` (which can be a step off the exact restart), at
    timm's own ``t_curr = t - (1 - mul ** i) / (1 - mul) * t_initial``; then ``lr_min``."""
    schedules: list[Schedule] = []
    boundaries: list[int] = []
    for i in range(limit + 1):
        exact = period * (1 - mul**i) / (1 - mul)  # timm's start of cycle i
        first = max(math.ceil(exact) - 2, 0)
        while _timm_cycle(first, period, mul) < i:
            first += 1
        if i == limit:
            schedules.append(Constant(low))
        else:
            peak = base * decay**i
            curve: Schedule = Anneal(peak, low, mul**i * period, **options)
            offset = float(Fraction(first) - Fraction(exact))
            if offset > 0:
                curve = Shift(curve, offset)
            elif offset < 0:  # timm restarts a little before the exact start: t_curr < 0
                raise ValueError(
                    f"cannot convert timm {type(s).__name__}: cycle {i} starts at step {first}, "
                    f"before its own start {exact!r}"
                )
            schedules.append(curve)
        if i:
            boundaries.append(first)
    return Join(tuple(schedules), tuple(boundaries))


#: WSDLRScheduler's decay functions lrspec converts: name (or power) -> Anneal shape
_WSD_DECAY = {"linear": "linear", "1-sqrt": "1-sqrt", "cosine": "cos"}


def _wsd(s: Any, base: float) -> Schedule:
    """``WSDLRScheduler`` after its warmup: ``lr_min + (stable(t) - lr_min) * decay(frac)``,
    the decay over the last ``decay_t`` of ``t_initial`` steps, then ``lr_min``."""
    kind = "WSDLRScheduler"
    low = float(s.lr_min)
    fn = s.decay_fn
    if fn == "power" and float(s.decay_power) in (0.5, 1.0):
        fn = "1-sqrt" if float(s.decay_power) == 0.5 else "linear"
    if not isinstance(fn, str) or fn not in _WSD_DECAY:
        what = "a Python function" if callable(fn) else f"decay_fn={fn!r}"
        raise TypeError(
            f"cannot convert timm {kind} with {what}: lrspec converts the linear, 1-sqrt and "
            "cosine decays (and power with decay_power 0.5 or 1)"
        )
    shape = _WSD_DECAY[fn]
    start = int(s.t_initial) - int(s.decay_t)  # the decay's first step (t_decay = 0)
    length = int(s.decay_t)
    if s.stable_fn == "constant":
        top = max(base, low)
        return Join(
            (Constant(top), Anneal(top, low, length, shape=shape), Constant(low)),
            (start, start + length),
        )
    power = 0.5 if s.stable_fn == "rsqrt" else float(s.stable_power)
    scale = float(s.stable_timescale)
    if low != 0 or power not in (0.5, 1.0) or not scale.is_integer():
        raise ValueError(
            f"cannot convert timm {kind} with stable_fn={s.stable_fn!r}: lrspec converts a "
            "decaying stable phase with lr_min=0, a power of 0.5 or 1 and a whole "
            "stable_timescale"
        )
    # base * (1 + t / timescale) ** -power, times the decay's factor
    stable: Schedule = (
        Shift(InverseSqrt(base, int(scale)), scale)
        if power == 0.5
        else InverseTimeDecay(base, scale, 1.0)
    )
    factor = Join(
        (Constant(1.0), Anneal(1.0, 0.0, length, shape=shape), Constant(0.0)),
        (start, start + length),
    )
    return Product((stable, factor))
