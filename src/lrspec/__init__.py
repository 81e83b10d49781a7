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
    Anneal,
    Constant,
    CosineDecay,
    CosineDecayRestarts,
    Cycle,
    ExponentialDecay,
    InverseSqrt,
    InverseTimeDecay,
    Join,
    Linear,
    PiecewiseConstantDecay,
    PolynomialDecay,
    Product,
    Schedule,
    Shift,
    Sum,
    Warmup,
    deserialize,
    register,
    serialize,
)

TYPE_CHECKING = False  # no runtime typing import: start-up time
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Anneal",
    "Constant",
    "CosineDecay",
    "CosineDecayRestarts",
    "Cycle",
    "ExponentialDecay",
    "InverseSqrt",
    "InverseTimeDecay",
    "Join",
    "Linear",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "Product",
    "Schedule",
    "Shift",
    "Sum",
    "Warmup",
    "available_backends",
    "deserialize",
    "from_keras",
    "from_optax",
    "from_timm",
    "from_torch",
    "from_transformers",
    "register",
    "serialize",
]

__version__ = "0.1.0"


# The importers: thin wrappers, so that `import lrspec` imports no framework (each adapter
# imports its own when first asked).


def from_torch(scheduler: Any, group: int = 0) -> Schedule:
    """The spec of a ``torch.optim.lr_scheduler`` object
    (:func:`lrspec.adapters.torch.from_torch`)."""
    from lrspec.adapters.torch import from_torch as convert

    return convert(scheduler, group)


def from_transformers(
    name: Any,
    learning_rate: float,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    **scheduler_specific_kwargs: Any,
) -> Schedule:
    """The spec of ``transformers.get_scheduler(name, ...)`` for an optimizer of rate
    ``learning_rate`` (:func:`lrspec.adapters.transformers.from_transformers`)."""
    from lrspec.adapters.transformers import from_transformers as convert

    return convert(
        name, learning_rate, num_warmup_steps, num_training_steps, **scheduler_specific_kwargs
    )


def from_optax(name: Any, **kwargs: Any) -> Schedule:
    """The spec of ``getattr(optax, name)(**kwargs)``
    (:func:`lrspec.adapters.optax.from_optax`)."""
    from lrspec.adapters.optax import from_optax as convert

    return convert(name, **kwargs)


def from_timm(scheduler: Any, group: int = 0) -> Schedule:
    """The spec of a ``timm.scheduler`` object (:func:`lrspec.adapters.timm.from_timm`)."""
    from lrspec.adapters.timm import from_timm as convert

    return convert(scheduler, group)


_install_keras_hook()
