"""Mixed precision: low-precision parameters and policies never lower the precision of the
learning rate. The schedule is computed in float64/float32 and applied at the precision the
framework keeps its learning rate in; a spec built from a float16 initial rate does not
overflow where Keras's own schedule does."""

from __future__ import annotations

import numpy as np
import pytest
from oracle import assert_within_bound
from oracle import exact_float as exact

import lrspec

SPEC = lrspec.InverseTimeDecay(0.1, 1.0, 0.5)
STEPS = 12


# --- a float16 initial rate -------------------------------------------------------------


def test_float16_initial_rate_does_not_overflow_where_keras_returns_zero():
    """Keras computes in the initial rate's dtype: at step 70,000 a float16 step is inf and
    its InverseTimeDecay returns 0.0. The lrspec spec keeps the float16 rate's value and
    computes in float64."""
    keras = pytest.importorskip("keras")
    lr16 = np.float16(0.1)
    theirs = keras.optimizers.schedules.InverseTimeDecay(lr16, 1, 0.5)
    assert float(theirs(70_000)) == 0.0  # the bug this test guards against

    ours = lrspec.InverseTimeDecay(lr16, 1, 0.5)
    truth = exact(lrspec.InverseTimeDecay(float(lr16), 1, 0.5), 70_000)
    assert ours(70_000) == pytest.approx(truth, rel=2 * 2**-52)
    assert float(ours.to_keras()(70_000)) == pytest.approx(truth, rel=2**-23)
    # asked for a float16 result, it is the float16 nearest the rate: small, but not zero
    half = ours(np.int64(70_000), dtype=np.float16)
    assert half.dtype == np.float16
    assert half == np.float16(truth) and half > 0


def test_float16_spec_on_every_backend(backend):
    spec = lrspec.InverseTimeDecay(np.float16(0.1), np.float16(3.0), np.float16(0.5))
    steps = [0, 1, 65_504, 65_520, 70_000, 10**6, 2**31 - 1]
    got = backend.evaluate(spec, steps)
    assert np.all(got > 0) and np.all(np.isfinite(got))
    assert_within_bound(spec, steps, got, backend.kind)


# --- Keras policies ---------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_keras_mixed_policy_applies_the_float32_rate(policy):
    """Under a mixed policy Keras keeps variables and the learning rate in float32: every
    update moves the float32 kernel by exactly ``-lr_k * grad`` with ``lr_k = spec(k)``.

    The loss ``mean(x @ w)`` with ``x`` all ones has gradient exactly 1 in any precision,
    so the applied rate is read from the parameter change itself."""
    keras = pytest.importorskip("keras")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(1, use_bias=False, kernel_initializer="ones"),
            ]
        )
        optimizer = keras.optimizers.SGD(learning_rate=SPEC.to_keras())
        model.compile(optimizer=optimizer, loss=lambda y, p: keras.ops.mean(p))
        assert model.layers[0].compute_dtype == policy.removeprefix("mixed_")
        assert model.layers[0].kernel.dtype == "float32"

        lrs, before, after = [], [], []

        class Record(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                lr = model.optimizer.learning_rate
                assert keras.backend.standardize_dtype(lr.dtype) == "float32"
                lrs.append(np.asarray(lr))
                before.append(np.array(model.layers[0].kernel.numpy()))

            def on_train_batch_end(self, batch, logs=None):
                after.append(np.array(model.layers[0].kernel.numpy()))

        x = np.ones((4, 4), dtype="float32")
        model.fit(x, np.zeros((4, 1)), batch_size=4, epochs=STEPS, verbose=0, callbacks=[Record()])
    finally:
        keras.config.set_dtype_policy(previous)

    assert len(lrs) == STEPS
    want = np.array([exact(SPEC, k) for k in range(STEPS)], dtype=np.float32)
    np.testing.assert_array_equal(np.array(lrs, dtype=np.float32), want)
    for k in range(STEPS):
        assert after[k].dtype == np.float32
        np.testing.assert_array_equal(after[k], before[k] - want[k])


# --- torch low-precision parameters ------------------------------------------------------


def _torch_run(torch, dtype, drive):
    """SGD on a bf16/fp16 linear model; ``drive(optimizer)`` returns the per-step callback."""
    model = torch.nn.Linear(4, 1, bias=False).to(dtype)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.5, -0.25, 1.0, 2.0]]))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    after_step = drive(optimizer)
    x = torch.linspace(-1.0, 1.0, 32).reshape(8, 4).to(dtype)
    y = torch.linspace(0.5, -0.5, 8).reshape(8, 1).to(dtype)
    lrs, weights = [], []
    for k in range(STEPS):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.zero_grad()
        loss = ((model(x).float() - y.float()) ** 2).mean()
        loss.backward()
        optimizer.step()
        after_step(optimizer, k)
        weights.append(model.weight.detach().clone())
    return lrs, weights


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
def test_torch_low_precision_parameters_get_the_float64_rate(dtype_name):
    """The scheduler writes Python floats computed in float64 into the param groups, also
    when the parameters are bf16/fp16: the run equals one driven by hand with the exact
    rates, bit for bit."""
    torch = pytest.importorskip("torch")
    dtype = getattr(torch, dtype_name)

    def scheduled(optimizer):
        scheduler = SPEC.to_torch(optimizer)
        return lambda opt, k: scheduler.step()

    def by_hand(rounding):
        def drive(optimizer):
            optimizer.param_groups[0]["lr"] = rounding(exact(SPEC, 0))

            def after_step(opt, k):
                opt.param_groups[0]["lr"] = rounding(exact(SPEC, k + 1))

            return after_step

        return drive

    lrs, weights = _torch_run(torch, dtype, scheduled)
    ref_lrs, ref_weights = _torch_run(torch, dtype, by_hand(float))
    assert all(type(lr) is float for lr in lrs)
    for k in range(STEPS):
        assert lrs[k] == pytest.approx(ref_lrs[k], rel=4.5e-16, abs=0)
        assert weights[k].dtype == dtype
        assert torch.equal(weights[k], ref_weights[k]), k

    # the group holds the float64 rate, not its rounding to the parameters' dtype (torch's
    # CPU kernels may still round ``alpha`` when they apply it: that is torch's own doing,
    # identical for the hand-driven run)
    assert any(lr != float(torch.tensor(lr, dtype=dtype)) for lr in lrs)


# --- JAX bf16 parameters with optax -------------------------------------------------------


@pytest.mark.parametrize("x64", [False, True], ids=["x32", "x64"])
def test_jax_bf16_parameters_with_optax(x64):
    """optax records the spec's rate as float32 (never bf16) and applies it exactly as it
    applies the same float32 values given as a table: bf16 parameters move identically."""
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp

    def loss(params, x, y):
        pred = (x @ params["w"]).astype(jnp.float32)
        return jnp.mean((pred - y) ** 2)

    def train(schedule):
        opt = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule, momentum=0.9)
        params = {"w": jnp.asarray([0.5, -0.25, 1.0, 2.0], dtype=jnp.bfloat16)}
        state = opt.init(params)
        x = jnp.linspace(-1.0, 1.0, 32).reshape(8, 4).astype(jnp.bfloat16)
        y = jnp.linspace(0.5, -0.5, 8)

        @jax.jit
        def step(params, state):
            grads = jax.grad(loss)(params, x, y)
            updates, state = opt.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        lrs, ws = [], []
        for _ in range(STEPS):
            params, state = step(params, state)
            lrs.append(state.hyperparams["learning_rate"])
            ws.append(np.asarray(params["w"]))
        return lrs, ws

    with jax.enable_x64(x64):
        lrs, ws = train(SPEC)
        assert all(lr.dtype == jnp.float32 for lr in lrs)
        assert all(w.dtype == jnp.bfloat16 for w in ws)
        # the state returned by update k records the rate that update applied
        got = np.array([float(lr) for lr in lrs])
        want = np.array([exact(SPEC, k) for k in range(STEPS)])
        np.testing.assert_allclose(got, want, rtol=(1 if x64 else 3) * 2**-23)

        table = jnp.asarray([float(SPEC(jnp.asarray(k))) for k in range(STEPS + 1)], jnp.float32)
        _, ref_ws = train(lambda count: table[count])
    for k in range(STEPS):
        np.testing.assert_array_equal(ws[k], ref_ws[k])
