"""The lowest layer: each framework's ops, and which of them owns a step.

Nothing here imports anything else of lrspec, and nothing here imports a framework to find
out whether a step is that framework's: detection reads ``type(step)`` and ``sys.modules``
(a framework that is not imported cannot have made the step).

Adding a backend is one ops module (an :class:`~lrspec.backends.base.Ops` subclass instance
named ``OPS``) plus one line in :data:`BACKENDS`.
"""

from __future__ import annotations

import importlib
import sys

from lrspec.backends.base import LazyStep, Ops

# No runtime import of typing or collections.abc: they cost ~10 ms of `import lrspec`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

__all__ = [
    "BACKENDS",
    "VARIANTS",
    "Backend",
    "LazyStep",
    "Ops",
    "available_backends",
    "detect",
    "get_ops",
    "resolve",
    "run_native",
]


class Backend:
    """How to find a backend without importing it.

    ``module``: the ops module. ``requires``: the framework it needs (``None``: always there).
    ``types``: dotted names of the array types it owns; subclasses are owned too.
    ``prefixes``: top-level packages whose types it owns outright (a fast path, no
    ``isinstance``). ``variants``: the ways the tests and the CLI run it (JAX: with and
    without x64).
    """

    __slots__ = ("module", "prefixes", "requires", "types", "variants")

    def __init__(
        self,
        module: str,
        requires: str | None,
        types: tuple[str, ...] = (),
        prefixes: tuple[str, ...] = (),
        variants: tuple[str, ...] = (),
    ) -> None:
        self.module = module
        self.requires = requires
        self.types = types
        self.prefixes = prefixes
        self.variants = variants


#: name -> where it lives and what it owns. Adding a backend is one ops module + one line.
BACKENDS: dict[str, Backend] = {
    "python": Backend("lrspec.backends.python", None, variants=("python",)),
    "numpy": Backend(
        "lrspec.backends.numpy",
        "numpy",
        ("numpy.ndarray", "numpy.generic"),
        ("numpy", "ml_dtypes"),
        ("numpy",),
    ),
    "torch": Backend("lrspec.backends.torch", "torch", ("torch.Tensor",), ("torch",), ("torch",)),
    "jax": Backend(
        "lrspec.backends.jax", "jax", ("jax.Array",), ("jax", "jaxlib"), ("jax", "jax-x64")
    ),
    "tensorflow": Backend(
        "lrspec.backends.tensorflow",
        "tensorflow",
        ("tensorflow.Tensor", "tensorflow.Variable"),
        ("tensorflow",),
        ("tensorflow",),
    ),
}

#: Keras variables are read through their backend tensor (``.value``).
_WRAPPERS = ("keras.Variable",)

#: top-level package -> backend: the fast path of detection (a plain dict: torch.compile
#: traces detection, and reads a dict without extra guards)
_PREFIXES: dict[str, str] = {p: name for name, b in BACKENDS.items() for p in b.prefixes}

#: backend variant (as the tests and the CLI name it) -> backend
VARIANTS: dict[str, str] = {v: name for name, b in BACKENDS.items() for v in b.variants}


def available_backends() -> list[str]:
    """Names of the backends whose framework is installed (nothing is imported to find out).

    >>> "numpy" in available_backends()
    True
    """
    import importlib.util  # here, not at import: it costs ~4 ms of start-up

    return [
        name
        for name, b in BACKENDS.items()
        if b.requires is None
        or b.requires in sys.modules
        or importlib.util.find_spec(b.requires) is not None
    ]


def get_ops(name: str) -> Ops:
    """The ops of backend ``name`` (imports that backend's framework)."""
    if name == "python":
        from lrspec.backends.python import OPS

        return OPS
    if name == "torch":
        # The first torch step may be evaluated inside torch.compile(fullgraph=True): dynamo
        # follows an import statement but refuses importlib.import_module.
        from lrspec.backends.torch import OPS as TORCH

        return TORCH
    try:
        backend = BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}") from None
    module: ModuleType = importlib.import_module(backend.module)
    ops: Ops = module.OPS
    return ops


def _named_type(dotted: str) -> type | None:
    """The type ``dotted`` names if its module is imported, else ``None`` (no import)."""
    module, _, attr = dotted.rpartition(".")
    found = sys.modules.get(module)
    return getattr(found, attr, None) if found is not None else None


def _owned(step: Any, names: tuple[str, ...]) -> bool:
    for dotted in names:
        kind = _named_type(dotted)
        if isinstance(kind, type) and isinstance(step, kind):
            return True
    return False


def detect(step: Any) -> str:
    """Name of the backend that owns ``step``, from its type alone (subclasses included).

    Python ``int``/``float`` -> ``"python"``; NumPy scalars and arrays -> ``"numpy"``; torch
    tensors -> ``"torch"``; jax arrays and tracers -> ``"jax"``; tf tensors and variables ->
    ``"tensorflow"``; Keras variables -> the backend of their value.
    """
    return resolve(step)[0]


def resolve(step: Any) -> tuple[str, Any]:
    """``(backend name, step)``, a Keras variable replaced by its backend tensor."""
    kind = type(step)
    if kind is int or kind is float:
        return "python", step
    if kind is bool:
        raise TypeError(f"step must be a number or an array, got a bool: step={step!r}")
    top = kind.__module__.partition(".")[0]
    name = _PREFIXES.get(top)
    if name is not None:
        return name, step
    if _owned(step, _WRAPPERS):
        return resolve(step.value)
    for name, backend in BACKENDS.items():
        if backend.types and _owned(step, backend.types):
            return name, step
    if isinstance(step, (int, float)) and not isinstance(step, bool):  # IntEnum, ...
        return "python", step
    what = "a bool" if isinstance(step, bool) else f"{kind.__module__}.{kind.__qualname__}"
    if top == "keras":  # a symbolic KerasTensor, say: it has no value to evaluate
        what += " (a Keras object with no concrete value)"
    raise TypeError(
        "step must be a Python int/float or a NumPy, PyTorch, JAX or TensorFlow array "
        f"(or a Keras variable); got {what}"
    )


def run_native(fn: Callable[[Any], Any], steps: Any, variant: str) -> Any:
    """``fn`` (a spec) evaluated by backend ``variant`` on ``steps`` (a NumPy array) given as
    that backend's own array; the result as a NumPy array. The tests and the CLI use it."""
    try:
        name = VARIANTS[variant]
    except KeyError:
        raise ValueError(f"unknown backend {variant!r}; known: {', '.join(VARIANTS)}") from None
    ops = get_ops(name)
    with ops.context(variant):
        return ops.to_numpy(ops.call(fn, ops.native(steps, variant)))
