"""Reading the command line's inputs: schedules (expressions parsed with :mod:`ast`, never
evaluated, or JSON) and steps. Bad input raises :class:`UsageError` (one line, exit 2)."""

from __future__ import annotations

import ast
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from lrspec.schedules import SCHEDULES, Schedule, deserialize

__all__ = [
    "MAX_EXPR_DEPTH",
    "MAX_EXPR_NODES",
    "MAX_INPUT_CHARS",
    "MAX_STEPS",
    "UsageError",
    "describe",
    "parse_schedule",
    "parse_steps",
]

#: Largest input accepted as a schedule (characters of an expression, JSON text or file).
MAX_INPUT_CHARS = 20_000
#: Deepest nesting of schedule calls / lists in an expression.
MAX_EXPR_DEPTH = 12
#: Most syntax nodes in an expression.
MAX_EXPR_NODES = 2_000
#: Most steps one command evaluates.
MAX_STEPS = 1_000_000


class UsageError(Exception):
    """Bad input: printed as one line on stderr, exit status 2."""

    #: where in a JSON text the error is (": invalid JSON at line L, column C"), or ""
    position = ""
    #: a known schedule refused its arguments (the message names them, not the input text)
    checked = False


# --- schedules from the command line ----------------------------------------------------


def parse_schedule(text: str, source: Path | None = None) -> Schedule:
    """The schedule described by ``text``: JSON, a path to a JSON/expression file, or an
    expression such as ``"InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)"``.

    >>> parse_schedule("InverseTimeDecay(0.1, 1.0, 0.5)")(2)
    0.05
    """
    if len(text) > MAX_INPUT_CHARS:
        raise UsageError(f"schedule is {len(text)} characters long; the limit is {MAX_INPUT_CHARS}")
    stripped = text.strip()
    if not stripped:
        raise UsageError("empty schedule" if source is None else f"{source} is empty")
    if source is not None:
        # a file's text: never itself a path (a file naming itself), and errors never
        # quote it (a secret file given by mistake is not echoed)
        try:
            return _from_json(stripped) if stripped.startswith("{") else _from_expression(stripped)
        except UsageError as err:
            if err.checked:
                raise UsageError(f"{source}: {err}") from None
            raise UsageError(
                f"{source} does not hold a valid schedule (JSON, or an expression such as "
                f"InverseTimeDecay(0.1, 1.0, 0.5)){err.position}"
            ) from None
    if not stripped.startswith("{") and "(" not in stripped:
        path = Path(stripped)
        try:
            is_file = path.is_file()
        except (OSError, ValueError):
            is_file = False
        if is_file:
            return parse_schedule(_read_limited(path), source=path)
        if stripped.endswith(".json") or os.sep in stripped:
            raise UsageError(f"no such file: {stripped}")
    if stripped.startswith("{"):
        return _from_json(stripped)
    from lrspec.cli import native  # torch:..., transformers:..., optax:..., timm:...

    if native.is_native(stripped):
        try:
            return native.parse_native(stripped).spec
        except ValueError as err:
            raise UsageError(str(err)) from None
    return _from_expression(stripped)


def _read_limited(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_INPUT_CHARS + 1)
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    if len(data) > MAX_INPUT_CHARS:
        raise UsageError(f"{path} is larger than the limit of {MAX_INPUT_CHARS} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None


def _from_json(text: str) -> Schedule:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        error = UsageError(f"invalid JSON: {err.msg} (line {err.lineno}, column {err.colno})")
        error.position = f": invalid JSON at line {err.lineno}, column {err.colno}"
        raise error from None
    except RecursionError:
        raise UsageError("invalid JSON: nested too deeply") from None
    try:
        return deserialize(data)
    except (TypeError, ValueError, KeyError) as err:
        raise UsageError(f"invalid schedule JSON: {message(err)}") from None


def _from_expression(text: str) -> Schedule:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise UsageError(f"invalid schedule expression: {err.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise UsageError("invalid schedule expression: too large or nested too deeply") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_EXPR_NODES:
        raise UsageError(
            f"schedule expression has {count} syntax nodes; the limit is {MAX_EXPR_NODES}"
        )
    value = _literal(tree.body, 0)
    if not isinstance(value, Schedule):
        raise UsageError(
            f"a schedule expression must be a schedule call such as "
            f"'InverseTimeDecay(0.1, 1.0, 0.5)', got {text!r}"
        )
    return value


def _literal(node: ast.expr, depth: int) -> Any:
    """The value of an allowed node: a number, bool, string or None literal, a list or tuple
    of allowed values, or a call of a known schedule class with allowed arguments."""
    if depth > MAX_EXPR_DEPTH:
        raise UsageError(f"schedule expression is nested deeper than {MAX_EXPR_DEPTH} levels")
    if isinstance(node, ast.Constant):
        if node.value is None or isinstance(node.value, (bool, int, float, str)):
            return node.value
        raise UsageError(f"literal {node.value!r} is not allowed in a schedule expression")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _literal(node.operand, depth + 1)
        if isinstance(operand, bool) or not isinstance(operand, (int, float)):
            raise UsageError("a sign applies only to a number in a schedule expression")
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item, depth + 1) for item in node.elts]
    if isinstance(node, ast.Call):
        return _call(node, depth)
    if isinstance(node, ast.Attribute):
        # (not ast.unparse: a chain of hundreds of attributes would exceed its recursion)
        raise UsageError(
            f"attribute access (.{node.attr[:40]}) is not allowed; "
            "write the bare class name, e.g. InverseTimeDecay(...)"
        )
    if isinstance(node, ast.Name):
        raise UsageError(f"unknown name {node.id!r}; only schedule calls and literals are allowed")
    kind = type(node).__name__
    raise UsageError(f"{kind} is not allowed in a schedule expression (only literals and calls)")


def _call(node: ast.Call, depth: int) -> Schedule:
    if isinstance(node.func, ast.Attribute):
        _literal(node.func, depth + 1)  # raises: attribute access
    if not isinstance(node.func, ast.Name):
        raise UsageError("only schedule classes can be called in a schedule expression")
    name = node.func.id
    cls = SCHEDULES.get(name)
    if cls is None or name.startswith("_") or name == "Schedule":
        known = ", ".join(sorted(n for n in SCHEDULES if n != "Schedule"))
        raise UsageError(f"unknown schedule {name!r}; known: {known}")
    args = []
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise UsageError("*args is not allowed in a schedule expression")
        args.append(_literal(arg, depth + 1))
    kwargs: dict[str, Any] = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            raise UsageError("**kwargs is not allowed in a schedule expression")
        kwargs[keyword.arg] = _literal(keyword.value, depth + 1)
    try:
        return cls(*args, **kwargs)
    except (TypeError, ValueError) as err:
        error = UsageError(f"{name}(...): {message(err)}")
        error.checked = True
        raise error from None


def message(err: BaseException) -> str:
    text = " ".join(str(err).split())  # one line
    return text[:300] + ("..." if len(text) > 300 else "")


def describe(spec: Schedule) -> str:
    """A short label: the class name and its arguments (nested schedules described too)."""
    parts = [f"{key}={_short(value)}" for key, value in spec.get_config().items() if key != "name"]
    return f"{type(spec).__name__}({', '.join(parts)})"


def _short(value: Any) -> str:
    if isinstance(value, dict) and "class_name" in value:
        try:
            return describe(deserialize(value))
        except (TypeError, ValueError):
            return repr(value)
    if isinstance(value, Schedule):
        return describe(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return repr(value)


# --- steps ------------------------------------------------------------------------------


def parse_steps(text: str) -> np.ndarray:
    """Steps from ``"0,1,10,1e6"`` or ranges ``"0:100:10"`` (start:stop[:stride], stop
    included), mixed freely. All integers give an int64 array, else float64.

    >>> parse_steps("0:4:2,10").tolist()
    [0, 2, 4, 10]
    """
    if len(text) > MAX_INPUT_CHARS:
        raise UsageError(f"--steps is longer than {MAX_INPUT_CHARS} characters")
    values: list[int | float] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if ":" in item:
            values.extend(_range(item))
        else:
            values.append(_number(item))
        if len(values) > MAX_STEPS:
            raise UsageError(f"more than {MAX_STEPS} steps")
    if not values:
        raise UsageError(f"no steps in {text!r}")
    for v in values:
        if v < 0 or not math.isfinite(v):
            raise UsageError(f"steps must be finite and >= 0, got {v!r}")
    if all(isinstance(v, int) for v in values):
        if max(values) > 2**63 - 1:
            raise UsageError("steps must be below 2**63")
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=np.float64)


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"not a number: {text!r}") from None
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


def _range(text: str) -> list[int]:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise UsageError(f"a step range is start:stop[:stride], got {text!r}")
    numbers = [_number(p) for p in parts]
    if not all(isinstance(n, int) for n in numbers):
        raise UsageError(f"a step range needs integers, got {text!r}")
    start, stop = int(numbers[0]), int(numbers[1])
    stride = int(numbers[2]) if len(numbers) == 3 else 1
    if stride <= 0:
        raise UsageError(f"a step range needs a stride > 0, got {text!r}")
    if stop >= start and (stop - start) // stride + 1 > MAX_STEPS:
        raise UsageError(f"range {text!r} has more than {MAX_STEPS} steps")
    return list(range(start, stop + 1, stride))
