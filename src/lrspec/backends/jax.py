"""JAX backend: ops on jax arrays and tracers (float64 with ``jax_enable_x64``, else float32),
and the optax adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
from jax import lax

from lrspec.backends import LazyStep

if TYPE_CHECKING:
    from lrspec.schedules import Schedule

_WRAP = {jnp.dtype(jnp.int8): jnp.uint8, jnp.dtype(jnp.int16): jnp.uint16}


def _x64() -> bool:
    return bool(jax.config.read("jax_enable_x64"))  # type: ignore[no-untyped-call]


class JaxOps:
    name = "jax"

    @property
    def int_max(self) -> int:
        return 2**63 - 1 if _x64() else 2**32 - 1

    def prepare(self, step: Any, dtype: Any | None) -> LazyStep:
        x64 = _x64()
        precise = x64 and dtype is not None and jnp.dtype(dtype) == jnp.float64
        step = jnp.asarray(step)
        dtype = step.dtype
        fdtype = jnp.float64 if x64 else jnp.float32
        if jnp.issubdtype(dtype, jnp.floating):
            # where, not maximum: a tie would halve the gradient at step 0
            return LazyStep(lambda: jnp.where(step < 0, 0.0, step).astype(fdtype), None, precise)
        if not jnp.issubdtype(dtype, jnp.integer):
            raise TypeError(f"step must have an integer or floating dtype, got {dtype}")
        if dtype == jnp.int32:
            # A wrapped int32 counter counts on: read it modulo 2**32 (as uint32).
            wide = lax.bitcast_convert_type(step, jnp.uint32)
        elif dtype in _WRAP:
            wide = lax.bitcast_convert_type(step, _WRAP[dtype])
        elif jnp.issubdtype(dtype, jnp.signedinteger):
            wide = jnp.maximum(step, 0)
        else:
            wide = step
        if x64:
            wide = wide.astype(jnp.int64) if wide.dtype != jnp.uint64 else wide
        elif wide.dtype != jnp.uint32:
            wide = wide.astype(jnp.uint32)
        return LazyStep(lambda: wide.astype(fdtype), lambda: wide, precise)

    def finish(self, value: Any, step: Any, dtype: Any | None) -> Any:
        return value.astype(jnp.float32 if dtype is None else dtype)

    def to_float(self, x: Any) -> Any:
        return x.astype(jnp.float64 if _x64() else jnp.float32)

    def full(self, view: Any, value: float) -> Any:
        return jnp.full_like(view.f, value)

    def int_like(self, i: Any, value: int) -> Any:
        # A Python int enters JAX as int32 (weak type): above 2**31-1 it must be typed.
        return jnp.asarray(value, dtype=i.dtype)

    def div(self, num: Any, den: Any) -> Any:
        return num / den

    def fmod(self, x: Any, d: float) -> Any:
        return jnp.fmod(x, d)

    def rint(self, x: Any) -> Any:
        return jnp.round(x)

    def floor(self, x: Any) -> Any:
        return jnp.floor(x)

    def exp(self, x: Any) -> Any:
        return jnp.exp(x)

    def log(self, x: Any) -> Any:
        return jnp.log(x)

    def cos(self, x: Any) -> Any:
        return jnp.cos(x)

    def sqrt(self, x: Any) -> Any:
        return jnp.sqrt(x)

    def where(self, cond: Any, x: Any, y: Any) -> Any:
        return jnp.where(cond, x, y)

    def minimum(self, x: Any, y: Any) -> Any:
        # where, not jnp.minimum: at a tie (step 0 against the cap) jnp.minimum halves the
        # gradient, and jax.grad through a schedule is part of the contract
        return jnp.where(y < x, y, x)

    def maximum(self, x: Any, y: Any) -> Any:
        return jnp.maximum(x, y)


OPS = JaxOps()


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
    if _x64() or int(high) <= 2**31 - 1:
        return count
    if int(high) > 2**32 - 1:
        raise OverflowError(
            f"count must be <= 2**32 - 1 without jax_enable_x64, got a count of {high.item()!r}"
        )
    return arr.astype(np.uint32)
