"""Native schedules written on the command line (lrspec.cli.native): parsed safely, turned
into the spec the importers give, and the native curve to compare with."""

from __future__ import annotations

import numpy as np
import pytest

import lrspec
from lrspec.cli import native

CASES = {
    "torch:OneCycleLR(max_lr=0.1, total_steps=1000)": ("torch", 1000),
    "torch:StepLR(step_size=10, gamma=0.5, lr=0.2)": ("torch", 60),
    "torch:SequentialLR([LinearLR(start_factor=0.01, total_iters=10), "
    "CosineAnnealingLR(T_max=90)], milestones=[10])": ("torch", 150),
    "torch:ChainedScheduler([ExponentialLR(gamma=0.9), StepLR(step_size=3, gamma=0.5)])": (
        "torch",
        30,
    ),
    "transformers:cosine(learning_rate=3e-4, num_warmup_steps=100, num_training_steps=1000)": (
        "transformers",
        1200,
    ),
    "transformers:warmup_stable_decay(learning_rate=3e-4, num_warmup_steps=10, "
    "num_training_steps=100, num_decay_steps=20, decay_type='1-sqrt')": ("transformers", 120),
    "optax:warmup_cosine_decay_schedule(init_value=0.0, peak_value=0.1, warmup_steps=10, "
    "decay_steps=100)": ("optax", 150),
    "optax:piecewise_constant_schedule(init_value=0.1, boundaries_and_scales={10: 0.5})": (
        "optax",
        20,
    ),
}


@pytest.mark.parametrize("text", sorted(CASES))
def test_native_text_becomes_the_importers_spec_and_matches_the_native_curve(text: str) -> None:
    library, n = CASES[text]
    pytest.importorskip(
        {"torch": "torch", "transformers": "transformers", "optax": "optax"}[library]
    )
    assert native.is_native(text)
    parsed = native.parse_native(text)
    assert parsed.library == library
    curve = parsed.curve(n)
    largest, first = native.compare(curve, parsed.spec(np.arange(n)))
    assert first is None and largest <= 1e-9, (largest, first)
    assert lrspec.deserialize(lrspec.serialize(parsed.spec)) == parsed.spec


def test_the_same_spec_as_the_importer() -> None:
    text = "transformers:linear(learning_rate=1e-3, num_warmup_steps=5, num_training_steps=50)"
    expected = lrspec.from_transformers("linear", 1e-3, 5, 50)
    assert native.parse_native(text).spec == expected


def test_compare_reports_the_first_differing_step() -> None:
    a = np.array([0.1, 0.1, 0.1, 0.0])
    assert native.compare(a, a) == (0.0, None)
    largest, first = native.compare(a, np.array([0.1, 0.1, 0.2, 0.0]))
    assert first == 2 and largest == pytest.approx(0.5)


@pytest.mark.parametrize(
    "text",
    [
        "torch:__import__('os').system('true')",
        "torch:OneCycleLR(max_lr=__import__('os'))",
        "torch:os.system('x')",
        "torch:Exec(max_lr=0.1)",
        "optax:cosine_decay_schedule(init_value=open('x'), decay_steps=10)",
        "transformers:cosine(3e-4)",
        "keras:CosineDecay(0.1, 10)",
        "optax:cosine_decay_schedule(**{'init_value': 0.1})",
        "torch:OneCycleLR(max_lr=0.1, total_steps=10",
    ],
)
def test_unsafe_or_unknown_text_is_refused(text: str) -> None:
    pytest.importorskip("torch")
    with pytest.raises(ValueError):
        native.parse_native(text)


def test_is_native() -> None:
    assert not native.is_native("InverseTimeDecay(0.1, 1.0, 0.5)")
    assert not native.is_native('{"class_name": "x:y"}')
    assert native.is_native(" optax:constant_schedule(value=0.1)")


def test_check_and_table_accept_a_native_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    from lrspec import cli

    text = "torch:OneCycleLR(max_lr=0.1, total_steps=300)"
    assert cli.main(["check", text, "--stop", "299", "--backend", "numpy"]) == 0
    out = capsys.readouterr().out
    assert "vs native" in out and "Join(" in out
    (row,) = [line for line in out.splitlines() if line.startswith("numpy")]
    assert row.split()[-2] == "-"  # no step differs
    assert cli.main(["table", text, "--steps", "0:300:100", "--backend", "numpy"]) == 0
    assert f"{text} becomes:" in capsys.readouterr().out
    assert cli.main(["check", "torch:NoSuchLR(x=1)", "--backend", "numpy"]) == 2
    assert "unknown scheduler" in capsys.readouterr().err
