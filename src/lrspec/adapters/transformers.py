"""Hugging Face ``transformers`` -> lrspec: :func:`from_transformers`.

``from_transformers(name, learning_rate, ...)`` is the spec whose rate at update ``k`` is
``learning_rate * lr_lambda(k)`` of ``transformers.get_scheduler(name, ...)``. It reads only
the name and the arguments (transformers need not be installed): every ``SchedulerType``
except the adaptive ``reduce_lr_on_plateau`` and ``greedy``. :func:`from_lambda` reads the
``LambdaLR`` objects that ``get_scheduler`` builds (used by :func:`lrspec.from_torch`).
"""

from __future__ import annotations

from lrspec.schedules import (
    Anneal,
    Constant,
    Cycle,
    InverseSqrt,
    Join,
    Schedule,
    Shift,
    brief,
    check_rate,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["NAMES", "from_lambda", "from_transformers"]

#: the ``SchedulerType`` names this module converts
NAMES = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "cosine_with_min_lr",
    "cosine_warmup_with_min_lr",
    "warmup_stable_decay",
)
_ADAPTIVE = ("reduce_lr_on_plateau", "greedy")
_NEEDS_TRAINING_STEPS = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "cosine_with_min_lr",
    "cosine_warmup_with_min_lr",
)


def _steps(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise TypeError(f"{name} must be a whole number of steps, got {name}={brief(value)}")
    return value


def _phases(parts: list[tuple[Schedule, int]], last: Schedule) -> Schedule:
    """``parts`` (a schedule and its length in steps) one after another, then ``last``;
    phases of length 0 are left out."""
    schedules: list[Schedule] = []
    boundaries: list[int] = []
    at = 0
    for schedule, length in parts:
        if length <= 0:
            continue
        schedules.append(schedule)
        at += length
        boundaries.append(at)
    if not schedules:
        return last
    return Join((*schedules, last), tuple(boundaries))


def _ramp(lr: float, warmup: int) -> tuple[Schedule, int]:
    """transformers' warmup: ``lr * k / warmup`` for ``k < warmup`` (0 at step 0)."""
    return Anneal(0.0, lr, max(warmup, 1), shape="linear"), warmup


def _cosine(lr: float, end: float, decay: float, cycles: float) -> Schedule:
    """``end + (lr - end) * (1 + cos(2 pi cycles j / decay)) / 2`` for every ``j >= 0``:
    transformers never stops its cosine, which rises again after ``decay / (2 cycles)``. The
    half-period is kept exact: a cosine over ``decay`` steps whose time runs ``2 cycles``
    times as fast (``decay / (2 cycles)`` itself would be rounded)."""
    if cycles == 0:
        return Constant(lr)
    wave = Anneal(lr, end, decay, shape="cos", mirror=True)
    speed = 2 * abs(cycles)
    return wave if speed == 1 else Shift(wave, 0, scale=speed)


def from_transformers(
    name: Any,
    learning_rate: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    **scheduler_specific_kwargs: Any,
) -> Schedule:
    """The spec of ``transformers.get_scheduler(name, optimizer, num_warmup_steps,
    num_training_steps, scheduler_specific_kwargs)`` for an optimizer whose learning rate is
    ``learning_rate``: ``spec(k) == learning_rate * lr_lambda(k)`` at every update ``k``.

    >>> s = from_transformers("linear", 1e-3, num_warmup_steps=10, num_training_steps=110)
    >>> s(0), s(5), s(10), s(60), s(200)
    (0.0, 0.0005, 0.001, 0.0005, 0.0)
    """
    key = str(getattr(name, "value", name))
    if key in _ADAPTIVE:
        raise ValueError(
            f"transformers scheduler {key!r} adapts to the metrics passed to step(); it has "
            "no fixed curve, so lrspec cannot convert it"
        )
    if key not in NAMES:
        raise ValueError(
            f"unknown transformers scheduler name={brief(name)}; known: {', '.join(NAMES)}"
        )
    lr = float(check_rate("learning_rate", learning_rate))
    kwargs = dict(scheduler_specific_kwargs)
    if key == "constant":
        _no_extra(key, kwargs)
        return Constant(lr)
    if num_warmup_steps is None:
        raise ValueError(f"{key} requires `num_warmup_steps`, please provide that argument.")
    warmup = _steps("num_warmup_steps", num_warmup_steps)
    if warmup < 0:
        raise ValueError(f"num_warmup_steps must be >= 0, got num_warmup_steps={warmup!r}")
    if key == "constant_with_warmup":
        _no_extra(key, kwargs)
        return _phases([_ramp(lr, warmup)], Constant(lr))
    if key == "inverse_sqrt":
        timescale = kwargs.pop("timescale", None)
        _no_extra(key, kwargs)
        if timescale is None:
            timescale = warmup or 10_000
        scale = _steps("timescale", timescale)
        if scale < 1:
            raise ValueError(f"timescale must be >= 1, got timescale={scale!r}")
        # 1 / sqrt((j + timescale) / timescale), j = k - warmup
        return _phases([_ramp(lr, warmup)], Shift(InverseSqrt(lr, scale), scale))
    if key == "warmup_stable_decay":
        return _wsd(lr, warmup, num_training_steps, kwargs)
    if num_training_steps is None:
        raise ValueError(f"{key} requires `num_training_steps`, please provide that argument.")
    total = _steps("num_training_steps", num_training_steps)
    decay = max(1, total - warmup)
    if key == "linear":
        _no_extra(key, kwargs)
        rest: Schedule = (
            Anneal(lr, 0.0, total - warmup, shape="linear") if total > warmup else Constant(0.0)
        )
        return _phases([_ramp(lr, warmup)], rest)
    if key == "cosine":
        cycles = float(kwargs.pop("num_cycles", 0.5))
        _no_extra(key, kwargs)
        return _phases([_ramp(lr, warmup)], _cosine(lr, 0.0, decay, cycles))
    if key == "cosine_with_restarts":
        cycles = float(kwargs.pop("num_cycles", 1))
        _no_extra(key, kwargs)
        if cycles < 0:
            raise ValueError(f"num_cycles must be >= 0, got num_cycles={cycles!r}")
        if cycles == 0:
            restarts: Schedule = Constant(lr)
        else:  # cycles of decay / cycles steps: over decay steps, time cycles times as fast
            restarts = Cycle(Anneal(lr, 0.0, decay, shape="cos"), period=decay)
            if cycles != 1:
                restarts = Shift(restarts, 0, scale=cycles)
        return _phases([_ramp(lr, warmup), (restarts, decay)], Constant(0.0))
    if key == "polynomial":
        end = float(kwargs.pop("lr_end", 1e-7))
        power = float(kwargs.pop("power", 1.0))
        _no_extra(key, kwargs)
        if not lr > end:
            raise ValueError(f"lr_end ({end}) must be smaller than initial lr ({lr})")
        if total <= warmup:
            if total == warmup:
                raise ValueError(
                    "polynomial with num_training_steps == num_warmup_steps divides by zero in "
                    "transformers at that step; there is no curve to convert"
                )
            return _phases([_ramp(lr, warmup)], Constant(end))
        if power < 0:
            raise ValueError(f"power must be >= 0, got power={power!r}")
        poly: Schedule = (
            Join((Constant(lr), Constant(end)), (total - warmup + 1,))
            if power == 0
            else Anneal(lr, end, total - warmup, shape="linear", power=power)
        )
        return _phases([_ramp(lr, warmup)], poly)
    # cosine_with_min_lr, cosine_warmup_with_min_lr
    cycles = float(kwargs.pop("num_cycles", 0.5))
    min_lr = kwargs.pop("min_lr", None)
    rate = kwargs.pop("min_lr_rate", None)
    warmup_rate = kwargs.pop("warmup_lr_rate", None) if key == "cosine_warmup_with_min_lr" else None
    _no_extra(key, kwargs)
    if min_lr is not None and rate is not None:
        raise ValueError("Only one of min_lr or min_lr_rate should be set")
    if min_lr is None and rate is None:
        raise ValueError(
            "One of min_lr or min_lr_rate should be set through the `lr_scheduler_kwargs`"
        )
    end = float(min_lr) if min_lr is not None else lr * float(rate)
    if end < 0:
        raise ValueError(f"min_lr must be >= 0, got a minimum rate of {end!r}")
    if key == "cosine_with_min_lr":
        return _phases([_ramp(lr, warmup)], _cosine(lr, end, decay, cycles))
    # (k + 1) / W, or r + (1 - r) k / max(1, W - 1); progress counted from k - W + 1
    if warmup_rate is None:
        ramp: Schedule = Shift(Anneal(0.0, lr, max(warmup, 1), shape="linear"), 1)
    else:
        start = lr * float(warmup_rate)
        ramp = Anneal(start, lr, warmup - 1, shape="linear") if warmup > 1 else Constant(start)
    decay_f = max(1.0, float(total) - float(warmup))
    return _phases([(ramp, warmup)], Shift(_cosine(lr, end, decay_f, cycles), 1))


def _no_extra(key: str, kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise TypeError(
            f"transformers scheduler {key!r} got unexpected arguments {', '.join(sorted(kwargs))}"
        )


_WSD_TYPES = ("linear", "cosine", "1-sqrt")


def _wsd(lr: float, warmup: int, training: int | None, kwargs: dict[str, Any]) -> Schedule:
    """``get_wsd_schedule``: warmup from ``min_lr_ratio * lr``, stable, decay to it."""
    if "num_decay_steps" not in kwargs:
        raise TypeError("warmup_stable_decay requires num_decay_steps")
    decay = _steps("num_decay_steps", kwargs.pop("num_decay_steps"))
    stable = kwargs.pop("num_stable_steps", None)
    warmup_type = kwargs.pop("warmup_type", "linear")
    decay_type = kwargs.pop("decay_type", "cosine")
    ratio = float(kwargs.pop("min_lr_ratio", 0))
    cycles = float(kwargs.pop("num_cycles", 0.5))
    _no_extra("warmup_stable_decay", kwargs)
    if training is None and stable is None:
        raise ValueError("Either num_training_steps or num_stable_steps must be specified.")
    for which, kind in (("warmup_type", warmup_type), ("decay_type", decay_type)):
        if kind not in _WSD_TYPES:
            raise ValueError(
                f"Unknown {which.replace('_type', '')} type: {kind}, expected 'linear', "
                "'cosine' or '1-sqrt'"
            )
    if stable is None:
        stable = _steps("num_training_steps", training) - warmup - decay
    stable = _steps("num_stable_steps", stable)
    low = lr * ratio
    if low < 0:
        raise ValueError(f"min_lr_ratio must be >= 0, got min_lr_ratio={ratio!r}")
    n_warm = max(1, warmup)
    if warmup_type == "linear":
        ramp: Schedule = Anneal(low, lr, n_warm, shape="linear")
    elif warmup_type == "cosine":
        ramp = Anneal(low, lr, n_warm, shape="cos")
    else:  # 1 - sqrt(1 - p): from the low rate, as (1 - p) ** 0.5 of the way left
        ramp = Anneal(low, lr, n_warm, shape="linear", power=0.5)
    n_decay = max(1, decay)
    if decay_type == "linear":
        cool: Schedule = Anneal(lr, low, n_decay, shape="linear")
    elif decay_type == "cosine":
        cool = _cosine(lr, low, n_decay, cycles)
    else:
        cool = Anneal(lr, low, n_decay, shape="1-sqrt")
    if stable < 0:  # the decay has begun before the warmup ends
        cool = Shift(cool, -stable)
        decay += stable
    return _phases([(ramp, warmup), (Constant(lr), stable), (cool, decay)], Constant(low))


#: transformers' lambda functions (``functools.partial`` targets) -> scheduler names
_LAMBDAS = {
    "_get_linear_schedule_with_warmup_lr_lambda": "linear",
    "_get_cosine_schedule_with_warmup_lr_lambda": "cosine",
    "_get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda": "cosine_with_restarts",
    "_get_polynomial_decay_schedule_with_warmup_lr_lambda": "polynomial",
    "_get_constant_schedule_with_warmup_lr_lambda": "constant_with_warmup",
    "_get_inverse_sqrt_schedule_lr_lambda": "inverse_sqrt",
    "_get_cosine_with_min_lr_schedule_with_warmup_lr_rate_lambda": "cosine_warmup_with_min_lr",
    "_get_wsd_scheduler_lambda": "warmup_stable_decay",
}


def from_lambda(fn: Any, base: float) -> Schedule | None:
    """The spec of ``base * fn(k)`` when ``fn`` is one of transformers' own lr lambdas
    (``LambdaLR(optimizer, fn)`` as ``get_scheduler`` builds it), else ``None``."""
    func = getattr(fn, "func", fn)
    if getattr(func, "__module__", None) != "transformers.optimization":
        return None
    fname = getattr(func, "__name__", "")
    if fname == "_get_constant_lambda":
        return Constant(base)
    name = _LAMBDAS.get(fname)
    if name is None:
        return None
    kw = dict(getattr(fn, "keywords", {}) or {})
    if getattr(fn, "args", ()):
        return None
    warmup = kw.pop("num_warmup_steps")
    training = kw.pop("num_training_steps", None)
    if name == "cosine" and kw.get("min_lr_rate", 0.0):
        name = "cosine_with_min_lr"
    elif name == "cosine":
        kw.pop("min_lr_rate", None)
    if name == "polynomial":
        # decay / lr_init times LambdaLR's base: built on lr_init, then rescaled to base
        lr_init = float(kw.pop("lr_init"))
        spec = from_transformers(name, lr_init, warmup, training, **kw)
        return spec if lr_init == base else _scaled(spec, base / lr_init)
    if name == "warmup_stable_decay":
        kw["num_decay_steps"] = kw.pop("num_decay_steps")
        kw["num_stable_steps"] = kw.pop("num_stable_steps")
    return from_transformers(name, base, warmup, training, **kw)


def _scaled(spec: Schedule, factor: float) -> Schedule:
    from lrspec.schedules import Product

    return Product((Constant(factor), spec))
