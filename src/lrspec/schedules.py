"""The schedule specs: immutable, validated at construction, configs that round-trip.

A spec is a frozen dataclass whose fields are exactly its constructor arguments (Keras's
names and order), so ``get_config()`` is ``dataclasses.asdict``-like and ``from_config`` is
``cls(**config)``. Calling a spec evaluates its formula (:mod:`lrspec._math`) with the ops of
the backend that owns the step (:mod:`lrspec.backends`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, ClassVar, SupportsFloat, SupportsInt, TypeVar, cast

from lrspec import _math
from lrspec.backends import Ops, detect, get_ops

if TYPE_CHECKING:
    from lrspec.backends.keras import KerasSchedule
    from lrspec.backends.torch import LRSpecScheduler

__all__ = [
    "SCHEDULES",
    "InverseTimeDecay",
    "Schedule",
    "deserialize",
    "from_keras",
    "serialize",
]

FLOAT32_MAX = _math.FLOAT32_MAX
FLOAT32_TINY = 1.1754943508222875e-38  # smallest normal float32

#: class name -> spec class; the only classes `deserialize` will ever build.
SCHEDULES: dict[str, type[Schedule]] = {}

_S = TypeVar("_S", bound="Schedule")

_OPS_CACHE: dict[str, Ops] = {}


def _ops(name: str) -> Ops:
    ops = _OPS_CACHE.get(name)
    if ops is None:
        ops = _OPS_CACHE[name] = get_ops(name)
    return ops


# --- validation -------------------------------------------------------------------------


def _number(name: str, value: object) -> int | float:
    """``value`` as a Python int or float: ints, floats, NumPy/ml_dtypes scalars and 0-d
    arrays of any framework are numbers; bools, strings, None and sequences are not."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a number, got {name}={value!r}")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    shape = getattr(value, "shape", None)
    dtype = str(getattr(value, "dtype", ""))
    if shape is None or tuple(shape) != () or "bool" in dtype or "complex" in dtype:
        raise TypeError(f"{name} must be a real number, got {name}={value!r}")
    try:
        if "int" in dtype:
            return int(cast(SupportsInt, value))
        return float(cast(SupportsFloat, value))
    except Exception as err:  # e.g. a JAX tracer: not a concrete number
        raise TypeError(f"{name} must be a concrete number, got {name}={value!r}") from err


def _finite(name: str, value: object) -> int | float:
    number = _number(name, value)
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
    raise TypeError(f"{name} must be a bool, got {name}={value!r}")


def check_name(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a string, got {name}={value!r}")


# --- the base class ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Base of every spec: evaluation, configs and the framework adapters."""

    keras_name: ClassVar[str | None] = None  # the Keras class this spec mirrors, if any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        SCHEDULES[cls.__name__] = cls

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
        return ops.finish(_math.evaluate(self, ops.prepare(step, dtype), ops), step, dtype)

    # configs ---------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-serializable (Keras's ``get_config``)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

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
    """Store validated values on a frozen dataclass (inside ``__post_init__``)."""
    for key, value in values.items():
        object.__setattr__(spec, key, value)


# --- the schedules ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
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

    Only lrspec's own classes are ever built: nothing is imported or evaluated.
    """
    if not isinstance(data, dict):
        raise TypeError(f"a serialized schedule must be a dict, got {data!r}")
    class_name = data.get("class_name")
    config = data.get("config")
    module = data.get("module")
    registered = data.get("registered_name")
    if not isinstance(class_name, str) or not isinstance(config, dict):
        raise ValueError(
            f"a serialized schedule needs a string 'class_name' and a dict 'config', got {data!r}"
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
            f"unknown schedule class_name={class_name!r} (module={module!r}); "
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
