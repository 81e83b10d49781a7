"""Inside the frameworks' compilers: tf.function (+XLA), jax.jit/vmap/grad, negative and
extreme steps. (``spec(tensor)`` under ``torch.compile(fullgraph=True)``: tests/test_torch.py;
wrapped int32 counters inside each compiler: tests/test_properties.py.)"""

from __future__ import annotations

import numpy as np
import pytest
from oracle import assert_within_bound, exact_slope

import lrspec

SPEC = lrspec.InverseTimeDecay(0.1, 1.0, 0.5)
STAIRS = lrspec.InverseTimeDecay(0.1, 1000, 0.5, staircase=True)


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("spec", [SPEC, STAIRS], ids=["smooth", "staircase"])
def test_tf_function_traces_once_over_a_variable_step(spec, jit_compile):
    tf = pytest.importorskip("tensorflow")
    traces = []
    step = tf.Variable(0, dtype=tf.int64)

    @tf.function(jit_compile=jit_compile)
    def rate():
        traces.append(1)
        return spec(step)

    values = [0, 1, 2, 999, 1000, 16_777_999, 2**40 + 3]
    got = []
    for v in values:
        step.assign(v)
        got.append(float(rate()))
    assert len(traces) == 1
    assert_within_bound(spec, values, got, "float32")


@pytest.mark.parametrize("x64", [False, True], ids=["x32", "x64"])
@pytest.mark.parametrize("spec", [SPEC, STAIRS], ids=["smooth", "staircase"])
def test_jax_jit_compiles_once_over_int32_counts(spec, x64):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    traces = []

    @jax.jit
    def rate(count):
        traces.append(1)
        return spec(count)

    values = [0, 1, 2, 999, 1000, 2**24 + 1, 2**31 - 1]
    with jax.enable_x64(x64):
        got = [float(rate(jnp.asarray(v, dtype=jnp.int32))) for v in values]
    assert len(traces) == 1
    assert_within_bound(spec, values, got, "float32" if x64 else "float32-jax")


def test_jax_vmap_and_grad():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    counts = np.arange(0, 5000, 7, dtype=np.int32)
    assert_within_bound(SPEC, counts, jax.vmap(SPEC)(jnp.asarray(counts)), "float32-jax")
    got = jax.jit(jax.vmap(STAIRS))(jnp.asarray(counts))
    assert_within_bound(STAIRS, counts, got, "float32-jax")
    for s in (3, 0):  # at 0 too: no clamp may halve the right-hand derivative there
        slope = float(jax.grad(lambda t: SPEC(t))(jnp.float32(s)))
        assert slope == pytest.approx(exact_slope(SPEC, s), rel=1e-5)


def test_negative_traced_steps_clamp_to_zero(framework):
    """Negative int64 / float steps (traced code cannot raise) are read as step 0."""
    got = framework.evaluate(SPEC, [-5.0, -0.5, 0.0, 1.0], "float32")
    assert_within_bound(SPEC, [0, 0, 0, 1], got, framework.kind)
    if framework.has_int64:
        got = framework.evaluate(SPEC, [-(2**62), -1, 0], "int64")
        assert_within_bound(SPEC, [0, 0, 0], got, framework.kind)


def test_no_nan_inf_or_out_of_range_at_extreme_counters(framework):
    limits = [0, 1, 2**31 - 1, -(2**31), -1]
    for spec in (SPEC, STAIRS, lrspec.InverseTimeDecay(1.0, 2**-24, 2.0**64)):
        got = framework.evaluate(spec, limits, "int32")
        assert np.all(np.isfinite(got)) and np.all(got >= 0)
        assert np.all(got <= np.float32(spec.initial_learning_rate))
        if framework.has_int64:
            got = framework.evaluate(spec, [2**53, 2**62, 2**63 - 1], "int64")
            assert np.all(np.isfinite(got)) and np.all(got >= 0)
