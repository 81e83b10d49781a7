"""The family against optax's and PyTorch's own schedules, with the mapping documented in
docs/schedules.md. Differences are reported in float32 ulps of the native value; lrspec's
float64 result (NumPy) is the reference for lrspec."""

from __future__ import annotations

import numpy as np
import pytest

import lrspec

STEPS = np.arange(5001)


def _ulps(native, ours):
    native = np.asarray(native, np.float64)
    spacing = np.spacing(np.maximum(np.abs(native), 1e-30).astype(np.float32)).astype(np.float64)
    return np.abs(native - np.asarray(ours, np.float64)) / spacing


# --- optax ---------------------------------------------------------------------------------


def _optax_cases():
    optax = pytest.importorskip("optax")
    return {
        "exponential_decay": (
            optax.exponential_decay(0.1, transition_steps=100, decay_rate=0.9),
            lrspec.ExponentialDecay(0.1, 100, 0.9),
        ),
        "exponential_decay-staircase": (
            optax.exponential_decay(0.1, transition_steps=100, decay_rate=0.9, staircase=True),
            lrspec.ExponentialDecay(0.1, 100, 0.9, staircase=True),
        ),
        "exponential_decay-begin": (
            optax.exponential_decay(
                0.1, transition_steps=100, decay_rate=0.9, transition_begin=300
            ),
            lrspec.Join([lrspec.Constant(0.1), lrspec.ExponentialDecay(0.1, 100, 0.9)], [300]),
        ),
        "warmup_cosine_decay_schedule": (
            optax.warmup_cosine_decay_schedule(
                0.0, 0.1, warmup_steps=500, decay_steps=4000, end_value=0.0
            ),
            lrspec.CosineDecay(0.0, 3500, warmup_target=0.1, warmup_steps=500),
        ),
        "warmup_cosine_decay_schedule-end": (
            optax.warmup_cosine_decay_schedule(
                0.01, 0.1, warmup_steps=500, decay_steps=4000, end_value=0.025
            ),
            lrspec.Warmup(
                lrspec.CosineDecay(0.1, 3500, alpha=0.25), 500, initial_learning_rate=0.01
            ),
        ),
        "sgdr_schedule": (
            optax.sgdr_schedule(
                [
                    dict(
                        init_value=0.0,
                        peak_value=0.1,
                        warmup_steps=100,
                        decay_steps=1000,
                        end_value=0.0,
                    )
                ]
                * 4
            ),
            lrspec.Join(
                [lrspec.CosineDecay(0.0, 900, warmup_target=0.1, warmup_steps=100)] * 4,
                [1000, 2000, 3000],
            ),
        ),
        "join_schedules": (
            optax.join_schedules(
                [optax.linear_schedule(0.0, 0.1, 200), optax.cosine_decay_schedule(0.1, 3000)],
                [200],
            ),
            lrspec.Join([lrspec.Linear(0.0, 0.1, 200), lrspec.CosineDecay(0.1, 3000)], [200]),
        ),
        "linear_schedule": (
            optax.linear_schedule(0.1, 0.001, 4000),
            lrspec.Linear(0.1, 0.001, 4000),
        ),
        "polynomial_schedule": (
            optax.polynomial_schedule(0.1, 0.001, power=2, transition_steps=4000),
            lrspec.PolynomialDecay(0.1, 4000, end_learning_rate=0.001, power=2.0),
        ),
        "cosine_decay_schedule": (
            optax.cosine_decay_schedule(0.1, 4000, alpha=0.1),
            lrspec.CosineDecay(0.1, 4000, alpha=0.1),
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        "cosine_decay_schedule",
        "exponential_decay",
        "exponential_decay-begin",
        "exponential_decay-staircase",
        "join_schedules",
        "linear_schedule",
        "polynomial_schedule",
        "sgdr_schedule",
        "warmup_cosine_decay_schedule",
        "warmup_cosine_decay_schedule-end",
    ],
)
def test_matches_optax(name):
    """Within 3 float32 ulps of the peak rate at every step: optax computes in float32
    (``1 + cos`` and ``1 - p`` cancel near the end, ``p * log(rate)`` rounds), so relative
    to small late values it is up to ~4e5 ulps off (docs/schedules.md); lrspec's own
    accuracy is tested against the exact reference in test_family.py."""
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    theirs, ours = _optax_cases()[name]
    native = np.asarray(theirs(jnp.asarray(STEPS)), np.float64)
    mine = ours(STEPS)
    peak_ulp = float(np.spacing(np.float32(np.abs(mine).max())))
    worst = np.abs(native - mine).max() / peak_ulp
    assert worst <= 3, f"{worst} ulp of the peak"
    # lrspec's optax adapter, jitted (float32 throughout without x64)
    adapted = np.asarray(jax.jit(ours.to_optax())(jnp.asarray(STEPS)))
    np.testing.assert_allclose(adapted, mine, rtol=8 * 2.0**-24, atol=1e-12)


# --- torch ---------------------------------------------------------------------------------


def _run_torch(make, steps):
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1)
    scheduler = make(torch.optim.lr_scheduler, optimizer)
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.asarray(out)


TORCH = {
    "ExponentialLR": (
        lambda m, o: m.ExponentialLR(o, gamma=0.999),
        lrspec.ExponentialDecay(0.1, 1, 0.999),
        3000,
    ),
    "PolynomialLR": (
        lambda m, o: m.PolynomialLR(o, total_iters=4000, power=2.0),
        lrspec.PolynomialDecay(0.1, 4000, 0.0, 2.0),
        4000,
    ),
    "CosineAnnealingLR": (
        lambda m, o: m.CosineAnnealingLR(o, T_max=4000, eta_min=0.001),
        lrspec.CosineDecay(0.1, 4000, alpha=0.01),
        4001,
    ),
    "CosineAnnealingWarmRestarts": (
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=100, T_mult=2, eta_min=0.001),
        lrspec.CosineDecayRestarts(0.1, 100, t_mul=2.0, alpha=0.01),
        5001,
    ),
    "SequentialLR": (
        lambda m, o: m.SequentialLR(
            o,
            [m.LinearLR(o, start_factor=0.1, total_iters=100), m.ExponentialLR(o, gamma=0.999)],
            milestones=[100],
        ),
        lrspec.Join([lrspec.Linear(0.01, 0.1, 100), lrspec.ExponentialDecay(0.1, 1, 0.999)], [100]),
        3000,
    ),
}

#: relative difference measured: torch's chainable schedulers update lr recursively in
#: float64, so their error grows with the step (ExponentialLR: one rounding per step)
TORCH_RTOL = {
    "ExponentialLR": 2e-14,
    "PolynomialLR": 1e-12,
    "CosineAnnealingLR": 1e-13,
    "CosineAnnealingWarmRestarts": 2e-14,
    "SequentialLR": 2e-14,
}


@pytest.mark.parametrize("name", sorted(TORCH))
def test_matches_torch(name):
    make, ours, n = TORCH[name]
    native = _run_torch(make, n)
    mine = ours(np.arange(n))
    np.testing.assert_allclose(native, mine, rtol=TORCH_RTOL[name], atol=1e-15)
    # and through lrspec's own torch scheduler
    got = _run_torch(lambda m, o: ours.to_torch(o), n)
    np.testing.assert_allclose(got, mine, rtol=1e-15, atol=0)
