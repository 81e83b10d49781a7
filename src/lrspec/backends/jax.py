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
    return bool(jax.config.read("jax_enable_x64"))


class JaxOps:
    name = "jax"

    @property
    def int_max(self) -> int:
        return 2**63 - 1 if _x64() else 2**32 - 1

    def prepare(self, step: Any, dtype: Any | None) -> LazyStep:
        step = jnp.asarray(step)
        dtype = step.dtype
        x64 = _x64()
        fdtype = jnp.float64 if x64 else jnp.float32
        precise = x64 and dtype is not None and jnp.dtype(dtype) == jnp.float64
        if jnp.issubdtype(dtype, jnp.floating):
            return LazyStep(lambda: jnp.maximum(step.astype(fdtype), 0.0), None, precise)
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
        return jnp.minimum(x, y)

    def maximum(self, x: Any, y: Any) -> Any:
        return jnp.maximum(x, y)


OPS = JaxOps()


def to_optax(spec: Schedule) -> Any:
    """An optax schedule: ``count -> learning rate`` as a float32 jax scalar.

    Any count (Python int, NumPy, jax array or tracer) is evaluated on the JAX backend, so
    the result is always a jax array, jit/vmap/grad-safe.
    """

    def schedule(count: Any) -> Any:
        return spec(jnp.asarray(count))

    schedule.__doc__ = f"optax schedule of {spec!r}"
    schedule.spec = spec  # type: ignore[attr-defined]
    return schedule
