"""The layout's promises: a new schedule is one spec + one formula + one exact reference,
picked up by ``deserialize``, the CLI and the property tests with no other edit; user
subclasses evaluate as their base and never change what ``deserialize`` builds; detection is
import-free and subclass-aware; the layers import only downwards."""

from __future__ import annotations

import ast
import dataclasses
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lrspec
from lrspec import cli, reference
from lrspec.backends import detect
from lrspec.schedules import SCHEDULES, Schedule, length, rate, register

SRC = Path(lrspec.__file__).parent


# --- a new schedule, written as a test fixture --------------------------------------------


def hyperbolic_formula(s: Any, x: Any, ops: Any) -> Any:
    """``a * h / (h + step)``."""
    a, h = float(s.initial_learning_rate), float(s.half_life)
    return ops.minimum((a * h) / (x.f + h), a)


def hyperbolic_reference(s: Any, step: Fraction) -> Fraction:
    a, h = Fraction(s.initial_learning_rate), Fraction(s.half_life)
    return a * h / (h + step)


@dataclasses.dataclass(frozen=True)
class Hyperbolic(Schedule, formula=hyperbolic_formula, reference=hyperbolic_reference):
    """Halves at ``half_life`` steps: ``a * h / (h + step)``."""

    initial_learning_rate: float = rate()
    half_life: float = length()


@pytest.fixture
def registered():
    register(Hyperbolic)
    try:
        yield Hyperbolic
    finally:
        SCHEDULES.pop("Hyperbolic", None)


def test_new_schedule_round_trips_through_deserialize(registered):
    spec = Hyperbolic(0.1, 10.0)
    data = json.loads(json.dumps(lrspec.serialize(spec)))
    assert lrspec.deserialize(data) == spec
    assert lrspec.deserialize(lrspec.serialize(lrspec.Warmup(spec, 5))) == lrspec.Warmup(spec, 5)


def test_new_schedule_is_in_the_cli(registered, capsys):
    assert cli.main(["table", "Hyperbolic(0.1, half_life=10.0)", "--steps", "0,10,30"]) == 0
    out = capsys.readouterr().out
    assert "0.05" in out and "0.025" in out
    assert cli.main(["check", "Hyperbolic(0.1, 10.0)", "--stop", "2000", "--backend", "numpy"]) == 0


def test_new_schedule_is_in_the_property_tests(registered, backend):
    import test_properties  # the tests' directory is on sys.path (pytest's rootdir)

    test_properties.check_random_specs(backend, "Hyperbolic")


def test_unregistered_class_is_not_built_nor_serialized():
    spec = Hyperbolic(0.1, 10.0)
    assert spec(10) == pytest.approx(0.05)
    with pytest.raises(TypeError, match="register"):
        lrspec.serialize(spec)
    data = {"module": "lrspec", "class_name": "Hyperbolic", "config": spec.get_config()}
    with pytest.raises(ValueError, match="unknown schedule"):
        lrspec.deserialize(data)


def test_register_refuses_a_class_without_a_reference():
    @dataclasses.dataclass(frozen=True)
    class NoReference(Schedule, formula=hyperbolic_formula):
        learning_rate: float = rate()

    with pytest.raises(TypeError, match="reference"):
        register(NoReference)
    assert "NoReference" not in SCHEDULES


# --- user subclasses ----------------------------------------------------------------------


class MyDecay(lrspec.InverseTimeDecay):
    """A user's subclass: behaviour of its base, plus a method of its own."""

    def half_point(self) -> float:
        return self.decay_steps / self.decay_rate


def test_a_subclass_evaluates_as_its_base():
    mine, base = MyDecay(0.1, 1.0, 0.5), lrspec.InverseTimeDecay(0.1, 1.0, 0.5)
    steps = np.arange(100)
    np.testing.assert_array_equal(mine(steps), base(steps))
    assert mine(2) == base(2) == 0.05
    assert mine.half_point() == 2.0
    assert mine != base  # different classes, as dataclasses compare
    assert reference.exact(mine, 2) == reference.exact(base, 2)


def test_a_subclass_round_trips_once_registered():
    with pytest.raises(TypeError, match="register"):
        lrspec.serialize(MyDecay(0.1, 1.0, 0.5))
    register(MyDecay)
    try:
        spec = MyDecay(0.1, 1.0, 0.5)
        back = lrspec.deserialize(lrspec.serialize(spec))
        assert type(back) is MyDecay and back == spec
    finally:
        SCHEDULES.pop("MyDecay", None)


def test_a_subclass_named_like_a_built_in_changes_nothing():
    class InverseTimeDecay(lrspec.InverseTimeDecay):
        pass

    with pytest.raises(ValueError, match="registered already"):
        register(InverseTimeDecay)
    assert SCHEDULES["InverseTimeDecay"] is lrspec.InverseTimeDecay
    built = lrspec.deserialize(lrspec.serialize(lrspec.InverseTimeDecay(0.1, 1.0, 0.5)))
    assert type(built) is lrspec.InverseTimeDecay
    with pytest.raises(TypeError, match="register"):
        lrspec.serialize(InverseTimeDecay(0.1, 1.0, 0.5))


# --- detection ----------------------------------------------------------------------------


class StepArray(np.ndarray):
    """An ndarray subclass defined outside NumPy."""


def test_an_ndarray_subclass_is_numpys():
    steps = np.arange(4).view(StepArray)
    assert type(steps).__module__ == __name__
    assert detect(steps) == "numpy"
    got = lrspec.InverseTimeDecay(0.1, 1.0, 0.5)(steps)
    np.testing.assert_allclose(np.asarray(got), [0.1, 0.1 / 1.5, 0.05, 0.04], rtol=1e-15)


def test_a_tensor_subclass_is_torchs():
    torch = pytest.importorskip("torch")

    class Mine(torch.Tensor):
        pass

    steps = torch.arange(3).as_subclass(Mine)
    assert detect(steps) == "torch"
    assert torch.is_tensor(lrspec.Constant(0.1)(steps))


def test_unknown_steps_are_refused_clearly():
    with pytest.raises(TypeError, match="step must be"):
        lrspec.Constant(0.1)("3")
    with pytest.raises(TypeError, match="bool"):
        lrspec.Constant(0.1)(True)


# --- the layers -----------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    """Every lrspec module ``path`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m == "lrspec" or m.startswith("lrspec.")}


def test_backends_import_nothing_above_them():
    for path in (SRC / "backends").glob("*.py"):
        above = {m for m in _imports(path) if not m.startswith("lrspec.backends")}
        assert not above, f"{path.name} imports {above}"


def test_formulas_and_reference_import_only_backends():
    for name in ("formulas.py", "reference.py"):
        above = {m for m in _imports(SRC / name) if not m.startswith("lrspec.backends")}
        assert not above, f"{name} imports {above}"


def test_only_the_lazy_adapter_methods_import_upwards_from_the_specs():
    upward = {
        m for m in _imports(SRC / "schedules.py") if m.startswith(("lrspec.adapters", "lrspec.cli"))
    }
    assert upward <= {
        "lrspec.adapters.torch",
        "lrspec.adapters.torch.LRSpecScheduler",
        "lrspec.adapters.optax",
        "lrspec.adapters.optax.to_optax",
        "lrspec.adapters.keras",
        "lrspec.adapters.keras.to_keras",
        "lrspec.adapters.tf_keras",
        "lrspec.adapters.tf_keras.to_tf_keras",
    }


def test_the_demo_does_not_import_the_cli():
    assert not {m for m in _imports(SRC / "demo.py") if m.startswith("lrspec.cli")}


def test_the_docs_bounds_table_is_reference_bounds():
    """docs/cli.md shows the one table of bounds: its numbers are reference.BOUNDS."""
    text = (SRC.parent.parent / "docs" / "cli.md").read_text()
    rows = {
        "float32 (": "float32",
        "float32, JAX without x64": "float32-jax",
        "float64 (": "float64",
    }
    for start, kind in rows.items():
        line = next(ln for ln in text.splitlines() if ln.startswith(f"| {start}"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        shown = [float(c.removesuffix(" ulp")) for c in cells[1:3]]
        want = [reference.BOUNDS["rational"][kind], reference.BOUNDS["transcendental"][kind]]
        assert shown == want, (line, want)
