"""lrspec <-> optax: ``spec.to_optax()``, an optax schedule evaluated by the JAX backend.

A spec is an optax schedule as it stands (``optax.sgd(learning_rate=spec)``); this module
adds the checks and the always-JAX result that optax code may rely on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp

from lrspec.backends.jax import x64

if TYPE_CHECKING:
    from lrspec.schedules import Schedule

__all__ = ["to_optax"]


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
    if x64() or int(high) <= 2**31 - 1:
        return count
    if int(high) > 2**32 - 1:
        raise OverflowError(
            f"count must be <= 2**32 - 1 without jax_enable_x64, got a count of {high.item()!r}"
        )
    return arr.astype(np.uint32)
