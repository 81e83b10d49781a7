"""Shared fixtures: one ``backend`` parameter per backend variant (the registry in
:mod:`lrspec.backends` lists them: a new backend needs no edit here), so every failure names
its backend."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import numpy as np
import pytest

from lrspec.backends import BACKENDS, VARIANTS, get_ops, run_native

ALL = list(VARIANTS)
#: the backends with compiled/traced code and wrapped counters (not Python, not NumPy)
TENSOR = [v for v in ALL if VARIANTS[v] not in ("python", "numpy")]

# nox's per-backend sessions set this, so each backend's tests run once, in its own session
_ONLY = os.environ.get("LRSPEC_TEST_BACKENDS", "")
_SESSION = {"numpy": ["python", "numpy"], "jax": ["jax", "jax-x64"]}
if _ONLY:
    _keep = {name for only in _ONLY.split(",") for name in _SESSION.get(only, [only])}
    ALL = [b for b in ALL if b in _keep]
    TENSOR = [b for b in TENSOR if b in _keep]


class Backend:
    """Makes native steps and reads native results back as NumPy, for one backend."""

    def __init__(self, name: str) -> None:
        if name == "none":
            pytest.skip("backend tested in its own nox session")
        self.name = name
        self.framework = VARIANTS[name]
        self.x64 = name.endswith("-x64")
        requires = BACKENDS[self.framework].requires
        self.module = (
            pytest.importorskip(self.framework) if requires not in (None, "numpy") else None
        )

    #: dtype of results: float64 for Python/NumPy, float32 elsewhere
    @property
    def out_dtype(self) -> type:
        return np.float64 if self.framework in ("python", "numpy") else np.float32

    #: the row of ``lrspec.reference.BOUNDS`` that holds for results of this backend
    @property
    def kind(self) -> str:
        if self.framework == "jax" and not self.x64:
            return "float32-jax"  # float32 throughout
        return "float64" if self.out_dtype == np.float64 else "float32"

    #: whether integer counters can be int64 here
    @property
    def has_int64(self) -> bool:
        return self.framework != "jax" or self.x64

    def context(self) -> Any:
        """The context this variant evaluates under (JAX: x64 on or off)."""
        return get_ops(self.framework).context(self.name)

    def steps(self, values: Any, dtype: str = "int64") -> Any:
        """``values`` as this backend's own steps."""
        return get_ops(self.framework).native(np.asarray(values, dtype=dtype), self.name)

    def evaluate(self, spec: Any, values: Any, dtype: str = "int64") -> np.ndarray:
        """``spec`` at each step, evaluated natively, as a NumPy array."""
        return np.asarray(run_native(spec, np.asarray(values, dtype=dtype), self.name))

    @staticmethod
    def to_numpy(x: Any) -> np.ndarray:
        if hasattr(x, "detach"):
            x = x.detach().cpu()
        return np.asarray(x)


def _params(names: list[str]) -> list[str]:
    # a session with none of these backends still collects the test, and skips it
    return names or ["none"]


@pytest.fixture(params=_params(ALL))
def backend(request: pytest.FixtureRequest) -> Backend:
    return Backend(request.param)


@pytest.fixture(params=_params(TENSOR))
def framework(request: pytest.FixtureRequest) -> Backend:
    """The tensor backends only (traced code, wrapped counters)."""
    return Backend(request.param)


# --- `nox -s fuzz`: how many hypothesis examples each backend ran ----------------------------

_EXAMPLES: dict[str, int] = {}


def _examples_here() -> dict[str, int]:
    module = sys.modules.get("test_properties")
    return dict(getattr(module, "EXAMPLES", {}))


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput["lrspec_examples"] = json.dumps(_examples_here())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    counts = json.loads(getattr(node, "workeroutput", {}).get("lrspec_examples", "{}"))
    for name, n in counts.items():
        _EXAMPLES[name] = _EXAMPLES.get(name, 0) + n


def pytest_terminal_summary(terminalreporter: Any) -> None:
    counts = dict(_EXAMPLES)
    for name, n in _examples_here().items():
        counts[name] = counts.get(name, 0) + n
    if os.environ.get("LRSPEC_HYPOTHESIS_PROFILE") == "fuzz" and counts:
        line = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
        terminalreporter.write_line(f"hypothesis examples per backend: {line}")
