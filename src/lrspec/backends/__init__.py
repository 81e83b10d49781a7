"""Backend registry: which module evaluates a given step, found without importing frameworks.

Each backend module exposes ``OPS``, an object implementing :class:`Ops`. The formulas in
:mod:`lrspec._math` are written once against that interface; arithmetic operators
(``+ - * / // %``) are used directly on the backend's arrays, everything else goes through
the ops object.
"""

from __future__ import annotations

import importlib
import sys

# No runtime import of typing or collections.abc: they cost ~10 ms of `import lrspec`
# (benchmarks/bench_import.py); type checkers read the names below.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any, Protocol
else:
    Protocol = object  # the protocols below only describe; nothing checks them at run time

__all__ = [
    "BACKENDS",
    "LazyStep",
    "Ops",
    "StepView",
    "available_backends",
    "detect",
    "get_ops",
]

#: name -> module implementing it. Adding a backend is one module plus one line here.
BACKENDS: dict[str, str] = {
    "python": "lrspec.backends.python",
    "numpy": "lrspec.backends.numpy",
    "torch": "lrspec.backends.torch",
    "jax": "lrspec.backends.jax",
    "tensorflow": "lrspec.backends.tensorflow",
}

# The framework each backend needs installed (None: always available).
_REQUIRES: dict[str, str | None] = {
    "python": None,
    "numpy": "numpy",
    "torch": "torch",
    "jax": "jax",
    "tensorflow": "tensorflow",
}

# Top-level package of ``type(step).__module__`` -> backend name.
_MODULE_PREFIXES: dict[str, str] = {
    "numpy": "numpy",
    "ml_dtypes": "numpy",
    "torch": "torch",
    "jax": "jax",
    "jaxlib": "jax",
    "tensorflow": "tensorflow",
    "keras": "keras",
}


class StepView(Protocol):
    """A step prepared by a backend for the formulas.

    ``f`` is the step as the compute float (float64 where the backend has it), never negative:
    a wrapped narrow signed counter (int32) is read modulo 2**bits, other negative values
    (possible only in traced code) are clamped to 0. ``i`` is the same step as a non-negative
    integer array when the step has an integer dtype, else ``None``. ``precise`` is true when
    the result will be float64 and computed in float64: formulas then compensate rounding
    errors that a float32 result would never show.
    """

    f: Any
    i: Any | None
    precise: bool


class LazyStep:
    """A :class:`StepView` whose float and integer forms are built on first use.

    Formulas that never need the integer form (no staircase) then cost no integer copy.
    """

    __slots__ = ("_f", "_i", "_make_f", "_make_i", "precise")

    def __init__(
        self, make_f: Callable[[], Any], make_i: Callable[[], Any] | None, precise: bool
    ) -> None:
        self._make_f = make_f
        self._make_i = make_i
        self.precise = precise
        self._f: Any = None
        self._i: Any = None

    @property
    def f(self) -> Any:
        if self._f is None:
            self._f = self._make_f()
        return self._f

    @property
    def i(self) -> Any | None:
        if self._i is None and self._make_i is not None:
            self._i = self._make_i()
        return self._i


class Ops(Protocol):
    """What a backend supplies to the formulas in :mod:`lrspec._math`."""

    name: str
    #: largest integer the backend's integer path holds exactly (2**63-1, or 2**32-1 in
    #: JAX without x64).
    int_max: int

    def prepare(self, step: Any, dtype: Any | None) -> StepView: ...
    def finish(self, value: Any, step: Any, dtype: Any | None) -> Any: ...
    def to_float(self, x: Any) -> Any: ...
    def full(self, view: StepView, value: float) -> Any: ...
    def int_like(self, i: Any, value: int) -> Any: ...
    def div(self, num: Any, den: Any) -> Any: ...
    def fmod(self, x: Any, d: float) -> Any: ...
    def rint(self, x: Any) -> Any: ...
    def floor(self, x: Any) -> Any: ...
    def exp(self, x: Any) -> Any: ...
    def log(self, x: Any) -> Any: ...
    def cos(self, x: Any) -> Any: ...
    def sqrt(self, x: Any) -> Any: ...
    def where(self, cond: Any, x: Any, y: Any) -> Any: ...
    def minimum(self, x: Any, y: Any) -> Any: ...
    def maximum(self, x: Any, y: Any) -> Any: ...


def available_backends() -> list[str]:
    """Names of the backends whose framework is installed (nothing is imported to find out).

    >>> "numpy" in available_backends()
    True
    """
    import importlib.util  # here, not at import: it costs ~4 ms of start-up

    return [
        name
        for name, req in _REQUIRES.items()
        if req is None or req in sys.modules or importlib.util.find_spec(req) is not None
    ]


def get_ops(name: str) -> Ops:
    """The ops object of backend ``name`` (imports that backend's framework)."""
    try:
        module = BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}") from None
    loader = _LOADERS.get(name)
    ops: Ops = (loader() if loader is not None else importlib.import_module(module)).OPS
    return ops


def _load_torch() -> ModuleType:
    # The first torch step may be evaluated inside torch.compile(fullgraph=True): dynamo
    # follows an import statement but refuses importlib.import_module.
    from lrspec.backends import torch

    return torch


_LOADERS: dict[str, Callable[[], ModuleType]] = {"torch": _load_torch}


def detect(step: Any) -> str:
    """Name of the backend that owns ``step``, from its type alone.

    Python ``int``/``float`` -> ``"python"``; NumPy scalars and arrays -> ``"numpy"``; torch
    tensors -> ``"torch"``; jax arrays and tracers -> ``"jax"``; tf tensors and variables ->
    ``"tensorflow"``; Keras variables -> ``"keras"`` (unwrapped by the caller).
    """
    kind = type(step)
    if kind is bool:
        raise TypeError(f"step must be a number or an array, got a bool: step={step!r}")
    if kind is int or kind is float:
        return "python"
    top = kind.__module__.partition(".")[0]
    name = _MODULE_PREFIXES.get(top)
    if name is not None:
        return name
    if isinstance(step, (int, float)):  # int/float subclasses (IntEnum, ...)
        return "python"
    raise TypeError(
        "step must be a Python int/float or a NumPy, PyTorch, JAX or TensorFlow array; "
        f"got {kind.__module__}.{kind.__qualname__}: step={step!r}"
    )
