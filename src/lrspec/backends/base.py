"""What every backend supplies to the formulas: a prepared step and a small set of ops.

A backend is one module defining ``OPS``, an instance of an :class:`Ops` subclass. The
formulas (:mod:`lrspec.formulas`) use ``+ - * / // %`` directly on the backend's arrays and
everything else through the ops object. :class:`Ops` carries the defaults that hold for any
array namespace ``xp`` with NumPy's names (``exp``, ``where``, ...), so a backend writes only
how it prepares a step, how it rounds the result, and what its namespace spells differently.
"""

from __future__ import annotations

# No runtime import of typing or collections.abc: they cost ~10 ms of `import lrspec`
# (benchmarks/bench_import.py); type checkers read the names below.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager
    from typing import Any

    Formula = Callable[[Any, "LazyStep", "Ops"], Any]

__all__ = ["LazyStep", "Ops"]


class LazyStep:
    """A step prepared by a backend for the formulas; its forms are built on first use.

    ``f`` is the step as the compute float (float64 where the backend has it), never negative:
    a wrapped narrow signed counter (int32) is read modulo 2**bits, other negative values
    (possible only in traced code) are clamped to 0. ``i`` is the same step as a non-negative
    integer array when the step has an integer dtype, else ``None``. ``precise`` is true when
    the result will be float64 and computed in float64: formulas then compensate rounding
    errors that a float32 result would never show. Formulas that never need the integer form
    (no staircase) cost no integer copy. A traced float step that is NaN stays NaN in ``f``
    (nothing can refuse it there), and ``inf`` is the compute float's max.
    """

    __slots__ = ("_f", "_i", "_make_f", "_make_i", "may_be_nan", "precise")

    def __init__(
        self,
        make_f: Callable[[], Any],
        make_i: Callable[[], Any] | None,
        precise: bool,
        may_be_nan: bool = False,
    ) -> None:
        self._make_f = make_f
        self._make_i = make_i
        self.precise = precise
        #: a float step that nothing refused (traced code): NaN must reach the result
        self.may_be_nan = may_be_nan
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


class Ops:
    """A backend's ops. Subclasses set ``name`` and ``xp`` and write :meth:`prepare` and
    :meth:`finish`; the rest defaults to ``xp``'s functions of the same name."""

    name: str = ""
    #: the array namespace (``numpy``, ``torch``, ``jax.numpy``, ...)
    xp: Any = None

    @property
    def int_max(self) -> int:
        """The largest integer the backend's integer path holds exactly."""
        return 2**63 - 1

    @property
    def float_max(self) -> float:
        """The largest finite value of the compute float (float32's where it computes in
        float32): constants above it would overflow (and warn) on their way in."""
        return 1.7976931348623157e308

    # --- the two ends of an evaluation --------------------------------------------------

    def prepare(self, step: Any, dtype: Any | None) -> LazyStep:
        """The step as the formulas see it (checked, widened, wrapped counters unwrapped)."""
        raise NotImplementedError

    def finish(self, value: Any, step: Any, dtype: Any | None) -> Any:
        """The formula's compute-dtype result, rounded once to the output dtype."""
        raise NotImplementedError

    def evaluate(self, formula: Formula, spec: Any, step: Any, dtype: Any | None) -> Any:
        """``formula(spec, prepare(step))``, finished. NumPy overrides it to work in chunks.

        A NaN step (traced float steps; eager ones are refused) gives a NaN rate: formulas'
        comparisons would read it as some step (often 0, the initial rate) and hide it."""
        view = self.prepare(step, dtype)
        value = formula(spec, view, self)
        if view.may_be_nan:
            value = self.where(view.f != view.f, view.f, value)
        return self.finish(value, step, dtype)

    # --- ops the formulas use -----------------------------------------------------------

    def to_float(self, x: Any) -> Any:
        """An integer array as the compute float."""
        raise NotImplementedError

    def full(self, view: LazyStep, value: float) -> Any:
        """``value`` in the shape and compute dtype of the step."""
        return self.xp.full_like(view.f, value)

    def int_like(self, i: Any, value: int) -> Any:
        """The integer ``value`` typed to combine with the integer step ``i``."""
        return value

    def div(self, num: Any, den: Any) -> Any:
        """``num / den`` rounded once."""
        return num / den

    def fmod(self, x: Any, d: float) -> Any:
        return self.xp.fmod(x, d)

    def rint(self, x: Any) -> Any:
        return self.xp.round(x)

    def floor(self, x: Any) -> Any:
        return self.xp.floor(x)

    def exp(self, x: Any) -> Any:
        return self.xp.exp(x)

    def log(self, x: Any) -> Any:
        return self.xp.log(x)

    def expm1(self, x: Any) -> Any:
        return self.xp.expm1(x)

    def cos(self, x: Any) -> Any:
        return self.xp.cos(x)

    def sqrt(self, x: Any) -> Any:
        return self.xp.sqrt(x)

    def where(self, cond: Any, x: Any, y: Any) -> Any:
        return self.xp.where(cond, x, y)

    def minimum(self, x: Any, y: Any) -> Any:
        return self.xp.minimum(x, y)

    def maximum(self, x: Any, y: Any) -> Any:
        return self.xp.maximum(x, y)

    # --- for the tests and the CLI: native steps in, NumPy out --------------------------

    def native(self, steps: Any, variant: str) -> Any:
        """A NumPy array of steps as this backend's own array (for backend ``variant``)."""
        raise NotImplementedError

    def call(self, fn: Callable[[Any], Any], steps: Any) -> Any:
        """``fn(steps)`` for steps from :meth:`native` (Python: one call per step)."""
        return fn(steps)

    def to_numpy(self, value: Any) -> Any:
        """A result of this backend as a NumPy array."""
        import numpy as np

        return np.asarray(value)

    def context(self, variant: str) -> AbstractContextManager[Any]:
        """A context manager under which ``variant`` evaluates (JAX: x64 on or off)."""
        import contextlib

        return contextlib.nullcontext()
