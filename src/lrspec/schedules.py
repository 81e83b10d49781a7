"""The schedule specs: immutable, validated at construction, configs that round-trip.

A spec is an immutable record whose fields are exactly its constructor arguments (Keras's
names and order), declared like a frozen dataclass (annotated class attributes, defaults), so
``get_config()`` returns the fields and ``from_config`` is ``cls(**config)``. The record
machinery is :class:`Schedule`'s own rather than ``dataclasses``: generating dataclass
methods costs ~25 ms of ``import lrspec`` (and ``dataclasses`` imports ``inspect``).
Calling a spec evaluates its formula (:mod:`lrspec._math`) with the ops of the backend that
owns the step (:mod:`lrspec.backends`).
"""

from __future__ import annotations

import itertools
import math

from lrspec import _math
from lrspec.backends import detect, get_ops
from lrspec.backends import python as _python

# No runtime import of typing or collections.abc: they cost ~10 ms of `import lrspec`
# (benchmarks/bench_import.py); type checkers read the names below.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar

    from typing_extensions import dataclass_transform

    from lrspec.backends import Ops
    from lrspec.backends.keras import KerasSchedule
    from lrspec.backends.torch import LRSpecScheduler
else:

    def dataclass_transform(**_: Any) -> Any:
        return lambda cls: cls


__all__ = [
    "SCHEDULES",
    "Constant",
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseSqrt",
    "InverseTimeDecay",
    "Join",
    "Linear",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "Schedule",
    "Warmup",
    "deserialize",
    "from_keras",
    "serialize",
]

FLOAT32_MAX = _math.FLOAT32_MAX
FLOAT32_TINY = _math.FLOAT32_TINY

#: class name -> spec class; the only classes `deserialize` will ever build.
SCHEDULES: dict[str, type[Schedule]] = {}

if TYPE_CHECKING:
    _S = TypeVar("_S", bound="Schedule")


def _ops(name: str) -> Ops:
    # No cache dict here: a cache filled during a torch.compile trace would change what
    # dynamo guards on and cost a recompile on the next call.
    if name == "python":
        return _python.OPS
    return get_ops(name)


# --- validation -------------------------------------------------------------------------

#: how deep serialized schedules may nest (Warmup(Join([...])) is 2)
MAX_DEPTH = 32
_depth = 0


def brief(value: object) -> str:
    """``repr(value)``, shortened: errors name the value without echoing a huge input."""
    import reprlib  # only on the error path

    short = reprlib.Repr()
    short.maxstring = short.maxother = short.maxlong = 80
    short.maxlist = short.maxtuple = short.maxdict = 8
    return short.repr(value)


def _number(name: str, value: object) -> int | float:
    """``value`` as a Python int or float: ints, floats, NumPy/ml_dtypes scalars and 0-d
    arrays of any framework are numbers; bools, strings, None and sequences are not."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a number, got {name}={brief(value)}")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    shape = getattr(value, "shape", None)
    dtype = str(getattr(value, "dtype", ""))
    if shape is None or tuple(shape) != () or "bool" in dtype or "complex" in dtype:
        raise TypeError(f"{name} must be a real number, got {name}={brief(value)}")
    try:
        if "int" in dtype:
            return int(value)  # type: ignore[call-overload, no-any-return]
        return float(value)  # type: ignore[arg-type]
    except Exception as err:  # e.g. a JAX tracer: not a concrete number
        raise TypeError(f"{name} must be a concrete number, got {name}={brief(value)}") from err


def _finite(name: str, value: object) -> int | float:
    number = _number(name, value)
    if isinstance(number, int) and abs(number) > 2**1023:  # math.isfinite would overflow
        raise ValueError(f"{name} must be a finite float, got {name}={brief(number)}")
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {name}={number!r}")
    return number


def check_rate(name: str, value: object) -> int | float:
    """A learning rate: finite, >= 0 and representable in float32."""
    number = _finite(name, value)
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {name}={number!r}")
    if number > FLOAT32_MAX:
        raise ValueError(f"{name} must be <= {FLOAT32_MAX!r} (float32 max), got {name}={number!r}")
    return number


def check_nonnegative(name: str, value: object) -> int | float:
    number = _finite(name, value)
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {name}={number!r}")
    return number


def check_steps(name: str, value: object) -> int | float:
    """A positive length in steps (finite, > 0, not below the smallest normal float32)."""
    number = _finite(name, value)
    if number <= 0:
        raise ValueError(f"{name} must be > 0, got {name}={number!r}")
    if number < FLOAT32_TINY:
        raise ValueError(
            f"{name} must be >= {FLOAT32_TINY!r} (smallest normal float32), got {name}={number!r}"
        )
    return number


def check_bool(name: str, value: object) -> bool:
    if type(value).__name__ in ("bool", "bool_"):
        return bool(value)
    raise TypeError(f"{name} must be a bool, got {name}={brief(value)}")


def check_name(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a string, got {name}={brief(value)}")


# --- the base class ---------------------------------------------------------------------


@dataclass_transform(frozen_default=True)
class Schedule:
    """Base of every spec: evaluation, configs and the framework adapters."""

    keras_name: ClassVar[str | None] = None  # the Keras class this spec mirrors, if any
    #: the constructor arguments, in order, and the defaults of the optional ones
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        SCHEDULES[cls.__name__] = cls
        own = [
            name
            # not inspect.get_annotations: importing inspect costs start-up time
            for name, kind in cls.__dict__.get("__annotations__", {}).items()  # noqa: RUF063
            if not str(kind).startswith(("ClassVar", "typing.ClassVar"))
        ]
        cls._fields = (*cls._fields, *own)
        cls._defaults = {**cls._defaults, **{n: cls.__dict__[n] for n in own if n in cls.__dict__}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kind, fields = type(self).__name__, self._fields
        if len(args) > len(fields):
            raise TypeError(f"{kind}() takes {len(fields)} arguments, got {len(args)}")
        values = dict(zip(fields, args, strict=False))
        for key, value in kwargs.items():
            if key not in fields:
                raise TypeError(f"{kind}() got an unexpected keyword argument {key!r}")
            if key in values:
                raise TypeError(f"{kind}() got multiple values for argument {key!r}")
            values[key] = value
        for key in fields:
            if key not in values:
                if key not in self._defaults:
                    raise TypeError(f"{kind}() missing required argument {key!r}")
                values[key] = self._defaults[key]
        _freeze(self, **values)
        self.__post_init__()
        self._warm()

    def __post_init__(self) -> None:
        """Validate (and normalise, with :func:`_freeze`) the arguments."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot assign to {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({args})"

    def _warm(self) -> None:
        """Evaluate once at construction, so the formula's constants are cached before any
        framework traces the spec (a cache filled inside a trace costs a recompile)."""
        _math.evaluate(self, _python.OPS.prepare(0, None), _python.OPS)

    def __call__(self, step: Any, dtype: Any | None = None) -> Any:
        """The learning rate at ``step``, computed by the framework that owns ``step``.

        A Python number gives a Python float; a NumPy, torch, JAX or TensorFlow array gives
        an array of the same library, shape and device, in that backend's default float
        dtype unless ``dtype`` is given.
        """
        name = detect(step)
        if name == "keras":  # a keras.Variable: evaluate its backend tensor
            step = step.value
            name = detect(step)
        ops = _ops(name)
        run = getattr(ops, "run", None)  # a backend's own evaluation loop (NumPy: chunks)
        if run is not None:
            return run(self, step, dtype, _math.evaluate)
        return ops.finish(_math.evaluate(self, ops.prepare(step, dtype), ops), step, dtype)

    # configs ---------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-serializable (Keras's ``get_config``)."""
        return {f: getattr(self, f) for f in self._fields}

    @classmethod
    def from_config(cls: type[_S], config: dict[str, Any]) -> _S:
        """``cls(**config)``: the inverse of :meth:`get_config`."""
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict, got config={config!r}")
        return cls(**config)

    # adapters --------------------------------------------------------------------------

    def to_torch(self, optimizer: Any, **kwargs: Any) -> LRSpecScheduler:
        """A ``torch.optim.lr_scheduler.LRScheduler`` driving ``optimizer`` by this spec."""
        from lrspec.backends.torch import LRSpecScheduler

        return LRSpecScheduler(optimizer, self, **kwargs)

    def to_optax(self) -> Any:
        """An optax schedule ``count -> learning rate`` (jit/vmap/grad-safe)."""
        from lrspec.backends.jax import to_optax

        return to_optax(self)

    def to_keras(self) -> KerasSchedule:
        """A ``keras.optimizers.schedules.LearningRateSchedule`` computing this spec."""
        from lrspec.backends.keras import KerasSchedule

        return KerasSchedule(self)


def _freeze(spec: Schedule, **values: Any) -> None:
    """Store (validated) values on an immutable spec."""
    for key, value in values.items():
        object.__setattr__(spec, key, value)


# --- the schedules ----------------------------------------------------------------------


class InverseTimeDecay(Schedule):
    """Inverse time decay, Keras's ``InverseTimeDecay``::

        lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps)
        staircase=True:  step / decay_steps is floored (exactly, for integer steps)

    >>> s = InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)
    >>> s(0), s(2)
    (0.1, 0.05)
    """

    initial_learning_rate: float
    decay_steps: float
    decay_rate: float
    staircase: bool = False
    name: str | None = "InverseTimeDecay"

    keras_name: ClassVar[str | None] = "InverseTimeDecay"

    def __post_init__(self) -> None:
        _freeze(
            self,
            initial_learning_rate=check_rate("initial_learning_rate", self.initial_learning_rate),
            decay_steps=check_steps("decay_steps", self.decay_steps),
            decay_rate=check_nonnegative("decay_rate", self.decay_rate),
            staircase=check_bool("staircase", self.staircase),
            name=check_name("name", self.name),
        )


# --- the family -------------------------------------------------------------------------


def check_unit(name: str, value: object) -> int | float:
    """A fraction in [0, 1]."""
    number = check_nonnegative(name, value)
    if number > 1:
        raise ValueError(f"{name} must be <= 1, got {name}={number!r}")
    return number


def check_count(name: str, value: object, minimum: int = 0) -> int:
    """A whole number of steps (an int, or a float with an integer value), ``>= minimum``."""
    number = _finite(name, value)
    if not float(number).is_integer():
        raise ValueError(f"{name} must be a whole number of steps, got {name}={number!r}")
    if number < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {name}={number!r}")
    if number > 2**63 - 1:
        raise ValueError(f"{name} must be < 2**63, got {name}={number!r}")
    return int(number)


def _sequence(name: str, value: object) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
        raise TypeError(f"{name} must be a list, got {name}={brief(value)}")
    try:
        return tuple(value)  # type: ignore[arg-type]
    except TypeError as err:
        raise TypeError(f"{name} must be a list, got {name}={brief(value)}") from err


def _nested(name: str, value: object) -> Schedule:
    """A nested schedule: a spec, or its :func:`serialize` dict (only known classes)."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, dict):
        return deserialize(value)
    raise TypeError(
        f"{name} must be an lrspec schedule or its serialized dict, got {name}={brief(value)}"
    )


class ExponentialDecay(Schedule):
    """Exponential decay, Keras's ``ExponentialDecay``::

        lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps)
        staircase=True:  step / decay_steps is floored (exactly, for integer steps)

    ``decay_rate`` must lie in [0, 1] (a larger one would overflow to inf).

    >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(20)
    0.025
    """

    initial_learning_rate: float
    decay_steps: float
    decay_rate: float
    staircase: bool = False
    name: str | None = "ExponentialDecay"

    keras_name: ClassVar[str | None] = "ExponentialDecay"

    def __post_init__(self) -> None:
        _freeze(
            self,
            initial_learning_rate=check_rate("initial_learning_rate", self.initial_learning_rate),
            decay_steps=check_steps("decay_steps", self.decay_steps),
            decay_rate=check_unit("decay_rate", self.decay_rate),
            staircase=check_bool("staircase", self.staircase),
            name=check_name("name", self.name),
        )


class PiecewiseConstantDecay(Schedule):
    """Piecewise constant, Keras's ``PiecewiseConstantDecay``::

        lr(step) = values[0]  for step <= boundaries[0]
                   values[k]  for boundaries[k-1] < step <= boundaries[k]
                   values[-1] for step > boundaries[-1]

    Integer steps are compared exactly with the boundaries, at any step.

    >>> s = PiecewiseConstantDecay([100, 200], [0.1, 0.01, 0.001])
    >>> s(100), s(101), s(201)
    (0.1, 0.01, 0.001)
    """

    boundaries: tuple[float, ...]
    values: tuple[float, ...]
    name: str | None = "PiecewiseConstant"

    keras_name: ClassVar[str | None] = "PiecewiseConstantDecay"

    def __post_init__(self) -> None:
        boundaries = _sequence("boundaries", self.boundaries)
        values = _sequence("values", self.values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "values must have one more element than boundaries, got "
                f"boundaries={list(boundaries)!r} (length {len(boundaries)}) and "
                f"values={list(values)!r} (length {len(values)})"
            )
        bounds = tuple(_finite("boundaries", b) for b in boundaries)
        for low, high in itertools.pairwise(bounds):
            if high < low:
                raise ValueError(
                    f"boundaries must be non-decreasing, got boundaries={list(bounds)!r}"
                )
        _freeze(
            self,
            boundaries=bounds,
            values=tuple(check_rate("values", v) for v in values),
            name=check_name("name", self.name),
        )

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": list(self.boundaries), "values": list(self.values), "name": self.name}


class PolynomialDecay(Schedule):
    """Polynomial decay, Keras's ``PolynomialDecay``::

        p = min(step, decay_steps) / decay_steps
        lr(step) = (initial_learning_rate - end_learning_rate) * (1 - p) ** power
                   + end_learning_rate
        cycle=True:  decay_steps *= ceil(step / decay_steps) (1 at step 0), no min

    >>> PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)(5)
    0.05
    """

    initial_learning_rate: float
    decay_steps: float
    end_learning_rate: float = 0.0001
    power: float = 1.0
    cycle: bool = False
    name: str | None = "PolynomialDecay"

    keras_name: ClassVar[str | None] = "PolynomialDecay"

    def __post_init__(self) -> None:
        _freeze(
            self,
            initial_learning_rate=check_rate("initial_learning_rate", self.initial_learning_rate),
            decay_steps=check_steps("decay_steps", self.decay_steps),
            end_learning_rate=check_rate("end_learning_rate", self.end_learning_rate),
            power=check_nonnegative("power", self.power),
            cycle=check_bool("cycle", self.cycle),
            name=check_name("name", self.name),
        )


class CosineDecay(Schedule):
    """Cosine decay with optional linear warmup, Keras's ``CosineDecay``::

        t = min(step, decay_steps) / decay_steps
        lr(step) = peak * ((1 - alpha) * (1 + cos(pi * t)) / 2 + alpha)

    ``peak`` is ``initial_learning_rate``; with ``warmup_target`` the rate first rises
    linearly from ``initial_learning_rate`` (at step 0) to ``peak = warmup_target`` over
    ``warmup_steps``, and the cosine then runs on ``step - warmup_steps``.

    >>> CosineDecay(0.1, decay_steps=100)(50)
    0.05
    """

    initial_learning_rate: float
    decay_steps: float
    alpha: float = 0.0
    name: str | None = "CosineDecay"
    warmup_target: float | None = None
    warmup_steps: float = 0

    keras_name: ClassVar[str | None] = "CosineDecay"

    def __post_init__(self) -> None:
        target = self.warmup_target
        _freeze(
            self,
            initial_learning_rate=check_rate("initial_learning_rate", self.initial_learning_rate),
            decay_steps=check_steps("decay_steps", self.decay_steps),
            alpha=check_unit("alpha", self.alpha),
            name=check_name("name", self.name),
            warmup_target=None if target is None else check_rate("warmup_target", target),
            warmup_steps=check_nonnegative("warmup_steps", self.warmup_steps),
        )


class CosineDecayRestarts(Schedule):
    """Cosine decay with warm restarts (SGDR), Keras's ``CosineDecayRestarts``.

    Period ``k`` (from 0) lasts ``first_decay_steps * t_mul ** k`` steps; within it, at
    fraction ``t`` of the period::

        lr = initial_learning_rate * ((1 - alpha) * m_mul ** k * (1 + cos(pi t)) / 2 + alpha)

    ``t_mul >= 1`` and ``m_mul`` in [0, 1] (Keras accepts others, which end in NaN or inf).

    >>> s = CosineDecayRestarts(0.1, first_decay_steps=10, t_mul=2.0, m_mul=0.5)
    >>> s(0), s(10), s(30)
    (0.1, 0.05, 0.025)
    """

    initial_learning_rate: float
    first_decay_steps: float
    t_mul: float = 2.0
    m_mul: float = 1.0
    alpha: float = 0.0
    name: str | None = "SGDRDecay"

    keras_name: ClassVar[str | None] = "CosineDecayRestarts"

    def __post_init__(self) -> None:
        t_mul = _finite("t_mul", self.t_mul)
        if not 1 <= t_mul <= 2**32:
            raise ValueError(f"t_mul must be in [1, 2**32], got t_mul={t_mul!r}")
        _freeze(
            self,
            initial_learning_rate=check_rate("initial_learning_rate", self.initial_learning_rate),
            first_decay_steps=check_steps("first_decay_steps", self.first_decay_steps),
            t_mul=t_mul,
            m_mul=check_unit("m_mul", self.m_mul),
            alpha=check_unit("alpha", self.alpha),
            name=check_name("name", self.name),
        )


class Constant(Schedule):
    """The same rate at every step.

    >>> Constant(0.1)(1000)
    0.1
    """

    learning_rate: float

    def __post_init__(self) -> None:
        _freeze(self, learning_rate=check_rate("learning_rate", self.learning_rate))


class Linear(Schedule):
    """Linear interpolation, optax's ``linear_schedule``::

        lr(step) = initial_learning_rate
                   + (end_learning_rate - initial_learning_rate)
                   * min(step, transition_steps) / transition_steps

    then ``end_learning_rate`` for ever. It may rise (a warmup) or fall.

    >>> Linear(0.1, 0.0, transition_steps=10)(5)
    0.05
    """

    initial_learning_rate: float
    end_learning_rate: float
    transition_steps: float

    def __post_init__(self) -> None:
        _freeze(
            self,
            initial_learning_rate=check_rate("initial_learning_rate", self.initial_learning_rate),
            end_learning_rate=check_rate("end_learning_rate", self.end_learning_rate),
            transition_steps=check_steps("transition_steps", self.transition_steps),
        )


class InverseSqrt(Schedule):
    """The transformer schedule: linear warmup to ``learning_rate`` at ``warmup_steps``,
    then decay as ``1 / sqrt(step)``::

        lr(step) = learning_rate * sqrt(warmup_steps / step)     for step >= warmup_steps

    The warmup is :class:`Warmup`'s: from ``initial_learning_rate`` at step 0 if given, else
    ``learning_rate * (step + 1) / (warmup_steps + 1)``. Vaswani et al.'s
    ``d_model**-0.5 * min(step**-0.5, step * warmup_steps**-1.5)`` is
    ``InverseSqrt(d_model**-0.5 * warmup_steps**-0.5, warmup_steps, initial_learning_rate=0)``.

    >>> s = InverseSqrt(1e-3, warmup_steps=100)
    >>> s(100), s(400)
    (0.001, 0.0005)
    """

    learning_rate: float
    warmup_steps: int
    initial_learning_rate: float | None = None

    def __post_init__(self) -> None:
        start = self.initial_learning_rate
        _freeze(
            self,
            learning_rate=check_rate("learning_rate", self.learning_rate),
            warmup_steps=check_count("warmup_steps", self.warmup_steps, 1),
            initial_learning_rate=None
            if start is None
            else check_rate("initial_learning_rate", start),
        )


class Warmup(Schedule):
    """Linear warmup into any schedule, which then sees ``step - warmup_steps``::

        lr(step) = ramp(step)                          for step < warmup_steps
                   schedule(step - warmup_steps)       from then on

    The ramp rises linearly to ``peak = schedule(0)``, reached at ``step = warmup_steps``:
    from ``initial_learning_rate`` at step 0 when it is given (pass 0.0 to start at rate 0),
    else ``peak * (step + 1) / (warmup_steps + 1)`` -- the ramp from 0 at step -1, so the
    first update is never wasted at rate 0.

    >>> s = Warmup(Constant(0.1), warmup_steps=4)
    >>> [round(s(k), 6) for k in range(6)]
    [0.02, 0.04, 0.06, 0.08, 0.1, 0.1]
    """

    schedule: Schedule
    warmup_steps: int
    initial_learning_rate: float | None = None

    def __post_init__(self) -> None:
        start = self.initial_learning_rate
        _freeze(
            self,
            schedule=_nested("schedule", self.schedule),
            warmup_steps=check_count("warmup_steps", self.warmup_steps),
            initial_learning_rate=None
            if start is None
            else check_rate("initial_learning_rate", start),
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "schedule": serialize(self.schedule),
            "warmup_steps": self.warmup_steps,
            "initial_learning_rate": self.initial_learning_rate,
        }


class Join(Schedule):
    """Schedules one after another, optax's ``join_schedules``::

        lr(step) = schedules[0](step)                          for step < boundaries[0]
                   schedules[k](step - boundaries[k-1])        for boundaries[k-1] <= step

    >>> s = Join([Constant(0.1), Linear(0.1, 0.0, 10)], boundaries=[100])
    >>> s(99), s(105)
    (0.1, 0.05)
    """

    schedules: tuple[Schedule, ...]
    boundaries: tuple[int, ...]

    def __post_init__(self) -> None:
        schedules = _sequence("schedules", self.schedules)
        boundaries = _sequence("boundaries", self.boundaries)
        if not schedules:
            raise ValueError(f"schedules must not be empty, got schedules={list(schedules)!r}")
        if len(boundaries) != len(schedules) - 1:
            raise ValueError(
                "boundaries must have one element less than schedules, got "
                f"boundaries={list(boundaries)!r} (length {len(boundaries)}) and "
                f"{len(schedules)} schedules"
            )
        bounds = tuple(check_count("boundaries", b) for b in boundaries)
        for low, high in itertools.pairwise(bounds):
            if high < low:
                raise ValueError(
                    f"boundaries must be non-decreasing, got boundaries={list(bounds)!r}"
                )
        _freeze(
            self,
            schedules=tuple(_nested("schedules", s) for s in schedules),
            boundaries=bounds,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "schedules": [serialize(s) for s in self.schedules],
            "boundaries": list(self.boundaries),
        }


# --- serialization ----------------------------------------------------------------------

_KERAS_MODULES = ("keras.optimizers.schedules", "keras.src.optimizers.schedules")


def serialize(schedule: Schedule) -> dict[str, Any]:
    """A JSON-able, class-tagged dict: ``{"module", "class_name", "config"}``.

    >>> serialize(InverseTimeDecay(0.1, 1.0, 0.5))["class_name"]
    'InverseTimeDecay'
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be an lrspec schedule, got {schedule!r}")
    return {
        "module": "lrspec",
        "class_name": type(schedule).__name__,
        "config": schedule.get_config(),
    }


def deserialize(data: dict[str, Any]) -> Schedule:
    """The spec described by ``data``: the output of :func:`serialize`, of
    ``keras.optimizers.schedules.serialize``, or of saving ``spec.to_keras()``.

    Only lrspec's own classes are ever built: nothing is imported or evaluated. Errors are
    ``ValueError``/``TypeError`` naming the offending part (shortened), also for documents
    nested more than ``MAX_DEPTH`` deep.
    """
    global _depth
    if _depth >= MAX_DEPTH:
        raise ValueError(f"serialized schedules nest at most {MAX_DEPTH} deep")
    _depth += 1
    try:
        return _deserialize(data)
    finally:
        _depth -= 1


def _deserialize(data: dict[str, Any]) -> Schedule:
    if not isinstance(data, dict):
        raise TypeError(f"a serialized schedule must be a dict, got {brief(data)}")
    class_name = data.get("class_name")
    config = data.get("config")
    module = data.get("module")
    registered = data.get("registered_name")
    if not isinstance(class_name, str) or not isinstance(config, dict):
        raise ValueError(
            "a serialized schedule needs a string 'class_name' and a dict 'config', "
            f"got {brief(data)}"
        )
    if class_name == "KerasSchedule" or (
        isinstance(registered, str) and registered.startswith("lrspec>")
    ):
        # what saving spec.to_keras() writes: the wrapped spec, serialized
        return deserialize(config.get("spec", config))
    cls = SCHEDULES.get(class_name)
    keras_side = isinstance(module, str) and module.startswith(_KERAS_MODULES)
    if (
        cls is None
        or (keras_side and cls.keras_name != class_name)
        or (module is not None and not keras_side and module != "lrspec")
    ):
        raise ValueError(
            f"unknown schedule class_name={brief(class_name)} (module={brief(module)}); "
            f"known: {', '.join(sorted(SCHEDULES))}"
        )
    return cls.from_config(config)


def from_keras(schedule: Any) -> Schedule:
    """The lrspec spec equal to a Keras ``LearningRateSchedule`` object."""
    spec = getattr(schedule, "spec", None)
    if isinstance(spec, Schedule):  # our own Keras adapter
        return spec
    class_name = type(schedule).__name__
    cls = SCHEDULES.get(class_name)
    if cls is None or cls.keras_name != class_name or not hasattr(schedule, "get_config"):
        raise TypeError(
            f"cannot convert {type(schedule).__module__}.{class_name} to an lrspec schedule"
        )
    return cls.from_config(schedule.get_config())
