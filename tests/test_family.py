"""The schedule family: every spec against its exact reference (:mod:`lrspec.reference`)
within :data:`lrspec.reference.BOUNDS`, against Keras's own classes, configs, validation and
composition."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from oracle import LONG, exact_long, sample_steps, ulp_of

import lrspec
from lrspec import reference

TINY32 = float(np.finfo(np.float32).tiny)


# --- the Keras family: name, arguments, special steps ---------------------------

KERAS_CASES = [
    (
        "ExponentialDecay",
        dict(initial_learning_rate=0.1, decay_steps=1000, decay_rate=0.96),
        [1000, 2000],
    ),
    (
        "ExponentialDecay",
        dict(initial_learning_rate=0.1, decay_steps=1000, decay_rate=0.96, staircase=True),
        [999, 1000, 1001, 99000],
    ),
    (
        "ExponentialDecay",
        dict(initial_learning_rate=1.0, decay_steps=7.5, decay_rate=0.5, staircase=True),
        [7, 8, 15, 16],
    ),
    (
        "ExponentialDecay",
        dict(initial_learning_rate=3e-4, decay_steps=50000, decay_rate=0.1),
        [],
    ),
    (
        "PiecewiseConstantDecay",
        dict(boundaries=[1000, 5000, 70000], values=[1.0, 0.5, 0.1, 0.01]),
        [1000, 1001, 5000, 5001, 70000, 70001],
    ),
    (
        "PiecewiseConstantDecay",
        dict(boundaries=[2.5, 10.0], values=[0.3, 0.2, 0.1]),
        [2, 3, 10, 11],
    ),
    (
        "PolynomialDecay",
        dict(initial_learning_rate=0.1, decay_steps=90000, end_learning_rate=0.001),
        [89999, 90000, 90001],
    ),
    (
        "PolynomialDecay",
        dict(initial_learning_rate=0.1, decay_steps=90000, end_learning_rate=0.0, power=2.0),
        [89999, 90000],
    ),
    (
        "PolynomialDecay",
        dict(
            initial_learning_rate=0.1,
            decay_steps=3000,
            end_learning_rate=0.01,
            power=0.7,
            cycle=True,
        ),
        [2999, 3000, 3001, 6000, 6001],
    ),
    (
        "PolynomialDecay",
        dict(initial_learning_rate=0.001, decay_steps=5000, end_learning_rate=0.1, power=0.5),
        [4999, 5000],
    ),
    (
        "CosineDecay",
        dict(initial_learning_rate=0.1, decay_steps=90000),
        [45000, 89999, 90000, 90001],
    ),
    (
        "CosineDecay",
        dict(initial_learning_rate=0.1, decay_steps=80000, alpha=0.1),
        [79999, 80000],
    ),
    (
        "CosineDecay",
        dict(initial_learning_rate=0.0, decay_steps=80000, warmup_target=0.1, warmup_steps=5000),
        [4999, 5000, 5001, 84999, 85000],
    ),
    (
        "CosineDecay",
        dict(
            initial_learning_rate=0.01,
            decay_steps=1000,
            alpha=0.05,
            warmup_target=0.5,
            warmup_steps=250,
        ),
        [249, 250, 1249, 1250],
    ),
    (
        "CosineDecayRestarts",
        dict(initial_learning_rate=0.1, first_decay_steps=1000),
        [999, 1000, 2999, 3000, 6999, 7000, 15000, 31000, 63000],
    ),
    (
        "CosineDecayRestarts",
        dict(initial_learning_rate=0.1, first_decay_steps=1000, t_mul=1.0, m_mul=0.9, alpha=0.01),
        [999, 1000, 1001, 50000],
    ),
    (
        "CosineDecayRestarts",
        dict(initial_learning_rate=0.1, first_decay_steps=700, t_mul=1.5, m_mul=0.8),
        [700, 1750, 3325],
    ),
    (
        "CosineDecayRestarts",
        dict(initial_learning_rate=0.5, first_decay_steps=64, t_mul=3.0, m_mul=0.5, alpha=0.1),
        [64, 256, 832, 2560, 7744, 23296, 69952],
    ),
]
KERAS_IDS = [f"{c[0]}-{i}" for i, c in enumerate(KERAS_CASES)]

OTHER_CASES = [
    (
        "Constant",
        dict(learning_rate=0.003),
        [],
    ),
    (
        "Linear",
        dict(initial_learning_rate=0.1, end_learning_rate=0.001, transition_steps=90000),
        [89999, 90000],
    ),
    (
        "Linear",
        dict(initial_learning_rate=0.0, end_learning_rate=0.3, transition_steps=777),
        [776, 777],
    ),
    (
        "InverseSqrt",
        dict(learning_rate=1e-3, warmup_steps=4000),
        [3999, 4000, 4001],
    ),
    (
        "InverseSqrt",
        dict(learning_rate=0.0007, warmup_steps=10, initial_learning_rate=0.0),
        [9, 10],
    ),
]
ALL_CASES = KERAS_CASES + OTHER_CASES
ALL_IDS = KERAS_IDS + [f"{c[0]}-{i}" for i, c in enumerate(OTHER_CASES)]

N = 10**5


def _step_values(special):
    """The first 3000 steps, each special step and its neighbours, a stride and a random
    sample up to N (the exact reference is too slow for every step)."""
    return sample_steps(N + 1, special, dense=3000, n=1000)


def _counter_dtype(backend):
    return "int64" if backend.has_int64 else "int32"


def _bound(backend, spec):
    """The promised bound for this backend's results (reference.BOUNDS), and their dtype."""
    dtype = np.float64 if backend.kind == "float64" else np.float32
    return reference.bound(spec, backend.kind), dtype


def _rising_power(name, kw):
    return (
        name == "PolynomialDecay"
        and kw.get("power", 1.0) != 1
        and kw["end_learning_rate"] > kw["initial_learning_rate"]
    )


@pytest.mark.parametrize("case", ALL_CASES, ids=ALL_IDS)
def test_matches_exact_closed_form(backend, case):
    name, kw, special = case
    spec = getattr(lrspec, name)(**kw)
    steps = _step_values(special)
    exact = exact_long(spec, steps)
    got = backend.evaluate(spec, steps, _counter_dtype(backend))
    bound, dtype = _bound(backend, spec)
    scale = exact
    if _rising_power(name, kw) and (dtype == np.float64 or backend.framework == "jax"):
        # (1 - p) ** power (power != 1) rises from the initial rate by cancellation against
        # the end rate: the error is bounded in ulps of the end rate (documented)
        scale = np.full(exact.shape, LONG(kw["end_learning_rate"]))
    err = np.abs(np.asarray(got).astype(LONG) - exact) / ulp_of(scale, dtype)
    if dtype == np.float32:
        # XLA and TensorFlow on CPU flush float32 subnormals to zero
        err = np.where((exact < TINY32 * 1.0001) & (np.asarray(got) == 0), 0, err)
    worst = int(err.argmax())
    assert err.max() <= bound, f"step {steps[worst]}: {err.max():.3f} ulp"
    assert np.all(np.isfinite(got)) and np.all(np.asarray(got) >= 0)


# --- against Keras's own classes ---------------------------------------------------------

_KERAS_VALUES: dict[int, np.ndarray] = {}
#: where lrspec and Keras differ by more than 4 ulp at more steps than this, the exact
#: reference is evaluated at the special steps (and the first 3000, a stride, ...) and at
#: this many others drawn at random
FAR_SAMPLE = 3000


def _keras_values(index):
    """Keras's float32 values on steps 0..10**5 plus the special points (computed once)."""
    if index not in _KERAS_VALUES:
        keras = pytest.importorskip("keras")
        tf = pytest.importorskip("tensorflow")
        name, kw, special = KERAS_CASES[index]
        theirs = getattr(keras.optimizers.schedules, name)(**kw)
        steps = np.unique(np.concatenate([np.arange(N + 1), special]))
        if name == "CosineDecay" and kw.get("warmup_target") is not None:
            values = tf.vectorized_map(theirs, tf.constant(steps))  # a scalar ops.cond inside
        else:
            values = theirs(keras.ops.convert_to_tensor(steps))
        _KERAS_VALUES[index] = (steps, np.asarray(keras.ops.convert_to_numpy(values), np.float32))
    return _KERAS_VALUES[index]


@pytest.mark.parametrize("index", range(len(KERAS_CASES)), ids=KERAS_IDS)
def test_within_4_ulp_of_keras_or_closer_to_exact(backend, index):
    """Within 4 float32 ulp of Keras wherever Keras itself is that close to the exact value;
    where it is not (its float32 arithmetic), lrspec is closer to the exact value. Every step
    up to 10**5 is compared with Keras; the exact reference is evaluated where lrspec and
    Keras differ (at most at the special steps and FAR_SAMPLE others)."""
    name, kw, special = KERAS_CASES[index]
    spec = getattr(lrspec, name)(**kw)
    steps, theirs = _keras_values(index)
    if backend.framework == "python":
        pick = np.unique(np.concatenate([np.arange(2000), np.searchsorted(steps, special)]))
        steps, theirs = steps[pick], theirs[pick]
    ours = backend.evaluate(spec, steps, _counter_dtype(backend))
    ours = np.asarray(ours).astype(np.float32).astype(LONG)
    ulp = ulp_of(np.maximum(np.abs(theirs.astype(LONG)), LONG(TINY32)), np.float32)
    far = np.abs(ours - theirs.astype(LONG)) / ulp > 4
    ours, theirs, steps = ours[far], theirs[far].astype(LONG), steps[far]
    if steps.size > FAR_SAMPLE:  # the exact reference is slow: the special steps and a sample
        keep = np.isin(steps, _step_values(special))
        keep[np.random.default_rng(index).choice(steps.size, FAR_SAMPLE, replace=False)] = True
        ours, theirs, steps = ours[keep], theirs[keep], steps[keep]
    exact = exact_long(spec, steps)
    ours_err, theirs_err = np.abs(ours - exact), np.abs(theirs - exact)
    bad = ours_err > theirs_err
    if backend.kind == "float32-jax":
        # float32 throughout: lrspec is held to its own bound against the exact value (in
        # ulps of the end rate for a rising polynomial, as in the closed-form test)
        scale = exact
        if _rising_power(name, kw):
            scale = np.full(scale.shape, LONG(kw["end_learning_rate"]))
        bad &= ours_err / ulp_of(scale, np.float32) > reference.bound(spec, "float32-jax")
    bad &= ~((exact < TINY32 * 1.0001) & (ours == 0))  # XLA flushes subnormals
    assert not bad.any(), (
        f"steps {steps[bad][:5]}: lrspec {ours[bad][:5]}, Keras {theirs[bad][:5]}, "
        f"exact {exact[bad][:5]}"
    )


@pytest.mark.parametrize("index", range(len(KERAS_CASES)), ids=KERAS_IDS)
def test_config_from_keras_and_deserialize(index):
    keras = pytest.importorskip("keras")
    name, kw, _ = KERAS_CASES[index]
    theirs = getattr(keras.optimizers.schedules, name)(**kw)
    ours = getattr(lrspec, name)(**kw)
    assert ours.get_config() == theirs.get_config()
    assert json.loads(json.dumps(ours.get_config())) == ours.get_config()
    assert lrspec.from_keras(theirs) == ours
    data = json.loads(json.dumps(keras.optimizers.schedules.serialize(theirs)))
    assert lrspec.deserialize(data) == ours
    again = type(ours).from_config(json.loads(json.dumps(ours.get_config())))
    steps = np.arange(0, 3 * N, 101)
    np.testing.assert_array_equal(again(steps), ours(steps))
    # and back: Keras rebuilds its own class from our config
    back = getattr(keras.optimizers.schedules, name).from_config(ours.get_config())
    assert back.get_config() == theirs.get_config()


# --- validation ---------------------------------------------------------------------------

BAD = [
    (
        lrspec.ExponentialDecay,
        dict(initial_learning_rate=0.1, decay_steps=0, decay_rate=0.5),
        "decay_steps",
        ValueError,
    ),
    (
        lrspec.ExponentialDecay,
        dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=1.5),
        "decay_rate",
        ValueError,
    ),
    (
        lrspec.ExponentialDecay,
        dict(initial_learning_rate=-0.1, decay_steps=10, decay_rate=0.5),
        "initial_learning_rate",
        ValueError,
    ),
    (
        lrspec.ExponentialDecay,
        dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5, staircase=1),
        "staircase",
        TypeError,
    ),
    (
        lrspec.PiecewiseConstantDecay,
        dict(boundaries=[10, 20], values=[0.1, 0.2]),
        "values",
        ValueError,
    ),
    (
        lrspec.PiecewiseConstantDecay,
        dict(boundaries=[20, 10], values=[0.1, 0.2, 0.3]),
        "boundaries",
        ValueError,
    ),
    (
        lrspec.PiecewiseConstantDecay,
        dict(boundaries=[10], values=[0.1, -0.2]),
        "values",
        ValueError,
    ),
    (
        lrspec.PiecewiseConstantDecay,
        dict(boundaries=[math.nan], values=[0.1, 0.2]),
        "boundaries",
        ValueError,
    ),
    (
        lrspec.PiecewiseConstantDecay,
        dict(boundaries="ab", values=[0.1, 0.2, 0.3]),
        "boundaries",
        TypeError,
    ),
    (
        lrspec.PolynomialDecay,
        dict(initial_learning_rate=0.1, decay_steps=-5),
        "decay_steps",
        ValueError,
    ),
    (
        lrspec.PolynomialDecay,
        dict(initial_learning_rate=0.1, decay_steps=5, power=-1.0),
        "power",
        ValueError,
    ),
    (
        lrspec.PolynomialDecay,
        dict(initial_learning_rate=0.1, decay_steps=5, end_learning_rate=math.inf),
        "end_learning_rate",
        ValueError,
    ),
    (
        lrspec.PolynomialDecay,
        dict(initial_learning_rate=0.1, decay_steps=5, cycle="no"),
        "cycle",
        TypeError,
    ),
    (lrspec.CosineDecay, dict(initial_learning_rate=0.1, decay_steps=0), "decay_steps", ValueError),
    (
        lrspec.CosineDecay,
        dict(initial_learning_rate=0.1, decay_steps=10, alpha=1.5),
        "alpha",
        ValueError,
    ),
    (
        lrspec.CosineDecay,
        dict(initial_learning_rate=0.1, decay_steps=10, alpha=-0.1),
        "alpha",
        ValueError,
    ),
    (
        lrspec.CosineDecay,
        dict(initial_learning_rate=0.1, decay_steps=10, warmup_target=-1.0),
        "warmup_target",
        ValueError,
    ),
    (
        lrspec.CosineDecay,
        dict(initial_learning_rate=0.1, decay_steps=10, warmup_target=1.0, warmup_steps=-3),
        "warmup_steps",
        ValueError,
    ),
    (
        lrspec.CosineDecayRestarts,
        dict(initial_learning_rate=0.1, first_decay_steps=0),
        "first_decay_steps",
        ValueError,
    ),
    (
        lrspec.CosineDecayRestarts,
        dict(initial_learning_rate=0.1, first_decay_steps=10, t_mul=0.5),
        "t_mul",
        ValueError,
    ),
    (
        lrspec.CosineDecayRestarts,
        dict(initial_learning_rate=0.1, first_decay_steps=10, m_mul=-0.5),
        "m_mul",
        ValueError,
    ),
    (
        lrspec.CosineDecayRestarts,
        dict(initial_learning_rate=0.1, first_decay_steps=10, alpha=2.0),
        "alpha",
        ValueError,
    ),
    (lrspec.Constant, dict(learning_rate=math.nan), "learning_rate", ValueError),
    (lrspec.Constant, dict(learning_rate="0.1"), "learning_rate", TypeError),
    (
        lrspec.Linear,
        dict(initial_learning_rate=0.1, end_learning_rate=0.0, transition_steps=0),
        "transition_steps",
        ValueError,
    ),
    (
        lrspec.Linear,
        dict(initial_learning_rate=0.1, end_learning_rate=-1.0, transition_steps=5),
        "end_learning_rate",
        ValueError,
    ),
    (lrspec.InverseSqrt, dict(learning_rate=0.1, warmup_steps=0), "warmup_steps", ValueError),
    (lrspec.InverseSqrt, dict(learning_rate=0.1, warmup_steps=2.5), "warmup_steps", ValueError),
    (lrspec.Warmup, dict(schedule=0.1, warmup_steps=10), "schedule", TypeError),
    (
        lrspec.Warmup,
        dict(schedule=lrspec.Constant(0.1), warmup_steps=-1),
        "warmup_steps",
        ValueError,
    ),
    (
        lrspec.Warmup,
        dict(schedule=lrspec.Constant(0.1), warmup_steps=10, initial_learning_rate=-1.0),
        "initial_learning_rate",
        ValueError,
    ),
    (
        lrspec.Warmup,
        dict(schedule={"class_name": "os.system", "config": {}}, warmup_steps=10),
        "os.system",
        ValueError,
    ),
    (lrspec.Join, dict(schedules=[], boundaries=[]), "schedules", ValueError),
    (
        lrspec.Join,
        dict(schedules=[lrspec.Constant(0.1)] * 2, boundaries=[]),
        "boundaries",
        ValueError,
    ),
    (
        lrspec.Join,
        dict(schedules=[lrspec.Constant(0.1)] * 3, boundaries=[20, 10]),
        "boundaries",
        ValueError,
    ),
    (
        lrspec.Join,
        dict(schedules=[lrspec.Constant(0.1)] * 2, boundaries=[1.5]),
        "boundaries",
        ValueError,
    ),
    (
        lrspec.Join,
        dict(schedules=[lrspec.Constant(0.1), "cosine"], boundaries=[5]),
        "schedules",
        TypeError,
    ),
]


@pytest.mark.parametrize(
    ("cls", "kw", "arg", "error"),
    BAD,
    ids=[f"{b[0].__name__}-{b[2]}-{i}" for i, b in enumerate(BAD)],
)
def test_bad_arguments_rejected_naming_argument(cls, kw, arg, error):
    with pytest.raises(error) as info:
        cls(**kw)
    assert arg in str(info.value)


def test_error_message_format():
    with pytest.raises(ValueError, match=r"^decay_rate must be <= 1, got decay_rate=1\.5$"):
        lrspec.ExponentialDecay(0.1, 10, 1.5)


# --- composition ---------------------------------------------------------------------------


def _wsd():
    """Warmup-stable-decay: 500 warmup steps, 3000 steps at 1e-3, then linear decay to 0
    over 1500 steps."""
    return lrspec.Warmup(
        lrspec.Join([lrspec.Constant(1e-3), lrspec.Linear(1e-3, 0.0, 1500)], boundaries=[3000]),
        warmup_steps=500,
    )


COMPOSED = [
    (_wsd, [0, 499, 500, 3499, 3500, 4999, 5000, 5001]),
    (
        lambda: lrspec.Warmup(
            lrspec.CosineDecay(0.1, 1000, alpha=0.1), 100, initial_learning_rate=0.0
        ),
        [0, 99, 100, 101, 1099, 1100],
    ),
    (
        lambda: lrspec.Join(
            [
                lrspec.Linear(0.0, 0.1, 10),
                lrspec.ExponentialDecay(0.1, 7, 0.5, staircase=True),
                lrspec.PiecewiseConstantDecay([5], [0.01, 0.001]),
            ],
            [10, 40],
        ),
        [9, 10, 16, 17, 39, 40, 45, 46],
    ),
]


@pytest.mark.parametrize("case", COMPOSED, ids=["wsd", "warmup-cosine", "join3"])
def test_composed_match_closed_form(backend, case):
    make, special = case
    spec = make()
    steps = np.unique(
        np.concatenate([np.arange(6000 if backend.framework != "python" else 1200), special])
    )
    got = backend.evaluate(spec, steps, _counter_dtype(backend))
    bound, dtype = _bound(backend, spec)
    exact = exact_long(spec, steps)
    scale = np.maximum(exact, LONG(1e-4))  # rising ramps: ulps of the rates they reach
    err = np.abs(np.asarray(got).astype(LONG) - exact) / ulp_of(scale, dtype)
    assert err.max() <= bound, f"step {steps[int(err.argmax())]}: {err.max():.3f} ulp"


def test_warmup_first_update_is_not_zero_unless_asked():
    inner = lrspec.CosineDecay(0.1, 1000)
    default = lrspec.Warmup(inner, 9)
    assert default(0) == pytest.approx(0.01, rel=1e-15)  # peak * 1 / (9 + 1)
    assert default(9) == inner(0) == 0.1
    assert default(10) == inner(1)
    assert all(default(k) < default(k + 1) for k in range(9))
    asked = lrspec.Warmup(inner, 9, initial_learning_rate=0.0)
    assert asked(0) == 0.0 and asked(9) == 0.1


def test_inverse_sqrt_is_vaswani():
    d_model, warmup = 512, 4000
    spec = lrspec.InverseSqrt(d_model**-0.5 * warmup**-0.5, warmup, initial_learning_rate=0.0)
    for step in [1, 100, 3999, 4000, 4001, 10**5]:
        vaswani = d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)
        assert spec(step) == pytest.approx(vaswani, rel=1e-14)


@pytest.mark.parametrize("case", COMPOSED, ids=["wsd", "warmup-cosine", "join3"])
def test_nested_configs_round_trip(case):
    spec = case[0]()
    data = json.loads(json.dumps(lrspec.serialize(spec)))
    again = lrspec.deserialize(data)
    assert again == spec
    assert type(spec).from_config(json.loads(json.dumps(spec.get_config()))) == spec
    steps = np.arange(6000)
    np.testing.assert_array_equal(again(steps), spec(steps))


def test_nested_unknown_class_is_refused():
    data = lrspec.serialize(_wsd())
    data["config"]["schedule"]["config"]["schedules"][1]["class_name"] = "Evil"
    with pytest.raises(ValueError, match="Evil"):
        lrspec.deserialize(data)


# --- exactness at any step, wrapped counters -------------------------------------------


@pytest.mark.parametrize(
    ("spec", "points"),
    [
        (
            lrspec.PiecewiseConstantDecay([2**40, 2**40 + 1], [0.3, 0.2, 0.1]),
            [(2**40, 0.3), (2**40 + 1, 0.2), (2**40 + 2, 0.1)],
        ),
        (
            lrspec.Join([lrspec.Constant(0.3), lrspec.Constant(0.1)], [2**33 + 1]),
            [(2**33, 0.3), (2**33 + 1, 0.1)],
        ),
        (
            lrspec.ExponentialDecay(1.0, 3, 0.5, staircase=True),
            [(3 * 40 - 1, 0.5**39), (3 * 40, 0.5**40)],
        ),
        (
            lrspec.CosineDecayRestarts(0.1, 1000, t_mul=2.0, m_mul=0.5),
            [(1000 * (2**k - 1), 0.1 * 0.5**k) for k in (1, 5, 20, 30)],
        ),
        (
            lrspec.CosineDecayRestarts(0.1, 3, t_mul=1.0),
            [(3 * 10**12, 0.1), (3 * 10**12 - 1, None)],
        ),
    ],
    ids=["piecewise-2^40", "join-2^33", "staircase", "restarts-t2", "restarts-t1"],
)
def test_boundaries_exact_for_integer_steps(framework, spec, points):
    if not framework.has_int64:
        pytest.skip("steps beyond 2**32 need int64 counters (JAX without x64 has none)")
    steps = [p[0] for p in points]
    got = framework.evaluate(spec, steps, "int64")
    want = [spec(p[0]) if p[1] is None else p[1] for p in points]
    np.testing.assert_array_equal(got, np.asarray(want, np.float32))
    assert np.all(got[np.array([p[1] is None for p in points])] < 0.1)


@pytest.mark.parametrize("index", range(len(ALL_CASES)), ids=ALL_IDS)
def test_never_above_initial_nor_negative(index):
    name, kw, special = ALL_CASES[index]
    spec = getattr(lrspec, name)(**kw)
    steps = np.concatenate([np.arange(0, 2 * N, 7), special, [2**40, 2**62]])
    values = spec(steps)
    assert np.all(np.isfinite(values)) and np.all(values >= 0)
    top = (
        max(
            v
            for k, v in kw.items()
            if k
            in (
                "initial_learning_rate",
                "learning_rate",
                "warmup_target",
                "end_learning_rate",
                "values",
            )
            and v is not None
            and not isinstance(v, list)
        )
        if name != "PiecewiseConstantDecay"
        else max(kw["values"])
    )
    assert values.max() <= top


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        (lrspec.Join([lrspec.Constant(0.3), lrspec.Constant(0.1)], [3 * 10**9]), [0.3, 0.1, 0.1]),
        (lrspec.PiecewiseConstantDecay([3 * 10**9], [0.3, 0.1]), [0.3, 0.3, 0.1]),
        (
            lrspec.Warmup(lrspec.Constant(0.1), 3 * 10**9, initial_learning_rate=0.0),
            [0.1, 0.1, 0.1],
        ),
        (lrspec.PolynomialDecay(0.1, 3 * 10**9, cycle=True), [1e-4, 1e-4, 0.05005]),
    ],
    ids=["join", "piecewise", "warmup", "polynomial-cycle"],
)
def test_switch_points_past_2_31(framework, spec, want):
    """Constants above 2**31 - 1 meet unsigned 32-bit counters (JAX without x64) too."""
    dtype = "int64" if framework.has_int64 else "uint32"
    got = framework.evaluate(spec, [3 * 10**9 - 1, 3 * 10**9, 3 * 10**9 + 1], dtype)
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("case", COMPOSED, ids=["wsd", "warmup-cosine", "join3"])
def test_nested_specs_through_keras_adapter(case):
    keras = pytest.importorskip("keras")
    spec = case[0]()
    schedule = spec.to_keras()
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    config = json.loads(json.dumps(keras.optimizers.serialize(optimizer)))
    rebuilt = keras.optimizers.deserialize(config)
    assert lrspec.from_keras(rebuilt._learning_rate) == spec
    steps = np.array([0, 1, 99, 100, 499, 500, 3500, 4999], np.int64)
    got = np.asarray(keras.ops.convert_to_numpy(schedule(keras.ops.convert_to_tensor(steps))))
    np.testing.assert_array_equal(got, spec(steps).astype(np.float32))
