"""Reliability under hostile input (issue 12): extreme but accepted arguments on every
backend, huge and unusual steps, the CLI's bad inputs, untrusted configs that would cost
time or memory, and validation gaps. Each test failed before its fix.

The oracle is :mod:`lrspec.reference` (never a second copy of a formula here).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from fractions import Fraction

import numpy as np
import pytest
from oracle import assert_within_bound

import lrspec
from lrspec import reference, schedules
from lrspec.cli import main as cli_main

TINY_LENGTH = 2.0**-24


def _exact32(spec, step) -> np.float32:
    return np.float32(float(reference.exact(spec, step)))


def _evaluate(backend, spec, values, dtype="int64"):
    """``spec`` on ``backend`` with RuntimeWarning as an error (library code must not warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return backend.evaluate(spec, values, dtype)


# --- 1. extreme but accepted arguments: every backend finite and right, or refused --------

#: the issue's examples and their kin: each is refused with an error naming the argument,
#: or accepted and then finite and right on every backend
EXTREMES = {
    "InverseTimeDecay(0.1, 1.0, 1e300)": lambda: lrspec.InverseTimeDecay(0.1, 1.0, 1e300),
    "InverseTimeDecay(0.1, 1e-30, 1e10)": lambda: lrspec.InverseTimeDecay(0.1, 1e-30, 1e10),
    "InverseTimeDecay(3e38, 1e-30, 1e300, True)": lambda: lrspec.InverseTimeDecay(
        3e38, 1e-30, 1e300, True
    ),
    "CosineDecay(0.1, 1e-30)": lambda: lrspec.CosineDecay(0.1, 1e-30),
    "CosineDecay(0.1, 1e300)": lambda: lrspec.CosineDecay(0.1, 1e300),
    "CosineDecay warmup_steps=1e-300": lambda: lrspec.CosineDecay(
        0.1, 10.0, warmup_target=0.2, warmup_steps=1e-300
    ),
    "ExponentialDecay(0.1, 1e-30, 0.5)": lambda: lrspec.ExponentialDecay(0.1, 1e-30, 0.5),
    "PolynomialDecay power=1e300": lambda: lrspec.PolynomialDecay(0.1, 10.0, 0.0, 1e300),
    "CosineDecayRestarts(0.1, 1e-30)": lambda: lrspec.CosineDecayRestarts(0.1, 1e-30),
    "CosineDecayRestarts t_mul=1+2**-52": lambda: lrspec.CosineDecayRestarts(
        0.1, 1.0, t_mul=1 + 2**-52
    ),
    "Linear(3e38, 0, 1e300)": lambda: lrspec.Linear(3e38, 0.0, 1e300),
    "InverseTimeDecay decay_steps=2**53+1": lambda: lrspec.InverseTimeDecay(0.1, 2**53 + 1, 0.5),
}


@pytest.mark.parametrize("name", sorted(EXTREMES))
def test_extreme_arguments_are_refused_naming_argument_and_value(name):
    with pytest.raises(ValueError) as info:
        EXTREMES[name]()
    message = str(info.value)
    assert "=" in message, message  # names the argument and the value


#: specs at the edges of the accepted ranges (schedules.LENGTH_MIN/MAX, SCALAR_MAX, rates
#: from 5e-324 to float32's max): accepted, and finite and right on every backend
EDGES = {
    "ITD tiny length, rate 2**64": lrspec.InverseTimeDecay(0.1, TINY_LENGTH, 2.0**64),
    "ITD staircase tiny length, rate 2**64": lrspec.InverseTimeDecay(
        3e38, TINY_LENGTH, 2.0**64, True
    ),
    "ITD subnormal rate": lrspec.InverseTimeDecay(0.1, 1.0, 5e-324),
    "ITD max length": lrspec.InverseTimeDecay(0.1, 2.0**53, 2.0**64),
    "Cosine tiny length": lrspec.CosineDecay(0.1, TINY_LENGTH),
    "Cosine max length": lrspec.CosineDecay(3.4e38, 2.0**53, alpha=0.5),
    "Cosine tiny warmup": lrspec.CosineDecay(
        0.1, 10.0, warmup_target=3.4e38, warmup_steps=TINY_LENGTH
    ),
    "Exponential tiny length": lrspec.ExponentialDecay(0.1, TINY_LENGTH, 0.5),
    "Exponential subnormal rate": lrspec.ExponentialDecay(0.1, TINY_LENGTH, 5e-324),
    "Polynomial power 2**64": lrspec.PolynomialDecay(0.1, 2.0**53, 0.0, 2.0**64),
    "Polynomial rising power 2**64": lrspec.PolynomialDecay(1e-3, 2.0**53, 3.4e38, 2.0**64),
    "Polynomial tiny power cycle": lrspec.PolynomialDecay(0.1, 3.5, 1e-3, 1e-300, cycle=True),
    "Restarts tiny length": lrspec.CosineDecayRestarts(0.1, TINY_LENGTH),
    "Restarts tiny length t_mul=1": lrspec.CosineDecayRestarts(0.1, TINY_LENGTH, t_mul=1.0),
    "Restarts t_mul=2**32": lrspec.CosineDecayRestarts(0.1, TINY_LENGTH, t_mul=2**32),
    "Restarts alpha=1, growing m_mul": lrspec.CosineDecayRestarts(
        1e-7, 1e-7, t_mul=2.0, m_mul=2.0**53, alpha=1.0
    ),
    "Restarts growing m_mul, huge rate": lrspec.CosineDecayRestarts(
        1e30, 1e-7, t_mul=1.5, m_mul=1e6, alpha=1e-7
    ),
    "Linear max length": lrspec.Linear(3.4e38, 0.0, 2.0**53),
    "InverseSqrt huge warmup": lrspec.InverseSqrt(0.1, 2**62, initial_learning_rate=2.0**63),
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_edge_specs_are_finite_and_right_on_every_backend(backend, name):
    """No NaN, inf, negative, RuntimeWarning; step 0 exact; the value of the reference (in
    ulps of the spec's largest rate: the phases of float32 JAX past 2**24 round)."""
    spec = EDGES[name]
    top = 2**32 - 1 if backend.has_int64 is False else 2**63 - 1
    steps = [0, 1, 2, 3, 10, 1000, 2**24 + 1, 2**31 - 1, 2**32 - 1, top]
    got = _evaluate(backend, spec, steps, "int64" if backend.has_int64 else "uint32")
    assert np.all(np.isfinite(got)) and np.all(got >= 0), got
    out = backend.out_dtype
    assert got[0] == out(spec(0)), (got[0], spec(0))
    exact = np.array([float(reference.exact(spec, s)) for s in steps])
    peak = float(max(exact.max(), float(np.max(got))))
    jax_f32 = backend.framework == "jax" and not backend.x64
    # float phases: float32 JAX exact below 2**24; growing restart periods below 2**53
    limit = 2**24 if jax_f32 else (2**53 if getattr(spec, "t_mul", 1) != 1 else 2**64)
    check = np.array(steps) < limit
    ulp = float(np.finfo(out).eps) * peak
    err = np.abs(got.astype(np.float64) - exact)
    assert np.all(err[check] <= 16 * ulp + np.abs(exact[check]) * 1e-5), (steps, got, exact)


# --- 2. huge and unusual steps ------------------------------------------------------------

CYCLIC = {
    "ITD staircase": lrspec.InverseTimeDecay(0.1, 10.0, 0.5, True),
    "Restarts t_mul=1": lrspec.CosineDecayRestarts(0.1, 1000.0, t_mul=1.0),
    "Restarts t_mul=1, d=2.5": lrspec.CosineDecayRestarts(0.1, 2.5, t_mul=1.0),
    "Polynomial cycle": lrspec.PolynomialDecay(0.1, 1000.0, 0.0, cycle=True),
    "Polynomial cycle, d=2.5": lrspec.PolynomialDecay(0.1, 2.5, 1e-3, power=2.0, cycle=True),
    "Cosine warmup": lrspec.CosineDecay(0.1, 7.75, warmup_target=1.0, warmup_steps=2.0**53),
    "Join at 2**62": lrspec.Join([lrspec.Constant(0.1), lrspec.Linear(0.1, 0.0, 2.0**53)], [2**62]),
    "Piecewise at 2**62+1": lrspec.PiecewiseConstantDecay([2**62 + 1], [0.1, 0.2]),
}


@pytest.mark.parametrize("name", sorted(CYCLIC))
def test_integer_steps_past_2_53_keep_their_phase(backend, name):
    """int64 steps past 2**53 (not exact as float64): the exact step's rate, to float32's
    (or float64's) rounding, on every backend with 64-bit integers."""
    if not backend.has_int64:
        pytest.skip("JAX without x64 holds steps below 2**32 only")
    spec = CYCLIC[name]
    steps = [2**53 + 1, 2**53 + 3, 2**62 + 7, 2**63 - 1]
    got = _evaluate(backend, spec, steps)
    want = np.array([float(reference.exact(spec, s)) for s in steps], dtype=backend.out_dtype)
    np.testing.assert_allclose(got, want, rtol=4 * np.finfo(backend.out_dtype).eps, atol=1e-300)


@pytest.mark.parametrize("name", sorted(CYCLIC))
def test_uint64_counters_past_2_63_never_wrap(backend, name):
    """A uint64 counter past 2**63 is its value: never negative, never back to step 0's rate.
    torch (no uint64 arithmetic) reads uint64 through float64: the rate of the step rounded
    to float64."""
    if not backend.has_int64:
        pytest.skip("JAX without x64 holds steps below 2**32 only")
    spec = CYCLIC[name]
    steps = [5, 2**63 - 1, 2**63, 2**63 + 12345, 2**64 - 1]
    got = _evaluate(backend, spec, steps, "uint64")
    assert np.all(np.isfinite(got)) and np.all(got >= 0), got
    want = np.array([float(reference.exact(spec, s)) for s in steps], dtype=backend.out_dtype)
    close = np.isclose(got, want, rtol=4 * np.finfo(backend.out_dtype).eps, atol=1e-300)
    if backend.framework == "torch":  # or the rate at the step rounded to float64
        read = [int(float(s)) for s in steps]
        rounded = np.array([float(reference.exact(spec, s)) for s in read], backend.out_dtype)
        close |= np.isclose(got, rounded, rtol=4 * np.finfo(backend.out_dtype).eps, atol=1e-300)
    assert np.all(close), (got, want)


FAMILY = {
    "ITD": lrspec.InverseTimeDecay(0.1, 10.0, 0.5),
    "Exponential": lrspec.ExponentialDecay(0.1, 10.0, 0.5),
    "Exponential staircase": lrspec.ExponentialDecay(0.1, 10.0, 0.5, True),
    "Cosine": lrspec.CosineDecay(0.1, 1000.0, alpha=0.1),
    "Polynomial": lrspec.PolynomialDecay(0.1, 1000.0, 0.01, power=2.0),
    "InverseSqrt": lrspec.InverseSqrt(0.1, 100),
}


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_huge_float_steps_give_the_final_rate(framework, name):
    """A float step near float32's max (traced, where nothing refuses it): the exact rate at
    that step (~0 or the final rate), never the initial rate nor NaN."""
    from test_properties import traced

    spec = FAMILY[name]
    got = traced(framework, spec, [3.0e38, 1e30, 0.0], "float32")
    want = np.float32([float(reference.exact(spec, int(np.float32(v)))) for v in (3.0e38, 1e30)])
    assert np.all(np.isfinite(got)), got
    np.testing.assert_allclose(got[:2], want, rtol=1e-6, atol=1e-30)
    assert got[2] == np.float32(spec(0))


#: FAMILY and the cyclic schedules, whose phase at an infinite step is NaN
NON_FINITE = {
    **FAMILY,
    **CYCLIC,
    "Restarts t_mul=2": lrspec.CosineDecayRestarts(0.1, 10.0, t_mul=2.0),
    "CosineDecay": lrspec.CosineDecay(0.1, 100.0),
}


@pytest.mark.parametrize("name", sorted(NON_FINITE))
def test_traced_inf_is_the_largest_step_and_nan_gives_nan(framework, name):
    """Traced code cannot refuse a non-finite float step: inf reads as the compute float's
    largest step (was NaN for cyclic schedules), NaN gives a NaN rate (was a rate that
    looked right, often the initial one)."""
    from test_properties import traced

    spec = NON_FINITE[name]
    dtype = "float32" if framework.kind == "float32-jax" else "float64"
    got = traced(framework, spec, [np.inf, np.finfo(dtype).max, np.nan], dtype)
    assert np.isfinite(got[0]) and got[0] == got[1], got
    assert np.isnan(got[2]), got


#: t_mul just above 1 with the longest periods (MAX_PERIODS allows t - 1 this small only
#: there): past the double-floats, float32 JAX's t**k - 1 cancelled to 0 (nox -s fuzz found
#: CosineDecayRestarts(1e-38, 2**52, t_mul=1 + 2**-52, m_mul=2**64) a period late at step 1)
NEAR_ONE = {
    "t_mul=1+2**-52": lrspec.CosineDecayRestarts(0.1, 2.0**52, t_mul=1 + 2**-52, m_mul=2.0),
    "t_mul=1+2**-20": lrspec.CosineDecayRestarts(0.1, 2.0**53, t_mul=1 + 2**-20, m_mul=2.0),
    "t_mul=1.0001": lrspec.CosineDecayRestarts(0.1, 2.0**53, t_mul=1.0001, m_mul=0.5),
}


@pytest.mark.parametrize("name", sorted(NEAR_ONE))
def test_restarts_with_t_mul_near_1_start_in_the_first_period(backend, name):
    spec = NEAR_ONE[name]
    steps = [0, 1, 2**24, 2**31 - 1]
    got = _evaluate(backend, spec, steps, "int64" if backend.has_int64 else "int32")
    assert_within_bound(spec, steps, got, backend.kind)


#: found by nox -s fuzz: a shape exponential in the rounded phase p ** progress_power
AMPLIFIED = {
    "tanh k=3": lrspec.Anneal(0.03125, 1.0, 1000.0, "tanh", 2.0, 3.0, True, -34.375, 1.0),
    "exp k=3": lrspec.Anneal(1e-30, 1.0, 1000.0, "exp", progress_power=3.0, mirror=True),
}


@pytest.mark.parametrize("name", sorted(AMPLIFIED))
def test_exponential_shapes_of_a_powered_phase_are_within_their_gain(backend, name):
    """Up to 53 float64 ulps (tanh), 85 (exp), 130 float32 ulps in JAX: the phase's rounding
    times the exponent's range, which reference.gain adds to the bound (6 and 8 before)."""
    spec = AMPLIFIED[name]
    assert reference.gain(spec) > 100
    steps = list(range(3000))
    assert_within_bound(spec, steps, _evaluate(backend, spec, steps), backend.kind)


#: restarts whose periods pass 2**64 steps (float32 squares of their lengths overflow) and
#: whose period index, at t_mul=1.05, passes the ones reachable below step 2**64
RESTARTS_FAR = {
    "t_mul=2": lrspec.CosineDecayRestarts(0.1, 10.0, t_mul=2.0),
    "t_mul=1.05": lrspec.CosineDecayRestarts(0.1, 7.3, t_mul=1.05, m_mul=0.9, alpha=0.1),
}


@pytest.mark.parametrize("name", sorted(RESTARTS_FAR))
def test_restarts_at_float32_steps_up_to_its_max_are_right(backend, name):
    """Any float32 step: the rate at that step. Before, float32 JAX squared lengths past
    2**64 into inf (the initial rate at 1e20, NaN from 1e30), and every backend stopped
    counting periods at step 2**64 (a wrong phase past it)."""
    spec = RESTARTS_FAR[name]
    values = np.float32([1e20, 1e30, 3e38, 3.4e38])
    got = _evaluate(backend, spec, values, "float32")
    if backend.kind == "float32-jax":  # past its double-floats, phases in float32 (a limit)
        want = [float(reference.exact(spec, int(v))) for v in values.tolist()]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * spec.initial_learning_rate)
    else:
        assert_within_bound(spec, [int(v) for v in values.tolist()], got, backend.kind)


@pytest.mark.parametrize("name", sorted(RESTARTS_FAR))
def test_restarts_past_2_128_stop_at_the_end_of_a_period_without_warnings(backend, name):
    """Float64 steps past 2**128 (no counter reaches them): the end of a period, i.e. the
    rate's floor, with no overflow warning (the cosine's squares overflowed before)."""
    if backend.out_dtype != np.float64 and backend.kind != "float32":
        pytest.skip("float64 steps need float64 computation")
    spec = RESTARTS_FAR[name]
    got = _evaluate(backend, spec, [1e50, 1e300, 1.7e308], "float64")
    floor = backend.out_dtype(spec.initial_learning_rate * spec.alpha)
    np.testing.assert_allclose(got, [floor] * 3, rtol=2**-50, atol=0)


@pytest.mark.parametrize(
    "spec",
    [
        lrspec.PolynomialDecay(0.01, 100.0, 0.1, power=2.0),
        lrspec.PolynomialDecay(0.01, 100.0, 0.3, power=0.7),
        lrspec.PolynomialDecay(0.1, 100.0, 0.03, power=3.0),
        lrspec.PolynomialDecay(0.01, 100.0, 0.3, power=1.5, cycle=True),
    ],
    ids=repr,
)
def test_polynomial_step_zero_is_the_initial_rate_exactly(backend, spec):
    got = _evaluate(backend, spec, [0])
    assert got[0] == backend.out_dtype(spec.initial_learning_rate)


@pytest.mark.parametrize("decay_steps", [0.3, 7.3, 33.3, 2.5, 0.9959664158815518])
def test_cyclic_polynomial_with_fractional_decay_steps_within_the_bound(decay_steps):
    """The ``lrspec check`` finding: up to 800 float64 ulps off (d * ceil(step / d) - step
    cancelled); now within BOUNDS."""
    spec = lrspec.PolynomialDecay(0.1, decay_steps, 0.0001, cycle=True)
    steps = np.arange(8000, 8800, dtype=np.int64)
    got = spec(steps)
    bound = reference.bound(spec, "float64")
    for s, g in zip(steps.tolist(), got.tolist(), strict=True):
        exact = reference.exact(spec, s)
        assert abs(g - exact) <= bound * reference.ulp(exact, "float64"), (s, g, float(exact))


def _near_restarts(spec, first: int, last: int) -> list[int]:
    """Integer steps just before, at and just after the exact restart points ``S_k`` for
    ``k`` in ``first..last`` below 2**53 (and one mid-period step each)."""
    t, d = Fraction(spec.t_mul), Fraction(spec.first_decay_steps)
    steps: set[int] = set()
    for k in range(first, last + 1):
        start = d * (t**k - 1) / (t - 1)
        if start >= 2**53 - 2:
            break
        s = math.floor(start)
        steps.update(
            v for v in (s - 1, s, s + 1, s + 2, math.floor(start + d * t**k / 2)) if 0 <= v < 2**53
        )
    return sorted(steps)


def _assert_restarts_within_the_bound(spec, steps: list[int]) -> None:
    """NumPy and the Python backend (float64) within ``reference.bound`` ulps of the exact
    rate plus ulps of the peak, as ``tests/test_properties.py::check_random_specs``."""
    assert len(steps) > 20, steps
    allowed = reference.bound(spec, "float64")
    peak_ulp = reference.ulp(Fraction(spec.initial_learning_rate), "float64")
    for got in (spec(np.array(steps, dtype=np.int64)).tolist(), [spec(s) for s in steps]):
        for s, g in zip(steps, got, strict=True):
            exact = reference.exact(spec, s)
            err = float(abs(Fraction(g) - exact) / (reference.ulp(exact, "float64") + peak_ulp))
            assert err <= allowed, f"step {s}: {g!r}, exact {float(exact)!r}: {err:.3g} ulp"


@pytest.mark.parametrize(
    ("t_mul", "first_decay_steps"),
    [(1.1, 1.0), (1.37, TINY_LENGTH), (1.01, 1.0), (1.05, 0.3), (1.1, 7.3), (1.3, 1e-3)],
)
def test_restarts_with_a_fractional_t_mul_within_the_bound_after_hundreds_of_restarts(
    t_mul, first_decay_steps
):
    """Period starts of a fractional ``t_mul`` came from float64 powers ``t**k``, ~k ulps
    off: 288 ulps (t_mul=1.01), 71 (1.05), 33 (1.1) after 100-400 restarts, and near 2**48
    a restart a step early or late (the whole rate off); now within BOUNDS."""
    # (m_mul=1: each period's cosine at full height, its phase error not scaled away)
    spec = lrspec.CosineDecayRestarts(0.1, first_decay_steps, t_mul, m_mul=1.0, alpha=0.01)
    _assert_restarts_within_the_bound(spec, _near_restarts(spec, 100, 400))


@pytest.mark.parametrize(
    ("t_mul", "first_decay_steps"), [(7.0, 1.0), (3.0, 2.5), (2.0, 0.75), (1.5, 10.0)]
)
def test_restart_points_below_2_53_are_exact_where_t_mul_powers_pass_2_53(t_mul, first_decay_steps):
    """Whole (or dyadic) ``t_mul`` whose power ``t**k`` passes 2**53 while ``S_k`` does not
    (``7**19`` for ``S_19 = 1899815864228857``): the rounded power put the restart a step
    late; now every restart below 2**53 is at its exact step."""
    spec = lrspec.CosineDecayRestarts(0.1, first_decay_steps, t_mul, m_mul=0.9, alpha=0.01)
    _assert_restarts_within_the_bound(spec, _near_restarts(spec, 0, 400))


#: growing restarts whose m_mul**k, or whose scale, leave the compute float's range while
#: the rate does not
GROWING = {
    "float32 JAX past 2**128 growth": lrspec.CosineDecayRestarts(0.001, 1.0, t_mul=1.0, m_mul=2.0),
    "a subnormal rate": lrspec.CosineDecayRestarts(5e-324, TINY_LENGTH, t_mul=1.0, m_mul=2.0),
    "a rate 0 in float32": lrspec.CosineDecayRestarts(1e-38, 1.0, t_mul=6.0, m_mul=2.0**63),
    "past 2**1000 growth": lrspec.CosineDecayRestarts(1e-300, 3.0, t_mul=1.0, m_mul=1.5),
}


@pytest.mark.parametrize("name", sorted(GROWING))
def test_growing_restarts_past_the_floats_range_are_right(backend, name):
    """``m_mul > 1``: the rate is ``min(exact, float32 max)`` on every backend, also where
    ``m_mul**k`` passes 2**1000 (float64) or 2**128 (float32 JAX), or ``scale`` is below the
    float's range: float32 JAX gave half the rate at step 129 of the first spec, the others
    a rate 2**1000 times too small, or 0."""
    spec = GROWING[name]
    steps = [0, 1, 2, 5, 100, 125, 127, 128, 129, 130, 259, 300, 1000, 1858, 2999, 10**6]
    got = _evaluate(backend, spec, steps)
    jax_f32 = backend.framework == "jax" and not backend.x64
    kind = "float32-jax" if jax_f32 else backend.out_dtype.__name__
    allowed = reference.bound(spec, kind)
    for s, g in zip(steps, got.tolist(), strict=True):
        exact = min(reference.exact(spec, s), Fraction(reference.FLOAT32_MAX))
        dtype = "float32" if backend.out_dtype == np.float32 else "float64"
        # (XLA and TensorFlow flush float32 subnormals: within the smallest normal float32)
        tiny = Fraction(float(np.finfo(np.float32).smallest_normal)) if dtype == "float32" else 0
        err = abs(Fraction(g) - exact)
        assert err <= allowed * reference.ulp(exact, dtype) + tiny, (s, g, float(exact))


def test_jax_gradient_at_a_tie_is_not_halved():
    """Linear at its end step: value == end, where jnp.maximum would split the gradient."""
    jax = pytest.importorskip("jax")
    spec = lrspec.Linear(0.1, 0.0, 10.0)
    grad = float(jax.grad(lambda s: spec(s))(10.0))
    assert grad == pytest.approx(-0.01, rel=1e-6)


# --- 3. the CLI: one line and exit status 2, bounded time ---------------------------------


def _cli(capsys, *argv: str) -> tuple[int, str]:
    start = time.perf_counter()
    code = cli_main(list(argv))
    assert time.perf_counter() - start < 60
    return code, capsys.readouterr().err


def test_cli_file_naming_itself(tmp_path, capsys):
    path = tmp_path / "self.txt"
    path.write_text(str(path))
    code, err = _cli(capsys, "table", str(path))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_cli_expression_hundreds_of_attributes_deep(capsys):
    code, err = _cli(capsys, "table", "a." * 400 + "b")
    assert code == 2 and err.count("\n") == 1


@pytest.mark.parametrize("command", ["check", "plot"])
def test_cli_stop_beyond_int64(capsys, tmp_path, command):
    extra = ["--out", str(tmp_path / "x.png")] if command == "plot" else []
    code, err = _cli(capsys, command, "Constant(0.1)", "--stop", str(2**70), *extra)
    assert code == 2 and err.count("\n") == 1


@pytest.mark.parametrize("content", ["sec/ret.json", "secret_word", "my secret (words)"])
def test_cli_errors_never_echo_a_files_contents(tmp_path, capsys, content):
    path = tmp_path / "secret.txt"
    path.write_text(content)
    code, err = _cli(capsys, "table", str(path))
    assert code == 2 and err.count("\n") == 1
    assert "secret" not in err.replace(str(path), ""), err


def test_cli_check_restarts_with_tiny_periods_in_bounded_time(capsys):
    code, _ = _cli(
        capsys,
        "check",
        "CosineDecayRestarts(0.1, 1e-7, t_mul=2.0)",
        "--steps",
        "0,1,100000000,9223372036854775807",
        "--backend",
        "numpy",
    )
    assert code in (0, 1)


def test_reference_of_restarts_is_bounded_in_time():
    """Growing periods: at most schedules.MAX_PERIODS restarts below 2**64, so the exact
    reference (no walk over the periods) stays fast even at the last one."""
    spec = lrspec.CosineDecayRestarts(0.1, TINY_LENGTH, t_mul=2.0)
    start = time.perf_counter()
    for step in (10**8, 2**63 - 1, 2**64 - 1):
        reference.exact(spec, step)
    assert time.perf_counter() - start < 10
    with pytest.raises(ValueError, match="t_mul"):
        lrspec.CosineDecayRestarts(0.1, 1.0, t_mul=1.0001)


# --- 4. untrusted configs: limits on size, nesting and total nodes ------------------------


def _shared_chain(levels: int) -> dict:
    """A Join of one dict used twice, nested ``levels`` deep (YAML anchors make this): the
    expanded tree has 2**levels leaves."""
    node: dict = {"class_name": "Constant", "config": {"learning_rate": 0.1}}
    for _ in range(levels):
        node = {"class_name": "Join", "config": {"schedules": [node, node], "boundaries": [1]}}
    return node


def test_a_shared_sub_dict_is_built_once():
    spec = lrspec.deserialize(_shared_chain(4))
    assert spec.schedules[0] is spec.schedules[1]
    assert spec(5) == 0.1


def test_shared_sub_dicts_cannot_blow_up(monkeypatch):
    start = time.perf_counter()
    with pytest.raises(ValueError, match="at most 1000 schedules"):
        lrspec.deserialize(_shared_chain(30))
    assert time.perf_counter() - start < 5


def test_yaml_anchors_are_bounded():
    yaml = pytest.importorskip("yaml")
    text = "a: &a {class_name: Constant, config: {learning_rate: 0.1}}\n"
    previous = "a"
    for level in range(30):
        name = f"l{level}"
        text += (
            f"{name}: &{name} {{class_name: Join, config: "
            f"{{schedules: [*{previous}, *{previous}], boundaries: [1]}}}}\n"
        )
        previous = name
    data = yaml.safe_load(text)
    start = time.perf_counter()
    with pytest.raises(ValueError, match="at most"):
        lrspec.deserialize(data[previous])
    assert time.perf_counter() - start < 5


def test_millions_of_boundaries_are_refused_fast():
    n = 2_000_000
    start = time.perf_counter()
    with pytest.raises(ValueError, match="at most 1000 elements"):
        lrspec.PiecewiseConstantDecay(list(range(n)), [0.1] * (n + 1))
    config = {
        "class_name": "PiecewiseConstantDecay",
        "config": {"boundaries": list(range(n)), "values": [0.1] * (n + 1)},
    }
    with pytest.raises(ValueError, match="boundaries"):
        lrspec.deserialize(json.loads(json.dumps(config)))
    assert time.perf_counter() - start < 10


def test_python_built_specs_past_the_limits_fail_at_construction():
    """What deserialize would refuse fails when built in Python, not at resume."""
    spec: lrspec.Schedule = lrspec.Constant(0.1)
    with pytest.raises(ValueError, match="nest at most"):
        for _ in range(schedules.MAX_DEPTH + 1):
            spec = lrspec.Warmup(spec, 1)
    spec = lrspec.Constant(0.1)
    with pytest.raises(ValueError, match="at most 1000 schedules"):
        for _ in range(12):
            spec = lrspec.Join([spec, spec], [1])
    ok = lrspec.Join([lrspec.Constant(0.1)] * 999, list(range(998)))
    lrspec.deserialize(lrspec.serialize(ok))  # at the limits: accepted both ways


# --- 5. validation gaps -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "kwargs", "arg"),
    [
        (lrspec.PiecewiseConstantDecay, dict(boundaries={10, 20}, values=[0.1, 0.2, 0.3]), "b"),
        (lrspec.PiecewiseConstantDecay, dict(boundaries=[10], values={0.1, 0.2}), "values"),
        (
            lrspec.Join,
            dict(schedules=frozenset([lrspec.Constant(0.1)]), boundaries=[]),
            "schedules",
        ),
        (lrspec.Join, dict(schedules=[lrspec.Constant(0.1)], boundaries={}.keys()), "b"),
    ],
)
def test_unordered_collections_are_refused_where_a_list_is_expected(cls, kwargs, arg):
    with pytest.raises(TypeError, match=arg):
        cls(**kwargs)


@pytest.mark.parametrize("value", [np.array("1e3"), np.array(b"0.1"), np.array(0.1, dtype=object)])
def test_numpy_text_and_object_arrays_are_not_numbers(value):
    with pytest.raises(TypeError, match="initial_learning_rate"):
        lrspec.InverseTimeDecay(value, 1.0, 0.5)


@pytest.mark.parametrize("scale", [math.nan, -1.0, math.inf])
def test_lr_scale_changed_after_the_scheduler_is_built_is_refused(scale):
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    opt.param_groups[0]["lr_scale"] = 0.5
    scheduler = lrspec.InverseTimeDecay(0.1, 1.0, 0.5).to_torch(opt)
    opt.param_groups[0]["lr_scale"] = scale
    opt.step()
    with pytest.raises(ValueError, match="lr_scale"):
        scheduler.step()
    assert math.isfinite(opt.param_groups[0]["lr"]) and opt.param_groups[0]["lr"] >= 0


@pytest.mark.parametrize("last_lr", [[math.nan], ["0.1"], [None], [-1.0], "0.1", [True]])
def test_load_state_dict_refuses_bad_last_lr(last_lr):
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = lrspec.InverseTimeDecay(0.1, 1.0, 0.5).to_torch(opt)
    state = scheduler.state_dict()
    state["_last_lr"] = last_lr
    with pytest.raises((TypeError, ValueError), match="_last_lr"):
        scheduler.load_state_dict(state)


def test_a_config_lacking_a_key_names_it():
    config = {"class_name": "InverseTimeDecay", "config": {"initial_learning_rate": 0.1}}
    with pytest.raises(ValueError, match="decay_steps, decay_rate"):
        lrspec.deserialize(config)


def test_keras_schedule_config_lacking_a_key_names_it():
    pytest.importorskip("keras")
    from lrspec.adapters.keras import KerasSchedule

    spec = {"class_name": "InverseTimeDecay", "config": {"initial_learning_rate": 0.1}}
    with pytest.raises(ValueError, match="decay_rate"):
        KerasSchedule.from_config({"spec": spec})


def test_a_keras_symbolic_tensor_step_is_a_type_error():
    keras = pytest.importorskip("keras")
    step = keras.KerasTensor((None,), dtype="int64")
    with pytest.raises(TypeError, match="no concrete value"):
        lrspec.InverseTimeDecay(0.1, 1.0, 0.5)(step)
