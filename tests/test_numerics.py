"""Accuracy against the one exact reference (:mod:`lrspec.reference`), within its
``BOUNDS``: 1 ulp (float32), 2 ulp (float64), 3 ulp (JAX f32) for InverseTimeDecay."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from oracle import (
    HAVE_EXTENDED,
    exact,
    exact_float,
    exact_long,
    sample_steps,
    ulp_error_exact,
    ulp_error_long,
)

import lrspec
from lrspec import reference

PARAMS = [
    (0.1, 1.0, 0.5),  # the example of the design
    (0.01, 1000, 0.3),
    (1.0, 2.5, 0.75),
    (3e-4, 0.1, 0.9),  # decay_steps with no short binary ratio
    (1, 7, 2),  # ints are numbers like any other
]


def _stair_starts(d: float, limit: int, n: int = 300) -> list[int]:
    """The first integer step of ``n`` stairs spread over ``0..limit``."""
    ks = np.linspace(0, limit / d, n).astype(np.int64)
    return [math.ceil(Fraction(int(k)) * Fraction(d)) for k in ks]


@pytest.mark.skipif(not HAVE_EXTENDED, reason="needs x87 extended precision to measure ulps")
@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize("params", PARAMS, ids=str)
def test_first_million_steps(backend, params, staircase):
    """The first 3000 steps, every sampled stair's first step and its neighbours, a stride
    and a random sample up to 10**6 (the exact reference is too slow for all of them)."""
    a, d, r = params
    short_d = Fraction(d).numerator * Fraction(d).denominator < 2**32
    if staircase and backend.name == "jax" and not short_d:
        pytest.skip("JAX without x64 floors by float32(decay_steps) (documented)")
    spec = lrspec.InverseTimeDecay(a, d, r, staircase=staircase)
    steps = sample_steps(10**6, _stair_starts(d, 10**6) if staircase else ())
    got = backend.evaluate(spec, steps, "int64" if backend.has_int64 else "int32")
    assert got.dtype == backend.out_dtype
    err = ulp_error_long(got, exact_long(spec, steps), backend.out_dtype)
    worst = f"worst step {int(steps[err.argmax()])}: {err.max():.3f} ulp"
    assert err.max() <= reference.bound(spec, backend.kind), worst


def _random_steps(limit: int, n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(1234)
    edge = [limit, limit - 1, 2**24, 2**24 + 1, 16_777_999, 2**31 - 1]
    return np.unique(np.concatenate([rng.integers(0, limit, n), [e for e in edge if e <= limit]]))


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize("params", PARAMS, ids=str)
@pytest.mark.parametrize("limit", [2**31 - 1, 2**53], ids=["int32", "int64"])
def test_random_steps_against_fractions(backend, params, staircase, limit):
    if limit > 2**31 - 1 and not backend.has_int64:
        pytest.skip("this backend's counters are int32")
    a, d, r = params
    spec = lrspec.InverseTimeDecay(a, d, r, staircase=staircase)
    steps = _random_steps(limit)
    got = backend.evaluate(spec, steps, "int64" if limit > 2**31 - 1 else "int32")
    worst = max(
        ulp_error_exact(float(g), exact(spec, int(s)), backend.out_dtype)
        for g, s in zip(got, steps, strict=True)
    )
    assert worst <= reference.bound(spec, backend.kind)


def test_float64_backends_agree_bit_for_bit():
    """Computed in float64 and rounded once, Python and NumPy give the same bits."""
    spec = lrspec.InverseTimeDecay(0.01, 1000, 0.3)
    steps = np.arange(0, 10**6, 37)
    np.testing.assert_array_equal(spec(steps), [spec(int(s)) for s in steps])


def test_float32_backends_give_the_same_bits(framework):
    spec = lrspec.InverseTimeDecay(3e-4, 0.1, 0.9)
    steps = np.arange(0, 10**6, 7)
    if framework.framework == "jax" and not framework.x64:
        pytest.skip("JAX without x64 computes in float32 (3 ulp bound), not float64")
    got = framework.evaluate(spec, steps)
    np.testing.assert_array_equal(got, spec(steps).astype(np.float32))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_steps(backend, dtype):
    spec = lrspec.InverseTimeDecay(0.1, 3.0, 0.5, staircase=True)
    steps = np.array([0.0, 0.5, 2.9999, 3.0, 3.5, 6.0, 1e6 + 0.25], dtype=dtype)
    got = backend.evaluate(spec, steps, dtype)
    want = [exact_float(spec, float(s)) for s in steps]
    np.testing.assert_allclose(got, want, rtol=3e-7)


def test_step_zero_is_the_initial_rate_exactly(backend):
    for a in (0.1, 3e-4, 1):
        got = backend.evaluate(lrspec.InverseTimeDecay(a, 0.1, 0.9), [0])
        assert got[0] == np.asarray(a, dtype=backend.out_dtype)


def test_decay_rate_zero_is_constant(backend):
    got = backend.evaluate(
        lrspec.InverseTimeDecay(0.1, 10, 0.0),
        [0, 10, 2**31 - 1],
        "int64" if backend.has_int64 else "int32",
    )
    np.testing.assert_array_equal(got, np.full(3, 0.1, dtype=backend.out_dtype))


def test_float64_requested_from_a_tensor_backend_matches_numpy_bits(framework):
    if framework.framework == "jax" and not framework.x64:
        pytest.skip("JAX without x64 has no float64")
    spec = lrspec.InverseTimeDecay(3e-4, 0.1, 0.9)
    steps = np.arange(0, 10**6, 7)
    native = {"torch": "float64", "jax": "float64", "tensorflow": "float64"}[framework.framework]
    with framework.context():
        got = framework.to_numpy(spec(framework.steps(steps), dtype=native))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, spec(steps))
