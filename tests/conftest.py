"""Shared fixtures: one ``backend`` parameter per installed backend, so every failure names
its backend."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

ALL = ["python", "numpy", "torch", "jax", "jax-x64", "tensorflow"]
TENSOR = ["torch", "jax", "jax-x64", "tensorflow"]

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
        self.framework = name.removesuffix("-x64")
        self.x64 = name.endswith("-x64")
        self.module = (
            pytest.importorskip(self.framework)
            if self.framework in ("torch", "jax", "tensorflow")
            else None
        )

    #: dtype of results: float64 for Python/NumPy, float32 elsewhere
    @property
    def out_dtype(self) -> type:
        return np.float64 if self.framework in ("python", "numpy") else np.float32

    #: whether integer counters can be int64 here
    @property
    def has_int64(self) -> bool:
        return self.framework != "jax" or self.x64

    @contextlib.contextmanager
    def context(self) -> Iterator[None]:
        if self.framework == "jax":
            import jax

            with jax.enable_x64(self.x64):
                yield
        else:
            yield

    def steps(self, values: Any, dtype: str = "int64") -> Any:
        arr = np.asarray(values, dtype=dtype)
        if self.framework == "python":
            return [v.item() for v in arr.ravel()]
        if self.framework == "numpy":
            return arr
        if self.framework == "torch":
            import torch

            return torch.from_numpy(arr)
        if self.framework == "jax":
            import jax.numpy as jnp

            return jnp.asarray(arr)
        import tensorflow as tf

        return tf.constant(arr)

    def evaluate(self, spec: Any, values: Any, dtype: str = "int64") -> np.ndarray:
        """``spec`` at each step, evaluated natively, as a NumPy array."""
        with self.context():
            steps = self.steps(values, dtype)
            if self.framework == "python":
                return np.array([spec(v) for v in steps], dtype=np.float64)
            return self.to_numpy(spec(steps))

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
