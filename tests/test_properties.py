"""Properties over random valid specs of every registered schedule class (hypothesis),
bad-argument fuzzing of every argument, and huge/odd steps in traced code for the family.

The oracle is the one exact reference of each schedule (:mod:`lrspec.reference`, independent
of the formulas); the bounds are :data:`lrspec.reference.BOUNDS`. Strategies come from each
class's declared fields (:func:`strategy_for`), or from :data:`SPECIAL` where a class has
constraints across fields; a registered class with neither fails
``test_every_schedule_class_has_a_strategy_and_a_reference``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import warnings
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrspec
from lrspec import reference, schedules
from lrspec.schedules import SCHEDULES

L = np.longdouble

# CI: the same few examples on every run, no deadline (first calls compile). `nox -s fuzz`
# (LRSPEC_HYPOTHESIS_PROFILE=fuzz) draws many more, and new ones each run.
FUZZ = os.environ.get("LRSPEC_HYPOTHESIS_PROFILE") == "fuzz"
PROPERTY = settings(
    max_examples=int(os.environ.get("LRSPEC_FUZZ_EXAMPLES", "2000")) if FUZZ else 12,
    deadline=None,
    derandomize=not FUZZ,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


#: examples drawn per backend in this process: `nox -s fuzz` prints the totals
#: (tests/conftest.py gathers them from every xdist worker)
EXAMPLES: Counter[str] = Counter()


def oracle(spec, step: int) -> L:
    """``spec(step)`` from the one exact reference (:mod:`lrspec.reference`), as a long
    double (whose rounding is a thousandth of a float64 ulp where it is x87 extended)."""
    value = reference.exact(spec, step)
    if value == 0:
        return L(0)
    # 63 significant bits, exactly (a uint64), scaled by a power of two
    e = value.numerator.bit_length() - value.denominator.bit_length()
    mantissa = round(value * Fraction(2) ** (63 - e))
    if mantissa >= 2**64:  # e one short (bit lengths), or rounded up to 2**64
        mantissa, e = (mantissa + 1) // 2, e + 1
    return np.ldexp(L(np.uint64(mantissa)), e - 63)


def peak_rate(spec) -> float:
    """:func:`lrspec.reference.peak`, where float32 parts of a sum or product (JAX without
    x64) may round above the exact one by an ulp of float32 each."""
    return reference.peak(spec, 2.0**-23)


# --- random valid specs -------------------------------------------------------------------

rate = st.floats(1e-6, 10.0)
# (subnormal decay rates: see KNOWN_BUGS below)
length = st.one_of(st.integers(1, 10**6).map(float), st.floats(0.5, 1e6))
count = st.integers(0, 10**4)
unit = st.floats(0.0, 1.0)


def _pair(lo, hi):
    return st.tuples(lo, hi)


def _piecewise():
    return st.integers(1, 4).flatmap(
        lambda n: st.builds(
            lambda bs, vs: lrspec.PiecewiseConstantDecay(sorted(bs), vs),
            st.lists(st.integers(0, 10**7), min_size=n, max_size=n),
            st.lists(rate, min_size=n + 1, max_size=n + 1),
        )
    )


#: strategies for the arguments each field check accepts (the per-field table of
#: lrspec.schedules), used to build a strategy for any registered class
BY_CHECK = {
    schedules.check_rate: rate,
    schedules.check_optional_rate: st.none() | rate,
    schedules.check_length: length,
    schedules.check_count: count,
    schedules.check_positive_count: st.integers(1, 10**4),
    schedules.check_nonnegative: st.floats(0.0, 10.0, allow_subnormal=False),
    schedules.check_unit: unit,
    schedules.check_flag: st.booleans(),
    schedules.check_label: st.none() | st.text(max_size=8),
    schedules.check_t_mul: st.sampled_from([1.0, 1.5, 2.0]),
    schedules.check_duration: st.just(0) | length,
}


def strategy_for(cls):
    """Random valid specs of ``cls``, drawn field by field from its declared checks."""
    kwargs = {}
    for f in dataclasses.fields(cls):
        check = f.metadata.get("check")
        if check not in BY_CHECK:
            raise LookupError(f"{cls.__name__}.{f.name}: no strategy for its check {check!r}")
        kwargs[f.name] = BY_CHECK[check]
    return st.builds(cls, **kwargs)


#: classes whose arguments constrain each other, or whose ranges are narrowed on purpose
SPECIAL = {
    "InverseTimeDecay": st.builds(
        lrspec.InverseTimeDecay,
        rate,
        length,
        st.floats(0.0, 10.0, allow_subnormal=False),
        st.booleans(),
    ),
    "ExponentialDecay": st.builds(
        lrspec.ExponentialDecay, rate, length, st.floats(0.01, 1.0), st.booleans()
    ),
    "PiecewiseConstantDecay": _piecewise(),
    "PolynomialDecay": st.builds(
        lrspec.PolynomialDecay,
        rate,
        length,
        end_learning_rate=rate,
        power=st.floats(0.5, 3.0),
        cycle=st.booleans(),
    ),
    "CosineDecay": st.builds(lrspec.CosineDecay, rate, length, alpha=unit),
    "CosineDecayRestarts": st.builds(
        lrspec.CosineDecayRestarts,
        rate,
        length,
        t_mul=st.sampled_from([1.0, 1.1, 1.5, 2.0]) | st.floats(1.01, 4.0),  # (MAX_PERIODS)
        m_mul=unit,
        alpha=unit,
    ),
}
_inner = st.sampled_from(["InverseTimeDecay", "CosineDecay", "Constant", "Linear"]).flatmap(
    lambda name: SPECIAL[name] if name in SPECIAL else strategy_for(SCHEDULES[name])
)
SPECIAL["Warmup"] = st.builds(lrspec.Warmup, _inner, count, initial_learning_rate=st.none() | rate)
SPECIAL["Join"] = st.builds(
    lambda ss, b: lrspec.Join(ss, [b]), st.lists(_inner, min_size=2, max_size=2), count
)


def _anneal(shape: str, **kw):
    """Anneal specs of one shape ("exp": rates > 0, no power)."""
    power = st.just(1.0) if shape == "exp" else st.floats(0.25, 4.0)
    bounds = st.tuples(st.floats(-40.0, 0.0), st.floats(0.5, 40.0))
    return st.builds(
        lambda a, e, n, p, k, m, b: lrspec.Anneal(a, e, n, shape, p, k, m, *b),
        kw.get("a", rate),
        rate,
        kw.get("n", length),
        power,
        st.floats(0.25, 4.0),
        st.booleans(),
        bounds,
    )


SPECIAL["Anneal"] = st.sampled_from(lrspec.schedules.SHAPES).flatmap(_anneal)
SPECIAL["Cycle"] = st.tuples(length, st.sampled_from(lrspec.schedules.SHAPES)).flatmap(
    lambda ps: st.builds(
        lambda inner, mul, d, c: lrspec.Cycle(inner, ps[0], mul, d, c),
        _anneal(ps[1], n=st.just(ps[0])),
        st.sampled_from([1.0, 1.5, 2.0, 3.0]),
        unit,
        st.none() | st.integers(1, 50),
    )
)
SPECIAL["Shift"] = st.builds(
    lrspec.Shift,
    _inner,
    st.one_of(count, st.floats(0.0, 1e4, allow_subnormal=False)),
    st.one_of(st.just(1.0), st.integers(1, 8).map(float), st.floats(0.1, 10.0)),
)
SPECIAL["Sum"] = st.builds(lrspec.Sum, st.lists(_inner, min_size=1, max_size=3))
SPECIAL["Product"] = st.builds(lrspec.Product, st.lists(_inner, min_size=1, max_size=3))


def strategy(name: str):
    return SPECIAL[name] if name in SPECIAL else strategy_for(SCHEDULES[name])


def test_every_schedule_class_has_a_strategy_and_a_reference():
    """A registered schedule without either would go untested by these properties."""
    for name, cls in SCHEDULES.items():
        strategy(name)  # LookupError: a field check with no strategy
        assert callable(getattr(cls, "reference", None)), name
        assert callable(getattr(cls, "formula", None)), name


def _ulp(x: np.ndarray, dtype) -> np.ndarray:
    info = np.finfo(dtype)
    x = np.maximum(np.abs(x.astype(L)), L(info.smallest_normal))
    return np.exp2(np.floor(np.log2(x)) - info.nmant)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_random_specs_and_steps_match_the_oracle(backend, name):
    """Random valid specs at random steps: within the documented bound of the exact value;
    never NaN, inf, negative, or above the spec's largest rate."""
    check_random_specs(backend, name)


def check_random_specs(backend, name: str) -> None:
    """The property above for one registered class (tests/test_registry.py reuses it)."""
    if name not in SCHEDULES:
        pytest.fail(f"{name} is not an lrspec schedule")
    jax_f32 = backend.framework == "jax" and not backend.x64
    top = 2**53 if backend.has_int64 else 2**31 - 1
    if jax_f32 and name != "InverseTimeDecay":
        top = 2**24  # float32 steps are exact integers only up to 2**24
    dtype = "int64" if backend.has_int64 else "int32"
    out = backend.out_dtype
    key = "float32-jax" if jax_f32 else ("float64" if out == np.float64 else "float32")

    @PROPERTY
    @given(
        spec=strategy(name),
        steps=st.lists(
            st.one_of(st.integers(0, 3000), st.integers(0, top)), min_size=1, max_size=6
        ),
    )
    def check(spec, steps):
        EXAMPLES[backend.name] += 1
        got = backend.evaluate(spec, steps, dtype)
        assert np.all(np.isfinite(got)) and np.all(got >= 0), got
        assert np.all(got <= out(peak_rate(spec))), (got, peak_rate(spec))
        exact = np.array([oracle(spec, s) for s in steps], dtype=L)
        err = np.abs(got.astype(L) - exact)
        bound = reference.bound(spec, key)
        if name == "InverseTimeDecay":
            allowed = bound * _ulp(exact, out)
        else:  # rates that cancel (cosine ends, rising ramps) err in ulps of the peak
            allowed = bound * (_ulp(exact, out) + _ulp(np.array([L(peak_rate(spec))]), out))
        if out == np.float32:  # XLA and TensorFlow on CPU flush float32 subnormals to zero
            allowed = np.where(exact < L(np.finfo(np.float32).smallest_normal), exact, allowed)
            allowed = np.maximum(
                allowed, L(np.finfo(np.float32).smallest_normal)
            )  # intermediates too
        if jax_f32 and not _float32_lengths(spec):
            return  # float32 JAX rounds a length float32 cannot hold (known limits)
        assert np.all(err <= allowed * (1 + 1e-9)), (steps, got, exact, err / _ulp(exact, out))

    check()


# --- bad-argument fuzzing -----------------------------------------------------------------

BASE = {
    "InverseTimeDecay": dict(initial_learning_rate=0.1, decay_steps=10.0, decay_rate=0.5),
    "ExponentialDecay": dict(initial_learning_rate=0.1, decay_steps=10.0, decay_rate=0.5),
    "PiecewiseConstantDecay": dict(boundaries=[10, 20], values=[0.1, 0.05, 0.01]),
    "PolynomialDecay": dict(
        initial_learning_rate=0.1, decay_steps=10.0, end_learning_rate=0.01, power=2.0
    ),
    "CosineDecay": dict(
        initial_learning_rate=0.1, decay_steps=10.0, alpha=0.1, warmup_target=0.2, warmup_steps=5
    ),
    "CosineDecayRestarts": dict(
        initial_learning_rate=0.1, first_decay_steps=10.0, t_mul=2.0, m_mul=0.5, alpha=0.1
    ),
    "Constant": dict(learning_rate=0.1),
    "Linear": dict(initial_learning_rate=0.1, end_learning_rate=0.01, transition_steps=10.0),
    "InverseSqrt": dict(learning_rate=0.1, warmup_steps=10, initial_learning_rate=0.01),
    "Warmup": dict(schedule=lrspec.Constant(0.1), warmup_steps=10, initial_learning_rate=0.01),
    "Join": dict(schedules=[lrspec.Constant(0.1), lrspec.Constant(0.01)], boundaries=[10]),
    # (Anneal's tanh_lower/tanh_upper may be negative: not in these lists)
    "Anneal": dict(
        initial_learning_rate=0.1,
        end_learning_rate=0.01,
        transition_steps=10.0,
        power=2.0,
        progress_power=1.5,
    ),
    "Cycle": dict(
        schedule=lrspec.Anneal(0.1, 0.0, 10.0),
        period=10.0,
        period_mul=2.0,
        decay=0.5,
        cycles=3,
    ),
    "Shift": dict(schedule=lrspec.Constant(0.1), steps=5, scale=2.0),
    "Sum": dict(schedules=[lrspec.Constant(0.1), lrspec.Constant(0.01)]),
    "Product": dict(schedules=[lrspec.Constant(0.1), lrspec.Constant(0.5)]),
}

SCALAR_ARGS = [
    (name, arg)
    for name, kw in BASE.items()
    for arg, value in kw.items()
    if isinstance(value, (int, float)) and not isinstance(value, bool)
]
LIST_ARGS = [(name, arg) for name, kw in BASE.items() for arg, v in kw.items() if type(v) is list]

# Every scalar argument of every schedule is a finite, non-negative number: these never are.
MUST_FAIL = [
    math.nan,
    math.inf,
    -math.inf,
    -1.0,
    -1,
    "0.1",
    b"1",
    None,
    True,
    False,
    [0.1],
    (0.1,),
    {"value": 0.1},
    np.array([0.1]),
    np.bool_(True),
    np.float32("nan"),
    np.float64("-inf"),
    np.int64(-3),
    complex(0.1, 0),
]
# Either a clear error or a spec whose rates are finite, >= 0 and within its parameters.
EITHER = [0, 0.0, 1e300, 1e-300, 5e-324, 2**63, 2.5]

# Accepted at construction, then the first evaluation raises OverflowError: 1 / decay_rate
# overflows float64 in _math.quotient_constants (float(offset) before its range check).
KNOWN_BUGS: dict[tuple[str, str, float], str] = {}

STEPS = np.array([0, 1, 5, 9, 10, 11, 20, 100, 10**6, 2**40], dtype=np.int64)


def _optional(name: str, arg: str) -> bool:
    """Whether ``arg`` may be left out, and then is None."""
    try:
        spec = SCHEDULES[name](**{k: v for k, v in BASE[name].items() if k != arg})
    except TypeError:
        return False
    return getattr(spec, arg) is None


def _check_error(err: BaseException, arg: str, value: object) -> None:
    assert isinstance(err, (ValueError, TypeError)), repr(err)
    message = str(err)
    assert arg in message, message
    shown = {repr(value), str(value)}
    if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
        shown |= {repr(float(value)), repr(int(value)) if float(value).is_integer() else ""}
    shown.discard("")
    assert any(s[:12] in message for s in shown), message


def _check_accepted(spec) -> None:
    got = np.asarray(spec(STEPS))
    assert np.all(np.isfinite(got)) and np.all(got >= 0)
    assert np.all(got <= peak_rate(spec))
    json.dumps(lrspec.serialize(spec))


@pytest.mark.parametrize("value", MUST_FAIL, ids=repr)
@pytest.mark.parametrize(("name", "arg"), SCALAR_ARGS, ids=[f"{n}.{a}" for n, a in SCALAR_ARGS])
def test_bad_scalar_arguments_are_refused_naming_argument_and_value(name, arg, value):
    if value is None and _optional(name, arg):
        _check_accepted(SCHEDULES[name](**{**BASE[name], arg: None}))
        return
    with pytest.raises((ValueError, TypeError)) as info:
        SCHEDULES[name](**{**BASE[name], arg: value})
    _check_error(info.value, arg, value)


@pytest.mark.parametrize("value", [10**400, -(10**400)], ids=["10**400", "-10**400"])
@pytest.mark.parametrize(("name", "arg"), SCALAR_ARGS, ids=[f"{n}.{a}" for n, a in SCALAR_ARGS])
def test_integers_beyond_float_range_are_refused_with_value_error(name, arg, value):
    """``math.isfinite(10**400)`` raises OverflowError (not a ValueError): the validation
    must turn it into the error it promises, naming the argument."""
    with pytest.raises(ValueError) as info:
        SCHEDULES[name](**{**BASE[name], arg: value})
    assert arg in str(info.value)


@pytest.mark.parametrize("value", EITHER, ids=repr)
@pytest.mark.parametrize(("name", "arg"), SCALAR_ARGS, ids=[f"{n}.{a}" for n, a in SCALAR_ARGS])
def test_edge_scalar_arguments_are_refused_or_give_sane_rates(request, name, arg, value):
    if (name, arg, value) in KNOWN_BUGS:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name, arg, value]))
    try:
        spec = SCHEDULES[name](**{**BASE[name], arg: value})
    except (ValueError, TypeError) as err:
        _check_error(err, arg, value)
    else:
        assert getattr(spec, arg) == value
        _check_accepted(spec)


@pytest.mark.parametrize(
    "value", [None, "0.1", 0.1, {"a": 1}, [math.nan], [None], ["x"], [[1]]], ids=repr
)
@pytest.mark.parametrize(("name", "arg"), LIST_ARGS, ids=[f"{n}.{a}" for n, a in LIST_ARGS])
def test_bad_list_arguments_are_refused(name, arg, value):
    with pytest.raises((ValueError, TypeError)) as info:
        SCHEDULES[name](**{**BASE[name], arg: value})
    assert arg in str(info.value)


def _zero_d(kind: str, value: float | int):
    if kind == "numpy-scalar":
        return np.float32(value) if isinstance(value, float) else np.int32(value)
    if kind == "numpy-0d":
        return np.array(value)
    if kind == "torch":
        return pytest.importorskip("torch").tensor(value)
    if kind == "jax":
        return pytest.importorskip("jax.numpy").asarray(value)
    return pytest.importorskip("tensorflow").constant(value)


@pytest.mark.parametrize("kind", ["numpy-scalar", "numpy-0d", "torch", "jax", "tensorflow"])
@pytest.mark.parametrize(("name", "arg"), SCALAR_ARGS, ids=[f"{n}.{a}" for n, a in SCALAR_ARGS])
def test_zero_d_arrays_of_every_framework_are_numbers(name, arg, kind):
    """A 0-d array is its number: the spec equals the one built from the Python number, and
    its config stays plain JSON."""
    value = BASE[name][arg]
    given_value = _zero_d(kind, value)
    spec = SCHEDULES[name](**{**BASE[name], arg: given_value})
    stored = getattr(spec, arg)
    assert type(stored) in (int, float)
    assert stored == float(np.asarray(given_value)) or stored == int(np.asarray(given_value))
    assert spec == SCHEDULES[name](**{**BASE[name], arg: stored})
    json.dumps(spec.get_config())
    np.testing.assert_array_equal(
        spec(STEPS), SCHEDULES[name](**{**BASE[name], arg: stored})(STEPS)
    )


# --- huge and odd steps in traced code, for the family ------------------------------------

FAMILY_SPECS = {
    name: SCHEDULES[name](**kw) for name, kw in BASE.items() if name != "InverseTimeDecay"
}
FAMILY_SPECS["ExponentialDecay-staircase"] = lrspec.ExponentialDecay(0.1, 1000, 0.5, True)
FAMILY_SPECS["CosineDecayRestarts-t1"] = lrspec.CosineDecayRestarts(0.1, 1000, t_mul=1.0)
FAMILY_SPECS["InverseTimeDecay"] = lrspec.InverseTimeDecay(0.1, 1.0, 0.5)
FAMILY_SPECS["InverseTimeDecay-staircase"] = lrspec.InverseTimeDecay(0.1, 1000, 0.5, True)


def traced(framework, spec, values, dtype):
    """``spec`` evaluated inside the framework's compiler (one trace for the whole vector)."""
    if framework.framework == "torch":
        torch = framework.module
        # first use outside the compiler (tests/test_torch.py covers a first use inside it)
        spec(torch.tensor(0))
        torch._dynamo.reset()  # one lambda compiled for many specs: no recompile limit
        fn = torch.compile(lambda s: spec(s), backend="eager", fullgraph=True)
        return fn(torch.tensor(np.asarray(values, dtype))).numpy()
    if framework.framework == "jax":
        import jax
        import jax.numpy as jnp

        with jax.enable_x64(framework.x64):
            return np.asarray(jax.jit(lambda s: spec(s))(jnp.asarray(np.asarray(values, dtype))))
    tf = framework.module
    return tf.function(lambda s: spec(s), jit_compile=True)(
        tf.constant(np.asarray(values, dtype))
    ).numpy()


def _wrap32(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31


@pytest.mark.parametrize("name", sorted(FAMILY_SPECS))
def test_traced_wrapped_int32_counter_reads_modulo_2_32(framework, name):
    """In compiled code an int32 counter at 2**31 - 1 and past it (wrapped negative) is read
    modulo 2**32: the rate is the one of the true count, within the spec's bound of the exact
    value, never the rate of step 0 nor negative. Eager evaluation of the wrapped counter
    gives the bits of the same count as an int64 (a Python int where there is none)."""
    spec = FAMILY_SPECS[name]
    counts = [0, 1, 999, 1000, 2**24 + 1, 2**31 - 1, 2**31, 2**31 + 1, 2**31 + 1000]
    counts += [2**32 - 1000, 2**32 - 1]
    wrapped = [_wrap32(c) for c in counts]
    want = np.float32([float(oracle(spec, c)) for c in counts])
    # float32 phases past 2**24 round in JAX without x64: the rate at the rounded count too
    near = np.float32([float(oracle(spec, int(np.float32(c)))) for c in counts])
    jax_f32 = framework.framework == "jax" and not framework.x64
    rtol = reference.bound(spec, "float32-jax" if jax_f32 else "float32") * 2**-23
    eager = framework.evaluate(spec, wrapped, "int32")
    for got in (traced(framework, spec, wrapped, "int32"), eager):
        assert np.all(np.isfinite(got)) and np.all(got >= 0)
        assert np.all(got <= np.float32(peak_rate(spec)))
        if jax_f32:
            ok = np.isclose(got, want, rtol=rtol, atol=1e-9)
            assert np.all(ok | np.isclose(got, near, rtol=rtol, atol=1e-9)), (got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=rtol, atol=2**-23 * peak_rate(spec))
    if framework.has_int64:
        np.testing.assert_array_equal(eager, framework.evaluate(spec, counts, "int64"))
        np.testing.assert_array_equal(eager, np.float32([spec(c) for c in counts]))


@pytest.mark.parametrize("name", sorted(FAMILY_SPECS))
def test_traced_negative_and_float_steps(framework, name):
    """Negative steps that traced code cannot refuse are read as step 0 (int64 and float);
    float steps give the rate of their value."""
    spec = FAMILY_SPECS[name]
    at0 = np.float32(spec(0))
    got = traced(framework, spec, [-5.0, -0.5, 0.0, 10.0, 1000.0, 12345.0], "float32")
    np.testing.assert_allclose(got[:3], [at0] * 3, rtol=8 * 2**-23, atol=2**-23 * peak_rate(spec))
    want = np.float32([spec(10.0), spec(1000.0), spec(12345.0)])
    np.testing.assert_allclose(got[3:], want, rtol=8 * 2**-23, atol=2**-23 * peak_rate(spec))
    if framework.has_int64:
        got = traced(framework, spec, [-(2**62), -1, 0, 2**53, 2**62], "int64")
        assert np.all(np.isfinite(got)) and np.all(got >= 0)
        np.testing.assert_array_equal(got[:3], [at0] * 3)
        np.testing.assert_allclose(
            got[3:],
            np.float32([spec(2**53), spec(2**62)]),
            rtol=2**-23,
            atol=2**-23 * peak_rate(spec),
        )


# --- the whole accepted range (issue 12): every backend, every schedule, every counter ----

F32_MAX = float(np.finfo(np.float32).max)
#: arguments over the whole range each field check accepts (schedules.LENGTH_MIN/MAX,
#: SCALAR_MAX, rates from 5e-324 to float32's max, counts up to 2**63 - 1); checks not
#: listed draw from BY_CHECK
WHOLE_BY_CHECK = {
    schedules.check_rate: st.sampled_from([0.0, 5e-324, 1e-300, 1e-38, 1e-7, 0.1, 1.0, F32_MAX])
    | st.floats(0.0, F32_MAX),
    schedules.check_optional_rate: st.none() | st.floats(0.0, F32_MAX),
    schedules.check_length: st.sampled_from([schedules.LENGTH_MIN, 1.0, 2.5, float(2**53)])
    | st.floats(schedules.LENGTH_MIN, schedules.LENGTH_MAX)
    | st.integers(1, 2**53).map(float),
    schedules.check_duration: st.just(0) | st.floats(schedules.LENGTH_MIN, schedules.LENGTH_MAX),
    schedules.check_count: st.integers(0, 2**63 - 1) | count,
    schedules.check_positive_count: st.integers(1, 2**63 - 1) | count,
    schedules.check_nonnegative: st.sampled_from([0.0, 5e-324, 1e-300, 1.0, 2.0**64])
    | st.floats(0.0, 2.0**64),
    # fractional t_mul too: restart points are double-floats (formulas.py, _restart_phase);
    # specs with more than MAX_PERIODS restarts are refused (None, below)
    schedules.check_t_mul: st.sampled_from([1.0, 1.01, 1.1, 1.37, 1.5, 2.0, 2.5, 2.0**32])
    | st.integers(1, 2**32).map(float)
    | st.floats(1.0, 8.0)
    | st.floats(1.0, 2.0**32),
}
WHOLE_CLASSES = [n for n in sorted(SCHEDULES) if n not in ("Join", "Warmup", "Sum", "Product")]


def _built_or_none(cls, kwargs):
    """The spec, or None where a check across fields refuses the combination (those
    refusals are the bad-argument tests' business)."""
    try:
        return cls(**kwargs)
    except ValueError:
        return None


def whole_range(name: str):
    """Specs of ``name`` with arguments over their whole accepted range; composites and
    classes with their own strategy take their usual one, with whole-range parts."""
    cls = SCHEDULES[name]
    kwargs = {}
    for f in dataclasses.fields(cls):
        check = f.metadata.get("check")
        if check in WHOLE_BY_CHECK:
            kwargs[f.name] = WHOLE_BY_CHECK[check]
        elif check in BY_CHECK:
            kwargs[f.name] = BY_CHECK[check]
        else:
            return strategy(name)
    return (
        st.fixed_dictionaries(kwargs)
        .map(lambda kw: _built_or_none(cls, kw))
        .filter(lambda spec: spec is not None)
        # (the reference's 50 digits cannot hold 1 - q**power for a power below 1e-30)
        .filter(lambda spec: not 0 < getattr(spec, "power", 1) < 1e-30)
    )


INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def _read(step: int, dtype: str, backend) -> int:
    """The step a backend reads from ``step`` stored as ``dtype``: narrow signed counters
    (int8/16/32) modulo 2**bits (they wrap), other negatives as 0 (traced code cannot
    refuse them; the eager backends raise instead and are not given them)."""
    bits = np.iinfo(dtype).bits
    if dtype in ("int8", "int16", "int32"):
        return step % 2**bits
    return max(step, 0)


def _native(backend, values: np.ndarray):
    """``values`` (their dtype kept) as the backend's own step array."""
    if backend.framework == "python":
        return [int(v) for v in values]
    if backend.framework == "numpy":
        return values
    if backend.framework == "torch":
        return backend.module.from_numpy(values)
    if backend.framework == "jax":
        import jax.numpy as jnp

        return jnp.asarray(values)
    return backend.module.constant(values)


@pytest.mark.parametrize("name", WHOLE_CLASSES)
def test_whole_range_specs_and_counters_on_every_backend(backend, name):
    """Arguments over the whole accepted range, steps over the whole range of every integer
    dtype the backend has (signed and unsigned, 8 to 64 bits): never a RuntimeWarning, NaN,
    inf, negative rate or one above the spec's largest; step 0 exactly the initial rate;
    within the documented bound of the exact value (in ulps of the value and of the peak)
    wherever the step is exact in the compute float (below 2**53; float32 JAX: 2**24)."""
    jax_f32 = backend.framework == "jax" and not backend.x64
    eager = backend.framework in ("python", "numpy")
    dtypes = [d for d in INT_DTYPES if not (jax_f32 and np.iinfo(d).bits == 64)]
    out = backend.out_dtype
    key = "float32-jax" if jax_f32 else ("float64" if out == np.float64 else "float32")

    @PROPERTY
    @given(spec=whole_range(name), dtype=st.sampled_from(dtypes), data=st.data())
    def check(spec, dtype, data):
        EXAMPLES[backend.name] += 1
        info = np.iinfo(dtype)
        low = 0 if eager else int(info.min)
        special = [v for v in (0, 1, 2**24 + 1, 2**31 - 1, 2**53 + 1, 2**63) if v <= info.max]
        values = data.draw(
            st.lists(
                st.sampled_from([*special, int(info.max)]) | st.integers(low, int(info.max)),
                min_size=1,
                max_size=5,
            )
        )
        steps = np.array([0, *values], dtype=dtype)
        with backend.context(), warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            got = np.asarray(backend.to_numpy(backend_call(spec, _native(backend, steps))))
        got = np.asarray(got, dtype=np.float64).reshape(-1)
        assert np.all(np.isfinite(got)) and np.all(got >= 0), (steps, got)
        peak = peak_rate(spec)
        assert np.all(got <= out(peak)), (steps, got, peak)
        # step 0: the same bits as the Python backend, where the exact rate there is a
        # float64 (not for tanh shapes, whose start is transcendental: each backend's own
        # exp/log round its last bit; within the bound, below)
        at0 = out(spec(0))
        start = reference.exact(spec, 0)
        if Fraction(float(start)) != start:
            pass
        elif at0 < np.finfo(np.float32).smallest_normal and out == np.float32:
            assert got[0] in (at0, 0.0), (got[0], at0)  # XLA/TF flush subnormals to zero
        elif not jax_f32:  # (float32 JAX: within its bound, below)
            assert got[0] == at0, (got[0], at0)
        read = [_read(int(v), dtype, backend) for v in steps.tolist()]
        exact = np.array([oracle(spec, r) for r in read], dtype=L)
        limit = 2**24 if jax_f32 and name != "InverseTimeDecay" else 2**53
        if backend.framework == "torch" and dtype == "uint64":
            limit = min(limit, 2**53)  # torch reads uint64 through float64
        close = np.array(read) < limit
        if jax_f32 and not _float32_lengths(spec):
            close[:] = False  # float32 JAX rounds a length float32 cannot hold (known limits)
        bound = reference.bound(spec, key)
        allowed = bound * (_ulp(exact, out) + _ulp(np.array([L(peak)]), out))
        if out == np.float32:  # XLA and TensorFlow on CPU flush float32 subnormals to zero
            allowed = np.where(exact < L(np.finfo(np.float32).smallest_normal), exact, allowed)
            allowed = np.maximum(
                allowed, L(np.finfo(np.float32).smallest_normal)
            )  # intermediates too
        err = np.abs(got.astype(L) - exact)
        assert np.all((err <= allowed * (1 + 1e-9)) | ~close), (read, got, exact)

    check()


def backend_call(spec, steps):
    """``spec`` on native steps (Python: one call per step)."""
    if isinstance(steps, list):
        return [spec(s) for s in steps]
    return spec(steps)


def _float32_lengths(spec) -> bool:
    """Whether every length in ``spec`` (and its parts) is a float32, and every ``Shift``
    keeps integer steps: float32 JAX computes with the float32-rounded length otherwise, and
    takes a fractional ``Shift``'s step as float32 (docs/guarantees.md)."""
    if isinstance(spec, lrspec.Shift) and not (
        float(spec.scale).is_integer() and float(spec.steps).is_integer()
    ):
        return False
    for field, value in spec.get_config().items():
        length = "steps" in field or field in ("period", "scale")
        if length and isinstance(value, float) and float(np.float32(value)) != value:
            return False
    return all(_float32_lengths(part) for part in spec.parts)
