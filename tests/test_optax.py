"""The spec as an optax schedule: ``optax.sgd(learning_rate=spec)``, ``spec.to_optax()``,
``inject_hyperparams``, ``scale_by_schedule``, ``optax.contrib``, under jit/vmap/grad, with and
without ``jax_enable_x64``, and in a real training loop.

The reference everywhere is the exact value of ``lrspec.reference``, the bounds its
``BOUNDS``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from oracle import exact_floats, exact_slope, ulp_of

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy

import lrspec  # noqa: E402
from lrspec.reference import bound as promised_bound  # noqa: E402

SPECS = {
    "seed": (0.1, 1.0, 0.5, False),  # Keras's documented example
    "smooth": (0.1, 3.0, 0.5, False),
    "stairs": (0.1, 3.0, 0.5, True),
    "stairs-frac": (0.05, 2.5, 0.3, True),  # decay_steps not an integer
}
STEPS = 35  # updates per run: more than 30, so "compiles once" means something


def spec_of(args: tuple[float, float, float, bool]) -> lrspec.InverseTimeDecay:
    a, d, r, staircase = args
    return lrspec.InverseTimeDecay(a, d, r, staircase=staircase)


def reference(args: tuple[float, float, float, bool], counts: Any) -> np.ndarray:
    """The exact rates (``lrspec.reference``) at ``counts``, as the nearest float64s."""
    return exact_floats(spec_of(args), [int(k) for k in np.ravel(counts)])


def ulps(result: Any, exact: np.ndarray) -> np.ndarray:
    """``|result - exact|`` in float32 ulps of the exact value."""
    got = np.asarray(result, dtype=np.float64).ravel()
    return np.abs(got - exact) / np.asarray(ulp_of(exact, np.float32), dtype=np.float64)


@pytest.fixture(params=[False, True], ids=["jax", "jax-x64"])
def x64(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Runs the test without and with ``jax_enable_x64``; yields the flag."""
    with jax.enable_x64(request.param):
        yield request.param


def ulp_bound(x64: bool) -> float:
    """InverseTimeDecay's bound (``lrspec.reference.BOUNDS``): float64 compute rounded once
    (measured: 0.5 ulp, correctly rounded), or float32 throughout without x64."""
    return promised_bound(spec_of(SPECS["seed"]), "float32" if x64 else "float32-jax")


def make_case(name: str) -> tuple[tuple[float, float, float, bool], Any]:
    args = SPECS[name]
    a, d, r, staircase = args
    return args, lrspec.InverseTimeDecay(a, d, r, staircase=staircase)


@pytest.fixture(params=list(SPECS))
def case(request: pytest.FixtureRequest) -> tuple[tuple[float, float, float, bool], Any]:
    return make_case(request.param)


# the slower tests (whole optimizers, two runs each) take one smooth and one staircase spec
FEW = pytest.mark.parametrize(
    "case", [make_case("smooth"), make_case("stairs-frac")], ids=["smooth", "stairs-frac"]
)


def run(
    optimizer: Any, steps: int, grads: Callable[[int], Any], params: Any
) -> tuple[list[Any], list[Any]]:
    """``steps`` jitted updates; the updates and states after each."""
    update = jax.jit(optimizer.update)
    state = optimizer.init(params)
    updates, states = [], []
    for k in range(steps):
        u, state = update(grads(k), state, params)
        updates.append(u)
        states.append(state)
    return updates, states


# --- the three ways in ----------------------------------------------------------------


def test_sgd_takes_the_spec_itself(case, x64):
    """``optax.sgd(learning_rate=spec)``: with a gradient of ones the update is ``-spec(k)``."""
    args, spec = case
    params = jnp.zeros(3, jnp.float32)
    updates, _ = run(
        optax.sgd(learning_rate=spec), STEPS, lambda k: jnp.ones(3, jnp.float32), params
    )
    applied = -np.array([np.asarray(u) for u in updates])  # (steps, 3)
    assert applied.dtype == np.float32
    assert np.all(applied == applied[:, :1])
    exact = reference(args, range(STEPS))
    assert ulps(applied[:, 0], exact).max() <= ulp_bound(x64)
    # the same bits as the schedule evaluated on its own, eagerly
    own = np.array([np.asarray(spec(jnp.asarray(k, jnp.int32))) for k in range(STEPS)])
    np.testing.assert_array_equal(applied[:, 0], own)


def test_adam_takes_to_optax(case, x64):
    """``optax.adam(learning_rate=spec.to_optax())`` scales Adam's direction by ``spec(k)``.

    The direction comes from optax's own ``scale_by_adam`` on the same gradients, so the
    learning rate is recovered from the update to within half a float32 ulp.
    """
    args, spec = case
    rng = np.random.default_rng(0)
    grad_list = [jnp.asarray(rng.normal(size=4), jnp.float32) for _ in range(STEPS)]
    params = jnp.zeros(4, jnp.float32)
    grads = grad_list.__getitem__
    updates, _ = run(optax.adam(learning_rate=spec.to_optax()), STEPS, grads, params)
    directions, _ = run(optax.scale_by_adam(), STEPS, grads, params)
    u = np.array([np.asarray(x, np.float64) for x in updates])
    v = np.array([np.asarray(x, np.float64) for x in directions])
    recovered = -u / v  # one float32 rounding of lr * v: within 0.5 ulp of the lr applied
    exact = reference(args, range(STEPS))
    for column in recovered.T:
        assert ulps(column, exact).max() <= ulp_bound(x64) + 0.5
    # passing the spec itself is the same optimizer, bit for bit
    direct, _ = run(optax.adam(learning_rate=spec), STEPS, grads, params)
    np.testing.assert_array_equal(np.array(direct), np.array(updates))


@pytest.mark.parametrize("start", [0, 2**24 - 7], ids=["from-0", "near-2**24"])
def test_inject_hyperparams_records_spec_k(case, x64, start):
    """``inject_hyperparams(adam)(learning_rate=spec)``: the rate in the state after update k
    (the one that update applied) is ``spec(k)``, also past float32's integer range."""
    args, spec = case
    opt = optax.inject_hyperparams(optax.adam)(learning_rate=spec)
    params = jnp.zeros(2, jnp.float32)
    state = opt.init(params)
    assert ulps(state.hyperparams["learning_rate"], reference(args, [0])).max() <= ulp_bound(x64)
    schedule_state = state.hyperparams_states["learning_rate"]
    state = state._replace(
        hyperparams_states={
            "learning_rate": type(schedule_state)(count=jnp.asarray(start, jnp.int32))
        }
    )
    update = jax.jit(opt.update)
    recorded = []
    for _ in range(STEPS):
        _, state = update(jnp.ones(2, jnp.float32), state, params)
        recorded.append(np.asarray(state.hyperparams["learning_rate"]))
    counts = np.arange(start, start + STEPS)
    assert all(r.dtype == np.float32 and r.shape == () for r in recorded)
    assert ulps(recorded, reference(args, counts)).max() <= ulp_bound(x64)
    own = np.asarray(spec(jnp.asarray(counts, jnp.int32)))
    np.testing.assert_array_equal(np.array(recorded), own)


def test_inject_hyperparams_saturated_counter(x64):
    """optax's counter saturates at 2**31 - 1 (it never wraps): the rate stays at that step's."""
    a, d, r = 0.1, 3.0, 0.5
    spec = lrspec.InverseTimeDecay(a, d, r, staircase=True)
    opt = optax.inject_hyperparams(optax.sgd)(learning_rate=spec)
    params = jnp.zeros(1, jnp.float32)
    state = opt.init(params)
    hs = state.hyperparams_states["learning_rate"]
    start = 2**31 - 4
    state = state._replace(
        hyperparams_states={"learning_rate": type(hs)(count=jnp.asarray(start, jnp.int32))}
    )
    update = jax.jit(opt.update)
    got = []
    for _ in range(8):
        _, state = update(jnp.ones(1, jnp.float32), state, params)
        got.append(float(state.hyperparams["learning_rate"]))
    counts = [min(k, 2**31 - 1) for k in range(start, start + 8)]
    assert ulps(got, reference((a, d, r, True), counts)).max() <= ulp_bound(x64)


# --- compiles once ----------------------------------------------------------------------

OPTIMIZERS = {
    "sgd(spec)": lambda spec: optax.sgd(learning_rate=spec),
    "adam(to_optax)": lambda spec: optax.adam(learning_rate=spec.to_optax()),
    "inject_hyperparams(adam)(spec)": lambda spec: optax.inject_hyperparams(optax.adam)(
        learning_rate=spec
    ),
}


@pytest.mark.parametrize("make", list(OPTIMIZERS.values()), ids=list(OPTIMIZERS))
@pytest.mark.parametrize("staircase", [False, True], ids=["smooth", "stairs"])
def test_jitted_train_step_compiles_once(make, staircase, x64):
    spec = lrspec.InverseTimeDecay(0.1, 3.0, 0.5, staircase=staircase)
    opt = make(spec)
    traces = 0

    @jax.jit
    def train_step(params, state, x, y):
        nonlocal traces
        traces += 1  # runs only while tracing
        grads = jax.grad(lambda p: jnp.mean((x @ p - y) ** 2))(params)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    compiles: Counter[str] = Counter()

    def listener(event: str, duration: float, **kwargs: Any) -> None:
        compiles[event] += 1

    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.normal(size=(16, 3)), jnp.float32)
    y = jnp.asarray(rng.normal(size=16), jnp.float32)
    params = jnp.zeros(3, jnp.float32)
    state = opt.init(params)
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        for _ in range(32):
            params, state = train_step(params, state, x, y)
        jax.block_until_ready(params)
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert traces == 1
    assert train_step._cache_size() == 1
    assert compiles["/jax/core/compile/backend_compile_duration"] == 1
    assert bool(jnp.all(jnp.isfinite(params)))


# --- vmap, grad, concrete counts ----------------------------------------------------------


def test_vmap_over_counts(case, x64):
    args, spec = case
    counts = np.concatenate(
        [
            np.arange(0, 64),
            2**24 + np.arange(-3, 4),  # past float32's integers: stairs stay exact
            np.array([2**31 - 1, 2**31, 2**31 + 7, 2**32 - 1]),  # wrapped int32 counters
        ]
    ).astype(np.int64)
    int32_counts = jnp.asarray(counts.astype(np.uint32).view(np.int32))
    schedule = spec.to_optax()
    batched = jax.vmap(schedule)(int32_counts)
    assert batched.dtype == jnp.float32 and batched.shape == counts.shape
    assert ulps(batched, reference(args, counts)).max() <= ulp_bound(x64)
    jitted = jax.jit(jax.vmap(schedule))(int32_counts)
    one_by_one = np.array([np.asarray(jax.jit(schedule)(c)) for c in int32_counts[::9]])
    np.testing.assert_array_equal(np.asarray(jitted), np.asarray(batched))
    np.testing.assert_array_equal(np.asarray(batched)[::9], one_by_one)


@pytest.mark.parametrize("step", [0.5, 1.0, 7.25, 100.0, 12345.5])
def test_grad_with_respect_to_a_float_step(step, x64):
    """``d lr / d step`` is that of the exact reference; a staircase is flat."""
    a, d, r = 0.1, 3.0, 0.5
    smooth = lrspec.InverseTimeDecay(a, d, r).to_optax()
    stairs = lrspec.InverseTimeDecay(a, d, r, staircase=True).to_optax()
    exact = exact_slope(lrspec.InverseTimeDecay(a, d, r), step)
    s = jnp.asarray(step)
    for derivative in (jax.grad(smooth)(s), jax.jit(jax.grad(smooth))(s)):
        np.testing.assert_allclose(float(derivative), exact, rtol=1e-5)
    assert float(jax.grad(stairs)(s + 0.25)) == 0.0
    # per-example gradients: vmap of grad
    many = jnp.asarray([step, step + 1.0])
    per = jax.vmap(jax.grad(smooth))(many)
    ref = [exact_slope(lrspec.InverseTimeDecay(a, d, r), t) for t in (step, step + 1.0)]
    np.testing.assert_allclose(np.asarray(per, np.float64), ref, rtol=1e-5)


def test_float32_result_and_compute_dtype(x64):
    """The result is float32 either way; with x64 a float64 step is not rounded to float32."""
    spec = lrspec.InverseTimeDecay(0.1, 1.0, 0.5).to_optax()
    assert spec(jnp.asarray(3, jnp.int32)).dtype == jnp.float32
    big = 2**24 + 1  # not a float32: a float32 step would give spec(2**24)
    if x64:
        got = spec(jnp.asarray(float(big), jnp.float64))
        assert ulps(got, reference((0.1, 1.0, 0.5, False), [big])).max() <= ulp_bound(x64)
        assert jnp.asarray(float(big)).dtype == jnp.float64
    assert spec(jnp.asarray(2.5)).dtype == jnp.float32


def test_concrete_counts(x64):
    """Python/NumPy counts give jax arrays equal to the traced path; no silent wrapping."""
    args = (0.1, 3.0, 0.5, True)
    schedule = lrspec.InverseTimeDecay(0.1, 3.0, 0.5, staircase=True).to_optax()
    # counts one below a stair boundary (k % 3 == 2): an off-by-one count shows
    for count in (0, 2, 8, np.int32(8), np.int64(2**31 + 6), 2**31 + 6, 2**32 - 2):
        got = schedule(count)
        assert isinstance(got, jax.Array) and got.dtype == jnp.float32
        assert ulps(got, reference(args, [int(count)])).max() <= ulp_bound(x64)
    np.testing.assert_array_equal(
        np.asarray(schedule(np.arange(10))), np.asarray(jax.jit(schedule)(jnp.arange(10)))
    )
    with pytest.raises(ValueError, match="count must be >= 0"):
        schedule(-1)
    with pytest.raises(ValueError, match="count must be >= 0"):
        schedule(np.array([3, -2]))
    huge = 2**40 + 1
    if x64:
        assert ulps(schedule(huge), reference(args, [huge])).max() <= ulp_bound(x64)
    else:
        with pytest.raises(OverflowError, match="2\\*\\*32 - 1"):
            schedule(huge)
        with pytest.raises(OverflowError, match="2\\*\\*32 - 1"):
            schedule(np.array([huge], np.int64))


# --- chains and contrib -------------------------------------------------------------------


@FEW
def test_chain_with_scale_by_schedule(case, x64):
    args, spec = case
    params = jnp.zeros(3, jnp.float32)
    ones = lambda k: jnp.ones(3, jnp.float32)  # noqa: E731
    scaled, _ = run(optax.chain(optax.scale_by_schedule(spec)), STEPS, ones, params)
    applied = np.array([np.asarray(u)[0] for u in scaled])
    assert ulps(applied, reference(args, range(STEPS))).max() <= ulp_bound(x64)
    # adam spelled as a chain is adam(spec), bit for bit
    rng = np.random.default_rng(2)
    grad_list = [jnp.asarray(rng.normal(size=3), jnp.float32) for _ in range(STEPS)]
    chain = optax.chain(optax.scale_by_adam(), optax.scale_by_schedule(spec), optax.scale(-1.0))
    a, _ = run(chain, STEPS, grad_list.__getitem__, params)
    b, _ = run(optax.adam(learning_rate=spec), STEPS, grad_list.__getitem__, params)
    np.testing.assert_array_equal(np.array(a), np.array(b))


@FEW
def test_contrib_schedule_free_sgd(case, x64):
    """``optax.contrib.schedule_free_sgd`` driven by the spec trains like the same optimizer
    driven by a table of the float32-rounded exact rates."""
    args, spec = case
    table = jnp.asarray(reference(args, range(STEPS)).astype(np.float32))
    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.normal(size=(32, 3)), jnp.float32)
    y = x @ jnp.asarray([1.0, -2.0, 0.5]) + 0.3

    def train(learning_rate: Any) -> np.ndarray:
        opt = optax.contrib.schedule_free_sgd(learning_rate=learning_rate)
        params = jnp.zeros(3, jnp.float32)
        state = opt.init(params)

        @jax.jit
        def step(params, state):
            grads = jax.grad(lambda p: jnp.mean((x @ p - y) ** 2))(params)
            updates, state = opt.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        trajectory = []
        for _ in range(STEPS):
            params, state = step(params, state)
            trajectory.append(np.asarray(optax.contrib.schedule_free_eval_params(state, params)))
        return np.array(trajectory)

    ours, ref = train(spec), train(lambda count: table[count])
    assert np.abs(ours[-1] - ours[0]).max() > 0.1  # it did train
    np.testing.assert_allclose(ours, ref, rtol=2e-5, atol=2e-6)


# --- a real training loop -----------------------------------------------------------------


def test_sgd_training_loop_applies_spec_k(case, x64):
    """Linear regression, plain SGD, 25 updates: the rate recovered from each parameter
    change ``delta = -lr * grad`` is ``spec(k)``.

    With x64 the parameters are float64, so the recovery is exact to ~1e-12 and checks the
    float32 rate to 1 ulp; without x64 each component's float32 rounding of ``p - lr * g``
    bounds the recovery error, which is kept far below the gap between consecutive rates.
    """
    args, spec = case
    dtype = jnp.float64 if x64 else jnp.float32
    rng = np.random.default_rng(4)
    x = jnp.asarray(rng.normal(size=(64, 3)), dtype)
    y = jnp.asarray(np.asarray(x) @ np.array([1.5, -2.0, 0.7]) + 0.25, dtype)
    params = {"w": jnp.asarray([0.1, -0.2, 0.3], dtype), "b": jnp.zeros((), dtype)}
    opt = optax.sgd(learning_rate=spec)
    state = opt.init(params)

    def loss(p):
        return jnp.mean((x @ p["w"] + p["b"] - y) ** 2)

    @jax.jit
    def step(params, state):
        grads = jax.grad(loss)(params)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, grads

    def flat(tree: Any) -> np.ndarray:
        return np.concatenate([np.atleast_1d(np.asarray(tree[k], np.float64)) for k in "wb"])

    exact = reference(args, range(25))
    losses = [float(loss(params))]
    for k in range(25):
        old = flat(params)
        params, state, grads = step(params, state)
        new, g = flat(params), flat(grads)
        recovered = (old - new) / g
        if x64:
            err = np.abs(recovered - exact[k]) / ulp_of(exact[k], np.float32)
            assert err.max() <= ulp_bound(x64) + 1e-3, (k, recovered, exact[k])
        else:
            # |delta - lr g| <= half an ulp of lr*g (the update) + half an ulp of the new param
            spacing = np.spacing(np.abs(new).astype(np.float32)).astype(np.float64)
            product = np.spacing(np.abs(exact[k] * g).astype(np.float32)).astype(np.float64)
            bound = (0.5 * spacing + 0.5 * product) / np.abs(g) + 3 * ulp_of(exact[k], np.float32)
            assert np.all(np.abs(recovered - exact[k]) <= bound), (k, recovered, exact[k])
            assert bound.min() < 1e-3 * exact[k]
        losses.append(float(loss(params)))
    assert losses[-1] < 0.05 * losses[0]
