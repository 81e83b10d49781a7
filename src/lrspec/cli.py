"""The command line: ``lrspec plot | table | check | demo`` (also ``python -m lrspec ...``).

A schedule is given as JSON (``lrspec.serialize`` or ``keras.optimizers.schedules.serialize``
output, inline or in a file) or as a short expression parsed with :mod:`ast`, never
evaluated::

    lrspec table "InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)" --steps 0,1,10
    lrspec check "InverseTimeDecay(0.1, 1.0, 0.5, staircase=True)" --stop 100000
    lrspec plot "InverseTimeDecay(0.1, 1.0, 0.5)" --yscale log -o lr.png
    lrspec demo

Exit status: 0 success; 1 ``check`` found a backend beyond its bound; 2 bad input (one line
on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

import lrspec
from lrspec.schedules import SCHEDULES, Schedule, deserialize

__all__ = [
    "BOUNDS",
    "UsageError",
    "bounds_for",
    "evaluate",
    "exact",
    "main",
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

#: The documented accuracy of each kind of result, in units in the last place of its own
#: dtype, against the exact value; ``check`` fails when a backend is beyond its bound. The
#: only table of bounds. "float32-jax" is JAX without x64 (float32 throughout); float32
#: elsewhere is computed in float64 and rounded once.
BOUNDS: dict[str, dict[str, float]] = {
    # DESIGN.md ("Semantics every backend shares"): rational formulas
    "rational": {"float32": 1.0, "float32-jax": 3.0, "float64": 2.0},
    # docs/schedules.md: formulas with exp, cos, sqrt, non-integer powers, and compositions
    "family": {"float32": 1.0, "float32-jax": 8.0, "float64": 6.0},
}
_RATIONAL = ("InverseTimeDecay", "Constant", "PiecewiseConstantDecay")


def bounds_for(spec: Schedule) -> dict[str, float]:
    """The row of :data:`BOUNDS` that applies to ``spec``."""
    return BOUNDS["rational" if type(spec).__name__ in _RATIONAL else "family"]


#: Backends as ``check`` and ``table`` run them: JAX twice, with and without x64.
VARIANTS: dict[str, str] = {
    "python": "python",
    "numpy": "numpy",
    "torch": "torch",
    "jax": "jax",
    "jax-x64": "jax",
    "tensorflow": "tensorflow",
}

_FORMATS = {"float32": (24, -126), "float64": (53, -1022)}  # (precision, min exponent)


class UsageError(Exception):
    """Bad input: printed as one line on stderr, exit status 2."""


# --- schedules from the command line ----------------------------------------------------


def parse_schedule(text: str) -> Schedule:
    """The schedule described by ``text``: JSON, a path to a JSON/expression file, or an
    expression such as ``"InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)"``.

    >>> parse_schedule("InverseTimeDecay(0.1, 1.0, 0.5)")(2)
    0.05
    """
    if len(text) > MAX_INPUT_CHARS:
        raise UsageError(f"schedule is {len(text)} characters long; the limit is {MAX_INPUT_CHARS}")
    stripped = text.strip()
    if not stripped:
        raise UsageError("empty schedule")
    if not stripped.startswith("{") and "(" not in stripped:
        path = Path(stripped)
        try:
            is_file = path.is_file()
        except (OSError, ValueError):
            is_file = False
        if is_file:
            return parse_schedule(_read_limited(path))
        if stripped.endswith(".json") or os.sep in stripped:
            raise UsageError(f"no such file: {stripped}")
    if stripped.startswith("{"):
        return _from_json(stripped)
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
        raise UsageError(
            f"invalid JSON: {err.msg} (line {err.lineno}, column {err.colno})"
        ) from None
    except RecursionError:
        raise UsageError("invalid JSON: nested too deeply") from None
    try:
        return deserialize(data)
    except (TypeError, ValueError, KeyError) as err:
        raise UsageError(f"invalid schedule JSON: {_message(err)}") from None


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
        raise UsageError(
            f"attribute access ({ast.unparse(node)[:40]}) is not allowed; "
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
        raise UsageError(f"{name}(...): {_message(err)}") from None


def _message(err: BaseException) -> str:
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


# --- native evaluation ------------------------------------------------------------------


def installed_variants() -> list[str]:
    """The backends to run (``jax`` also as ``jax-x64``), in registry order."""
    found = set(lrspec.available_backends())
    return [v for v, backend in VARIANTS.items() if backend in found]


def evaluate(spec: Schedule, steps: np.ndarray, variant: str) -> tuple[np.ndarray, str]:
    """``spec`` at ``steps``, computed by backend ``variant`` from a native array of the
    steps; returned as a NumPy array of the result's own dtype, and that dtype's name."""
    backend = VARIANTS[variant]
    if backend == "python":
        out = np.array([spec(v) for v in steps.tolist()], dtype=np.float64)
    elif backend == "numpy":
        out = np.asarray(spec(steps))
    elif backend == "torch":
        import torch

        out = spec(torch.from_numpy(steps)).detach().cpu().numpy()
    elif backend == "jax":
        import jax
        import jax.numpy as jnp

        x64 = variant == "jax-x64"
        with jax.enable_x64(x64):
            out = np.asarray(spec(jnp.asarray(_jax_steps(steps, x64))))
    else:
        import tensorflow as tf

        out = spec(tf.constant(steps)).numpy()
    return out, out.dtype.name


def _jax_steps(steps: np.ndarray, x64: bool) -> np.ndarray:
    if x64:
        return steps
    if steps.dtype.kind == "f":
        return steps.astype(np.float32)
    top = int(steps.max()) if steps.size else 0
    if top <= 2**31 - 1:
        return steps.astype(np.int32)
    if top <= 2**32 - 1:
        return steps.astype(np.uint32)
    raise UsageError("JAX without x64 holds integer steps below 2**32 only")


def _format(value: float, dtype: str) -> str:
    return str(np.float32(value)) if dtype == "float32" else repr(float(value))


# --- exact references (used by `check`) -------------------------------------------------
#
# Each is written again from Keras's documentation, independent of lrspec._math. Rational
# formulas are evaluated exactly with fractions.Fraction; exp, cos, log and non-integer
# powers in numpy.longdouble (x87 extended precision, 64-bit mantissa, on x86-64 Linux;
# plain float64 elsewhere), then taken as an exact fraction. The error of that reference is
# then a few 2**-64 relative: a thousandth of a float64 ulp.

_LONG = np.longdouble
_EXTENDED = np.finfo(np.longdouble).nmant >= 63
# numpy's np.pi is the float64 value; parse pi at the long double's own precision
_PI = _LONG("3.14159265358979323846264338327950288") if _EXTENDED else _LONG(math.pi)


def _ld(x: Fraction) -> Any:
    return _LONG(x.numerator) / _LONG(x.denominator)


def _fr(x: Any) -> Fraction:
    return Fraction(*_LONG(x).as_integer_ratio())


def _pow(base: Fraction, p: Fraction) -> Fraction:
    if p.denominator == 1 and abs(p.numerator) <= 64:
        return base**p.numerator
    if base == 0:
        return Fraction(0) if p > 0 else Fraction(1)
    return _fr(np.power(_ld(base), _ld(p)))


def _half_one_plus_cos_pi(t: Fraction) -> Fraction:
    """``(1 + cos(pi t)) / 2 = cos(pi t / 2)**2``, accurate to the last bit even where it is
    tiny (t near odd integers): the cosine's argument is reduced exactly, in fractions, to a
    small angle whose sine or cosine long double computes to full relative precision."""
    u = (t % 2) / 2  # cos(pi t / 2)**2 = cos(pi u)**2, 0 <= u < 1
    if u in (0, Fraction(1, 2)):
        return Fraction(1 - 2 * u)
    if u <= Fraction(1, 4):
        c = np.cos(_PI * _ld(u))
    elif u < Fraction(3, 4):
        c = np.sin(_PI * _ld(Fraction(1, 2) - u))  # cos(pi u) = sin(pi (1/2 - u))
    else:
        c = np.cos(_PI * _ld(1 - u))  # cos(pi u) = -cos(pi (1 - u))
    return _fr(c) ** 2


def _f(config: dict[str, Any], key: str, default: Any = None) -> Fraction:
    value = config.get(key, default)
    return Fraction(value)


def _inverse_time(c: dict[str, Any], step: Fraction) -> Fraction:
    p = step / _f(c, "decay_steps")
    if c.get("staircase"):
        p = Fraction(math.floor(p))
    return _f(c, "initial_learning_rate") / (1 + _f(c, "decay_rate") * p)


def _exponential(c: dict[str, Any], step: Fraction) -> Fraction:
    p = step / _f(c, "decay_steps")
    if c.get("staircase"):
        p = Fraction(math.floor(p))
    return _f(c, "initial_learning_rate") * _pow(_f(c, "decay_rate"), p)


def _piecewise(c: dict[str, Any], step: Fraction) -> Fraction:
    boundaries, values = c["boundaries"], c["values"]
    for boundary, value in zip(boundaries, values, strict=False):
        if step <= Fraction(boundary):
            return Fraction(value)
    return Fraction(values[-1])


def _polynomial(c: dict[str, Any], step: Fraction) -> Fraction:
    a, end = _f(c, "initial_learning_rate"), _f(c, "end_learning_rate", 0.0001)
    d, power = _f(c, "decay_steps"), _f(c, "power", 1.0)
    if c.get("cycle"):
        d = d * (1 if step == 0 else math.ceil(step / d))
    else:
        step = min(step, d)
    return (a - end) * _pow(1 - step / d, power) + end


def _cosine_part(t: Fraction, alpha: Fraction, scale: Fraction = Fraction(1)) -> Fraction:
    return (1 - alpha) * scale * _half_one_plus_cos_pi(t) + alpha


def _cosine(c: dict[str, Any], step: Fraction) -> Fraction:
    a, d, alpha = _f(c, "initial_learning_rate"), _f(c, "decay_steps"), _f(c, "alpha", 0.0)
    target, warmup = c.get("warmup_target"), _f(c, "warmup_steps", 0)
    if target is None:
        return a * _cosine_part(min(step, d) / d, alpha)
    target = Fraction(target)
    step = min(step, d + warmup)
    if step < warmup:
        return (target - a) * (step / warmup) + a
    return target * _cosine_part((step - warmup) / d, alpha)


def _cosine_restarts(c: dict[str, Any], step: Fraction) -> Fraction:
    a, first = _f(c, "initial_learning_rate"), _f(c, "first_decay_steps")
    t_mul, m_mul, alpha = _f(c, "t_mul", 2.0), _f(c, "m_mul", 1.0), _f(c, "alpha", 0.0)
    done = step / first
    if t_mul == 1:
        i = math.floor(done)
        frac = done - i
    else:
        # the restart i: the largest with (1 - t_mul**i) / (1 - t_mul) <= done
        i, start, length = 0, Fraction(0), Fraction(1)
        while start + length <= done:
            start, length, i = start + length, length * t_mul, i + 1
        frac = (done - start) / length
    # Keras: the restart's m_mul**i scales the cosine, not alpha
    return a * _cosine_part(frac, alpha, m_mul**i)


def _constant(c: dict[str, Any], step: Fraction) -> Fraction:
    return _f(c, "learning_rate")


def _linear(c: dict[str, Any], step: Fraction) -> Fraction:
    a, end = _f(c, "initial_learning_rate"), _f(c, "end_learning_rate")
    n = _f(c, "transition_steps")
    return a + (end - a) * min(step / n, Fraction(1))


def _ramp(start: Any, peak: Fraction, warmup: Fraction, step: Fraction) -> Fraction:
    if start is None:  # from 0 at step -1: the first update is not wasted at rate 0
        return peak * (step + 1) / (warmup + 1)
    return Fraction(start) + (peak - Fraction(start)) * step / warmup


def _inverse_sqrt(c: dict[str, Any], step: Fraction) -> Fraction:
    peak, warmup = _f(c, "learning_rate"), _f(c, "warmup_steps")
    if step < warmup:
        return _ramp(c.get("initial_learning_rate"), peak, warmup, step)
    if step == 0:
        return peak
    ratio = warmup / step
    root = _pow(ratio, Fraction(1, 2))
    exact_root = Fraction(math.isqrt(ratio.numerator), math.isqrt(ratio.denominator))
    return peak * (exact_root if exact_root**2 == ratio else root)


def _warmup(c: dict[str, Any], step: Fraction) -> Fraction:
    inner, warmup = deserialize(c["schedule"]), _f(c, "warmup_steps")
    if step < warmup:
        return _ramp(c.get("initial_learning_rate"), _exact(inner, Fraction(0)), warmup, step)
    return _exact(inner, step - warmup)


def _join(c: dict[str, Any], step: Fraction) -> Fraction:
    k, start = 0, Fraction(0)
    for boundary in c["boundaries"]:
        if step < Fraction(boundary):
            break
        k, start = k + 1, Fraction(boundary)
    return _exact(deserialize(c["schedules"][k]), step - start)


#: class name -> exact value of a config at a step. ``check`` refuses classes missing here.
EXACT: dict[str, Callable[[dict[str, Any], Fraction], Fraction]] = {
    "InverseTimeDecay": _inverse_time,
    "ExponentialDecay": _exponential,
    "PiecewiseConstantDecay": _piecewise,
    "PolynomialDecay": _polynomial,
    "CosineDecay": _cosine,
    "CosineDecayRestarts": _cosine_restarts,
    "Constant": _constant,
    "Linear": _linear,
    "InverseSqrt": _inverse_sqrt,
    "Warmup": _warmup,
    "Join": _join,
}


def exact(spec: Schedule, step: int | float | Fraction) -> Fraction:
    """The exact learning rate of ``spec`` at ``step`` (see the note above :data:`EXACT`)."""
    reference = EXACT.get(type(spec).__name__)
    if reference is None:
        raise UsageError(
            f"check has no exact reference for {type(spec).__name__}; "
            f"it has one for {', '.join(EXACT)}"
        )
    return reference(spec.get_config(), Fraction(step))


def _exact(spec: Schedule, step: Fraction) -> Fraction:
    return exact(spec, step)


def ulp(value: Fraction, dtype: str) -> Fraction:
    """One unit in the last place of ``dtype`` at the exact value ``value``."""
    precision, min_exp = _FORMATS[dtype]
    value = abs(value)
    if value == 0:
        return Fraction(2) ** (min_exp - precision + 1)
    exp = value.numerator.bit_length() - value.denominator.bit_length()
    if Fraction(2) ** exp > value:  # make 2**exp <= value < 2**(exp + 1)
        exp -= 1
    return Fraction(2) ** (max(exp, min_exp) - precision + 1)


# --- commands ---------------------------------------------------------------------------


def _variants(wanted: Sequence[str] | None) -> list[str]:
    installed = installed_variants()
    if not wanted or "all" in wanted:
        return installed
    for name in wanted:
        if name not in VARIANTS:
            raise UsageError(f"unknown backend {name!r}; known: {', '.join(VARIANTS)}")
        if name not in installed:
            raise UsageError(
                f"backend {name!r} is not installed (installed: {', '.join(installed)})"
            )
    return list(dict.fromkeys(wanted))


def _evaluate_or_fail(spec: Schedule, steps: np.ndarray, variant: str) -> tuple[np.ndarray, str]:
    try:
        return evaluate(spec, steps, variant)
    except (TypeError, ValueError, OverflowError) as err:
        raise UsageError(f"{variant}: {_message(err)}") from None


def cmd_table(args: argparse.Namespace) -> int:
    spec = parse_schedule(args.schedule)
    steps = parse_steps(args.steps)
    variants = _variants(args.backend)
    columns = {v: _evaluate_or_fail(spec, steps, v) for v in variants}
    rows = [["step", *(f"{v} ({dtype})" for v, (_, dtype) in columns.items())]]
    for k, step in enumerate(steps.tolist()):
        rows.append([repr(step), *(_format(out[k], dtype) for out, dtype in columns.values())])
    if args.format == "csv":
        print(f"# {describe(spec)}")
        for row in rows:
            print(",".join(row))
        return 0
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(describe(spec))
    for n, row in enumerate(rows):
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    return 0


def _worst(out: np.ndarray, exact_values: list[Fraction], dtype: str) -> tuple[float, float, int]:
    """The largest difference from the exact values in ``dtype`` ulp and relative, and the
    index where the ulp difference is largest."""
    if _EXTENDED and all(np.isfinite(out)):
        # Vectorized in long double: the exact values there are off by 2**-64 relative, a
        # 2**-11 fraction of a float64 ulp, and the differences of such close numbers are exact.
        refs = np.array([_ld(v) for v in exact_values], dtype=_LONG)
        diffs = np.abs(out.astype(_LONG) - refs)
        precision, min_exp = _FORMATS[dtype]
        _, exp = np.frexp(np.abs(refs))  # |ref| = m * 2**exp, 0.5 <= m < 1
        units = np.ldexp(_LONG(1), np.maximum(exp - 1, min_exp) - precision + 1)
        in_ulp = diffs / units
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(refs != 0, diffs / np.abs(refs), np.where(diffs == 0, 0, np.inf))
        k = int(np.argmax(in_ulp))
        return float(in_ulp[k]), float(rel.max()), k
    worst_ulp, worst_rel, at = Fraction(0), 0.0, 0
    for k, value in enumerate(out.tolist()):
        ref = exact_values[k]
        diff = abs(Fraction(value) - ref)
        if diff == 0:
            continue
        if diff / ulp(ref, dtype) > worst_ulp:
            worst_ulp, at = diff / ulp(ref, dtype), k
        worst_rel = max(worst_rel, float(diff / abs(ref)) if ref else math.inf)
    return float(worst_ulp), worst_rel, at


def cmd_check(args: argparse.Namespace) -> int:
    spec = parse_schedule(args.schedule)
    if args.steps is not None:
        steps = parse_steps(args.steps)
    else:
        steps = parse_steps(f"{args.start}:{args.stop}:{args.stride}")
    if not steps.size:
        raise UsageError("the step range is empty")
    exact_values = [exact(spec, s) for s in steps.tolist()]
    bounds = bounds_for(spec)
    variants = _variants(args.backend)
    print(f"{describe(spec)}: {len(steps)} steps from {steps.min()} to {steps.max()}")
    print("reference: exact (fractions.Fraction); exp/cos/log/powers in extended precision")
    header = ("backend", "dtype", "max ulp", "at step", "max rel. diff", "bound", "")
    rows: list[tuple[str, ...]] = [header]
    failed: list[str] = []
    for variant in variants:
        out, dtype = _evaluate_or_fail(spec, steps, variant)
        kind = "float32-jax" if variant == "jax" and dtype == "float32" else dtype
        if kind not in bounds:
            raise UsageError(f"{variant} returned {dtype}; check knows {', '.join(_FORMATS)}")
        bound = bounds[kind] if args.ulp is None else args.ulp
        worst_ulp, worst_rel, at = _worst(out, exact_values, dtype)
        at = steps[at]
        ok = worst_ulp <= bound
        if not ok:
            failed.append(variant)
        rows.append(
            (
                variant,
                dtype,
                f"{worst_ulp:.3f}",
                repr(at.item()),
                f"{worst_rel:.3g}",
                f"{bound:g} ulp",
                "ok" if ok else "FAIL",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for n, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths).rstrip())
    if failed:
        print(f"FAIL: {', '.join(failed)} beyond the bound", file=sys.stderr)
        return 1
    print("all backends within their bounds")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    specs = [parse_schedule(text) for text in args.schedule]
    suffix = Path(args.out).suffix.lower()
    if suffix not in (".png", ".svg"):
        raise UsageError(f"--out must end in .png or .svg, got {args.out!r}")
    if args.stop <= args.start:
        raise UsageError(f"--stop must be > --start, got {args.start} and {args.stop}")
    if not (2 <= args.points <= MAX_STEPS):
        raise UsageError(f"--points must be between 2 and {MAX_STEPS}, got {args.points}")
    if not (100 <= args.width <= 10_000 and 100 <= args.height <= 10_000):
        raise UsageError("--width and --height must be between 100 and 10000 pixels")
    if args.label and len(args.label) != len(specs):
        raise UsageError(f"give one --label per schedule ({len(specs)}), got {len(args.label)}")
    variants = _variants(args.backend)
    start = max(args.start, 1) if args.xscale == "log" else args.start
    if args.stop - start + 1 <= args.points:
        steps = np.arange(start, args.stop + 1, dtype=np.int64)
    elif args.xscale == "log":
        steps = np.unique(np.geomspace(start, args.stop, args.points).round().astype(np.int64))
    else:
        steps = np.unique(np.linspace(start, args.stop, args.points).round().astype(np.int64))
    curves = []
    for n, spec in enumerate(specs):
        label = args.label[n] if args.label else describe(spec)
        for variant in variants:
            out, _ = _evaluate_or_fail(spec, steps, variant)
            curves.append((label, variant, out.astype(np.float64)))
    try:
        import matplotlib
    except ImportError:
        raise UsageError("plot needs matplotlib: pip install 'lrspec[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dpi = 100
    fig, ax = plt.subplots(figsize=(args.width / dpi, args.height / dpi), dpi=dpi)
    styles = ["-", "--", "-.", ":", (0, (5, 1)), (0, (1, 1))]
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for n, (label, variant, values) in enumerate(curves):
        which = n // len(variants)
        style = styles[(n % len(variants)) % len(styles)]
        name = f"{label} [{variant}]" if len(variants) > 1 else label
        if len(specs) == 1 and len(variants) > 1:
            name = variant
        ax.plot(
            steps, values, linestyle=style, color=colours[which % len(colours)], label=name, lw=1.6
        )
    ax.set_xscale(args.xscale)
    ax.set_yscale(args.yscale)
    ax.set_xlabel("step (optimizer update)")
    ax.set_ylabel("learning rate")
    title = args.title or (describe(specs[0]) if len(specs) == 1 else "learning-rate schedules")
    ax.set_title(title if len(title) <= 90 else title[:87] + "...", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        fig.savefig(args.out, format=suffix[1:], dpi=dpi)
    except OSError as err:
        raise UsageError(f"cannot write {args.out}: {err.strerror}") from None
    finally:
        plt.close(fig)
    print(f"wrote {args.out}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from lrspec.demo import run

    return run(
        epochs=args.epochs,
        samples=args.samples,
        batch_size=args.batch_size,
        out=args.out,
        frameworks=args.frameworks,
    )


# --- argument parsing -------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments as a :class:`UsageError` (one line, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


_SCHEDULE_HELP = (
    "a schedule: an expression such as 'InverseTimeDecay(0.1, decay_steps=1.0, "
    "decay_rate=0.5)', JSON from lrspec.serialize or keras.optimizers.schedules.serialize, "
    "or a file holding either"
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lrspec",
        description="Learning-rate schedules written once, evaluated natively in NumPy, "
        "PyTorch, JAX and TensorFlow. Exit status: 0 ok, 1 check failed, 2 bad input.",
        epilog="known schedules: " + ", ".join(sorted(n for n in SCHEDULES if n != "Schedule")),
    )
    parser.add_argument("--version", action="version", version=f"lrspec {lrspec.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    backends = ", ".join(VARIANTS)

    table = sub.add_parser(
        "table",
        help="values at chosen steps, one column per installed backend",
        description="Print a schedule's learning rate at chosen steps, computed natively by "
        "each installed backend (one column each; float32 columns printed as float32).",
    )
    table.add_argument("schedule", help=_SCHEDULE_HELP)
    table.add_argument(
        "--steps",
        default="0,1,2,3,4,5,10,100,1000,10000",
        help="comma-separated steps and start:stop[:stride] ranges, stop included "
        "(default: %(default)s)",
    )
    table.add_argument(
        "--backend", action="append", help=f"only this backend (repeatable): {backends}"
    )
    table.add_argument("--format", choices=["text", "csv"], default="text")
    table.set_defaults(run=cmd_table)

    check = sub.add_parser(
        "check",
        help="each backend's largest difference from the exact value",
        description="The equivalence report: for each installed backend, the largest "
        "difference from the exact value over a step range, in units in the last place (ulp) "
        "of the backend's own dtype and relative. Exit status 1 when a backend is beyond its "
        "bound: "
        + "; ".join(
            f"{row} formulas {', '.join(f'{k} {v:g} ulp' for k, v in bounds.items())}"
            for row, bounds in BOUNDS.items()
        )
        + f" (rational: {', '.join(_RATIONAL)}). Exact values: fractions.Fraction; exp, cos, "
        "log and non-integer powers in extended precision (float64 where the platform has "
        "no long double).",
    )
    check.add_argument("schedule", help=_SCHEDULE_HELP)
    check.add_argument("--start", type=int, default=0, help="first step (default: 0)")
    check.add_argument("--stop", type=int, default=10_000, help="last step (default: 10000)")
    check.add_argument("--stride", type=int, default=1, help="step stride (default: 1)")
    check.add_argument("--steps", help="explicit steps instead of a range, as in 'table --steps'")
    check.add_argument(
        "--backend", action="append", help=f"only this backend (repeatable): {backends}"
    )
    check.add_argument(
        "--ulp",
        type=float,
        help="one bound (in ulp) for every backend instead of the documented ones",
    )
    check.set_defaults(run=cmd_check)

    plot = sub.add_parser(
        "plot",
        help="draw schedules to a PNG or SVG file (needs matplotlib)",
        description="Draw one or more schedules, one curve per installed backend overlaid "
        "(or the backends chosen with --backend), to a PNG or SVG file. Headless.",
    )
    plot.add_argument("schedule", nargs="+", help=_SCHEDULE_HELP)
    plot.add_argument("-o", "--out", default="lrspec.png", help="output .png or .svg")
    plot.add_argument("--start", type=int, default=0, help="first step (default: 0)")
    plot.add_argument("--stop", type=int, default=1000, help="last step (default: 1000)")
    plot.add_argument("--points", type=int, default=1000, help="most steps drawn per curve")
    plot.add_argument("--xscale", choices=["linear", "log"], default="linear")
    plot.add_argument("--yscale", choices=["linear", "log"], default="linear")
    plot.add_argument(
        "--backend",
        action="append",
        help=f"only this backend (repeatable): {backends}; default: every installed one",
    )
    plot.add_argument("--label", action="append", help="legend label, one per schedule")
    plot.add_argument("--title", help="figure title")
    plot.add_argument("--width", type=int, default=900, help="pixels (default: 900)")
    plot.add_argument("--height", type=int, default=540, help="pixels (default: 540)")
    plot.set_defaults(run=cmd_plot)

    demo = sub.add_parser(
        "demo",
        help="train one model in Keras, PyTorch and optax with one schedule",
        description="The seed's example end to end: a small classifier on generated "
        "Gaussian blobs, trained with SGD and lrspec.InverseTimeDecay(0.1, 1.0, 0.5) in Keras "
        "(model.fit), PyTorch (spec.to_torch) and optax (optax.sgd(learning_rate=spec)); "
        "prints per-epoch tables, the largest learning-rate difference between frameworks, "
        "and saves a figure of the learning rates and losses.",
    )
    demo.add_argument("--epochs", type=int, default=5, help="epochs (default: 5)")
    demo.add_argument("--samples", type=int, default=600, help="training samples (default: 600)")
    demo.add_argument("--batch-size", type=int, default=32, help="batch size (default: 32)")
    demo.add_argument("-o", "--out", default="lrspec-demo.png", help="figure path (.png/.svg)")
    demo.add_argument(
        "--frameworks",
        default="keras,torch,optax",
        help="comma-separated subset of keras,torch,optax (default: all three)",
    )
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    # TensorFlow's C++ start-up chatter would bury the one-line errors and the reports
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except UsageError as err:
        print(f"lrspec: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lrspec: interrupted", file=sys.stderr)
        return 130
