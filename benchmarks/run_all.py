"""Run every benchmark and regenerate ``benchmarks/RESULTS.md`` (and ``ratios.png``).

    python benchmarks/run_all.py            # full run (a few minutes)
    python benchmarks/run_all.py --quick    # smoke run: few repetitions, not to be read

Each benchmark runs in its own fresh interpreter (frameworks imported by one never slow
another), writes a JSON record, and this script renders them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: (script, seconds it may take before it is stopped)
BENCHES = [
    ("bench_import.py", 120),
    ("bench_numpy.py", 150),
    ("bench_torch.py", 240),
    ("bench_jax.py", 150),
    ("bench_keras.py", 200),
    ("bench_gpu.py", 240),
    ("bench_importers.py", 240),
]

PACKAGES = [
    "numpy",
    "torch",
    "jax",
    "jaxlib",
    "optax",
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "matplotlib",
]


def machine() -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    versions = []
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{name} {metadata.version(name)}")
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        commit += " (src/ modified)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    try:
        lrspec_version = metadata.version("lrspec")
    except metadata.PackageNotFoundError:
        lrspec_version = "?"
    return [
        f"- Machine: {cpu}, {os.cpu_count()} logical cores{mem}; {platform.platform()}",
        f"- Python {platform.python_version()}; lrspec {lrspec_version} at commit {commit}",
        f"- {', '.join(versions)}",
    ]


def load() -> str:
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def fmt_stats(stats: dict | None, value: object, unit: str) -> str:
    if stats is None:
        return str(value) if unit in ("", "x") else f"{value} {unit}"
    digits = 3 if unit == "x" and stats["median"] < 10 else 1
    if unit == "x":
        text = (
            f"**{stats['median']:.{digits}f}x** [{stats['q1']:.{digits}f}, "
            f"{stats['q3']:.{digits}f}]"
        )
        if "ci_low" in stats:
            text += f" (CI {stats['ci_low']:.{digits}f}-{stats['ci_high']:.{digits}f})"
        return text
    return f"**{stats['median']:.1f} {unit}** [{stats['q1']:.1f}, {stats['q3']:.1f}]"


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**MISSED**", None: "not measured"}[met]


def cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def plot(records: list[dict], path: Path) -> bool:
    """Timing ratios against their targets, one bar per ratio target."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    items = []
    for rec in records:
        for t in rec.get("targets", []):
            if t.get("unit") == "x" and t.get("stats"):
                limit = t["target"].replace("<=", "").replace("<", "").strip()
                with contextlib.suppress(ValueError):
                    items.append((t["what"], t["stats"], float(limit)))
    if not items:
        return False
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(items) + 1.2))
    for i, (what, stats, limit) in enumerate(items):
        label = what.replace("`", "")
        label = label if len(label) <= 70 else label[:67] + "..."
        good = stats["median"] <= limit
        ax.barh(i, stats["median"], color="tab:green" if good else "tab:red", alpha=0.7)
        ax.errorbar(
            stats["median"],
            i,
            xerr=[[stats["median"] - stats["q1"]], [stats["q3"] - stats["median"]]],
            color="black",
            capsize=3,
        )
        ax.plot([limit, limit], [i - 0.4, i + 0.4], color="black", linewidth=2)
        ax.text(
            -0.02, i, label, ha="right", va="center", fontsize=7, transform=ax.get_yaxis_transform()
        )
    ax.set_yticks([])
    ax.set_xscale("log")
    ax.set_xlabel("ratio, median with IQR (black tick: target; lower is better)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.subplots_adjust(left=0.5)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def render(records: list[dict], header: list[str], elapsed: float, quick: bool, pic: bool) -> str:
    out = [
        "# lrspec benchmarks",
        "",
        "Generated by `python benchmarks/run_all.py`"
        + (" **--quick (smoke run: too few repetitions to read)**" if quick else "")
        + f" on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"in {elapsed / 60:.1f} minutes. Do not edit by hand.",
        "",
        *header,
        "",
        "How to read: every comparison runs in one process, the alternatives interleaved "
        "round by round (order rotated), after a warm-up. A ratio is computed per round and "
        "reported as **median** [interquartile range] (95% confidence interval of the "
        "median, from order statistics). Times are the CPU time of the "
        "benchmark process (the frameworks run single-threaded): this machine is shared "
        "with other jobs, and wall time would also count the waits for a core; wall-time "
        "ratios are in the notes. Absolute times are context only. Counts (compilations, "
        "traces, imports) are also asserted by tests (`tests/test_counts.py`, "
        "`tests/test_torch.py`, `tests/test_keras.py`, `tests/test_optax.py`).",
        "",
        "## Summary",
        "",
    ]
    rows = []
    for rec in records:
        for t in rec.get("targets", []):
            rows.append(
                [
                    rec["title"].split(" ", 1)[0].rstrip("."),
                    t["what"],
                    fmt_stats(t["stats"], t["value"], t["unit"]),
                    t["target"],
                    verdict(t["met"]),
                ]
            )
        if rec.get("error"):
            rows.append(
                [rec["title"].split(" ", 1)[0], "(benchmark failed)", rec["error"], "", "**ERROR**"]
            )
    out += table(["#", "what", "measured: median [IQR] (CI)", "target", ""], rows)
    if pic:
        out += ["", "![timing ratios against their targets](ratios.png)"]
    for rec in records:
        out += ["", f"## {rec['title']}", ""]
        if rec.get("error"):
            out += [f"**The benchmark failed:** `{rec['error']}`", ""]
        for t in rec.get("targets", []):
            measured = fmt_stats(t["stats"], t["value"], t["unit"])
            line = f"- {t['what']}: {measured} (target {t['target']}: {verdict(t['met'])})"
            if t.get("note"):
                line += f"; {t['note']}"
            out.append(line)
        for m in rec.get("measurements", []):
            s = m["stats"]
            out.append(
                f"- {m['what']}: {s['median']:.1f} {m['unit']} [{s['q1']:.1f}, {s['q3']:.1f}]"
                + (f"; {m['note']}" if m.get("note") else "")
            )
        for tb in rec.get("tables", []):
            out += ["", tb["title"] + ":", ""]
            out += table(tb["header"], tb["rows"])
        if rec.get("notes"):
            out.append("")
            out += [f"{n}" if n.startswith("**") else f"- {n}" for n in rec["notes"]]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run: few repetitions")
    parser.add_argument("--only", nargs="*", help="run only these benchmarks (e.g. numpy torch)")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()

    start = time.perf_counter()
    load_before = load()
    header = machine()
    records = []
    env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryDirectory() as tmp:
        for script, limit in BENCHES:
            name = script.removeprefix("bench_").removesuffix(".py")
            if args.only and name not in args.only:
                continue
            out = Path(tmp) / f"{name}.json"
            cmd = [sys.executable, str(HERE / script), "--json", str(out)]
            if args.quick:
                cmd.append("--quick")
            print(f"== {script}", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                proc = subprocess.run(
                    cmd, env=env, timeout=limit, stdout=subprocess.PIPE, text=True
                )
                error = f"exit status {proc.returncode}" if proc.returncode else ""
            except subprocess.TimeoutExpired:
                error = f"stopped after {limit} s"
            print(f"   {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
            if out.exists():
                record = json.loads(out.read_text())
            else:
                record = {"section": name, "title": f"{name} (failed)", "targets": []}
            if error:
                record["error"] = error
            records.append(record)
    elapsed = time.perf_counter() - start
    header.append(f"- Load average (1, 5, 15 min) before the run: {load_before}; after: {load()}")
    pic = plot(records, args.output.parent / "ratios.png")
    args.output.write_text(render(records, header, elapsed, args.quick, pic))
    print(f"wrote {args.output} in {elapsed:.0f} s", file=sys.stderr)
    missed = [t["what"] for r in records for t in r.get("targets", []) if t["met"] is False]
    if missed:
        print("targets missed:\n  " + "\n  ".join(missed), file=sys.stderr)


if __name__ == "__main__":
    main()
