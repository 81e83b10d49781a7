"""6. ``import lrspec``: start-up time added to a bare interpreter, and no framework imported.

Wall time of ``python -c "import lrspec"`` minus ``python -c pass``, in fresh subprocesses,
interleaved round by round; plus ``python -X importtime`` for what the time is spent on.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import Record, log, parse_args, quantiles

FRAMEWORKS = ("torch", "jax", "jaxlib", "tensorflow", "keras", "optax")

PROBE = (
    "import sys, json; import lrspec; "
    "print(json.dumps(sorted({m.partition('.')[0] for m in sys.modules})))"
)


def run_once(code: str, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one fresh interpreter running ``code``.

    CPU time is the primary measure: on a shared, busy machine a process's wall time
    includes the time it waited for a core, its CPU time does not.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"python -c {code!r} failed")
    return wall, usage.ru_utime + usage.ru_stime


def importtime() -> dict[str, tuple[int, int, str]]:
    """module -> (self us, cumulative us, importer) from one ``-X importtime`` run."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import lrspec"],
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    entries = []
    for line in out.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = line.removeprefix("import time:").split("|")
        level = (len(name) - len(name.lstrip()) - 1) // 2
        entries.append((name.strip(), int(self_us), int(cum_us), level))
    # children are printed before their parent: a module's importer is the next entry one
    # level up
    result = {}
    for i, (name, self_us, cum_us, level) in enumerate(entries):
        parent = next((e[0] for e in entries[i + 1 :] if e[3] == level - 1), "")
        result[name] = (self_us, cum_us, parent)
    return result


def main() -> None:
    args = parse_args(__doc__)
    rounds = 8 if args.quick else 40
    rec = Record("import", "6. `import lrspec`: start-up time and imported modules")

    # pip compiles bytecode when it installs a package; an editable checkout under
    # PYTHONDONTWRITEBYTECODE would otherwise recompile lrspec's sources at every start.
    import compileall

    import lrspec

    compileall.compile_dir(str(Path(lrspec.__file__).parent), quiet=1)

    alts: dict[str, tuple[str, dict[str, str] | None]] = {
        "pass": ("pass", None),
        "import lrspec": ("import lrspec", None),
    }
    for code, env in alts.values():  # warm the OS file cache
        run_once(code, env)
    names = list(alts)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            w, c = run_once(*alts[name])
            wall[name].append(w * 1e3)
            cpu[name].append(c * 1e3)

    def added(times: dict[str, list[float]], name: str) -> dict[str, float]:
        return quantiles([a - b for a, b in zip(times[name], times["pass"], strict=True)])

    added_cpu = added(cpu, "import lrspec")
    added_wall = added(wall, "import lrspec")
    log(
        f"import: added {added_cpu['median']:.1f} ms CPU, {added_wall['median']:.1f} ms wall "
        f"over {statistics.median(cpu['pass']):.1f} ms"
    )
    rec.target(
        'added start-up time of `import lrspec` (CPU time of a fresh `python -c "import '
        'lrspec"` minus `python -c pass`, per interleaved round)',
        added_cpu,
        "< 50 ms",
        added_cpu["median"] < 50,
        unit="ms",
    )
    rec.measure(
        "same, wall time (includes waiting for a core on this shared machine)", added_wall, "ms"
    )
    base = quantiles(cpu["pass"])
    with_lrspec = quantiles(cpu["import lrspec"])
    rec.measure("`python -c pass`, CPU time", base, "ms")
    rec.measure('`python -c "import lrspec"`, CPU time', with_lrspec, "ms")

    # What the time goes to: median over several -X importtime runs.
    runs = [importtime() for _ in range(3 if args.quick else 9)]
    cum = {name: statistics.median(r.get(name, (0, 0, ""))[1] for r in runs) for name in runs[0]}
    own = {name: statistics.median(r.get(name, (0, 0, ""))[0] for r in runs) for name in runs[0]}
    total = cum.get("lrspec", 0.0)
    rec.measure(
        "`-X importtime` cumulative time of `lrspec` (in-process, excludes interpreter start)",
        quantiles([r["lrspec"][1] / 1e3 for r in runs]),
        "ms",
    )
    # The direct children of lrspec and the heaviest standard-library imports they pull in.
    # lrspec's own modules, and what each of them is first to import
    importer = runs[0]
    watched = sorted(
        (
            name
            for name, (_, _, parent) in importer.items()
            if name.startswith("lrspec.") or parent.startswith("lrspec")
        ),
        key=lambda name: -cum[name],
    )
    rows = [
        [
            f"`{name}`",
            f"`{importer[name][2]}`",
            f"{cum[name] / 1e3:.1f}",
            f"{own[name] / 1e3:.1f}",
            f"{100 * cum[name] / total:.0f}%",
        ]
        for name in watched[:14]
    ]
    rec.table(
        "Where `import lrspec` spends its time (`-X importtime`, cumulative, median of runs; "
        "a module is charged to whoever imports it first; lrspec's modules and the modules "
        "they are first to import)",
        ["module", "imported by", "ms (cumulative)", "ms (own code)", "share of lrspec"],
        rows,
    )

    if added_cpu["median"] >= 50:
        rec.note(
            "**The start-up target is missed**: the table above shows where the time goes. "
            "A loaded machine inflates every time here, the bare interpreter's too."
        )

    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", PROBE], check=True, capture_output=True, text=True
        ).stdout
    )
    frameworks = [m for m in FRAMEWORKS if m in loaded]
    rec.target(
        "frameworks imported by `import lrspec`",
        None,
        "none",
        not frameworks,
        value=", ".join(frameworks) or "none",
        note=f"numpy imported: {'yes' if 'numpy' in loaded else 'no'}",
    )
    rec.write(args.json)


if __name__ == "__main__":
    main()
