"""TensorFlow backend: ops on tf tensors and variables, float64 inside tf.function and XLA."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from lrspec.backends.base import LazyStep, Ops

_WRAP_BITS = {tf.int8: 8, tf.int16: 16, tf.int32: 32}


def _clamp(f: Any) -> Any:
    """A float64 step in [0, float64's max] (inf: the largest step); NaN stays NaN (where
    keeps it, maximum might not)."""
    top = tf.constant(tf.float64.max, tf.float64)
    return tf.where(f > top, top, tf.where(f < 0.0, tf.constant(0.0, tf.float64), f))


class TensorFlowOps(Ops):
    name = "tensorflow"
    xp = tf.math

    def prepare(self, step: Any, dtype: Any | None) -> LazyStep:
        step = tf.convert_to_tensor(step)  # also reads a tf.Variable
        precise = dtype is not None and tf.as_dtype(dtype) == tf.float64
        dtype = step.dtype
        if dtype.is_floating:
            return LazyStep(
                lambda: _clamp(tf.cast(step, tf.float64)), None, precise, may_be_nan=True
            )
        if not dtype.is_integer:
            raise TypeError(f"step must have an integer or floating dtype, got {dtype.name}")
        # uint64 stays uint64 (TF has its arithmetic): int64 would wrap past 2**63
        wide = step if dtype == tf.uint64 else tf.cast(step, tf.int64)
        bits = _WRAP_BITS.get(dtype)
        if bits is not None:
            # A wrapped narrow counter counts on: read it modulo 2**bits.
            wide = tf.where(wide < 0, wide + (1 << bits), wide)
        elif not dtype.is_unsigned:
            wide = tf.maximum(wide, tf.constant(0, tf.int64))
        return LazyStep(lambda: tf.cast(wide, tf.float64), lambda: wide, precise)

    def finish(self, value: Any, step: Any, dtype: Any | None) -> Any:
        return tf.cast(value, tf.float32 if dtype is None else tf.as_dtype(dtype))

    def to_float(self, x: Any) -> Any:
        return tf.cast(x, tf.float64)

    def full(self, view: Any, value: float) -> Any:
        return tf.fill(tf.shape(view.f), tf.constant(value, tf.float64))

    def fmod(self, x: Any, d: float) -> Any:
        # floormod of non-negative operands is fmod, and TF computes it exactly
        return tf.math.floormod(x, tf.constant(d, x.dtype))

    def where(self, cond: Any, x: Any, y: Any) -> Any:
        return tf.where(cond, x, y)

    def native(self, steps: Any, variant: str) -> Any:
        return tf.constant(steps)

    def to_numpy(self, value: Any) -> Any:
        return value.numpy()


OPS = TensorFlowOps()
