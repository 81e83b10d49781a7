"""lrspec <-> Keras 2 (``tf_keras``, or ``tf.keras`` under ``TF_USE_LEGACY_KERAS=1``):
``spec.to_tf_keras()``.

:class:`TfKerasSchedule` is a ``tf_keras.optimizers.schedules.LearningRateSchedule`` computed
by the TensorFlow backend (``tf_keras`` optimizers count updates in an int64 ``tf.Variable``),
inside ``fit`` and ``tf.function`` alike. Like the Keras 3 class it is built on first use and
registered as ``lrspec>KerasSchedule`` in ``tf_keras``'s own registry (by the hook in
:mod:`lrspec.adapters.keras` once ``tf_keras`` is imported), so models saved with it load
without ``custom_objects`` in any process that has imported lrspec: ``.keras``, H5 and
SavedModel files alike (each resumes the step count as ``tf_keras`` does with its own
schedules).

``tf_keras``'s legacy optimizers (``tf_keras.optimizers.legacy``) hand a schedule their step
cast to the variables' dtype (float32): below 2**24 steps every step is exact; past that,
staircase boundaries can come early, as with ``tf_keras``'s own schedules. Its current
optimizers hand over the int64 counter itself, exact at any step.

A Keras 3 schedule (``spec.to_keras()``) given to a ``tf_keras`` optimizer fails with a
``TypeError`` that names ``to_tf_keras()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lrspec.adapters._saved import SpecSchedule
from lrspec.schedules import Schedule

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["schedule_class", "to_tf_keras"]  # and TfKerasSchedule, built on first access

#: the name Keras 3's registry knows lrspec's schedule by, too (lrspec.adapters.keras)
REGISTERED_NAME = "lrspec>KerasSchedule"

_CLASS: list[type] = []


def schedule_class() -> type:
    """The :class:`TfKerasSchedule` class, built (and registered with tf_keras) on first use."""
    if _CLASS:
        return _CLASS[0]
    import tf_keras  # may run the registration hook, which builds the class: look again

    if _CLASS:
        return _CLASS[0]
    cls = _build(tf_keras)
    _CLASS.append(cls)
    saving = tf_keras.saving
    if saving.get_registered_object(REGISTERED_NAME) is not cls:
        saving.register_keras_serializable("lrspec", "KerasSchedule")(cls)
    # An optimizer's config names its schedule by class name too ('TfKerasSchedule'), and
    # loading an H5 file looks the schedule up by that name alone: make it known as well.
    saving.get_custom_objects().setdefault(cls.__name__, cls)
    return cls


def _build(tf_keras: ModuleType) -> type:
    import tensorflow as tf

    base = tf_keras.optimizers.schedules.LearningRateSchedule

    class TfKerasSchedule(SpecSchedule, base):  # type: ignore[misc, valid-type]
        """A ``tf_keras`` learning-rate schedule computing ``spec(step)``.

        >>> import tf_keras, lrspec
        >>> schedule = lrspec.InverseTimeDecay(0.1, 1.0, 0.5).to_tf_keras()
        >>> optimizer = tf_keras.optimizers.SGD(learning_rate=schedule)
        """

        def __call__(self, step: Any) -> Any:
            return self.spec(tf.convert_to_tensor(step))

    TfKerasSchedule.__module__ = __name__
    TfKerasSchedule.__qualname__ = "TfKerasSchedule"
    return TfKerasSchedule


def to_tf_keras(spec: Schedule) -> Any:
    """``spec`` as a ``tf_keras.optimizers.schedules.LearningRateSchedule``."""
    return schedule_class()(spec)


def __getattr__(name: str) -> Any:
    if name == "TfKerasSchedule":
        return schedule_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
