"""Count targets of the benchmarks (issue 5) that no other test file asserts.

``benchmarks/`` measures times; the targets that are counts are asserted here: which modules
``import lrspec`` and framework-free evaluation load (in fresh interpreters), and the peak
memory of a NumPy curve. Compilation and trace counts live beside their adapters:
``test_torch.py`` (torch.compile), ``test_keras.py`` (tf.function), ``test_optax.py`` (jit).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np

import lrspec

#: top-level packages that count as frameworks (jaxlib and optax come with JAX)
FRAMEWORKS = ("torch", "jax", "jaxlib", "optax", "tensorflow", "keras")

_REPORT = textwrap.dedent(
    """
    import json, sys
    FRAMEWORKS = {frameworks!r}
    def loaded():
        top = {{m.partition(".")[0] for m in sys.modules}}
        return sorted(f for f in FRAMEWORKS if f in top)
    """
)


def run_fresh(body: str, env: dict[str, str] | None = None) -> dict:
    """Run ``body`` in a fresh interpreter; it prints one JSON line, returned parsed."""
    code = _REPORT.format(frameworks=FRAMEWORKS) + textwrap.dedent(body)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_lrspec_imports_no_framework_and_no_numpy():
    """``import lrspec`` loads none of torch, JAX, TensorFlow, Keras, nor NumPy (importing
    NumPy alone costs more than the start-up budget of ``import lrspec``; it loads when a
    NumPy step is evaluated). Keras's registration hook is installed all the same, and
    registers nothing until Keras is imported."""
    report = run_fresh(
        """
        import lrspec
        report = {
            "loaded": loaded(),
            "numpy": "numpy" in sys.modules,
            "hooked": any(type(f).__name__ == "_Finder" for f in sys.meta_path),
        }
        import lrspec.adapters.keras as hook
        report.update(registered=hook.registered(), with_hook_module=loaded())
        print(json.dumps(report))
        """
    )
    assert report == {
        "loaded": [],
        "numpy": False,
        "hooked": True,
        "registered": False,
        "with_hook_module": [],
    }


def test_python_and_numpy_steps_import_no_framework():
    report = run_fresh(
        """
        import numpy as np
        import lrspec
        smooth = lrspec.InverseTimeDecay(0.1, 1.0, 0.5)
        stairs = lrspec.InverseTimeDecay(0.1, 3.0, 0.5, staircase=True)
        for spec in (smooth, stairs):
            spec(3)
            spec(2.5)
            spec(np.int32(7))
            spec(np.arange(10))
            spec(np.arange(10, dtype=np.int32), dtype=np.float32)
            spec(np.linspace(0.0, 9.0, 10))
            lrspec.deserialize(lrspec.serialize(spec))
        lrspec.available_backends()
        print(json.dumps({"loaded": loaded()}))
        """
    )
    assert report["loaded"] == []


_TENSOR_STEP = {
    "torch": ("import torch", "torch.arange(10)"),
    "jax": ("import jax.numpy as jnp", "jnp.arange(10)"),
    "jax-x64": ("import jax.numpy as jnp", "jnp.arange(10)"),
    "tensorflow": ("import tensorflow as tf", "tf.range(10)"),
}


def test_a_tensor_step_imports_no_other_framework(framework):
    """Evaluating a framework's tensor loads no framework beyond those that importing the
    framework itself loaded (TensorFlow's own import brings Keras, for one)."""
    imports, step = _TENSOR_STEP[framework.name]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env["JAX_ENABLE_X64"] = "1" if framework.x64 else "0"
    report = run_fresh(
        f"""
        {imports}
        before = loaded()
        import lrspec
        spec = lrspec.InverseTimeDecay(0.1, 3.0, 0.5, staircase=True)
        spec({step})
        lrspec.InverseTimeDecay(0.1, 1.0, 0.5)({step})
        print(json.dumps({{"before": before, "after": loaded()}}))
        """,
        env=env,
    )
    assert framework.framework in report["before"]
    assert report["after"] == report["before"]


def _peak_ratio(fn, out_bytes: int) -> float:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.nbytes == out_bytes
    return peak / out_bytes


def test_raw_numpy_expression_peak_memory_reference():
    """The reference the target is set against: NumPy's own expression needs twice its
    output (one float64 temporary; NumPy reuses the others in place)."""
    steps = np.arange(10**6)
    ratio = _peak_ratio(lambda: 0.1 / (1 + 0.5 * steps / 1.0), steps.size * 8)
    assert ratio <= 2.01


def test_numpy_curve_peak_memory_at_most_twice_the_output():
    spec = lrspec.InverseTimeDecay(0.1, 1.0, 0.5)
    steps = np.arange(10**6)
    assert _peak_ratio(lambda: spec(steps), steps.size * 8) <= 2.0
