"""The command line: ``lrspec plot | table | check | demo`` (also ``python -m lrspec ...``).

A schedule is given as JSON (``lrspec.serialize`` or ``keras.optimizers.schedules.serialize``
output, inline or in a file) or as a short expression parsed with :mod:`ast`, never
evaluated::

    lrspec table "InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)" --steps 0,1,10
    lrspec check "InverseTimeDecay(0.1, 1.0, 0.5, staircase=True)" --stop 100000 --backend all
    lrspec plot "InverseTimeDecay(0.1, 1.0, 0.5)" --yscale log -o lr.png
    lrspec demo

Commands compute with the Python and NumPy backends unless ``--backend`` names others (or
``all``): only then is a framework imported, and its log chatter dropped (:mod:`.quiet`).

Exit status: 0 success; 1 ``check`` found a backend beyond its bound; 2 bad input (one line
on stderr, no traceback). The package: :mod:`~lrspec.cli.parse` reads inputs,
:mod:`~lrspec.cli.tables` evaluates and lays out, :mod:`~lrspec.cli.commands` runs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

import lrspec
from lrspec.backends import VARIANTS
from lrspec.cli.commands import cmd_check, cmd_demo, cmd_plot, cmd_table
from lrspec.cli.parse import UsageError, parse_schedule, parse_steps
from lrspec.cli.quiet import ENV
from lrspec.cli.tables import DEFAULT_VARIANTS
from lrspec.demo import DEFAULT_OUT as DEMO_OUT
from lrspec.reference import BOUNDS
from lrspec.schedules import SCHEDULES

__all__ = ["UsageError", "build_parser", "main", "parse_schedule", "parse_steps"]


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
    backend_help = (
        f"compute with this backend (repeatable, or comma-separated): {', '.join(VARIANTS)}, "
        f"or 'all' installed ones; default: {' and '.join(DEFAULT_VARIANTS)} (no framework "
        "is imported)"
    )

    table = sub.add_parser(
        "table",
        help="values at chosen steps, one column per backend",
        description="Print a schedule's learning rate at chosen steps, computed natively by "
        "each chosen backend (one column each; float32 columns printed as float32).",
    )
    table.add_argument("schedule", help=_SCHEDULE_HELP)
    table.add_argument(
        "--steps",
        default="0,1,2,3,4,5,10,100,1000,10000",
        help="comma-separated steps and start:stop[:stride] ranges, stop included "
        "(default: %(default)s)",
    )
    table.add_argument("--backend", action="append", help=backend_help)
    table.add_argument(
        "--format", choices=["text", "csv"], default="text", help="(default: %(default)s)"
    )
    table.set_defaults(run=cmd_table)

    check = sub.add_parser(
        "check",
        help="each backend's largest difference from the exact value",
        description="The equivalence report: for each chosen backend, the largest "
        "difference from the exact value over a step range, in units in the last place (ulp) "
        "of the backend's own dtype and relative. Exit status 1 when a backend is beyond its "
        "bound: "
        + "; ".join(
            f"{row} formulas {', '.join(f'{k} {v:g} ulp' for k, v in bounds.items())}"
            for row, bounds in BOUNDS.items()
        )
        + " (rational: "
        + ", ".join(sorted(n for n, c in SCHEDULES.items() if c.rational))
        + "). Exact values: lrspec.reference (fractions; exp, cos, log and non-integer powers "
        "to 50 significant digits).",
    )
    check.add_argument("schedule", help=_SCHEDULE_HELP)
    check.add_argument("--start", type=int, default=0, help="first step (default: 0)")
    check.add_argument("--stop", type=int, default=10_000, help="last step (default: 10000)")
    check.add_argument("--stride", type=int, default=1, help="step stride (default: 1)")
    check.add_argument("--steps", help="explicit steps instead of a range, as in 'table --steps'")
    check.add_argument("--backend", action="append", help=backend_help)
    check.add_argument(
        "--ulp",
        type=float,
        help="one bound (in ulp) for every backend instead of the documented ones",
    )
    check.set_defaults(run=cmd_check)

    plot = sub.add_parser(
        "plot",
        help="draw schedules to a PNG or SVG file (needs matplotlib)",
        description="Draw one or more schedules, one curve per chosen backend overlaid, "
        "each in its own colour and line style, to a PNG or SVG file. Headless.",
    )
    plot.add_argument("schedule", nargs="+", help=_SCHEDULE_HELP)
    plot.add_argument(
        "-o",
        "--out",
        "--output",
        default="lrspec.png",
        help="output file, .png or .svg (default: %(default)s)",
    )
    plot.add_argument("--start", type=int, default=0, help="first step (default: 0)")
    plot.add_argument("--stop", type=int, default=1000, help="last step (default: 1000)")
    plot.add_argument(
        "--points", type=int, default=1000, help="most steps drawn per curve (default: 1000)"
    )
    plot.add_argument(
        "--xscale", choices=["linear", "log"], default="linear", help="(default: %(default)s)"
    )
    plot.add_argument(
        "--yscale", choices=["linear", "log"], default="linear", help="(default: %(default)s)"
    )
    plot.add_argument("--backend", action="append", help=backend_help)
    plot.add_argument("--label", action="append", help="legend label, one per schedule")
    plot.add_argument("--title", help="figure title, wrapped to the width (default: the schedule)")
    plot.add_argument("--width", type=int, default=900, help="pixels (default: 900)")
    plot.add_argument("--height", type=int, default=540, help="pixels (default: 540)")
    plot.set_defaults(run=cmd_plot)

    demo = sub.add_parser(
        "demo",
        help="train one model in Keras, PyTorch and optax with one schedule",
        description="The InverseTimeDecay example end to end: a small classifier on generated "
        "Gaussian blobs, trained with SGD and lrspec.InverseTimeDecay(0.1, 1.0, 0.5) in Keras "
        "(model.fit), PyTorch (spec.to_torch) and optax (optax.sgd(learning_rate=spec)); "
        "prints per-epoch tables, the largest learning-rate difference between frameworks, "
        "and saves a figure of the learning rates and losses.",
    )
    demo.add_argument("--epochs", type=int, default=5, help="epochs (default: 5)")
    demo.add_argument("--samples", type=int, default=600, help="training samples (default: 600)")
    demo.add_argument("--batch-size", type=int, default=32, help="batch size (default: 32)")
    demo.add_argument(
        "-o",
        "--out",
        "--output",
        default=DEMO_OUT,
        help="figure file, .png or .svg; missing folders are created (default: %(default)s)",
    )
    demo.add_argument(
        "--frameworks",
        default="keras,torch,optax",
        help="comma-separated subset of keras,torch,optax (default: all three)",
    )
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    # TensorFlow's C++ start-up chatter would bury the one-line errors and the reports: set
    # its log levels before any command can import it
    for key, value in ENV.items():
        os.environ.setdefault(key, value)
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
    except (RecursionError, MemoryError):  # an input nested or sized past what Python parses
        print("lrspec: error: input too large or nested too deeply", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lrspec: interrupted", file=sys.stderr)
        return 130
