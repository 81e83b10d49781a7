"""Native schedules on the command line: ``torch:OneCycleLR(max_lr=0.1, total_steps=1000)``,
``transformers:cosine(learning_rate=3e-4, num_warmup_steps=100, num_training_steps=1000)``,
``optax:warmup_cosine_decay_schedule(...)``, ``timm:CosineLRScheduler(t_initial=100)``.

:func:`parse_native` turns such a text into the lrspec spec it becomes (through
``lrspec.from_torch`` / ``from_transformers`` / ``from_optax`` / ``from_timm``) and a function
giving the native library's own curve, for ``lrspec check`` to compare. The text is parsed
safely: one call of a known name, arguments that are literals (numbers, strings, lists,
dicts, ``True``/``False``/``None``), and for torch's ``SequentialLR``/``ChainedScheduler``
nested calls of torch scheduler names; nothing is evaluated or imported by name.

torch schedulers need an optimizer: one SGD parameter with momentum, whose lr is the extra
keyword ``lr=`` of the outer call (default 0.1).
"""

from __future__ import annotations

import ast
import math
import warnings
from dataclasses import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    import numpy as np

    from lrspec.schedules import Schedule

__all__ = ["PREFIXES", "Native", "compare", "is_native", "parse_native"]

PREFIXES = ("torch", "transformers", "optax", "timm")

#: torch schedulers a text may name (the ones from_torch converts, and the refused ones
#: whose refusal is worth showing)
TORCH = (
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "OneCycleLR",
    "SequentialLR",
    "ChainedScheduler",
)
TIMM = (
    "CosineLRScheduler",
    "PolyLRScheduler",
    "TanhLRScheduler",
    "StepLRScheduler",
    "MultiStepLRScheduler",
    "WSDLRScheduler",
)


class NativeError(ValueError):
    """A native schedule text that cannot be read, or a native library that is missing."""


@dataclass(frozen=True)
class Native:
    """What a native schedule text became."""

    #: ``"torch"``, ``"transformers"``, ``"optax"`` or ``"timm"``
    library: str
    #: the text as given
    text: str
    #: the lrspec spec
    spec: Schedule
    #: ``curve(n)``: the native rates at steps ``0 .. n-1`` (float64), from the library itself
    curve: Callable[[int], np.ndarray]


def is_native(text: str) -> bool:
    """Whether ``text`` names a native schedule (``library:Name(...)``)."""
    head, sep, _ = text.strip().partition(":")
    return bool(sep) and head.strip() in PREFIXES


def parse_native(text: str) -> Native:
    """The spec and the native curve of ``library:Name(args)``; :class:`NativeError` (a
    ``ValueError``) for anything else, naming what is wrong."""
    head, _, expr = text.strip().partition(":")
    library = head.strip()
    if library not in PREFIXES:
        raise NativeError(f"unknown library {library!r}: one of {', '.join(PREFIXES)}")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as err:
        raise NativeError(f"{library}: not a call such as Name(arg=value): {err.msg}") from None
    call = tree.body
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise NativeError(f"{library}: expected one call such as Name(arg=value)")
    name = call.func.id
    if library == "torch":
        return _torch(text, call)
    args, kwargs = _arguments(library, call, allow_calls=False)
    if args:
        raise NativeError(f"{library}:{name}: pass the arguments by name")
    if library == "transformers":
        return _transformers(text, name, kwargs)
    if library == "optax":
        return _optax(text, name, kwargs)
    return _timm(text, name, kwargs)


def compare(
    native: np.ndarray, ours: np.ndarray, tolerance: float = 1e-9
) -> tuple[float, int | None]:
    """``(largest relative difference, first index where they differ by more than
    tolerance)``; rates both below 1e-30 count as equal, a NaN (the native library stopped)
    as a difference."""
    import numpy as np

    native = np.asarray(native, np.float64)
    ours = np.asarray(ours, np.float64)
    scale = np.maximum(np.abs(native), np.abs(ours))
    diff = np.abs(native - ours)
    rel = np.where(scale > 1e-30, diff / np.where(scale > 0, scale, 1.0), 0.0)
    rel = np.where(np.isnan(rel), np.inf, rel)
    bad = np.flatnonzero(rel > tolerance)
    return float(rel.max(initial=0.0)), (int(bad[0]) if bad.size else None)


# --- parsing ------------------------------------------------------------------------------


def _arguments(library: str, call: ast.Call, allow_calls: bool) -> tuple[list[Any], dict[str, Any]]:
    args = [_value(library, a, allow_calls) for a in call.args]
    kwargs: dict[str, Any] = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise NativeError(f"{library}: ** arguments are not accepted")
        kwargs[kw.arg] = _value(library, kw.value, allow_calls)
    return args, kwargs


def _value(library: str, node: ast.expr, allow_calls: bool) -> Any:
    """A literal, or (``allow_calls``) a nested torch scheduler call, kept as a tree."""
    if allow_calls and isinstance(node, ast.Call):
        return node
    if allow_calls and isinstance(node, (ast.List, ast.Tuple)):
        return [_value(library, e, allow_calls) for e in node.elts]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise NativeError(
            f"{library}: arguments must be literals (numbers, strings, lists, dicts), got "
            f"{ast.unparse(node)[:60]!r}"
        ) from None


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise NativeError(f"{module} is not importable here: {err}") from None


# --- the libraries -----------------------------------------------------------------------


def _torch(text: str, call: ast.Call) -> Native:
    torch = _require("torch")
    import lrspec

    _, kwargs = _arguments("torch", call, allow_calls=True)
    lr = kwargs.pop("lr", 0.1)
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not math.isfinite(lr):
        raise NativeError(f"torch: lr must be a number, got lr={lr!r}")
    call = ast.Call(
        func=call.func, args=call.args, keywords=[k for k in call.keywords if k.arg != "lr"]
    )

    def build() -> tuple[Any, Any]:
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=float(lr), momentum=0.9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return opt, _torch_scheduler(torch, opt, call)

    _, scheduler = build()
    spec = lrspec.from_torch(scheduler)

    def curve(n: int) -> np.ndarray:
        import numpy as np

        opt, scheduler = build()
        out = np.empty(n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for k in range(n):
                out[k] = float(opt.param_groups[0]["lr"])
                if k < n - 1:
                    try:
                        opt.step()
                        scheduler.step()
                    except (ValueError, NotImplementedError, ZeroDivisionError):
                        out[k + 1 :] = np.nan  # torch stops here (e.g. OneCycleLR's end)
                        break
        return out

    return Native("torch", text, spec, curve)


def _torch_scheduler(torch: Any, opt: Any, call: ast.Call) -> Any:
    if not isinstance(call.func, ast.Name) or call.func.id not in TORCH:
        name = ast.unparse(call.func)[:40]
        raise NativeError(f"torch: unknown scheduler {name!r}; known: {', '.join(TORCH)}")
    name = call.func.id
    args, kwargs = _arguments("torch", call, allow_calls=True)
    args = [_nested(torch, opt, a) for a in args]
    kwargs = {k: _nested(torch, opt, v) for k, v in kwargs.items()}
    cls = getattr(torch.optim.lr_scheduler, name)
    try:
        if name == "ChainedScheduler":
            return cls(*args, **kwargs)
        return cls(opt, *args, **kwargs)
    except (TypeError, ValueError, KeyError) as err:
        raise NativeError(f"torch:{name}: {err}") from None


def _nested(torch: Any, opt: Any, value: Any) -> Any:
    if isinstance(value, ast.Call):
        return _torch_scheduler(torch, opt, value)
    if isinstance(value, list):
        return [_nested(torch, opt, v) for v in value]
    return value


def _transformers(text: str, name: str, kwargs: dict[str, Any]) -> Native:
    import lrspec

    if "learning_rate" not in kwargs:
        raise NativeError(f"transformers:{name}: learning_rate= is required")
    lr = kwargs.pop("learning_rate")
    warmup = kwargs.pop("num_warmup_steps", None)
    training = kwargs.pop("num_training_steps", None)
    try:
        spec = lrspec.from_transformers(name, lr, warmup, training, **kwargs)
    except (TypeError, ValueError) as err:
        raise NativeError(f"transformers:{name}: {err}") from None

    def curve(n: int) -> np.ndarray:
        import numpy as np

        torch = _require("torch")
        transformers = _require("transformers")
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scheduler = transformers.get_scheduler(
                name, opt, warmup, training, scheduler_specific_kwargs=dict(kwargs)
            )
        fn = scheduler.lr_lambdas[0]
        return np.array([lr * fn(k) for k in range(n)], dtype=np.float64)

    return Native("transformers", text, spec, curve)


def _optax(text: str, name: str, kwargs: dict[str, Any]) -> Native:
    import lrspec

    if name == "join_schedules":
        raise NativeError("optax:join_schedules takes schedules: write it as lrspec.Join")
    try:
        spec = lrspec.from_optax(name, **kwargs)
    except (TypeError, ValueError) as err:
        raise NativeError(str(err)) from None

    def curve(n: int) -> np.ndarray:
        import numpy as np

        jax = _require("jax")
        optax = _require("optax")
        import jax.numpy as jnp

        with jax.enable_x64(True):
            schedule = getattr(optax, name)(**kwargs)
            values = schedule(jnp.arange(n))
            return np.broadcast_to(np.asarray(values, np.float64), (n,)).copy()

    return Native("optax", text, spec, curve)


def _timm(text: str, name: str, kwargs: dict[str, Any]) -> Native:
    torch = _require("torch")
    if name not in TIMM:
        raise NativeError(f"timm: unknown scheduler {name!r}; known: {', '.join(TIMM)}")
    scheduler_module = _require("timm.scheduler")
    import lrspec

    lr = kwargs.pop("lr", 0.1)

    def build() -> tuple[Any, Any]:
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=float(lr), momentum=0.9)
        try:
            return opt, getattr(scheduler_module, name)(opt, **kwargs)
        except (TypeError, ValueError, AssertionError) as err:
            raise NativeError(f"timm:{name}: {err}") from None

    _, scheduler = build()
    spec = lrspec.from_timm(scheduler)

    def curve(n: int) -> np.ndarray:
        import numpy as np

        opt, scheduler = build()
        out = np.empty(n)
        for t in range(n):
            scheduler.step(t) if scheduler.t_in_epochs else scheduler.step_update(t)
            out[t] = float(opt.param_groups[0]["lr"])
        return out

    return Native("timm", text, spec, curve)
