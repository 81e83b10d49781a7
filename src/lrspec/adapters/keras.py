"""lrspec <-> Keras 3: ``spec.to_keras()``, ``lrspec.from_keras``, and the registration
that lets ``keras.models.load_model`` find lrspec's schedule without ``custom_objects``.

:class:`KerasSchedule` is a ``keras.optimizers.schedules.LearningRateSchedule`` computed by
whichever Keras backend is active (TensorFlow, JAX or torch): Keras hands it the optimizer's
``iterations`` variable, whose backend tensor goes through the spec like any other step.
The class subclasses Keras's own, so it is built on first use, after Keras is imported
(``lrspec.adapters.keras.KerasSchedule`` builds it); this module itself imports no framework,
because ``import lrspec`` loads it to install the registration hook below.

Registration: Keras finds custom objects in its registry, keyed ``lrspec>KerasSchedule``.
When Keras (or ``tf_keras``, for :mod:`lrspec.adapters.tf_keras`) is not imported yet,
a meta-path finder watches for it and registers right after it finishes importing. The
finder stays installed until every watched package has been handled, because:

* ``importlib.util.find_spec("keras")`` asks it too without importing anything (TensorFlow
  does so while importing, before it imports Keras);
* an import of ``keras`` may fail part-way (TensorFlow imports Keras in a ``try``) and be
  retried later;
* lrspec may be imported while ``keras`` is still initialising (from inside Keras's own
  import): registration then waits until Keras has finished, and happens on the next import
  of any module, or when an adapter is first asked for.

Nothing here may break an import of Keras: a registration that fails is a warning.
"""

from __future__ import annotations

import sys
import warnings

from lrspec.adapters._saved import SpecSchedule
from lrspec.schedules import SCHEDULES, Schedule

# No runtime import of typing or collections.abc: they cost ~10 ms of `import lrspec`;
# importing importlib.abc costs ~25 ms, and the import system needs no ABCs, only methods.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import importlib.abc
    import importlib.machinery
    from collections.abc import Callable, Sequence
    from types import ModuleType
    from typing import Any

__all__ = [  # and KerasSchedule, built on first access
    "REGISTERED_NAME",
    "from_keras",
    "install",
    "registered",
    "schedule_class",
    "to_keras",
]

REGISTERED_NAME = "lrspec>KerasSchedule"

_CLASS: list[type] = []  # the KerasSchedule class, once built


def schedule_class() -> type:
    """The :class:`KerasSchedule` class, built (and registered with Keras) on first use."""
    if _CLASS:
        return _CLASS[0]
    import keras  # may run the registration hook, which builds the class: look again

    if _CLASS:
        return _CLASS[0]
    cls = _build(keras)
    _CLASS.append(cls)
    register()
    return cls


def _build(keras: ModuleType) -> type:
    class KerasSchedule(SpecSchedule, keras.optimizers.schedules.LearningRateSchedule):  # type: ignore[misc, name-defined]
        """A Keras learning-rate schedule computing ``spec(step)``.

        >>> import keras, lrspec
        >>> schedule = lrspec.InverseTimeDecay(0.1, 1.0, 0.5).to_keras()
        >>> optimizer = keras.optimizers.SGD(learning_rate=schedule)
        """

        def __call__(self, step: Any = None) -> Any:
            if step is None:  # a Keras 2 optimizer calls a schedule it doesn't know with nothing
                raise TypeError(
                    "this Keras 3 schedule was called without a step, as tf_keras (Keras 2, "
                    "and tf.keras under TF_USE_LEGACY_KERAS=1) optimizers call one they don't "
                    "know: give those spec.to_tf_keras() instead of spec.to_keras()"
                )
            return self.spec(keras.ops.convert_to_tensor(step))

    KerasSchedule.__module__ = __name__
    KerasSchedule.__qualname__ = "KerasSchedule"
    return KerasSchedule


def register() -> None:
    """Put :class:`KerasSchedule` in Keras's registry of serializable objects (idempotent)."""
    import keras

    cls = schedule_class()
    if (
        keras.saving.get_registered_object(REGISTERED_NAME) is not cls
        or keras.saving.get_registered_name(cls) != REGISTERED_NAME
    ):
        keras.saving.register_keras_serializable("lrspec", "KerasSchedule")(cls)


def to_keras(spec: Schedule) -> Any:
    """``spec`` as a ``keras.optimizers.schedules.LearningRateSchedule``."""
    return schedule_class()(spec)


def __getattr__(name: str) -> Any:
    if name == "KerasSchedule":
        return schedule_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_KERAS_PACKAGES = ("keras", "tf_keras", "tensorflow")


def from_keras(schedule: Any) -> Schedule:
    """The lrspec spec equal to a Keras ``LearningRateSchedule`` (Keras 3 or ``tf_keras``).

    >>> import keras, lrspec
    >>> spec = lrspec.from_keras(keras.optimizers.schedules.InverseTimeDecay(0.1, 1.0, 0.5))
    >>> spec == lrspec.InverseTimeDecay(0.1, 1.0, 0.5)
    True
    """
    spec = getattr(schedule, "spec", None)
    if isinstance(spec, Schedule):  # our own Keras adapters
        return spec
    kind = type(schedule)
    cls = SCHEDULES.get(kind.__name__)
    if (
        cls is None
        or cls.keras_name != kind.__name__
        or kind.__module__.partition(".")[0] not in _KERAS_PACKAGES
        or not hasattr(schedule, "get_config")
    ):
        raise TypeError(
            f"cannot convert {kind.__module__}.{kind.__qualname__} to an lrspec schedule: "
            "lrspec reads Keras's own InverseTimeDecay, ExponentialDecay, "
            "PiecewiseConstantDecay, PolynomialDecay, CosineDecay and CosineDecayRestarts"
        )
    return cls.from_config(schedule.get_config())


# --- the registration hook ------------------------------------------------------------------


def _register_keras() -> None:
    schedule_class()


def _register_tf_keras() -> None:
    from lrspec.adapters.tf_keras import schedule_class as tf_keras_class

    tf_keras_class()


#: top-level package -> what to do once it has finished importing
_WATCHED: dict[str, Callable[[], None]] = {"keras": _register_keras, "tf_keras": _register_tf_keras}
_pending: dict[str, Callable[[], None]] = {}
_done: set[str] = set()
_busy = False  # registering: the imports that it makes must not re-enter the finder


def _ready(name: str) -> bool:
    """Whether ``name`` is in ``sys.modules`` and has finished initialising."""
    module = sys.modules.get(name)
    if module is None:
        return False
    return not getattr(getattr(module, "__spec__", None), "_initializing", False)


def _fire(name: str) -> None:
    """Register for ``name`` (once), and drop the finder when nothing is left to watch."""
    global _busy
    action = _pending.pop(name, None)
    _done.add(name)
    if not _pending:
        _uninstall()
    if action is None:
        return
    _busy = True
    try:
        action()
    except Exception as err:  # an unsupported Keras: loading then needs custom_objects
        warnings.warn(
            f"lrspec could not register its schedule with {name} ({err!r}); load saved "
            f"models with custom_objects={{{REGISTERED_NAME!r}: ...}}",
            RuntimeWarning,
            stacklevel=3,
        )
    finally:
        _busy = False


def _fire_ready() -> None:
    for name in list(_pending):
        if _ready(name):
            _fire(name)


def registered(name: str = "keras") -> bool:
    """Whether lrspec's schedule has been registered with ``name`` in this process."""
    return name in _done


class _Loader:
    """Runs the real loader of a watched package, then registers; the rest is delegated."""

    def __init__(self, inner: importlib.abc.Loader, name: str) -> None:
        self._inner = inner
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        # get_filename, get_source, is_package, get_resource_reader, ...
        return getattr(self._inner, attr)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # the package (and inspect, importlib.resources) see the real loader from now on
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self._inner
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self._inner
        self._inner.exec_module(module)
        # still marked as initialising here, but its code has run: register now
        if self._name in _pending:
            _fire(self._name)


class _Finder:
    """Wraps the loader of each watched top-level package; removed once all are handled."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if _busy or not _pending:
            return None
        if fullname not in _pending:
            # lrspec was imported while a watched package was initialising: it is done now?
            _fire_ready()
            return None
        for finder in list(sys.meta_path):
            if _is_ours(finder):
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec: importlib.machinery.ModuleSpec | None = find(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and not isinstance(spec.loader, _Loader):
                    spec.loader = _Loader(spec.loader, fullname)  # type: ignore[assignment]
                return spec
        return None


def _is_ours(finder: object) -> bool:
    # by name, so that a reloaded module recognises its predecessor's finder
    kind = type(finder)
    return kind.__name__ == "_Finder" and kind.__module__ == __name__


def _uninstall() -> None:
    for finder in [f for f in sys.meta_path if _is_ours(f)]:
        sys.meta_path.remove(finder)


def install() -> None:
    """Register with each watched package now if it is imported, else as soon as it is."""
    for name, action in _WATCHED.items():
        if name not in _done:
            _pending.setdefault(name, action)
    _fire_ready()
    if _pending and not any(_is_ours(f) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
