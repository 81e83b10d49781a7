"""lrspec: learning-rate schedules written once, evaluated natively in NumPy, PyTorch, JAX
and TensorFlow/Keras.

>>> import lrspec
>>> s = lrspec.InverseTimeDecay(initial_learning_rate=0.1, decay_steps=1.0, decay_rate=0.5)
>>> s(1)
0.06666666666666667

Importing lrspec imports no framework (and not NumPy); each backend module is loaded the
first time a step of that framework is evaluated, each adapter when it is asked for.
"""

from __future__ import annotations

from lrspec.adapters.keras import from_keras
from lrspec.adapters.keras import install as _install_keras_hook
from lrspec.backends import available_backends
from lrspec.schedules import (
    Constant,
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseSqrt,
    InverseTimeDecay,
    Join,
    Linear,
    PiecewiseConstantDecay,
    PolynomialDecay,
    Schedule,
    Warmup,
    deserialize,
    register,
    serialize,
)

__all__ = [
    "Constant",
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseSqrt",
    "InverseTimeDecay",
    "Join",
    "Linear",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "Schedule",
    "Warmup",
    "available_backends",
    "deserialize",
    "from_keras",
    "register",
    "serialize",
]

__version__ = "0.1.0"

_install_keras_hook()
