"""The commands: ``table``, ``check``, ``plot`` and ``demo``; each returns the exit status."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from lrspec.cli.parse import MAX_STEPS, UsageError, describe, message, parse_schedule, parse_steps
from lrspec.cli.quiet import quiet
from lrspec.cli.tables import choose_variants, evaluate, format_value, render, worst
from lrspec.reference import bounds_for, exact, peak

__all__ = ["cmd_check", "cmd_demo", "cmd_plot", "cmd_table"]


def _native(text: str) -> Any:
    """The :class:`lrspec.cli.native.Native` of a native schedule text, else None."""
    from lrspec.cli import native

    if not native.is_native(text):
        return None
    try:
        return native.parse_native(text)
    except ValueError as err:
        raise UsageError(str(err)) from None


def cmd_table(args: argparse.Namespace) -> int:
    spec = parse_schedule(args.schedule)
    if _native(args.schedule) is not None:
        print(f"{args.schedule.strip()} becomes:")
    steps = parse_steps(args.steps)
    variants = choose_variants(args.backend)
    columns = {v: evaluate(spec, steps, v) for v in variants}
    rows = [["step", *(f"{v} ({dtype})" for v, (_, dtype) in columns.items())]]
    for k, step in enumerate(steps.tolist()):
        rows.append([repr(step), *(format_value(out[k], dtype) for out, dtype in columns.values())])
    if args.format == "csv":
        print(f"# {describe(spec)}")
        for row in rows:
            print(",".join(row))
        return 0
    print(describe(spec))
    print(render(rows, right=True))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    spec = parse_schedule(args.schedule)
    if args.steps is not None:
        steps = parse_steps(args.steps)
    else:
        steps = parse_steps(f"{args.start}:{args.stop}:{args.stride}")
    if not steps.size:
        raise UsageError("the step range is empty")
    variants = choose_variants(args.backend)
    exact_values = [exact(spec, s) for s in steps.tolist()]
    bounds = bounds_for(spec)
    top = peak(spec)
    print(f"{describe(spec)}: {len(steps)} steps from {steps.min()} to {steps.max()}")
    print("reference: lrspec.reference (exact fractions; exp/cos/log/powers to 50 digits)")
    print(
        f"bound: in ulps of the exact rate plus ulps of the spec's peak ({top:g}), where "
        "rates that cancel err; 'max ulp' is in ulps of the rate alone"
    )
    theirs = _native(args.schedule)
    native_values = None
    if theirs is not None:
        from lrspec.cli.native import compare

        if steps.min() < 0:
            raise UsageError("a native schedule is compared at steps >= 0")
        native_values = theirs.curve(int(steps.max()) + 1)[steps]
        print(
            f"native: {theirs.text.strip()} (the {theirs.library} library's own rates; a "
            "difference counts beyond 1e-9 relative, 2 ulp for float32 results)"
        )
    header: tuple[str, ...] = (
        "backend",
        "dtype",
        "max ulp",
        "at step",
        "max rel. diff",
        "bound",
        "",
    )
    if native_values is not None:
        header = (*header[:-1], "vs native", "differs from step", "")
    rows: list[tuple[str, ...]] = [header]
    failed: list[str] = []
    for variant in variants:
        out, dtype = evaluate(spec, steps, variant)
        kind = "float32-jax" if variant == "jax" and dtype == "float32" else dtype
        if kind not in bounds:
            raise UsageError(f"{variant} returned {dtype}; check knows float32 and float64")
        bound = bounds[kind] if args.ulp is None else args.ulp
        worst_ulp, worst_rel, at, score = worst(out, exact_values, dtype, top)
        at = steps[at]
        ok = score <= bound
        if not ok:
            failed.append(variant)
        row: tuple[str, ...] = (
            variant,
            dtype,
            f"{worst_ulp:.3f}",
            repr(at.item()),
            f"{worst_rel:.3g}",
            f"{bound:g} ulp",
        )
        if native_values is not None:
            tolerance = 1e-9 if dtype == "float64" else 2.0**-22
            largest, first = compare(native_values, out, tolerance)
            row = (*row, f"{largest:.3g}", "-" if first is None else repr(steps[first].item()))
        rows.append((*row, "ok" if ok else "FAIL"))
    print(render(rows))
    if failed:
        print(f"FAIL: {', '.join(failed)} beyond the bound", file=sys.stderr)
        return 1
    if args.backend:
        print("all backends within their bounds")
    else:
        print(f"{' and '.join(variants)} within their bounds (--backend all: every installed one)")
    return 0


def _import_pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise UsageError("plot needs matplotlib: pip install 'lrspec[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


#: per backend, its own colour (matplotlib's cycle) and line style; the first backend's line is
#: the widest, so that curves that coincide (they should) all stay visible
_STYLES: list[tuple[Any, float]] = [
    ("-", 3.4),
    ((0, (6, 2)), 2.6),
    ((0, (3, 2, 1, 2)), 2.2),
    (":", 2.2),
    ((0, (8, 2, 1, 2, 1, 2)), 1.8),
    ((0, (1, 1)), 1.5),
    ("--", 1.2),
]
#: per schedule, when there are several: a marker at a few points of each of its curves
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def cmd_plot(args: argparse.Namespace) -> int:
    plt = _import_pyplot()  # first: without matplotlib, fail at once
    suffix = Path(args.out).suffix.lower()
    if suffix not in (".png", ".svg"):
        raise UsageError(f"--out must end in .png or .svg, got {args.out!r}")
    specs = [parse_schedule(text) for text in args.schedule]
    if not 0 <= args.start < args.stop <= 2**63 - 1:
        raise UsageError(
            f"need 0 <= --start < --stop < 2**63, got --start {args.start} and --stop {args.stop}"
        )
    if not (2 <= args.points <= MAX_STEPS):
        raise UsageError(f"--points must be between 2 and {MAX_STEPS}, got {args.points}")
    if not (100 <= args.width <= 10_000 and 100 <= args.height <= 10_000):
        raise UsageError("--width and --height must be between 100 and 10000 pixels")
    if args.label and len(args.label) != len(specs):
        raise UsageError(f"give one --label per schedule ({len(specs)}), got {len(args.label)}")
    variants = choose_variants(args.backend)
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
            out, _ = evaluate(spec, steps, variant)
            curves.append((label, variant, out.astype(np.float64)))

    from matplotlib.lines import Line2D

    dpi = 100
    fig, ax = plt.subplots(figsize=(args.width / dpi, args.height / dpi), dpi=dpi)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    several = len(specs) > 1
    handles = []
    for n, (_, variant, values) in enumerate(curves):
        which, b = divmod(n, len(variants))
        style, width = _STYLES[b % len(_STYLES)]
        look: dict[str, Any] = {"color": colours[b % len(colours)], "linestyle": style, "lw": width}
        marker: dict[str, Any] = (
            {"marker": _MARKERS[which % len(_MARKERS)], "markersize": 6} if several else {}
        )
        every = max(1, len(steps) // 8)
        ax.plot(steps, values, markevery=every, **look, **marker)
        if which == 0 and len(variants) > 1:
            handles.append(Line2D([], [], label=variant, **look))
    # schedule labels wrapped (never cut) to about half the figure's width
    wrap = max(30, args.width // 14)
    if several or len(variants) == 1:
        for which, (label, _, _) in enumerate(curves[:: len(variants)]):
            look = {"color": "0.25" if len(variants) > 1 else colours[0]}
            marker = {"marker": _MARKERS[which % len(_MARKERS)]} if several else {}
            line: dict[str, Any] = {"linestyle": "none"} if several and len(variants) > 1 else {}
            handles.append(
                Line2D([], [], label=textwrap.fill(label, wrap), **look, **marker, **line)
            )
    ax.set_xscale(args.xscale)
    ax.set_yscale(args.yscale)
    ax.set_xlabel("step (optimizer update)")
    ax.set_ylabel("learning rate")
    title = args.title or (describe(specs[0]) if len(specs) == 1 else "learning-rate schedules")
    fontsize = 10
    # wrapped, never cut, to the figure's width (a 10 pt character is about 8 pixels wide)
    ax.set_title(textwrap.fill(title, max(20, args.width // 8)), fontsize=fontsize)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(handles=handles, fontsize=8)
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

    try:
        with quiet():  # TensorFlow's log lines while Keras trains
            return run(
                epochs=args.epochs,
                samples=args.samples,
                batch_size=args.batch_size,
                out=args.out,
                frameworks=args.frameworks,
            )
    except ValueError as err:  # the demo's own checks of its arguments
        raise UsageError(message(err)) from None
