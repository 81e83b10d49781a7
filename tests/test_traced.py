"""Inside the frameworks' compilers: tf.function (+XLA), jax.jit/vmap, wrapped int32 counters."""

from __future__ import annotations

import numpy as np
import pytest

import lrspec

SPEC = lrspec.InverseTimeDecay(0.1, 1.0, 0.5)
STAIRS = lrspec.InverseTimeDecay(0.1, 1000, 0.5, staircase=True)


def exact(spec, k):
    k = np.asarray(k, dtype=np.float64)
    p = np.floor(k / spec.decay_steps) if spec.staircase else k / spec.decay_steps
    return spec.initial_learning_rate / (1 + spec.decay_rate * p)


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
    np.testing.assert_allclose(got, exact(spec, values), rtol=1.2e-7)


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
    np.testing.assert_allclose(got, exact(spec, values), rtol=3.6e-7)


def test_jax_vmap_and_grad():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    counts = jnp.arange(0, 5000, 7, dtype=jnp.int32)
    np.testing.assert_allclose(np.asarray(jax.vmap(SPEC)(counts)), exact(SPEC, counts), rtol=3.6e-7)
    np.testing.assert_allclose(
        np.asarray(jax.jit(jax.vmap(STAIRS))(counts)), exact(STAIRS, counts), rtol=3.6e-7
    )
    # d/ds a / (1 + r s / d) = -a r / d / (1 + r s / d)^2
    for s in (3.0, 0.0):  # at 0 too: no clamp may halve the right-hand derivative there
        slope = float(jax.grad(lambda t: SPEC(t))(jnp.float32(s)))
        assert slope == pytest.approx(-0.1 * 0.5 / (1 + 0.5 * s) ** 2, rel=1e-5)


def test_torch_compile_fullgraph_tensor_step():
    torch = pytest.importorskip("torch")
    from torch._dynamo.testing import CompileCounter

    counter = CompileCounter()
    rate = torch.compile(lambda s: STAIRS(s), backend=counter, fullgraph=True)
    values = [0, 999, 1000, 16_777_999, 2**40]
    got = [float(rate(torch.tensor(v))) for v in values]
    assert counter.frame_count == 1
    np.testing.assert_allclose(got, exact(STAIRS, values), rtol=1.2e-7)


def _wrapped(value: int) -> int:
    """What an int32 counter holds after counting to ``value`` (two's complement)."""
    return (value + 2**31) % 2**32 - 2**31


def test_wrapped_int32_counter_keeps_decaying(framework):
    """A wrapped int32 counter is read modulo 2**32: the rate goes on decaying, never jumps back
    to the initial rate, never turns negative."""
    counts = [2**31 - 1, 2**31, 2**31 + 1, 2**32 - 1000, 2**32 - 1]
    for spec in (SPEC, STAIRS):
        got = framework.evaluate(spec, [_wrapped(c) for c in counts], "int32")
        np.testing.assert_allclose(got, exact(spec, counts), rtol=3.6e-7)
        assert np.all(np.diff(got) <= 0) and np.all(got > 0)


def test_negative_traced_steps_clamp_to_zero(framework):
    """Negative int64 / float steps (traced code cannot raise) are read as step 0."""
    got = framework.evaluate(SPEC, [-5.0, -0.5, 0.0, 1.0], "float32")
    np.testing.assert_allclose(got, exact(SPEC, [0, 0, 0, 1]), rtol=1.2e-7)
    if framework.has_int64:
        got = framework.evaluate(SPEC, [-(2**62), -1, 0], "int64")
        np.testing.assert_allclose(got, exact(SPEC, [0, 0, 0]), rtol=1.2e-7)


def test_no_nan_inf_or_out_of_range_at_extreme_counters(framework):
    limits = [0, 1, 2**31 - 1, -(2**31), -1]
    for spec in (SPEC, STAIRS, lrspec.InverseTimeDecay(1.0, 1e-30, 1e30)):
        got = framework.evaluate(spec, limits, "int32")
        assert np.all(np.isfinite(got)) and np.all(got >= 0)
        assert np.all(got <= np.float32(spec.initial_learning_rate))
        if framework.has_int64:
            got = framework.evaluate(spec, [2**53, 2**62, 2**63 - 1], "int64")
            assert np.all(np.isfinite(got)) and np.all(got >= 0)
