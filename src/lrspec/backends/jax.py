"""JAX backend: ops on jax arrays and tracers (float64 with ``jax_enable_x64``, else float32)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from lrspec.backends.base import LazyStep, Ops

_WRAP = {jnp.dtype(jnp.int8): jnp.uint8, jnp.dtype(jnp.int16): jnp.uint16}


def x64() -> bool:
    """Whether JAX computes in float64 here (``jax_enable_x64``)."""
    return bool(jax.config.read("jax_enable_x64"))  # type: ignore[no-untyped-call]


def _clamp(f: Any) -> Any:
    """A float step in [0, the float's max] (inf: the largest step); NaN stays NaN. Where,
    not maximum: a tie would halve the gradient at step 0."""
    top = jnp.finfo(f.dtype).max  # type: ignore[no-untyped-call]
    return jnp.where(f < 0, 0.0, jnp.where(f > top, top, f))


class JaxOps(Ops):
    name = "jax"
    xp = jnp

    @property
    def int_max(self) -> int:
        return 2**63 - 1 if x64() else 2**32 - 1

    @property
    def float_max(self) -> float:
        return 1.7976931348623157e308 if x64() else 3.4028234663852886e38

    def prepare(self, step: Any, dtype: Any | None) -> LazyStep:
        wide64 = x64()
        precise = wide64 and dtype is not None and jnp.dtype(dtype) == jnp.float64
        step = jnp.asarray(step)
        dtype = step.dtype
        fdtype = jnp.float64 if wide64 else jnp.float32
        if jnp.issubdtype(dtype, jnp.floating):
            return LazyStep(lambda: _clamp(step.astype(fdtype)), None, precise, may_be_nan=True)
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
        if wide64:
            wide = wide.astype(jnp.int64) if wide.dtype != jnp.uint64 else wide
        elif wide.dtype != jnp.uint32:
            wide = wide.astype(jnp.uint32)
        return LazyStep(lambda: wide.astype(fdtype), lambda: wide, precise)

    def finish(self, value: Any, step: Any, dtype: Any | None) -> Any:
        return value.astype(jnp.float32 if dtype is None else dtype)

    def to_float(self, x: Any) -> Any:
        return x.astype(jnp.float64 if x64() else jnp.float32)

    def int_like(self, i: Any, value: int) -> Any:
        # A Python int enters JAX as int32 (weak type): above 2**31-1 it must be typed.
        return jnp.asarray(value, dtype=i.dtype)

    def minimum(self, x: Any, y: Any) -> Any:
        # where, not jnp.minimum: at a tie (step 0 against the cap) jnp.minimum halves the
        # gradient, and jax.grad through a schedule is part of the contract
        return jnp.where(y < x, y, x)

    def maximum(self, x: Any, y: Any) -> Any:
        # where, not jnp.maximum: the same halved gradient at a tie (a rate at its floor)
        return jnp.where(y > x, y, x)

    def native(self, steps: Any, variant: str) -> Any:
        if variant != "jax-x64":
            if steps.dtype.kind == "f":
                steps = steps.astype("float32")
            elif steps.size:
                top = int(steps.max())
                if top > 2**32 - 1:
                    raise OverflowError("JAX without x64 holds integer steps below 2**32 only")
                steps = steps.astype("int32" if top <= 2**31 - 1 else "uint32")
        return jnp.asarray(steps)

    def context(self, variant: str) -> Any:
        return jax.enable_x64(variant == "jax-x64")


OPS = JaxOps()
