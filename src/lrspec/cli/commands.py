"""The commands: ``table``, ``check``, ``plot`` and ``demo``; each returns the exit status."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lrspec.backends import VARIANTS
from lrspec.cli.parse import MAX_STEPS, UsageError, describe, message, parse_schedule, parse_steps
from lrspec.cli.tables import evaluate, format_value, installed_variants, render, worst
from lrspec.reference import bounds_for, exact

__all__ = ["cmd_check", "cmd_demo", "cmd_plot", "cmd_table"]


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


def cmd_table(args: argparse.Namespace) -> int:
    spec = parse_schedule(args.schedule)
    steps = parse_steps(args.steps)
    variants = _variants(args.backend)
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
    exact_values = [exact(spec, s) for s in steps.tolist()]
    bounds = bounds_for(spec)
    variants = _variants(args.backend)
    print(f"{describe(spec)}: {len(steps)} steps from {steps.min()} to {steps.max()}")
    print("reference: lrspec.reference (exact fractions; exp/cos/log/powers to 50 digits)")
    header = ("backend", "dtype", "max ulp", "at step", "max rel. diff", "bound", "")
    rows: list[tuple[str, ...]] = [header]
    failed: list[str] = []
    for variant in variants:
        out, dtype = evaluate(spec, steps, variant)
        kind = "float32-jax" if variant == "jax" and dtype == "float32" else dtype
        if kind not in bounds:
            raise UsageError(f"{variant} returned {dtype}; check knows float32 and float64")
        bound = bounds[kind] if args.ulp is None else args.ulp
        worst_ulp, worst_rel, at = worst(out, exact_values, dtype)
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
    print(render(rows))
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
            out, _ = evaluate(spec, steps, variant)
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

    try:
        return run(
            epochs=args.epochs,
            samples=args.samples,
            batch_size=args.batch_size,
            out=args.out,
            frameworks=args.frameworks,
        )
    except ValueError as err:  # the demo's own checks of its arguments
        raise UsageError(message(err)) from None
