"""Shared helpers for the benchmark scripts: interleaved timing, ratio statistics and the
JSON record each script hands to ``run_all.py``.

Every comparison is made inside one process, alternating the alternatives round by round
(the order rotates each round), so that drift of a noisy, shared machine hits all of them
alike. A ratio is computed per round (both times come from the same moment) and we report
the median of those per-round ratios with its interquartile range.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", type=Path, help="write the result record here")
    parser.add_argument("--quick", action="store_true", help="few repetitions (smoke run)")
    return parser.parse_args()


def quantiles(values: list[float]) -> dict[str, float]:
    """Median, quartiles and extremes of ``values``."""
    xs = sorted(values)
    if len(xs) == 1:
        q1 = q3 = xs[0]
    else:
        q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    # 95% confidence interval of the median from order statistics (binomial, normal approx.)
    n = len(xs)
    half = 0.98 * math.sqrt(n)
    lo = xs[max(0, math.floor(n / 2 - half))]
    hi = xs[min(n - 1, math.ceil(n / 2 + half) - 1)]
    return {
        "ci_low": lo,
        "ci_high": hi,
        "median": statistics.median(xs),
        "q1": q1,
        "q3": q3,
        "min": xs[0],
        "max": xs[-1],
        "n": len(xs),
    }


def interleaved(
    runs: dict[str, Callable[[int], object]],
    number: int,
    repeat: int,
    warmup: int = 1,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per-call seconds of each ``run(number)``, ``repeat`` rounds, alternatives interleaved:
    ``(cpu, wall)``, CPU time of this process and wall time.

    ``run(n)`` performs the operation ``n`` times. Each round times every alternative once,
    in an order rotated by one each round so that no alternative always runs first (after a
    pause) or last. The garbage collector is off while timing, as in :mod:`timeit`.

    CPU time is the primary measure: the frameworks run single-threaded here, and on a
    shared machine wall time also counts the time spent waiting for a core.
    """
    names = list(runs)
    for _ in range(warmup):
        for name in names:
            runs[name](number)
    cpu: dict[str, list[float]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for r in range(repeat):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                c0, t0 = time.process_time(), time.perf_counter()
                runs[name](number)
                wall[name].append((time.perf_counter() - t0) / number)
                cpu[name].append((time.process_time() - c0) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    return cpu, wall


def ratios(times: dict[str, list[float]], num: str, den: str) -> list[float]:
    """Per-round ratios ``times[num][r] / times[den][r]``."""
    return [a / b for a, b in zip(times[num], times[den], strict=True)]


def wall_note(wall: dict[str, list[float]], num: str, den: str) -> str:
    r = quantiles(ratios(wall, num, den))
    return f"wall-time ratio {r['median']:.3f} [{r['q1']:.3f}, {r['q3']:.3f}]"


def net_ratios(times: dict[str, list[float]], num: str, den: str, floor: str) -> list[float]:
    """Per-round ratios of the costs above the floor: ``(num - floor) / (den - floor)``."""
    return [
        (a - f) / (b - f)
        for a, b, f in zip(times[num], times[den], times[floor], strict=True)
        if b > f
    ]


class Record:
    """What one benchmark script reports: targets (with verdicts), measurements, notes."""

    def __init__(self, section: str, title: str) -> None:
        self.data: dict = {
            "section": section,
            "title": title,
            "targets": [],
            "measurements": [],
            "notes": [],
            "tables": [],
        }

    def target(
        self,
        what: str,
        stats: dict[str, float] | None,
        target: str,
        met: bool | None,
        unit: str = "",
        note: str = "",
        value: float | int | str | None = None,
    ) -> None:
        """A target: the measured value (``stats`` median and IQR, or a plain
        ``value`` for counts), the target as text and whether it is met (None: not
        measured)."""
        self.data["targets"].append(
            {
                "what": what,
                "stats": stats,
                "value": value,
                "target": target,
                "met": met,
                "unit": unit,
                "note": note,
            }
        )

    def measure(self, what: str, stats: dict[str, float], unit: str, note: str = "") -> None:
        self.data["measurements"].append({"what": what, "stats": stats, "unit": unit, "note": note})

    def table(self, title: str, header: list[str], rows: list[list[object]]) -> None:
        self.data["tables"].append({"title": title, "header": header, "rows": rows})

    def note(self, text: str) -> None:
        self.data["notes"].append(text)

    def write(self, path: Path | None) -> None:
        text = json.dumps(self.data, indent=1, default=str)
        if path is None:
            print(text)
        else:
            path.write_text(text)


def us(stats: dict[str, float]) -> dict[str, float]:
    """Seconds -> microseconds, for a stats dict."""
    return {k: (v * 1e6 if k != "n" else v) for k, v in stats.items()}


def ms(stats: dict[str, float]) -> dict[str, float]:
    return {k: (v * 1e3 if k != "n" else v) for k, v in stats.items()}


def quiet_frameworks() -> None:
    """Keep TensorFlow's and XLA's start-up chatter out of the output."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)
