"""Register lrspec's Keras schedule with Keras whenever Keras is (or gets) imported.

``keras.models.load_model`` finds custom objects in Keras's registry, so a ``.keras`` file
saved with ``spec.to_keras()`` loads without ``custom_objects`` only if our class is
registered. ``import lrspec`` must not import Keras, so when Keras is not imported yet we
watch for it with a meta-path finder and register right after ``keras`` finishes importing.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType


def _register() -> None:
    from lrspec.backends.keras import register

    register()


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader) -> None:
        self._inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        _register()


class _KerasFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader of the top-level ``keras`` package; removes itself once used."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)
        for finder in sys.meta_path:
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _Loader(spec.loader)
                return spec
        return None


def install() -> None:
    if "keras" in sys.modules:
        _register()
    elif not any(isinstance(f, _KerasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _KerasFinder())
