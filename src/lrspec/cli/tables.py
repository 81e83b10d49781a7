"""Running a spec on each backend for the command line, and laying out the results."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from lrspec.backends import VARIANTS, available_backends, run_native
from lrspec.cli.parse import UsageError, message
from lrspec.cli.quiet import quiet
from lrspec.reference import ulp
from lrspec.schedules import Schedule

__all__ = [
    "DEFAULT_VARIANTS",
    "choose_variants",
    "evaluate",
    "format_value",
    "installed_variants",
    "render",
    "worst",
]

#: the backends a command runs unless told otherwise: they import no framework, so that
#: ``lrspec table`` answers in a fraction of a second
DEFAULT_VARIANTS = ("python", "numpy")

_FORMATS = {"float32": (24, -126), "float64": (53, -1022)}  # (precision, min exponent)
_LONG = np.longdouble
# x87 extended precision (64-bit mantissa) where the platform has it: differences of close
# numbers are then exact enough to measure float64 ulps without Fractions
_EXTENDED = np.finfo(np.longdouble).nmant >= 63


def _ld(x: Fraction) -> Any:
    return _LONG(x.numerator) / _LONG(x.denominator)


def installed_variants() -> list[str]:
    """The backends to run (``jax`` also as ``jax-x64``), in registry order."""
    found = set(available_backends())
    return [v for v, backend in VARIANTS.items() if backend in found]


def choose_variants(wanted: list[str] | None) -> list[str]:
    """The backends to run: :data:`DEFAULT_VARIANTS` when none is named; every installed
    one for ``all``; else the named ones (repeated or comma-separated), each checked."""
    names = [n.strip() for item in wanted or () for n in item.split(",") if n.strip()]
    if not names:
        return list(DEFAULT_VARIANTS)
    for name in names:
        if name != "all" and name not in VARIANTS:
            raise UsageError(f"unknown backend {name!r}; known: all, {', '.join(VARIANTS)}")
    installed = installed_variants()
    if "all" in names:
        return installed
    for name in names:
        if name not in installed:
            raise UsageError(
                f"backend {name!r} is not installed (installed: {', '.join(installed)})"
            )
    return list(dict.fromkeys(names))


def evaluate(spec: Schedule, steps: np.ndarray, variant: str) -> tuple[np.ndarray, str]:
    """``spec`` at ``steps``, computed by backend ``variant`` from a native array of the
    steps; returned as a NumPy array of the result's own dtype, and that dtype's name.
    A framework's log chatter while it is imported and run is dropped (:mod:`.quiet`)."""
    try:
        if variant in DEFAULT_VARIANTS:
            out = np.asarray(run_native(spec, steps, variant))
        else:
            with quiet():
                out = np.asarray(run_native(spec, steps, variant))
    except (TypeError, ValueError, OverflowError) as err:
        raise UsageError(f"{variant}: {message(err)}") from None
    except ImportError as err:  # installed, but broken
        raise UsageError(f"backend {variant!r} cannot be imported: {message(err)}") from None
    return out, out.dtype.name


def format_value(value: float, dtype: str) -> str:
    return str(np.float32(value)) if dtype == "float32" else repr(float(value))


def worst(
    out: np.ndarray, exact_values: list[Fraction], dtype: str, peak: float
) -> tuple[float, float, int, float]:
    """The largest difference from the exact values in ``dtype`` ulp and relative, the
    index where the ulp difference is largest, and the largest difference in ulps of the
    value plus ulps of ``peak``: the unit of the promise (``reference.BOUNDS``)."""
    peak_ulp = ulp(Fraction(peak), dtype)
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
        peak_score = float(np.max(diffs / (units + _ld(peak_ulp))))
        return float(in_ulp[k]), float(rel.max()), k, peak_score
    worst_ulp, worst_rel, at, score = Fraction(0), 0.0, 0, Fraction(0)
    for k, value in enumerate(out.tolist()):
        ref = exact_values[k]
        diff = abs(Fraction(value) - ref)
        if diff == 0:
            continue
        if diff / ulp(ref, dtype) > worst_ulp:
            worst_ulp, at = diff / ulp(ref, dtype), k
        score = max(score, Fraction(diff / (ulp(ref, dtype) + peak_ulp)))
        worst_rel = max(worst_rel, float(diff / abs(ref)) if ref else math.inf)
    return float(worst_ulp), worst_rel, at, float(score)


def render(rows: list[list[str]] | list[tuple[str, ...]], right: bool = False) -> str:
    """Rows of cells as aligned text, a rule under the header row."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.rjust(w) if right else c.ljust(w) for c, w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths).rstrip())
    return "\n".join(lines)
