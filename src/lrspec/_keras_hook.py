"""Register lrspec's Keras schedule with Keras whenever Keras is (or gets) imported.

``keras.models.load_model`` finds custom objects in Keras's registry, so a ``.keras`` file
saved with ``spec.to_keras()`` loads without ``custom_objects`` only if our class is
registered. ``import lrspec`` must not import Keras, so when Keras is not imported yet we
watch for it with a meta-path finder and register right after ``keras`` finishes importing.

The finder stays installed until registration has happened, because:

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

# No runtime import of typing or collections.abc: they cost ~10 ms of `import lrspec`
# (benchmarks/bench_import.py); type checkers read the names below.
TYPE_CHECKING = False
if TYPE_CHECKING:
    # Only for annotations: importing importlib.abc costs ~25 ms of start-up (it pulls in
    # importlib.resources, pathlib, tempfile), and the import system needs no ABCs, only
    # the methods.
    import importlib.abc
    import importlib.machinery
    from collections.abc import Sequence
    from types import ModuleType
    from typing import Any

__all__ = ["install", "registered"]

_done = False
_busy = False  # registering: the imports that it makes must not re-enter the finder


def _keras_ready() -> bool:
    """Whether ``keras`` is in ``sys.modules`` and has finished initialising."""
    module = sys.modules.get("keras")
    if module is None:
        return False
    return not getattr(getattr(module, "__spec__", None), "_initializing", False)


def _register() -> bool:
    """Register with a fully imported Keras; ``True`` once done (or hopeless)."""
    if _done:
        return True
    if _busy or not _keras_ready():
        return False
    _finish()
    return True


def _finish() -> None:
    """Mark done, remove the finder, register (once)."""
    global _done
    _done = True
    _uninstall()
    _import_and_register()


def _import_and_register() -> None:
    global _busy
    _busy = True
    try:
        from lrspec.backends.keras import register

        register()
    except Exception as err:  # an unsupported Keras (e.g. Keras 2): loading needs custom_objects
        warnings.warn(
            f"lrspec could not register its Keras schedule with Keras ({err!r}); "
            "load .keras files with custom_objects={'lrspec>KerasSchedule': KerasSchedule}",
            RuntimeWarning,
            stacklevel=3,
        )
    finally:
        _busy = False


def registered() -> bool:
    """Whether lrspec's schedule has been registered with Keras in this process."""
    return _done


class _Loader:
    """Runs the real loader of ``keras``, then registers; anything else is delegated."""

    def __init__(self, inner: importlib.abc.Loader) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        # get_filename, get_source, is_package, get_resource_reader, ...
        return getattr(self._inner, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # Keras (and inspect, importlib.resources) see the real loader from now on.
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self._inner
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self._inner
        self._inner.exec_module(module)
        # keras is still marked as initialising here, hence no _keras_ready() check
        if not _done:
            _finish()


class _KerasFinder:
    """Wraps the loader of the top-level ``keras`` package; removed once registered."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if _done or _busy:
            return None
        if fullname != "keras":
            # lrspec was imported while keras was initialising: register once it is done
            if "keras" in sys.modules:
                _register()
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
                    spec.loader = _Loader(spec.loader)  # type: ignore[assignment]
                return spec
        return None


def _is_ours(finder: object) -> bool:
    # by name, so that a reloaded lrspec._keras_hook recognises its predecessor's finder
    kind = type(finder)
    return kind.__name__ == "_KerasFinder" and kind.__module__ == __name__


def _uninstall() -> None:
    for finder in [f for f in sys.meta_path if _is_ours(f)]:
        sys.meta_path.remove(finder)


def install() -> None:
    """Register now if Keras is imported, else as soon as it is."""
    if _register():
        return
    if not any(_is_ours(f) for f in sys.meta_path):
        sys.meta_path.insert(0, _KerasFinder())
