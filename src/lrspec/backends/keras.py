"""The Keras adapter: an lrspec spec as a ``keras.optimizers.schedules.LearningRateSchedule``.

The schedule is computed by whichever Keras backend is active (TensorFlow, JAX or torch):
Keras hands it the optimizer's ``iterations`` variable, whose backend tensor goes through
the spec like any other step. It is registered with Keras as ``lrspec>KerasSchedule`` (see
:mod:`lrspec._keras_hook`), so a saved ``.keras`` file loads without ``custom_objects``.
"""

from __future__ import annotations

from typing import Any

import keras

from lrspec.schedules import Schedule, deserialize, serialize

REGISTERED_NAME = "lrspec>KerasSchedule"


class KerasSchedule(keras.optimizers.schedules.LearningRateSchedule):  # type: ignore[misc]
    """A Keras learning-rate schedule computing ``spec(step)``.

    >>> import keras, lrspec
    >>> schedule = lrspec.InverseTimeDecay(0.1, 1.0, 0.5).to_keras()
    >>> optimizer = keras.optimizers.SGD(learning_rate=schedule)
    """

    def __init__(self, spec: Schedule) -> None:
        super().__init__()
        if not isinstance(spec, Schedule):
            raise TypeError(f"spec must be an lrspec schedule, got spec={spec!r}")
        self.spec = spec

    def __call__(self, step: Any) -> Any:
        return self.spec(keras.ops.convert_to_tensor(step))

    def get_config(self) -> dict[str, Any]:
        return {"spec": serialize(self.spec)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> KerasSchedule:
        return cls(deserialize(config["spec"]))

    def __repr__(self) -> str:
        return f"KerasSchedule({self.spec!r})"


def register() -> None:
    """Put :class:`KerasSchedule` in Keras's registry of serializable objects (idempotent)."""
    if (
        keras.saving.get_registered_object(REGISTERED_NAME) is not KerasSchedule
        or keras.saving.get_registered_name(KerasSchedule) != REGISTERED_NAME
    ):
        keras.saving.register_keras_serializable("lrspec", "KerasSchedule")(KerasSchedule)


# Importing this module (``spec.to_keras()``, or a reload) registers its class, whatever
# happened to the import hook.
register()
