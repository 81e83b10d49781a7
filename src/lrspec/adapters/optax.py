"""lrspec <-> optax: ``spec.to_optax()``, an optax schedule evaluated by the JAX backend.

A spec is an optax schedule as it stands (``optax.sgd(learning_rate=spec)``); this module
adds the checks and the always-JAX result that optax code may rely on.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from lrspec.schedules import (
    Anneal,
    Constant,
    ExponentialDecay,
    Join,
    Linear,
    PiecewiseConstantDecay,
    Schedule,
    Shift,
    brief,
    check_number,
)

__all__ = ["from_optax", "to_optax"]


def to_optax(spec: Schedule) -> Any:
    """An optax schedule: ``count -> spec(count)`` as a float32 jax scalar (or array).

    The learning rate of optax update ``k`` is ``spec(k)``: optax calls the schedule with its
    int32 update counter before incrementing it. Every count (Python number, NumPy, jax array
    or tracer) is evaluated on the JAX backend, so the result is always a jax array and the
    schedule is jit/vmap/grad-safe. A traced int32 counter that wrapped negative is read
    modulo ``2**32``. Concrete Python/NumPy counts are checked as the NumPy backend checks
    steps (negative, NaN or infinite: ``ValueError``); without ``jax_enable_x64`` integer
    counts up to ``2**32 - 1`` are read exactly and larger ones raise ``OverflowError``
    instead of wrapping.

    >>> import lrspec, optax
    >>> schedule = lrspec.InverseTimeDecay(0.1, 1.0, 0.5).to_optax()
    >>> float(schedule(2))
    0.05000000074505806
    >>> optimizer = optax.sgd(learning_rate=schedule)
    """

    # JAX only here: from_optax converts optax's schedule names without JAX installed
    import jax
    import jax.numpy as jnp

    def schedule(count: Any) -> Any:
        if not isinstance(count, jax.Array):
            count = _concrete_count(count)
        return spec(jnp.asarray(count))

    schedule.__doc__ = f"optax schedule of {spec!r}: count -> spec(count)"
    schedule.__qualname__ = schedule.__name__ = f"{type(spec).__name__}_optax_schedule"
    schedule.spec = spec  # type: ignore[attr-defined]
    return schedule


def _concrete_count(count: Any) -> Any:
    """A concrete Python/NumPy count, checked, as something ``jnp.asarray`` will not wrap.

    Without x64, ``jnp.asarray`` raises on a Python int above ``2**31 - 1`` and silently
    wraps a NumPy int64 above ``2**32 - 1``; a negative concrete count is no wrapped counter
    but a mistake, rejected as the Python and NumPy backends reject it.
    """
    import numpy as np  # numpy is lrspec's one hard dependency; imported here to keep it local

    arr = np.asarray(count)
    kind = arr.dtype.kind
    if kind not in "iuf" or not arr.size:
        return count  # bools, complex, empty: the backend itself says what is wrong
    low, high = arr.min(), arr.max()
    if not low >= 0:
        raise ValueError(f"count must be >= 0 and not NaN, got a count of {low.item()!r}")
    if kind == "f":
        if np.isinf(high):
            raise ValueError("count must be finite, got a count of inf")
        return count
    from lrspec.backends.jax import x64

    if x64() or int(high) <= 2**31 - 1:
        return count
    if int(high) > 2**32 - 1:
        raise OverflowError(
            f"count must be <= 2**32 - 1 without jax_enable_x64, got a count of {high.item()!r}"
        )
    return arr.astype(np.uint32)


# --- optax -> lrspec: from_optax ------------------------------------------------------------


def from_optax(name: Any, **kwargs: Any) -> Schedule:
    """The spec equal to ``getattr(optax, name)(**kwargs)``: ``spec(k)`` is that optax
    schedule's value at count ``k``. ``name`` is the schedule function's name (or the function
    itself); ``kwargs`` are its arguments, by name. For ``"join_schedules"`` the schedules are
    lrspec specs (themselves optax schedules, so the same arguments work in
    ``optax.join_schedules``). optax need not be installed.

    >>> from_optax("warmup_cosine_decay_schedule", init_value=0.0, peak_value=1e-3,
    ...            warmup_steps=100, decay_steps=1000)(100)
    0.001
    """
    key = str(getattr(name, "__name__", name)).removeprefix("optax.").removeprefix("schedules.")
    build = _OPTAX.get(key)
    if build is None:
        raise ValueError(
            f"unknown optax schedule name={brief(name)}; known: {', '.join(sorted(_OPTAX))}"
        )
    try:
        spec: Schedule = build(**kwargs)
        return spec
    except (TypeError, ValueError) as err:  # name the optax schedule
        raise type(err)(f"optax.{key}: {err}") from None


def _num(name: str, value: Any) -> float:
    return float(check_number(name, value))


def _whole(name: str, value: Any) -> int:
    number = _num(name, value)
    if not number.is_integer():
        raise ValueError(f"{name} must be a whole number of steps, got {name}={number!r}")
    return int(number)


def _begin(first: Schedule, begin: int, rest: Schedule) -> Schedule:
    """``first`` before step ``begin``, then ``rest`` on ``step - begin`` (``begin >= 0``)."""
    return rest if begin <= 0 else Join((first, rest), (begin,))


def _constant_schedule(value: Any) -> Schedule:
    return Constant(_num("value", value))


def _polynomial_schedule(
    init_value: Any,
    end_value: Any,
    power: Any,
    transition_steps: Any,
    transition_begin: Any = 0,
) -> Schedule:
    init, end = _num("init_value", init_value), _num("end_value", end_value)
    steps, p = _num("transition_steps", transition_steps), _num("power", power)
    if steps <= 0 or p == 0:  # optax: a constant init_value (0 ** 0 == 1 at the end)
        return Constant(init)
    if p < 0:
        raise ValueError(f"power must be >= 0, got power={p!r} (optax reaches inf)")
    curve = Anneal(init, end, steps, shape="linear", power=p)
    return _begin(Constant(init), max(_whole("transition_begin", transition_begin), 0), curve)


def _linear_schedule(
    init_value: Any, end_value: Any, transition_steps: Any, transition_begin: Any = 0
) -> Schedule:
    init, end = _num("init_value", init_value), _num("end_value", end_value)
    steps = _num("transition_steps", transition_steps)
    if steps <= 0:
        return Constant(init)
    begin = max(_whole("transition_begin", transition_begin), 0)
    return _begin(Constant(init), begin, Linear(init, end, steps))


def _exponential_decay(
    init_value: Any,
    transition_steps: Any,
    decay_rate: Any,
    transition_begin: Any = 0,
    staircase: bool = False,
    end_value: Any = None,
) -> Schedule:
    init, steps = _num("init_value", init_value), _num("transition_steps", transition_steps)
    rate = _num("decay_rate", decay_rate)
    if steps <= 0 or rate == 0:
        return Constant(init)
    begin = max(_whole("transition_begin", transition_begin), 0)
    if end_value is None:
        return _begin(Constant(init), begin, ExponentialDecay(init, steps, rate, bool(staircase)))
    end = _num("end_value", end_value)
    shrinking = rate < 1  # end_value a floor, else a ceiling
    held = max(init, end) if shrinking else min(init, end)
    if held == end or rate == 1 or init == 0:
        return Constant(held)
    if shrinking and end == 0:
        return _begin(Constant(init), begin, ExponentialDecay(init, steps, rate, bool(staircase)))
    a, e, r, n = Fraction(init), Fraction(end), Fraction(rate), Fraction(steps)
    if not staircase:  # init * rate ** (j / steps) reaches end at j = steps * ln(e/a) / ln(r)
        with localcontext() as ctx:
            ctx.prec = 60
            span = _frac_ln(e / a) / _frac_ln(r) * n
        return _begin(Constant(init), begin, Anneal(init, end, float(span), shape="exp"))
    # staircase: the first stair past end (exactly), from then on end
    with localcontext() as ctx:
        ctx.prec = 60
        j = max(math.floor(_frac_ln(e / a) / _frac_ln(r)) - 1, 0)
    while (a * r**j >= e) if shrinking else (a * r**j <= e):
        j += 1
    if shrinking:
        stairs = ExponentialDecay(init, steps, rate, staircase=True)
        return _begin(Constant(init), begin, Join((stairs, Constant(end)), (math.ceil(j * n),)))
    # growing to a ceiling: j stairs, then end (stair i starts at step ceil(i * steps))
    if j > _MAX_STAIRS:
        raise ValueError(
            f"a staircase growing by decay_rate={rate!r} reaches end_value={end!r} after {j} "
            f"stairs; lrspec converts at most {_MAX_STAIRS}"
        )
    values = (*(float(a * r**i) for i in range(j)), end)
    bounds = tuple(math.ceil(i * n) - 1 for i in range(1, j + 1))
    return _begin(Constant(init), begin, PiecewiseConstantDecay(bounds, values))


_MAX_STAIRS = 4096


def _frac_ln(x: Fraction) -> Fraction:
    return Fraction((Decimal(x.numerator) / Decimal(x.denominator)).ln())


def _cosine_decay_schedule(
    init_value: Any, decay_steps: Any, alpha: Any = 0.0, exponent: Any = 1.0
) -> Schedule:
    init, steps = _num("init_value", init_value), _num("decay_steps", decay_steps)
    if not steps > 0:
        raise ValueError(
            f"The cosine_decay_schedule requires positive decay_steps, got decay_steps={steps!r}."
        )
    alpha_, exponent_ = _num("alpha", alpha), _num("exponent", exponent)
    if exponent_ == 0:
        return Constant(init)
    end = init * alpha_
    return Anneal(init, end, steps, shape="cos", power=exponent_)


def _warmup_constant_schedule(init_value: Any, peak_value: Any, warmup_steps: Any) -> Schedule:
    return _linear_schedule(init_value, peak_value, warmup_steps)


def _after_warmup(warm: Schedule, warmup: int, rest: Schedule) -> Schedule:
    """``optax.join_schedules([warm, rest], [warmup])`` for any whole ``warmup``."""
    if warmup < 0:  # join: rest sees step - warmup from step 0 on
        return Shift(rest, -warmup)
    return _begin(warm, warmup, rest)


def _warmup_cosine_decay_schedule(
    init_value: Any,
    peak_value: Any,
    warmup_steps: Any,
    decay_steps: Any,
    end_value: Any = 0.0,
    exponent: Any = 1.0,
) -> Schedule:
    peak, end = _num("peak_value", peak_value), _num("end_value", end_value)
    alpha = 0.0 if peak == 0.0 else end / peak
    warmup = _whole("warmup_steps", warmup_steps)
    cosine = _cosine_decay_schedule(
        peak, _num("decay_steps", decay_steps) - warmup, alpha, exponent
    )
    return _after_warmup(_linear_schedule(init_value, peak, warmup), warmup, cosine)


def _warmup_exponential_decay_schedule(
    init_value: Any,
    peak_value: Any,
    warmup_steps: Any,
    transition_steps: Any,
    decay_rate: Any,
    transition_begin: Any = 0,
    staircase: bool = False,
    end_value: Any = None,
) -> Schedule:
    warmup = _whole("warmup_steps", warmup_steps)
    decay = _exponential_decay(
        peak_value, transition_steps, decay_rate, transition_begin, staircase, end_value
    )
    return _after_warmup(_linear_schedule(init_value, peak_value, warmup), warmup, decay)


def _scales(name: str, boundaries_and_scales: Any) -> list[tuple[int, float]]:
    if not boundaries_and_scales:
        return []
    items = sorted((_whole(name, b), _num(name, s)) for b, s in boundaries_and_scales.items())
    if any(scale < 0 for _, scale in items):
        raise ValueError(f"`{name}` expects non-negative scale factors")
    return items


def _piecewise_constant_schedule(init_value: Any, boundaries_and_scales: Any = None) -> Schedule:
    value = _num("init_value", init_value)
    items = _scales("piecewise_constant_schedule", boundaries_and_scales)
    values = [value]
    for _, scale in items:
        value = scale * value  # as optax multiplies, in order
        values.append(value)
    if not items:
        return Constant(values[0])
    # optax scales from count >= boundary on; Keras's boundaries switch after step b
    return PiecewiseConstantDecay(tuple(b - 1 for b, _ in items), tuple(values))


def _piecewise_interpolate_schedule(
    interpolate_type: str, init_value: Any, boundaries_and_scales: Any = None
) -> Schedule:
    if interpolate_type not in ("linear", "cosine"):
        raise ValueError("`interpolate_type` must be either 'cosine' or 'linear'")
    items = _scales("piecewise_interpolate_schedule", boundaries_and_scales)
    if any(b < 0 for b, _ in items):
        raise ValueError("piecewise_interpolate_schedule: boundaries must be >= 0")
    shape = "linear" if interpolate_type == "linear" else "cos"
    value = _num("init_value", init_value)
    schedules: list[Schedule] = []
    starts: list[int] = []
    at = 0
    for bound, scale in items:
        nxt = value * scale
        if bound > at:  # an interval of at least one step
            schedules.append(Anneal(value, nxt, bound - at, shape=shape))
            starts.append(at)
        value, at = nxt, bound
    schedules.append(Constant(value))
    starts.append(at)
    if len(schedules) == 1:
        return schedules[0]
    return Join(tuple(schedules), tuple(starts[1:]))


def _onecycle_steps(transition_steps: Any) -> int:
    """The horizon of a onecycle schedule (optax's check and message, for both shapes)."""
    steps = _whole("transition_steps", transition_steps)
    if steps <= 0:
        raise ValueError(
            "A linear onecycle schedule was set with a non-positive `transition_steps`"
        )
    return steps


def _linear_onecycle_schedule(
    transition_steps: Any,
    peak_value: Any,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    steps = _onecycle_steps(transition_steps)
    peak = _num("peak_value", peak_value)
    return _piecewise_interpolate_schedule(
        "linear",
        peak / div_factor,
        {
            int(pct_start * steps): div_factor,
            int(pct_final * steps): 1.0 / div_factor,
            steps: 1.0 / final_div_factor,
        },
    )


def _cosine_onecycle_schedule(
    transition_steps: Any,
    peak_value: Any,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    steps = _onecycle_steps(transition_steps)
    peak = _num("peak_value", peak_value)
    return _piecewise_interpolate_schedule(
        "cosine",
        peak / div_factor,
        {int(pct_start * steps): div_factor, int(steps): 1.0 / (div_factor * final_div_factor)},
    )


def _sgdr_schedule(cosine_kwargs: Any) -> Schedule:
    schedules: list[Schedule] = []
    boundaries: list[int] = []
    at = 0
    for kwargs in cosine_kwargs:
        schedules.append(_warmup_cosine_decay_schedule(**kwargs))
        at += _whole("decay_steps", kwargs["decay_steps"])
        boundaries.append(at)
    if not schedules:
        raise ValueError("sgdr_schedule needs at least one cycle")
    return schedules[0] if len(schedules) == 1 else Join(tuple(schedules), tuple(boundaries[:-1]))


def _join_schedules(schedules: Any, boundaries: Any) -> Schedule:
    for s in schedules:
        if not isinstance(s, Schedule):
            raise TypeError(
                "join_schedules: schedules must be lrspec specs (an optax function cannot be "
                f"read), got {brief(s)}"
            )
    return Join(tuple(schedules), tuple(_whole("boundaries", b) for b in boundaries))


_OPTAX: dict[str, Any] = {
    "constant_schedule": _constant_schedule,
    "linear_schedule": _linear_schedule,
    "polynomial_schedule": _polynomial_schedule,
    "exponential_decay": _exponential_decay,
    "cosine_decay_schedule": _cosine_decay_schedule,
    "warmup_constant_schedule": _warmup_constant_schedule,
    "warmup_cosine_decay_schedule": _warmup_cosine_decay_schedule,
    "warmup_exponential_decay_schedule": _warmup_exponential_decay_schedule,
    "piecewise_constant_schedule": _piecewise_constant_schedule,
    "piecewise_interpolate_schedule": _piecewise_interpolate_schedule,
    "linear_onecycle_schedule": _linear_onecycle_schedule,
    "cosine_onecycle_schedule": _cosine_onecycle_schedule,
    "sgdr_schedule": _sgdr_schedule,
    "join_schedules": _join_schedules,
}
