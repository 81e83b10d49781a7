"""1. PyTorch ``scheduler.step()`` per call: lrspec vs ``LambdaLR`` vs a bare loop.
2. ``torch.compile``: compilations and time per training step, lrspec vs a constant lr.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import warnings

import torch
from _common import (
    Record,
    interleaved,
    log,
    net_ratios,
    parse_args,
    quantiles,
    ratios,
    us,
    wall_note,
)
from torch.optim.lr_scheduler import LambdaLR

import lrspec

LR0, DECAY_STEPS, DECAY_RATE = 0.1, 1.0, 0.5


SERIAL = itertools.count()


def factor(k):
    """LambdaLR's multiplier: base lr LR0 times this is the spec's rate."""
    return 1 / (1 + DECAY_RATE * k / DECAY_STEPS)


def optimizer(lr, model=None):
    model = model or torch.nn.Linear(4, 4)
    return torch.optim.SGD(model.parameters(), lr=lr)


def lr_value(kind: str):
    return LR0 if kind == "float" else torch.tensor(LR0)


# --- 1. scheduler.step() per call --------------------------------------------------------


def bench_step(rec: Record, quick: bool) -> None:
    spec = lrspec.InverseTimeDecay(LR0, DECAY_STEPS, DECAY_RATE)
    number, repeat = (500, 11) if quick else (1000, 61)
    summary = []
    for kind in ("float", "tensor"):
        runs = {}

        def loop(sched):
            step = sched.step

            def run(n):
                for _ in range(n):
                    step()

            return run

        opt = optimizer(lr_value(kind))
        lrs = spec.to_torch(opt)
        opt.step()  # so that the schedulers' call-order check stays quiet
        runs["lrspec"] = loop(lrs)
        opt_l = optimizer(lr_value(kind))
        lam = LambdaLR(opt_l, factor)
        opt_l.step()
        runs["LambdaLR"] = loop(lam)

        opt_f = optimizer(lr_value(kind))
        groups = opt_f.param_groups
        if kind == "float":

            def floor(n, groups=groups):
                for _ in range(n):
                    for group in groups:
                        group["lr"] = 0.05

        else:

            def floor(n, groups=groups):
                for _ in range(n):
                    for group in groups:
                        group["lr"].fill_(0.05)

        runs["floor"] = floor

        # sanity: same rates after the same number of steps
        for sched in (lrs, lam):
            sched.step()
        assert abs(float(opt.param_groups[0]["lr"]) - float(opt_l.param_groups[0]["lr"])) < 1e-7

        times, wall = interleaved(runs, number=number, repeat=repeat)
        r = quantiles(ratios(times, "lrspec", "LambdaLR"))
        net = quantiles(net_ratios(times, "lrspec", "LambdaLR", "floor"))
        log(f"torch step ({kind} lr): lrspec/LambdaLR = {r['median']:.2f}")
        rec.target(
            f"`scheduler.step()` per call, {kind} lr: lrspec / LambdaLR",
            r,
            "<= 0.5",
            r["median"] <= 0.5,
            unit="x",
            note=f"above the floor: {net['median']:.2f}; " + wall_note(wall, "lrspec", "LambdaLR"),
        )
        for name in runs:
            t = us(quantiles(times[name]))
            rr = quantiles(ratios(times, name, "LambdaLR"))
            summary.append(
                [
                    kind,
                    name,
                    f"{t['median']:.2f} [{t['q1']:.2f}, {t['q3']:.2f}]",
                    f"{rr['median']:.2f} [{rr['q1']:.2f}, {rr['q3']:.2f}]",
                ]
            )
    rec.table(
        f"`scheduler.step()` per call, one param group, {repeat} interleaved rounds of "
        f"{number} calls (median [IQR]); floor = a bare loop assigning `group['lr']` "
        "(`fill_` for a tensor lr)",
        ["lr", "scheduler", "us per call", "ratio to LambdaLR"],
        summary,
    )
    rec.table(
        "Where lrspec's `step()` spends its time (cProfile, float lr, 20000 calls)",
        ["function", "us per call", "share"],
        profile_step(spec),
    )


def profile_step(spec, calls: int = 20000) -> list[list[str]]:
    import cProfile
    import pstats

    opt = optimizer(LR0)
    sched = spec.to_torch(opt)
    opt.step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        sched.step()
    prof.disable()
    st = pstats.Stats(prof)
    total = st.total_tt  # type: ignore[attr-defined]
    rows = []
    items = sorted(st.stats.items(), key=lambda kv: -kv[1][2])  # type: ignore[attr-defined]
    for (path, line, func), (_, _, tottime, _, _) in items[:7]:
        short = path.rpartition("site-packages/")[2].rpartition("/src/")[2]
        where = f"{short}:{line}({func})" if line else func
        rows.append([f"`{where}`", f"{tottime / calls * 1e6:.2f}", f"{tottime / total:.0%}"])
    rows.append(["(total, with cProfile's own overhead)", f"{total / calls * 1e6:.2f}", ""])
    return rows


# --- 2. torch.compile --------------------------------------------------------------------


def mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))


def bench_compile(rec: Record, quick: bool) -> None:
    import torch._dynamo
    from torch._dynamo.testing import CompileCounterWithBackend

    spec = lrspec.InverseTimeDecay(LR0, DECAY_STEPS, DECAY_RATE)
    x = torch.randn(32, 32)
    y = torch.randint(0, 10, (32,))
    steps = 40 if quick else 200

    def setup(sched_kind: str, lr, backend: str = "inductor", inside: bool = False):
        model = mlp()
        # plain SGD: no optimizer state, so the first step is the only compilation
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        if sched_kind == "lrspec":
            sched = spec.to_torch(opt)
        elif sched_kind == "LambdaLR":
            sched = LambdaLR(opt, factor)
        else:
            sched = None
        counter = CompileCounterWithBackend(backend)
        # A fresh code object per variant: dynamo caches compiled code, and counts toward
        # its recompile limit, per code object, so variants sharing one would see each
        # other's entries.
        source = "def opt_step():\n    opt.step()\n"
        if inside:  # torch's tutorial pattern: optimizer and scheduler in one compiled fn
            source += "    sched.step()\n"
        namespace = {"opt": opt, "sched": sched}
        exec(compile(source, f"<opt_step {next(SERIAL)}>", "exec"), namespace)
        opt_step = torch.compile(namespace["opt_step"], backend=counter)

        def train_step():
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt_step()
            opt.zero_grad()
            if sched is not None and not inside:
                sched.step()

        return train_step, counter, opt

    results = {}

    def count(name, train_step, counter, n):
        train_step()
        first = counter.frame_count
        for _ in range(n - 1):
            train_step()
        results[name] = (first, counter.frame_count, n)
        log(f"compile {name}: {first} graphs after 1 step, {counter.frame_count} after {n}")

    variants = {
        "constant lr (tensor)": setup("none", torch.tensor(LR0)),
        "lrspec, tensor lr": setup("lrspec", torch.tensor(LR0)),
        "lrspec, tensor lr, scheduler inside the compiled fn": setup(
            "lrspec", torch.tensor(LR0), inside=True
        ),
    }
    for name, (train_step, counter, _) in variants.items():
        count(name, train_step, counter, steps)

    # Contrast: a float lr, which changes every step. Each runs in a fresh process: dynamo
    # caches compiled code per code object (torch's SGD.step is shared by every variant),
    # and these fill that cache up to the recompile limit.
    for sched_kind in ("LambdaLR", "lrspec"):
        out = subprocess.run(
            [sys.executable, __file__, "--contrast", sched_kind],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        history = json.loads(out.strip().splitlines()[-1])
        results[f"{sched_kind}, float lr"] = (history[0], history[-1], len(history))
        log(f"compile {sched_kind}, float lr: graphs after each step {history}")

    for name in ("lrspec, tensor lr", "lrspec, tensor lr, scheduler inside the compiled fn"):
        first, total, n = results[name]
        base_first = results["constant lr (tensor)"][0]
        rec.target(
            f"compilations over {n} compiled training steps, {name}",
            None,
            "1 (no recompilation)",
            total == first,
            value=f"compiled once ({first} graphs; constant lr: {base_first}), "
            f"{total - first} recompilations",
        )
    rows = [
        [name, str(first), str(total - first), str(n)]
        for name, (first, total, n) in results.items()
    ]
    rec.table(
        "Graphs compiled by dynamo (`CompileCounterWithBackend('inductor')`) for the "
        "compiled `opt.step()` (+ `sched.step()` where inside); any graph after the first "
        "step is a recompilation",
        ["variant", "graphs at step 1", "recompilations after", "steps"],
        rows,
    )
    lam = results["LambdaLR, float lr"]
    rec.note(
        f"With a float lr, `torch.compile` (inductor) recompiles the optimizer step whenever "
        f"the lr changes: LambdaLR {lam[1] - lam[0]} recompilations in {lam[2]} steps, after "
        f"which dynamo's recompile limit ({torch._dynamo.config.recompile_limit}) makes it "
        "give up and run that step eagerly. Whichever scheduler writes the float, the same "
        "happens (lrspec row): a tensor lr updated in place is the pattern for compiled "
        "steps, as torch itself advises, and then neither recompiles."
    )

    # time per training step: interleaved blocks
    number, repeat = (5, 5) if quick else (5, 151)

    def block(train_step):
        def run(n):
            for _ in range(n):
                train_step()

        return run

    times, wall = interleaved(
        {name: block(ts) for name, (ts, _, _) in variants.items()}, number=number, repeat=repeat
    )
    rows = []
    for name in variants:
        t = us(quantiles(times[name]))
        r = quantiles(ratios(times, name, "constant lr (tensor)"))
        rows.append(
            [name, f"{t['median']:.0f}", f"{r['median']:.3f} [{r['q1']:.3f}, {r['q3']:.3f}]"]
        )
    rec.table(
        f"Time per training step, {repeat} interleaved rounds of {number} steps",
        ["variant", "us per step (median)", "ratio to constant lr, median [IQR]"],
        rows,
    )
    for name in ("lrspec, tensor lr", "lrspec, tensor lr, scheduler inside the compiled fn"):
        r = quantiles(ratios(times, name, "constant lr (tensor)"))
        log(f"compile {name}: ratio to constant {r['median']:.3f}")
        rec.target(
            f"time per compiled training step, {name} / constant lr",
            r,
            "<= 1.05",
            r["median"] <= 1.05,
            unit="x",
            note=wall_note(wall, name, "constant lr (tensor)"),
        )
    base = us(quantiles(times["constant lr (tensor)"]))
    rec.measure(
        "compiled training step with a constant lr (MLP 32-64-10, batch 32, SGD, "
        "eager forward/backward + `torch.compile`d `opt.step()`)",
        base,
        "us",
    )


def contrast(sched_kind: str) -> None:
    """Graphs compiled after each of a few steps with a float lr (run in its own process)."""
    from torch._dynamo.testing import CompileCounterWithBackend

    warnings.simplefilter("ignore")  # torch's advice to use a tensor lr with torch.compile
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=LR0)
    if sched_kind == "LambdaLR":
        sched = LambdaLR(opt, factor)
    else:
        sched = lrspec.InverseTimeDecay(LR0, DECAY_STEPS, DECAY_RATE).to_torch(opt)
    counter = CompileCounterWithBackend("inductor")
    opt_step = torch.compile(opt.step, backend=counter)
    x = torch.randn(32, 32)
    y = torch.randint(0, 10, (32,))
    history = []
    # a few steps past dynamo's recompile limit, after which it stops compiling
    for _ in range(torch._dynamo.config.recompile_limit + 4):
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt_step()
        opt.zero_grad()
        sched.step()
        history.append(counter.frame_count)
    print(json.dumps(history))


def main() -> None:
    if sys.argv[1:2] == ["--contrast"]:
        torch.set_num_threads(1)
        contrast(sys.argv[2])
        return
    args = parse_args(__doc__)
    # one intra-op thread: on a shared 2-core machine, OpenMP spinning on a busy core
    # turns small ops into milliseconds
    torch.set_num_threads(1)
    rec = Record("torch", "1-2. PyTorch: `scheduler.step()` and `torch.compile`")
    bench_step(rec, args.quick)
    bench_compile(rec, args.quick)
    rec.write(args.json)


if __name__ == "__main__":
    main()
