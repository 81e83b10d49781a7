"""Staircase boundaries are exact for integer steps at any step the counter holds."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from oracle import exact_float, exact_floats

import lrspec


@pytest.mark.parametrize("d", [1000, 1000.0, 2.5, 0.75, 0.1, 7.0])
def test_boundaries_exact_past_2_24(backend, d):
    spec = lrspec.InverseTimeDecay(0.1, d, 0.5, staircase=True)
    limit = 2**53 if backend.has_int64 else 2**31 - 1
    # boundaries k*d on both sides, up to the largest step the counter holds
    ks = [1, 2**14, 2**24 // 1000, 2**24, 2**26, 2**30, 2**40, 2**50]
    steps = sorted(
        {
            s
            for k in ks
            for b in (math.ceil(Fraction(k) * Fraction(d)),)
            for s in (b - 1, b, b + 1)
            if 0 <= s <= limit
        }
        | {16_777_999, 16_778_000, 2**31 - 1}
    )
    got = backend.evaluate(spec, steps, "int64" if backend.has_int64 else "int32")
    if (
        backend.framework == "jax"
        and not backend.x64
        and Fraction(d).numerator * Fraction(d).denominator >= 2**32
    ):
        pytest.skip("JAX without x64: decay_steps without a short ratio is floored in float32")
    want = exact_floats(spec, steps).astype(backend.out_dtype)
    # every stair value is distinct at these steps in float32, so closeness checks the stair
    bad = [
        (s, float(g), float(w))
        for s, g, w in zip(steps, got, want, strict=True)
        if abs(float(g) - float(w)) > 2 * np.spacing(w)
    ]
    assert not bad, f"wrong stair at (step, got, exact): {bad[:5]}"


def test_keras_is_one_stair_early_we_are_not():
    """The issue's example: Keras floors a float32 step, one stair early at 16,777,999."""
    keras = pytest.importorskip("keras")
    k = keras.optimizers.schedules.InverseTimeDecay(0.1, 1000, 0.5, staircase=True)
    ours = lrspec.InverseTimeDecay(0.1, 1000, 0.5, staircase=True)
    step = 16_777_999  # floor(step / 1000) = 16777, float32(step) = 16778000
    exact = exact_float(ours, step)
    early = exact_float(ours, 16_778_000)  # the next stair
    assert float(k(step)) == pytest.approx(early, rel=1e-6)
    assert ours(step) == pytest.approx(exact, rel=1e-15)
    assert float(ours(np.int64(step))) == pytest.approx(exact, rel=1e-15)


@pytest.mark.parametrize("d", [2**31, 2**31 + 7, 2**32 - 1])
def test_huge_integer_decay_steps_on_int32_counters(framework, d):
    """Stairs longer than int32's range still floor exactly on a (wrapped) int32 counter."""
    spec = lrspec.InverseTimeDecay(0.1, d, 1.0, staircase=True)
    counts = [0, 5, d - 1, d, 2**32 - 1]
    wrapped = [(c + 2**31) % 2**32 - 2**31 for c in counts if c < 2**32]
    got = framework.evaluate(spec, wrapped, "int32")
    want = exact_floats(spec, counts).astype(np.float32)
    np.testing.assert_array_equal(got, want)


#: (scale, steps, decay_steps, step): ``scale * step + steps`` lands on a stair in float64
#: although the exact value of the floats lies just below it (0.7 is 0.69999999999999996)
SHIFTED_STAIRS = [
    (0.7, 0.0, 7.0, 10),
    (0.3, 0.0, 9.0, 30),
    (0.3, 0.1, 10.0, 33),
    (0.1, 0.7, 1.0, 3),
]


@pytest.mark.parametrize(("scale", "steps", "d", "step"), SHIFTED_STAIRS)
def test_a_fractional_shift_floors_the_step_python_computes(backend, scale, steps, d, step):
    """``Shift`` with a fractional ``scale``/``steps`` evaluates its schedule at the float64
    ``scale * step + steps`` (docs/guarantees.md): on every backend a staircase inside is on
    the stair Python's own arithmetic gives, and the reference agrees."""
    inner = lrspec.InverseTimeDecay(0.1, d, 1.0, staircase=True)
    spec = lrspec.Shift(inner, steps, scale=scale)
    at = scale * step + steps  # Python's float64 arithmetic, the spec's definition
    assert at.is_integer() and Fraction(scale) * step + Fraction(steps) < at
    assert exact_float(spec, step) == exact_float(inner, at)
    around = [step - 1, step, step + 1]
    got = backend.evaluate(spec, around, "int64" if backend.has_int64 else "int32")
    if backend.framework == "jax" and not backend.x64:  # float32 arithmetic throughout
        f32 = np.float32
        want = [inner(float(f32(f32(s) * f32(scale)) + f32(steps))) for s in around]
    else:
        want = [inner(scale * s + steps) for s in around]
    np.testing.assert_array_equal(got, np.asarray(want).astype(backend.out_dtype))
