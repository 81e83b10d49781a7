"""The specs: frozen dataclasses validated field by field, configs that round-trip.

A spec's fields are exactly its constructor arguments (Keras's names and order), so
``get_config()`` returns the fields and ``from_config`` is ``cls(**config)``. Each field
declares its validation (``rate()``, ``length()``, ``flag()``, ...: the per-field table);
the class statement names the spec's formula (:mod:`lrspec.formulas`) and its exact
reference (:mod:`lrspec.reference`)::

    @register
    @dataclass(frozen=True)
    class InverseTimeDecay(Schedule, formula=formulas.inverse_time_decay,
                           reference=reference.inverse_time_decay, rational=True):
        initial_learning_rate: float = rate()
        ...

Calling a spec evaluates its formula with the ops of the backend that owns the step
(:mod:`lrspec.backends`). :data:`SCHEDULES`, filled by :func:`register`, is the only list of
classes that :func:`deserialize` builds, and what the CLI and the tests enumerate.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import MISSING, dataclass, field, fields

from lrspec import formulas, reference
from lrspec.backends import get_ops, resolve
from lrspec.backends.python import OPS as _PYTHON

# No runtime import of typing or collections.abc: they cost ~10 ms of `import lrspec`
# (benchmarks/bench_import.py); type checkers read the names below.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar, TypeVar

    from lrspec.adapters.torch import LRSpecScheduler

    _S = TypeVar("_S", bound="Schedule")
    _T = TypeVar("_T", bound="type[Schedule]")

__all__ = [
    "LENGTH_MAX",
    "LENGTH_MIN",
    "MAX_DEPTH",
    "MAX_LIST",
    "MAX_NODES",
    "MAX_PERIODS",
    "SCALAR_MAX",
    "SCHEDULES",
    "Anneal",
    "Constant",
    "CosineDecay",
    "CosineDecayRestarts",
    "Cycle",
    "ExponentialDecay",
    "InverseSqrt",
    "InverseTimeDecay",
    "Join",
    "Linear",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "Product",
    "Schedule",
    "Shift",
    "Sum",
    "Warmup",
    "deserialize",
    "register",
    "serialize",
]

FLOAT32_MAX = formulas.FLOAT32_MAX
FLOAT32_TINY = formulas.FLOAT32_TINY

#: class name -> spec class: the only classes :func:`deserialize` builds (see :func:`register`)
SCHEDULES: dict[str, type[Schedule]] = {}

#: how deep schedules may nest (Warmup(Join([...])) is 2), built in Python or deserialized
MAX_DEPTH = 32
#: most schedules in one spec, each counted once per place it is used (a spec shared by
#: two parents counts twice: it is evaluated twice)
MAX_NODES = 1000
#: longest list argument (``boundaries``, ``values``, ``schedules``): each entry costs an
#: op per evaluation
MAX_LIST = 1000
#: lengths in steps (``decay_steps``, ...) lie in [LENGTH_MIN, LENGTH_MAX]: every backend,
#: float32 included, then forms ``step / length`` and ``length**2`` without overflow, and
#: every such length is an exact float64
LENGTH_MIN = 2.0**-24
LENGTH_MAX = 2**53
#: the largest value of any other scalar argument (``decay_rate``, ``power``, ``m_mul``...)
SCALAR_MAX = 2**64
#: most restarts of a CosineDecayRestarts with growing periods (t_mul > 1) below step 2**64
MAX_PERIODS = 4096
_depth = 0
#: id(config dict) -> its spec, while a deserialize runs: a dict shared by several parents
#: (YAML anchors) is built once
_built: dict[int, tuple[object, Schedule]] = {}


# --- validation: one function per kind of argument ------------------------------------------


def brief(value: object) -> str:
    """``repr(value)``, shortened: errors name the value without echoing a huge input."""
    import reprlib  # only on the error path

    short = reprlib.Repr()
    short.maxstring = short.maxother = short.maxlong = 80
    short.maxlist = short.maxtuple = short.maxdict = 8
    return short.repr(value)


def check_number(name: str, value: object) -> int | float:
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
    kind = getattr(getattr(value, "dtype", None), "kind", "")
    if (
        shape is None
        or tuple(shape) != ()
        or "bool" in dtype
        or "complex" in dtype
        or kind in ("U", "S", "O", "M", "m")  # np.array('1e3') is text, not a number
    ):
        raise TypeError(f"{name} must be a real number, got {name}={brief(value)}")
    try:
        if "int" in dtype:
            return int(value)  # type: ignore[call-overload, no-any-return]
        return float(value)  # type: ignore[arg-type]
    except Exception as err:  # e.g. a JAX tracer: not a concrete number
        raise TypeError(f"{name} must be a concrete number, got {name}={brief(value)}") from err


def check_finite(name: str, value: object) -> int | float:
    """A finite real number."""
    number = check_number(name, value)
    if isinstance(number, int) and abs(number) > 2**1023:  # math.isfinite would overflow
        raise ValueError(f"{name} must be a finite float, got {name}={brief(number)}")
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {name}={number!r}")
    return number


def check_nonnegative(name: str, value: object) -> int | float:
    """A finite number in [0, 2**64] (:data:`SCALAR_MAX`)."""
    number = check_finite(name, value)
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {name}={number!r}")
    if number > SCALAR_MAX:
        raise ValueError(f"{name} must be <= 2**64, got {name}={number!r}")
    return float(number)


def check_rate(name: str, value: object) -> int | float:
    """A learning rate: finite, >= 0 and representable in float32."""
    number = check_finite(name, value)
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {name}={number!r}")
    if number > FLOAT32_MAX:
        raise ValueError(f"{name} must be <= {FLOAT32_MAX!r} (float32 max), got {name}={number!r}")
    return float(number)  # an int rate is a float (never an int in a backend's arithmetic)


def check_optional_rate(name: str, value: object) -> int | float | None:
    """``None`` or a learning rate."""
    return None if value is None else check_rate(name, value)


def check_length(name: str, value: object) -> int | float:
    """A positive length in steps, in [2**-24, 2**53] (:data:`LENGTH_MIN`,
    :data:`LENGTH_MAX`)."""
    number = check_finite(name, value)
    if number <= 0:
        raise ValueError(f"{name} must be > 0, got {name}={number!r}")
    if number < LENGTH_MIN:
        raise ValueError(f"{name} must be >= 2**-24 (~5.96e-08), got {name}={number!r}")
    if number > LENGTH_MAX:
        raise ValueError(f"{name} must be <= 2**53, got {name}={number!r}")
    return float(number)


def check_duration(name: str, value: object) -> int | float:
    """0 (none), or a length in steps (:func:`check_length`)."""
    number = check_nonnegative(name, value)
    return number if number == 0 else check_length(name, number)


def check_unit(name: str, value: object) -> int | float:
    """A fraction in [0, 1]."""
    number = check_nonnegative(name, value)
    if number > 1:
        raise ValueError(f"{name} must be <= 1, got {name}={number!r}")
    return number


def check_count(name: str, value: object, minimum: int = 0) -> int:
    """A whole number of steps (an int, or a float with an integer value), ``>= minimum``."""
    number = check_finite(name, value)
    if not float(number).is_integer():
        raise ValueError(f"{name} must be a whole number of steps, got {name}={number!r}")
    if number < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {name}={number!r}")
    if number > 2**63 - 1:
        raise ValueError(f"{name} must be < 2**63, got {name}={number!r}")
    return int(number)


def check_positive_count(name: str, value: object) -> int:
    """A whole number of steps >= 1."""
    return check_count(name, value, 1)


def check_flag(name: str, value: object) -> bool:
    """A bool (Python's or NumPy's)."""
    if type(value).__name__ in ("bool", "bool_"):
        return bool(value)
    raise TypeError(f"{name} must be a bool, got {name}={brief(value)}")


def check_label(name: str, value: object) -> str | None:
    """A name: a string or ``None``."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a string, got {name}={brief(value)}")


def check_list(name: str, value: object) -> tuple[Any, ...]:
    """An ordered sequence (a list or tuple, or a 1-d array) of at most :data:`MAX_LIST`
    elements, as a tuple. A set is refused: its order is not the caller's."""
    if not isinstance(value, (list, tuple)) and getattr(value, "ndim", None) != 1:
        raise TypeError(f"{name} must be a list (ordered), got {name}={brief(value)}")
    try:
        size = len(value)  # type: ignore[arg-type]
        if size > MAX_LIST:
            raise ValueError(
                f"{name} must have at most {MAX_LIST} elements, got {size} elements: "
                f"{name}={brief(value)}"
            )
        return tuple(value)  # type: ignore[arg-type]
    except TypeError as err:
        raise TypeError(f"{name} must be a list, got {name}={brief(value)}") from err


def check_schedule(name: str, value: object) -> Schedule:
    """A nested schedule: a spec, or its :func:`serialize` dict (only known classes)."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, dict):
        return deserialize(value)
    raise TypeError(
        f"{name} must be an lrspec schedule or its serialized dict, got {name}={brief(value)}"
    )


def check_schedules(name: str, value: object) -> tuple[Schedule, ...]:
    """A non-empty list of nested schedules."""
    items = check_list(name, value)
    if not items:
        raise ValueError(f"{name} must not be empty, got {name}={list(items)!r}")
    return tuple(check_schedule(name, s) for s in items)


def check_rates(name: str, value: object) -> tuple[int | float, ...]:
    """A list of learning rates."""
    return tuple(check_rate(name, v) for v in check_list(name, value))


def check_sorted(name: str, items: tuple[Any, ...]) -> tuple[Any, ...]:
    for low, high in itertools.pairwise(items):
        if high < low:
            raise ValueError(f"{name} must be non-decreasing, got {name}={brief(list(items))}")
    return items


def check_boundaries(name: str, value: object) -> tuple[int | float, ...]:
    """Non-decreasing finite numbers."""
    return check_sorted(name, tuple(check_finite(name, b) for b in check_list(name, value)))


def check_step_boundaries(name: str, value: object) -> tuple[int, ...]:
    """Non-decreasing whole numbers of steps."""
    return check_sorted(name, tuple(check_count(name, b) for b in check_list(name, value)))


def _arg(check: Callable[[str, Any], Any], default: Any = MISSING) -> Any:
    """A dataclass field validated by ``check(name, value)``, which returns the stored value."""
    return field(default=default, metadata={"check": check})


# The per-field table: each field of a spec is declared with one of these.
def rate(default: Any = MISSING) -> Any:
    """A learning rate (:func:`check_rate`)."""
    return _arg(check_rate, default)


def optional_rate() -> Any:
    """``None`` or a learning rate."""
    return _arg(check_optional_rate, None)


def length(default: Any = MISSING) -> Any:
    """A positive number of steps, not necessarily whole."""
    return _arg(check_length, default)


def count(default: Any = MISSING, minimum: int = 0) -> Any:
    """A whole number of steps ``>= minimum`` (0 or 1)."""
    return _arg(check_positive_count if minimum else check_count, default)


def nonnegative(default: Any = MISSING) -> Any:
    """A finite number >= 0."""
    return _arg(check_nonnegative, default)


def unit(default: Any = MISSING) -> Any:
    """A number in [0, 1]."""
    return _arg(check_unit, default)


def flag(default: bool) -> Any:
    """A bool."""
    return _arg(check_flag, default)


def label(default: str | None) -> Any:
    """A name (Keras's ``name`` argument)."""
    return _arg(check_label, default)


def arg(check: Callable[[str, Any], Any], default: Any = MISSING) -> Any:
    """A field with its own check (lists, nested schedules, ranges of its own)."""
    return _arg(check, default)


# --- the base class -------------------------------------------------------------------------


class Schedule:
    """Base of every spec: evaluation, configs and the framework adapters.

    A subclass names its formula and exact reference in its class statement; a subclass of
    a spec inherits them (it evaluates as its base). Only :func:`register` makes a class
    known to :func:`deserialize`.
    """

    #: the formula (:mod:`lrspec.formulas`) and exact reference (:mod:`lrspec.reference`)
    formula: ClassVar[Callable[..., Any]]
    reference: ClassVar[Callable[..., Any]]
    #: the Keras class this spec mirrors, if any
    keras_name: ClassVar[str | None] = None
    #: a rational formula (no exp/cos/sqrt/power): the tighter bound of reference.BOUNDS
    rational: ClassVar[bool] = False

    def __init_subclass__(
        cls,
        formula: Callable[..., Any] | None = None,
        reference: Callable[..., Any] | None = None,
        keras_name: str | None = None,
        rational: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if formula is not None:
            cls.formula = staticmethod(formula)
        if reference is not None:
            cls.reference = staticmethod(reference)
        if keras_name is not None:
            cls.keras_name = keras_name
        if rational is not None:
            cls.rational = rational

    def __post_init__(self) -> None:
        """Validate (and normalise) each field by its declared check, then the whole."""
        for f in fields(self):  # type: ignore[arg-type]
            check = f.metadata.get("check")
            if check is not None:
                object.__setattr__(self, f.name, check(f.name, getattr(self, f.name)))
        self.validate()
        _check_size(self)
        # Evaluate once, so that the formula's constants are cached before any framework
        # traces the spec (a cache filled inside a trace costs a recompile).
        type(self).formula(self, _PYTHON.prepare(0, None), _PYTHON)

    def validate(self) -> None:
        """Checks that involve several fields (the single-field ones are declared)."""

    @property
    def parts(self) -> tuple[Schedule, ...]:
        """The schedules this one is made of (none, unless it composes others)."""
        return ()

    def __call__(self, step: Any, dtype: Any | None = None) -> Any:
        """The learning rate at ``step``, computed by the framework that owns ``step``.

        A Python number gives a Python float; a NumPy, torch, JAX or TensorFlow array gives
        an array of the same library, shape and device, in that backend's default float
        dtype unless ``dtype`` is given.
        """
        name, step = resolve(step)
        # No cache dict of ops here: a cache filled during a torch.compile trace would
        # change what dynamo guards on and cost a recompile on the next call.
        ops = _PYTHON if name == "python" else get_ops(name)
        return ops.evaluate(type(self).formula, self, step, dtype)

    # configs ---------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-serializable (Keras's ``get_config``)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_config(cls: type[_S], config: dict[str, Any]) -> _S:
        """``cls(**config)``: the inverse of :meth:`get_config`."""
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict, got config={brief(config)}")
        known = fields(cls)  # type: ignore[arg-type]
        missing = [
            f.name
            for f in known
            if f.default is MISSING and f.default_factory is MISSING and f.name not in config
        ]
        if missing and set(config) <= {f.name for f in known}:  # (unknown keys: TypeError)
            raise ValueError(
                f"a {cls.__name__} config needs {', '.join(missing)}, got {brief(config)}"
            )
        return cls(**config)

    # adapters (the one lazy import upwards: convenience for the modules in lrspec.adapters)

    def to_torch(self, optimizer: Any, **kwargs: Any) -> LRSpecScheduler:
        """A ``torch.optim.lr_scheduler.LRScheduler`` driving ``optimizer`` by this spec."""
        from lrspec.adapters.torch import LRSpecScheduler

        return LRSpecScheduler(optimizer, self, **kwargs)

    def to_optax(self) -> Any:
        """An optax schedule ``count -> learning rate`` (jit/vmap/grad-safe)."""
        from lrspec.adapters.optax import to_optax

        return to_optax(self)

    def to_keras(self) -> Any:
        """A ``keras.optimizers.schedules.LearningRateSchedule`` computing this spec."""
        from lrspec.adapters.keras import to_keras

        return to_keras(self)

    def to_tf_keras(self) -> Any:
        """A ``tf_keras`` (Keras 2) ``LearningRateSchedule`` computing this spec."""
        from lrspec.adapters.tf_keras import to_tf_keras

        return to_tf_keras(self)


def _check_size(spec: Schedule) -> None:
    """Refuse a spec nesting deeper than :data:`MAX_DEPTH` or holding more than
    :data:`MAX_NODES` schedules (counted per use); each spec records its own two numbers,
    so the check costs one step per part."""
    depth, nodes = 1, 1
    for part in spec.parts:
        d, n = part.__dict__.get("_lrspec_size", (1, 1))
        depth, nodes = max(depth, d + 1), nodes + n
    if depth > MAX_DEPTH:
        raise ValueError(
            f"schedules nest at most {MAX_DEPTH} deep, got {type(spec).__name__} nesting {depth}"
        )
    if nodes > MAX_NODES:
        raise ValueError(
            f"a spec holds at most {MAX_NODES} schedules (each counted per use), got "
            f"{type(spec).__name__} holding {nodes}"
        )
    spec.__dict__["_lrspec_size"] = (depth, nodes)


def _plain(value: Any) -> Any:
    """A config value as JSON has it: tuples as lists, nested specs serialized."""
    if isinstance(value, Schedule):
        return serialize(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def register(cls: _T) -> _T:
    """Make ``cls`` known to :func:`deserialize`, the CLI and the tests (a class decorator).

    ``cls`` must be a :class:`Schedule` dataclass naming its formula and reference. Its name
    must be new: registering a class under a name that another class holds is an error,
    so no subclass can replace a built-in.
    """
    if not (isinstance(cls, type) and issubclass(cls, Schedule)):
        raise TypeError(f"register takes a Schedule subclass, got {brief(cls)}")
    for needed in ("formula", "reference"):
        if not callable(getattr(cls, needed, None)):
            raise TypeError(f"{cls.__name__} names no {needed}: cannot register it")
    held = SCHEDULES.get(cls.__name__)
    if held is not None and held is not cls:
        raise ValueError(
            f"a schedule named {cls.__name__!r} is registered already "
            f"({held.__module__}.{held.__qualname__})"
        )
    SCHEDULES[cls.__name__] = cls
    return cls


# --- the schedules ----------------------------------------------------------------------


@register
@dataclass(frozen=True)
class InverseTimeDecay(
    Schedule,
    formula=formulas.inverse_time_decay,
    reference=reference.inverse_time_decay,
    keras_name="InverseTimeDecay",
    rational=True,
):
    """Inverse time decay, Keras's ``InverseTimeDecay``::

        lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps)
        staircase=True:  step / decay_steps is floored (exactly, for integer steps)

    >>> s = InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)
    >>> s(0), s(2)
    (0.1, 0.05)
    """

    initial_learning_rate: float = rate()
    decay_steps: float = length()
    decay_rate: float = nonnegative()
    staircase: bool = flag(False)
    name: str | None = label("InverseTimeDecay")


@register
@dataclass(frozen=True)
class ExponentialDecay(
    Schedule,
    formula=formulas.exponential_decay,
    reference=reference.exponential_decay,
    keras_name="ExponentialDecay",
):
    """Exponential decay, Keras's ``ExponentialDecay``::

        lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps)
        staircase=True:  step / decay_steps is floored (exactly, for integer steps)

    ``decay_rate`` must lie in [0, 1] (a larger one would overflow to inf).

    >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(20)
    0.025
    """

    initial_learning_rate: float = rate()
    decay_steps: float = length()
    decay_rate: float = unit()
    staircase: bool = flag(False)
    name: str | None = label("ExponentialDecay")


@register
@dataclass(frozen=True)
class PiecewiseConstantDecay(
    Schedule,
    formula=formulas.piecewise_constant_decay,
    reference=reference.piecewise_constant_decay,
    keras_name="PiecewiseConstantDecay",
    rational=True,
):
    """Piecewise constant, Keras's ``PiecewiseConstantDecay``::

        lr(step) = values[0]  for step <= boundaries[0]
                   values[k]  for boundaries[k-1] < step <= boundaries[k]
                   values[-1] for step > boundaries[-1]

    Integer steps are compared exactly with the boundaries, at any step.

    >>> s = PiecewiseConstantDecay([100, 200], [0.1, 0.01, 0.001])
    >>> s(100), s(101), s(201)
    (0.1, 0.01, 0.001)
    """

    boundaries: tuple[float, ...] = arg(check_boundaries)
    values: tuple[float, ...] = arg(check_rates)
    name: str | None = label("PiecewiseConstant")

    def validate(self) -> None:
        if len(self.boundaries) != len(self.values) - 1:
            raise ValueError(
                "values must have one more element than boundaries, got "
                f"boundaries={brief(list(self.boundaries))} (length {len(self.boundaries)}) "
                f"and values={brief(list(self.values))} (length {len(self.values)})"
            )


@register
@dataclass(frozen=True)
class PolynomialDecay(
    Schedule,
    formula=formulas.polynomial_decay,
    reference=reference.polynomial_decay,
    keras_name="PolynomialDecay",
):
    """Polynomial decay, Keras's ``PolynomialDecay``::

        p = min(step, decay_steps) / decay_steps
        lr(step) = (initial_learning_rate - end_learning_rate) * (1 - p) ** power
                   + end_learning_rate
        cycle=True:  decay_steps *= ceil(step / decay_steps) (1 at step 0), no min

    >>> PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)(5)
    0.05
    """

    initial_learning_rate: float = rate()
    decay_steps: float = length()
    end_learning_rate: float = rate(0.0001)
    power: float = nonnegative(1.0)
    cycle: bool = flag(False)
    name: str | None = label("PolynomialDecay")


@register
@dataclass(frozen=True)
class CosineDecay(
    Schedule,
    formula=formulas.cosine_decay,
    reference=reference.cosine_decay,
    keras_name="CosineDecay",
):
    """Cosine decay with optional linear warmup, Keras's ``CosineDecay``::

        t = min(step, decay_steps) / decay_steps
        lr(step) = peak * ((1 - alpha) * (1 + cos(pi * t)) / 2 + alpha)

    ``peak`` is ``initial_learning_rate``; with ``warmup_target`` the rate first rises
    linearly from ``initial_learning_rate`` (at step 0) to ``peak = warmup_target`` over
    ``warmup_steps``, and the cosine then runs on ``step - warmup_steps``.

    >>> CosineDecay(0.1, decay_steps=100)(50)
    0.05
    """

    initial_learning_rate: float = rate()
    decay_steps: float = length()
    alpha: float = unit(0.0)
    name: str | None = label("CosineDecay")
    warmup_target: float | None = optional_rate()
    warmup_steps: float = arg(check_duration, 0)


def check_t_mul(name: str, value: object) -> int | float:
    """A period growth factor in [1, 2**32]."""
    number = check_finite(name, value)
    if not 1 <= number <= 2**32:
        raise ValueError(
            f"{name} must be in [1, 2**32] (below 1 the periods shrink to a finite horizon, "
            f"after which Keras returns NaN), got {name}={number!r}"
        )
    return number


@register
@dataclass(frozen=True)
class CosineDecayRestarts(
    Schedule,
    formula=formulas.cosine_decay_restarts,
    reference=reference.cosine_decay_restarts,
    keras_name="CosineDecayRestarts",
):
    """Cosine decay with warm restarts (SGDR), Keras's ``CosineDecayRestarts``.

    Period ``k`` (from 0) lasts ``first_decay_steps * t_mul ** k`` steps; within it, at
    fraction ``t`` of the period::

        lr = initial_learning_rate * ((1 - alpha) * m_mul ** k * (1 + cos(pi t)) / 2 + alpha)

    ``t_mul`` lies in [1, 2**32]. ``m_mul`` may exceed 1 (each restart higher than the last,
    as Keras allows); the rate is then capped at float32's largest value.

    >>> s = CosineDecayRestarts(0.1, first_decay_steps=10, t_mul=2.0, m_mul=0.5)
    >>> s(0), s(10), s(30)
    (0.1, 0.05, 0.025)
    """

    initial_learning_rate: float = rate()
    first_decay_steps: float = length()
    t_mul: float = arg(check_t_mul, 2.0)
    m_mul: float = nonnegative(1.0)
    alpha: float = unit(0.0)
    name: str | None = label("SGDRDecay")

    def validate(self) -> None:
        tm = float(self.t_mul)
        if tm == 1:
            return
        # growing periods: at most MAX_PERIODS restarts below step 2**64 (each is a term of
        # the exact reference and of the period search)
        periods = math.log1p(2.0**64 * (tm - 1) / float(self.first_decay_steps)) / math.log(tm)
        if periods > MAX_PERIODS:
            raise ValueError(
                f"t_mul={self.t_mul!r} with first_decay_steps={self.first_decay_steps!r} "
                f"restarts {periods:.0f} times below step 2**64; at most {MAX_PERIODS} "
                "(use t_mul=1, or a larger t_mul or first_decay_steps)"
            )


@register
@dataclass(frozen=True)
class Constant(Schedule, formula=formulas.constant, reference=reference.constant, rational=True):
    """The same rate at every step.

    >>> Constant(0.1)(1000)
    0.1
    """

    learning_rate: float = rate()


@register
@dataclass(frozen=True)
class Linear(Schedule, formula=formulas.linear, reference=reference.linear):
    """Linear interpolation, optax's ``linear_schedule``::

        lr(step) = initial_learning_rate
                   + (end_learning_rate - initial_learning_rate)
                   * min(step, transition_steps) / transition_steps

    then ``end_learning_rate`` for ever. It may rise (a warmup) or fall.

    >>> Linear(0.1, 0.0, transition_steps=10)(5)
    0.05
    """

    initial_learning_rate: float = rate()
    end_learning_rate: float = rate()
    transition_steps: float = length()


@register
@dataclass(frozen=True)
class InverseSqrt(Schedule, formula=formulas.inverse_sqrt, reference=reference.inverse_sqrt):
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

    learning_rate: float = rate()
    warmup_steps: int = count(minimum=1)
    initial_learning_rate: float | None = optional_rate()


@register
@dataclass(frozen=True)
class Warmup(Schedule, formula=formulas.warmup, reference=reference.warmup):
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

    schedule: Schedule = arg(check_schedule)
    warmup_steps: int = count()
    initial_learning_rate: float | None = optional_rate()

    @property
    def parts(self) -> tuple[Schedule, ...]:
        return (self.schedule,)


@register
@dataclass(frozen=True)
class Join(Schedule, formula=formulas.join, reference=reference.join):
    """Schedules one after another, optax's ``join_schedules``::

        lr(step) = schedules[0](step)                          for step < boundaries[0]
                   schedules[k](step - boundaries[k-1])        for boundaries[k-1] <= step

    >>> s = Join([Constant(0.1), Linear(0.1, 0.0, 10)], boundaries=[100])
    >>> s(99), s(105)
    (0.1, 0.05)
    """

    schedules: tuple[Schedule, ...] = arg(check_schedules)
    boundaries: tuple[int, ...] = arg(check_step_boundaries)

    def validate(self) -> None:
        if len(self.boundaries) != len(self.schedules) - 1:
            raise ValueError(
                "boundaries must have one element less than schedules, got "
                f"boundaries={brief(list(self.boundaries))} (length {len(self.boundaries)}) "
                f"and {len(self.schedules)} schedules"
            )

    @property
    def parts(self) -> tuple[Schedule, ...]:
        return self.schedules


# --- composable specs: what the importers (lrspec.from_torch, ...) build ----------------------

SHAPES = ("linear", "cos", "exp", "1-sqrt", "tanh")


def check_shape(name: str, value: object) -> str:
    """One of :data:`SHAPES`."""
    if value not in SHAPES:
        raise ValueError(f"{name} must be one of {', '.join(SHAPES)}, got {name}={brief(value)}")
    return str(value)


def check_exponent(name: str, value: object) -> int | float:
    """A power in (0, 1024]."""
    number = check_finite(name, value)
    if not 0 < number <= 1024:
        raise ValueError(f"{name} must be > 0 and <= 1024, got {name}={number!r}")
    return number


def check_growth(name: str, value: object) -> int | float:
    """A cycle growth factor in [1, 2**32]."""
    number = check_finite(name, value)
    if not 1 <= number <= 2**32:
        raise ValueError(f"{name} must be in [1, 2**32], got {name}={number!r}")
    return number


def check_optional_cycles(name: str, value: object) -> int | None:
    """``None`` (for ever) or a whole number of cycles >= 1."""
    return None if value is None else check_count(name, value, 1)


def check_bound(name: str, value: object) -> int | float:
    """A finite number in [-40, 40] (an argument of tanh, which is +-1 beyond)."""
    number = check_finite(name, value)
    if not -40 <= number <= 40:
        raise ValueError(f"{name} must be in [-40, 40], got {name}={number!r}")
    return number


@register
@dataclass(frozen=True)
class Anneal(Schedule, formula=formulas.anneal, reference=reference.anneal):
    """From ``initial_learning_rate`` to ``end_learning_rate`` over ``transition_steps``
    along a ``shape``, then ``end_learning_rate`` for ever::

        p = min(step, transition_steps) / transition_steps   (then p ** progress_power)
        lr(step) = end + (initial - end) * keep(p) ** power

    with ``keep`` falling from 1 to 0:

    ============  ====================================  ========================================
    ``shape``     ``keep(p)``                           as in
    ============  ====================================  ========================================
    ``"linear"``  ``1 - p``                             torch ``LinearLR``/``PolynomialLR``,
                                                        optax ``linear``/``polynomial_schedule``
    ``"cos"``     ``(1 + cos(pi p)) / 2``               torch ``CosineAnnealingLR``, HF
                                                        ``cosine``, optax ``cosine_decay_schedule``
    ``"1-sqrt"``  ``1 - sqrt(p)``                       HF ``warmup_stable_decay`` cooldown
    ``"tanh"``    ``(1 - tanh(lo + (hi - lo) p)) / 2``  timm ``TanhLRScheduler``
    ``"exp"``     (geometric: ``initial * (end / initial) ** p``; both > 0, ``power`` 1)
    ============  ====================================  ========================================

    ``mirror=True`` runs the transition back and forth for ever (a period of
    ``2 * transition_steps``): torch's ``CosineAnnealingLR`` past ``T_max``, HF's ``cosine``
    past its end. ``progress_power`` is timm's ``k_decay``. The rate may rise or fall; step 0
    gives ``initial_learning_rate`` exactly and the end ``end_learning_rate`` exactly.

    >>> s = Anneal(0.1, 0.0, transition_steps=100, shape="cos")
    >>> s(0), s(50), s(100), s(1000)
    (0.1, 0.05, 0.0, 0.0)
    """

    initial_learning_rate: float = rate()
    end_learning_rate: float = rate()
    transition_steps: float = length()
    shape: str = arg(check_shape, "cos")
    power: float = arg(check_exponent, 1.0)
    progress_power: float = arg(check_exponent, 1.0)
    mirror: bool = flag(False)
    tanh_lower: float = arg(check_bound, -7.0)
    tanh_upper: float = arg(check_bound, 3.0)

    def validate(self) -> None:
        if self.tanh_lower >= self.tanh_upper:
            raise ValueError(
                "tanh_lower must be < tanh_upper, got "
                f"tanh_lower={self.tanh_lower!r} and tanh_upper={self.tanh_upper!r}"
            )
        if self.shape == "exp":
            if self.power != 1:
                raise ValueError(f"shape='exp' takes no power, got power={self.power!r}")
            if self.initial_learning_rate == 0 or self.end_learning_rate == 0:
                raise ValueError(
                    "shape='exp' needs rates > 0, got "
                    f"initial_learning_rate={self.initial_learning_rate!r} and "
                    f"end_learning_rate={self.end_learning_rate!r}"
                )


@register
@dataclass(frozen=True)
class Cycle(Schedule, formula=formulas.cycle, reference=reference.cycle):
    """A schedule repeated in cycles (warm restarts)::

        cycle i lasts period * period_mul ** i steps
        lr(step) = decay ** i * schedule(position)

    where ``position`` runs from 0 to ``period`` over each cycle, whatever its length (a
    longer cycle stretches the schedule). After ``cycles`` cycles (``None``: for ever) the
    rate stays at the end of the last cycle: ``decay ** (cycles - 1) * schedule(period)``.
    Restarts are exact for integer steps, also at non-integer cycle lengths.

    >>> s = Cycle(Anneal(0.1, 0.0, 10, shape="linear"), period=10, decay=0.5)
    >>> s(0), s(5), s(10), s(15)
    (0.1, 0.05, 0.05, 0.025)
    """

    schedule: Schedule = arg(check_schedule)
    period: float = length()
    period_mul: float = arg(check_growth, 1.0)
    decay: float = unit(1.0)
    cycles: int | None = arg(check_optional_cycles, None)

    def validate(self) -> None:
        if self.period_mul != 1 and self.cycles is None:
            from fractions import Fraction

            start, size = Fraction(0), Fraction(self.period)
            for _ in range(formulas.CYCLE_LIMIT):
                start, size = start + size, size * Fraction(self.period_mul)
            if start <= 2**63:
                raise ValueError(
                    f"period_mul={self.period_mul!r} grows the cycles so slowly that more than "
                    f"{formulas.CYCLE_LIMIT} start before step 2**63: pass cycles"
                )

    @property
    def parts(self) -> tuple[Schedule, ...]:
        return (self.schedule,)


@register
@dataclass(frozen=True)
class Shift(Schedule, formula=formulas.shifted, reference=reference.shift):
    """A schedule started ``steps`` steps in, its time running ``scale`` times as fast::

        lr(step) = schedule(scale * step + steps)

    With a whole ``scale`` and ``steps``, integer steps stay exact integers; otherwise the
    inner step is the float64 value of ``scale * step + steps``, as Python computes it
    (``Shift(s, 0, scale=0.7)`` at step 10 evaluates ``s(7.0)``; JAX without x64: the
    float32 value).

    :class:`Join` runs each schedule from its own step 0; ``Shift`` runs one from
    elsewhere (HF's ``inverse_sqrt`` is ``Shift(InverseSqrt(lr, timescale), timescale)``),
    or faster: a cosine of ``num_cycles`` waves over ``D`` steps is ``Shift(Anneal(lr, 0, D,
    "cos", mirror=True), 0, scale=2 * num_cycles)``, whose restarts fall on exact steps where
    a period of ``D / (2 num_cycles)`` would be rounded.

    >>> Shift(Linear(0.1, 0.0, 10), steps=5)(0)
    0.05
    """

    schedule: Schedule = arg(check_schedule)
    steps: float = nonnegative()
    scale: float = length(1.0)

    @property
    def parts(self) -> tuple[Schedule, ...]:
        return (self.schedule,)


@register
@dataclass(frozen=True)
class Sum(Schedule, formula=formulas.sum_, reference=reference.sum_):
    """The sum of schedules' rates (a floor under a decay: ``Sum([Constant(1e-5), ...])``).

    >>> Sum([Constant(0.01), Linear(0.1, 0.0, 10)])(5)
    0.060000000000000005
    """

    schedules: tuple[Schedule, ...] = arg(check_schedules)

    @property
    def parts(self) -> tuple[Schedule, ...]:
        return self.schedules


@register
@dataclass(frozen=True)
class Product(Schedule, formula=formulas.product, reference=reference.product):
    """The product of schedules' rates (torch's ``ChainedScheduler``: each part a factor).

    >>> Product([Constant(0.1), ExponentialDecay(1.0, 1, 0.5)])(2)
    0.025
    """

    schedules: tuple[Schedule, ...] = arg(check_schedules)

    @property
    def parts(self) -> tuple[Schedule, ...]:
        return self.schedules


# --- serialization ----------------------------------------------------------------------

_KERAS_MODULES = ("keras.optimizers.schedules", "keras.src.optimizers.schedules")


def serialize(schedule: Schedule) -> dict[str, Any]:
    """A JSON-able, class-tagged dict: ``{"module", "class_name", "config"}``.

    Only registered classes serialize (a subclass: once :func:`register` ed), so that
    whatever is written can be read back by :func:`deserialize`.

    >>> serialize(InverseTimeDecay(0.1, 1.0, 0.5))["class_name"]
    'InverseTimeDecay'
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be an lrspec schedule, got {brief(schedule)}")
    kind = type(schedule)
    if SCHEDULES.get(kind.__name__) is not kind:
        raise TypeError(
            f"{kind.__module__}.{kind.__qualname__} is not registered, so deserialize could not "
            "rebuild it: decorate it with @lrspec.register (a dataclass under a new name)"
        )
    return {"module": "lrspec", "class_name": kind.__name__, "config": schedule.get_config()}


def deserialize(data: dict[str, Any]) -> Schedule:
    """The spec described by ``data``: the output of :func:`serialize`, of
    ``keras.optimizers.schedules.serialize``, or of saving ``spec.to_keras()``.

    Only registered classes (:data:`SCHEDULES`) are ever built: nothing is imported or
    evaluated. Errors are ``ValueError``/``TypeError`` naming the offending part (shortened),
    also for documents nested more than ``MAX_DEPTH`` deep.
    """
    global _depth
    if _depth >= MAX_DEPTH:
        raise ValueError(f"serialized schedules nest at most {MAX_DEPTH} deep")
    held = _built.get(id(data))
    if held is not None and held[0] is data:
        return held[1]  # a dict used twice (YAML anchors): built once
    _depth += 1
    try:
        spec = _deserialize(data)
        _built[id(data)] = (data, spec)
        return spec
    finally:
        _depth -= 1
        if _depth == 0:
            _built.clear()


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
        if "spec" not in config:
            raise ValueError(f"a saved lrspec Keras schedule needs a 'spec', got {brief(data)}")
        return deserialize(config["spec"])
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
