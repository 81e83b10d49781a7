"""Dispatch: each step type goes to its own framework, keeping shape, device and kind."""

from __future__ import annotations

import numpy as np
import pytest
from oracle import exact_floats

import lrspec

SPEC = lrspec.InverseTimeDecay(0.1, 1.0, 0.5)


def exact(k):
    """The exact rates (``lrspec.reference``) at the steps ``k``, in their shape."""
    return exact_floats(SPEC, k).reshape(np.shape(k))


def test_python_numbers_give_python_floats():
    assert type(SPEC(3)) is float
    assert type(SPEC(3.5)) is float
    assert SPEC(3) == 0.1 / 2.5
    assert SPEC(np.int64(3)) == pytest.approx(0.04, rel=1e-15)


def test_numpy_scalars_and_arrays():
    out = SPEC(np.int32(3))
    assert isinstance(out, np.float64)
    arr = SPEC(np.arange(12).reshape(3, 4))
    assert isinstance(arr, np.ndarray) and arr.shape == (3, 4) and arr.dtype == np.float64
    np.testing.assert_allclose(arr, exact(np.arange(12).reshape(3, 4)), rtol=1e-15)
    zero_d = SPEC(np.array(5))
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == ()
    assert SPEC(np.arange(4, dtype=np.uint16), dtype=np.float32).dtype == np.float32


def test_torch_tensor_in_torch_tensor_out():
    torch = pytest.importorskip("torch")
    out = SPEC(torch.arange(6).reshape(2, 3))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 3)
    assert out.dtype == torch.get_default_dtype() and out.device.type == "cpu"
    np.testing.assert_allclose(out.numpy(), exact(np.arange(6).reshape(2, 3)), rtol=1e-7)
    assert SPEC(torch.tensor(3), dtype=torch.float64).dtype == torch.float64
    assert SPEC(torch.tensor(3.0, dtype=torch.float16)).dtype == torch.float32


@pytest.mark.skipif(
    not __import__("importlib").util.find_spec("torch"), reason="torch not installed"
)
def test_torch_cuda_device_is_kept():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    out = SPEC(torch.arange(5, device="cuda"))
    assert out.device.type == "cuda"
    np.testing.assert_allclose(out.cpu().numpy(), exact(np.arange(5)), rtol=1e-7)


def test_jax_array_in_jax_array_out():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    out = SPEC(jnp.arange(6).reshape(3, 2))
    assert isinstance(out, jax.Array) and out.shape == (3, 2) and out.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(out), exact(np.arange(6).reshape(3, 2)), rtol=2e-7)
    assert list(out.devices()) == list(jnp.arange(6).devices())


def test_tf_tensor_and_variable():
    tf = pytest.importorskip("tensorflow")
    out = SPEC(tf.reshape(tf.range(6, dtype=tf.int64), (2, 3)))
    assert isinstance(out, tf.Tensor) and out.shape == (2, 3) and out.dtype == tf.float32
    v = tf.Variable(7, dtype=tf.int64)
    assert float(SPEC(v)) == pytest.approx(0.1 / 4.5, rel=1e-7)
    assert SPEC(tf.constant(3), dtype=tf.float64).dtype == tf.float64


def test_keras_variable_step():
    keras = pytest.importorskip("keras")
    v = keras.Variable(4, dtype="int64", trainable=False)
    assert float(keras.ops.convert_to_numpy(SPEC(v))) == pytest.approx(0.1 / 3.0, rel=1e-7)


def test_available_backends_lists_installed_frameworks():
    import importlib.util

    names = lrspec.available_backends()
    assert names[:2] == ["python", "numpy"]
    for name in ("torch", "jax", "tensorflow"):
        assert (name in names) == (importlib.util.find_spec(name) is not None)


def test_unknown_step_types_are_rejected():
    from decimal import Decimal
    from fractions import Fraction

    for bad in (Fraction(1, 2), Decimal(1), "1", None, [1], np.array(["a"])):
        with pytest.raises(TypeError, match="step"):
            SPEC(bad)
