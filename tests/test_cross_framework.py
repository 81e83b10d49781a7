"""One recipe, three frameworks: the same linear regression, trained with plain SGD driven by
one lrspec spec in Keras (TensorFlow backend, ``spec.to_keras()``), PyTorch
(``spec.to_torch(optimizer)``) and optax (``spec.to_optax()``).

In each framework the learning rate actually applied at update k, recovered from the
parameter change ``delta = -lr * grad``, is ``spec(k)`` (checked against the exact value of
``lrspec.reference``), and the three parameter trajectories agree to float32 tolerance.

The recovery is exact up to the rounding of ``p - lr * g`` in the parameters' dtype, which
is bounded per component; float64 models make that bound ~1e-16 relative, which also shows
*which* value each framework applies (Keras and optax: the float32 spec value; torch: the
Python float, computed in float64).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from oracle import exact_float, ulp_of

import lrspec
from lrspec.reference import bound as promised_bound

A, D, R = 0.1, 3.0, 0.5  # decays by ~3% per update around k = 20: an off-by-one shows
UPDATES = 25
W0 = np.array([0.1, -0.2, 0.3])
B0 = 0.0


def make_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20240607)
    x = rng.normal(size=(64, 3))
    y = x @ np.array([1.5, -2.0, 0.7]) + 0.25 + 0.05 * rng.normal(size=64)
    return x, y


class Run:
    """Parameters before/after each update, the gradients applied, and the framework's own
    value of the spec at each step, all as float64 NumPy."""

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []  # UPDATES + 1 entries: [w0, w1, w2, b]
        self.grads: list[np.ndarray] = []
        self.native: list[float] = []  # the framework's spec(k), as it hands it to the optimizer
        self.losses: list[float] = []

    def flat(self, w: Any, b: Any) -> np.ndarray:
        parts = (np.ravel(np.asarray(w, np.float64)), np.ravel(np.asarray(b, np.float64)))
        return np.concatenate(parts)


def train_keras(spec: lrspec.InverseTimeDecay, dtype: str) -> Run:
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        pytest.skip(f"Keras runs on {keras.backend.backend()} in this process")
    x, y = make_data()
    xt, yt = tf.constant(x, dtype), tf.constant(y, dtype)
    model = keras.Sequential([keras.Input((3,), dtype=dtype), keras.layers.Dense(1, dtype=dtype)])
    model.set_weights([W0.reshape(3, 1).astype(dtype), np.array([B0], dtype)])
    optimizer = keras.optimizers.SGD(learning_rate=spec.to_keras())
    run = Run()
    variables = model.trainable_variables
    run.params.append(run.flat(variables[0].numpy(), variables[1].numpy()))
    for k in range(UPDATES):
        assert int(optimizer.iterations.numpy()) == k
        run.native.append(float(optimizer.learning_rate))  # schedule(iterations), as applied
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(xt)[:, 0] - yt) ** 2)
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        run.losses.append(float(loss))
        run.grads.append(run.flat(grads[0].numpy(), grads[1].numpy()))
        run.params.append(run.flat(variables[0].numpy(), variables[1].numpy()))
    return run


def train_torch(spec: lrspec.InverseTimeDecay, dtype: str) -> Run:
    torch = pytest.importorskip("torch")
    dt = getattr(torch, dtype)
    x, y = make_data()
    xt, yt = torch.tensor(x, dtype=dt), torch.tensor(y, dtype=dt)
    model = torch.nn.Linear(3, 1, dtype=dt)
    with torch.no_grad():
        model.weight.copy_(torch.tensor(W0.reshape(1, 3), dtype=dt))
        model.bias.fill_(B0)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)  # the spec overrides this lr
    scheduler = spec.to_torch(optimizer)
    run = Run()
    run.params.append(run.flat(model.weight.detach(), model.bias.detach()))
    for _ in range(UPDATES):
        lr = optimizer.param_groups[0]["lr"]
        assert type(lr) is float
        run.native.append(lr)
        optimizer.zero_grad()
        loss = torch.mean((model(xt)[:, 0] - yt) ** 2)
        loss.backward()
        run.grads.append(run.flat(model.weight.grad, model.bias.grad))
        optimizer.step()
        scheduler.step()
        run.losses.append(loss.item())
        run.params.append(run.flat(model.weight.detach(), model.bias.detach()))
    return run


def train_optax(spec: lrspec.InverseTimeDecay, dtype: str, x64: bool) -> Run:
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    jnp = jax.numpy
    with jax.enable_x64(x64):
        x, y = make_data()
        xj, yj = jnp.asarray(x, dtype), jnp.asarray(y, dtype)
        params = {"w": jnp.asarray(W0.reshape(3, 1), dtype), "b": jnp.full((1,), B0, dtype)}
        schedule = spec.to_optax()
        optimizer = optax.sgd(learning_rate=schedule)
        state = optimizer.init(params)

        def loss_fn(p: Any) -> Any:
            return jnp.mean(((xj @ p["w"] + p["b"])[:, 0] - yj) ** 2)

        @jax.jit
        def step(params: Any, state: Any) -> Any:
            loss, grads = jax.value_and_grad(loss_fn)(params)
            updates, state = optimizer.update(grads, state, params)
            return optax.apply_updates(params, updates), state, grads, loss

        run = Run()
        run.params.append(run.flat(params["w"], params["b"]))
        for k in range(UPDATES):
            run.native.append(float(schedule(jnp.asarray(k, jnp.int32))))
            params, state, grads, loss = step(params, state)
            run.losses.append(float(loss))
            run.grads.append(run.flat(grads["w"], grads["b"]))
            run.params.append(run.flat(params["w"], params["b"]))
        assert step._cache_size() == 1
    return run


_RUNS: dict[tuple[str, bool, str], Run] = {}


def trained(name: str, staircase: bool, dtype: str) -> Run:
    """Each (framework, staircase, dtype) is trained once per session and shared."""
    key = (name, staircase, dtype)
    if key not in _RUNS:
        spec = lrspec.InverseTimeDecay(A, D, R, staircase=staircase)
        if name == "tensorflow":
            _RUNS[key] = train_keras(spec, dtype)
        elif name == "torch":
            _RUNS[key] = train_torch(spec, dtype)
        else:
            _RUNS[key] = train_optax(spec, dtype, x64=name == "jax-x64")
    return _RUNS[key]


def applied_rates(run: Run, dtype: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The rate recovered from each component of update ``k``, and its error bound.

    ``new = fl(old - fl(lr * g))`` (or one fused rounding): each rounding is at most half an
    ulp of the dtype, at ``|new|`` and at ``|lr * g|``, so ``(old - new) / g`` is within
    ``(ulp(new) + ulp(lr g)) / 2 / |g|`` of the lr applied.
    """
    old, new, g = run.params[k], run.params[k + 1], run.grads[k]
    assert np.all(g != 0)
    recovered = (old - new) / g
    np_dtype = np.dtype(dtype)
    product = np.abs(old - new) * 1.01  # |lr * g|, rounded up past a possible binade edge
    spacing = np.spacing(np.abs(new).astype(np_dtype)) + np.spacing(product.astype(np_dtype))
    bound = 0.5 * spacing.astype(np.float64) / np.abs(g)
    return recovered, bound


def slack(framework: Any, spec: lrspec.Schedule) -> float:
    """The framework's own rounding of the rate, in float32 ulps: its bound in
    ``reference.BOUNDS`` (float64 compute rounded once, or JAX without x64 in float32); torch
    with float32 parameters rounds its float64 lr (2 float64 ulp) to float32: half an ulp."""
    return 0.5 if framework.name == "torch" else promised_bound(spec, framework.kind)


def dtypes_of(name: str) -> list[str]:
    # JAX without x64 has no float64 parameters
    return ["float32"] if name == "jax" else ["float32", "float64"]


@pytest.mark.parametrize("staircase", [False, True], ids=["smooth", "stairs"])
def test_applied_rate_is_spec_k(framework, staircase):
    """The lr applied at update k, read from the parameter change, is spec(k)."""
    spec = lrspec.InverseTimeDecay(A, D, R, staircase=staircase)
    for dtype in dtypes_of(framework.name):
        run = trained(framework.name, staircase, dtype)
        for k in range(UPDATES):
            exact = exact_float(spec, k)
            ulp32 = float(ulp_of(exact, np.float32))
            recovered, bound = applied_rates(run, dtype, k)
            assert bound.min() < 1e-3 * exact  # the recovery can tell spec(k) from spec(k + 1)
            rounding = slack(framework, spec) if dtype == "float32" else 1.0
            assert np.all(np.abs(recovered - exact) <= bound + rounding * ulp32), (dtype, k)
            # the framework's own spec(k) is what it applied
            native = run.native[k]
            native_slack = 1e-6 if framework.name == "torch" else slack(framework, spec)
            assert abs(native - exact) <= native_slack * ulp32, (dtype, k)
            if dtype == "float64":
                assert np.all(np.abs(recovered - native) <= bound + 4 * np.spacing(native)), k
        assert run.losses[-1] < 0.05 * run.losses[0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("staircase", [False, True], ids=["smooth", "stairs"])
def test_three_trajectories_agree(staircase, dtype):
    """Keras, PyTorch and optax move the same weights the same way, update by update."""
    optax_name = "jax" if dtype == "float32" else "jax-x64"
    runs = {
        "keras": trained("tensorflow", staircase, dtype),
        "torch": trained("torch", staircase, dtype),
        "optax": trained(optax_name, staircase, dtype),
    }
    trajectories = {name: np.array(run.params) for name, run in runs.items()}
    reference = trajectories["torch"]
    assert np.abs(reference[-1] - reference[0]).max() > 1.0  # the weights really moved
    for name in ("keras", "optax"):
        np.testing.assert_allclose(
            trajectories[name], reference, rtol=2e-6, atol=1e-6, err_msg=name
        )
    # the same rates in all three (within the float32 rounding of the rate itself)
    for name in ("keras", "optax"):
        np.testing.assert_allclose(runs[name].native, runs["torch"].native, rtol=2e-7, err_msg=name)
