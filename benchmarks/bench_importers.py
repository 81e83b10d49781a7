"""8. Imported schedules: a one-cycle and a warmup-stable-decay schedule brought in with
``lrspec.from_torch`` / ``from_transformers`` / ``from_optax``, against the native schedulers.

- torch: ``scheduler.step()`` per call, ``spec.to_torch(opt)`` / torch's ``OneCycleLR`` and
  / transformers' ``LambdaLR`` (``warmup_stable_decay``);
- optax: a jitted training step with the imported spec as the learning rate / the same step
  with optax's own schedule, and the compilations;
- torch.compile: graphs compiled over a run with a tensor lr driven by the imported spec.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import optax
import torch
import transformers
from _common import Record, interleaved, log, parse_args, quantiles, ratios, us, wall_note

import lrspec

TOTAL = 1_000_000
BATCH, D_IN, HIDDEN, D_OUT = 128, 32, 256, 10


def _torch_opt(lr: float | torch.Tensor = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)


def _stepper(scheduler: object) -> object:
    def run(n: int) -> None:
        for _ in range(n):
            scheduler.step()

    return run


def torch_steps(rec: Record, quick: bool) -> None:
    repeat, number = (7, 200) if quick else (101, 2000)
    pairs = {
        "OneCycleLR": lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, max_lr=0.1, total_steps=TOTAL
        ),
        "transformers warmup_stable_decay (LambdaLR)": lambda o: transformers.get_scheduler(
            "warmup_stable_decay",
            o,
            num_warmup_steps=1_000,
            num_training_steps=TOTAL,
            scheduler_specific_kwargs={"num_decay_steps": 100_000, "decay_type": "1-sqrt"},
        ),
    }
    for name, make in pairs.items():
        native = make(_torch_opt())
        ours = lrspec.from_torch(native).to_torch(_torch_opt())
        cpu, wall = interleaved(
            {"native": _stepper(native), "lrspec": _stepper(ours)}, number, repeat
        )
        stats = quantiles(ratios(cpu, "lrspec", "native"))
        log(f"{name}: step ratio {stats['median']:.3f}")
        rec.target(
            f"`scheduler.step()` per call, imported {name}: lrspec `to_torch` / native",
            stats,
            "<= 0.5",
            stats["median"] <= 0.5,
            unit="x",
            note=f"native {us(quantiles(cpu['native']))['median']:.2f} us; "
            + wall_note(wall, "lrspec", "native"),
        )


def _params(key: jax.Array) -> dict[str, jax.Array]:
    k1, k2 = jax.random.split(key)
    return {
        "w1": jax.random.normal(k1, (D_IN, HIDDEN)) * 0.1,
        "b1": jnp.zeros(HIDDEN),
        "w2": jax.random.normal(k2, (HIDDEN, D_OUT)) * 0.1,
        "b2": jnp.zeros(D_OUT),
    }


def _loss(params: dict[str, jax.Array], x: jax.Array, y: jax.Array) -> jax.Array:
    h = jax.nn.relu(x @ params["w1"] + params["b1"])
    logits = h @ params["w2"] + params["b2"]
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def optax_steps(rec: Record, quick: bool) -> None:
    repeat, number = (11, 10) if quick else (201, 25)
    key = jax.random.PRNGKey(0)
    x = jax.random.normal(key, (BATCH, D_IN))
    y = jax.random.randint(key, (BATCH,), 0, D_OUT)
    onecycle = dict(transition_steps=TOTAL, peak_value=0.1)
    # optax has no WSD: its own composition of the same pieces (a linear cooldown)
    wsd_native = optax.join_schedules(
        [
            optax.linear_schedule(0.0, 1e-3, 1_000),
            optax.constant_schedule(1e-3),
            optax.linear_schedule(1e-3, 0.0, 100_000),
        ],
        [1_000, TOTAL - 100_000],
    )
    wsd = lrspec.from_transformers(
        "warmup_stable_decay",
        1e-3,
        num_warmup_steps=1_000,
        num_training_steps=TOTAL,
        num_decay_steps=100_000,
        decay_type="linear",
    )
    cases = {
        "cosine_onecycle_schedule": (
            optax.cosine_onecycle_schedule(**onecycle),
            lrspec.from_optax("cosine_onecycle_schedule", **onecycle),
        ),
        "warmup_stable_decay": (wsd_native, wsd),
    }
    for name, (native, spec) in cases.items():
        runs, traces = {}, {}
        for label, schedule in (("native", native), ("lrspec", spec)):
            tx = optax.sgd(learning_rate=schedule)
            count: list[int] = []

            @jax.jit
            def step(p, s, tx=tx, count=count):
                count.append(1)
                grads = jax.grad(_loss)(p, x, y)
                updates, s = tx.update(grads, s, p)
                return optax.apply_updates(p, updates), s

            state = {"p": _params(key)}
            state["s"] = tx.init(state["p"])

            def run(n: int, step=step, state=state) -> None:
                for _ in range(n):
                    state["p"], state["s"] = step(state["p"], state["s"])
                jax.block_until_ready(state["p"])

            runs[label], traces[label] = run, count
        cpu, wall = interleaved(runs, number, repeat)
        stats = quantiles(ratios(cpu, "lrspec", "native"))
        calls = repeat * number + number
        log(f"optax {name}: step ratio {stats['median']:.3f}, traces {len(traces['lrspec'])}")
        rec.target(
            f"jitted train step time, imported {name}: `optax.sgd(spec)` / optax's own",
            stats,
            "<= 1.02",
            stats["median"] <= 1.02,
            unit="x",
            note=wall_note(wall, "lrspec", "native"),
        )
        rec.target(
            f"compilations of the jitted step with the imported {name} ({calls} calls)",
            None,
            "1",
            len(traces["lrspec"]) == 1,
            value=len(traces["lrspec"]),
        )


def torch_compile(rec: Record, quick: bool) -> None:
    from torch._dynamo.testing import CompileCounterWithBackend

    n = 30 if quick else 200
    model = torch.nn.Linear(16, 1)
    lr = torch.tensor(0.1)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    native = torch.optim.lr_scheduler.OneCycleLR(
        torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1), max_lr=0.1, total_steps=TOTAL
    )
    sched = lrspec.from_torch(native).to_torch(opt)
    counter = CompileCounterWithBackend("inductor")
    torch._dynamo.reset()

    @torch.compile(backend=counter)
    def opt_step() -> None:
        opt.step()

    x = torch.randn(8, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            opt.zero_grad()
            model(x).pow(2).mean().backward()
            opt_step()
            sched.step()
    log(f"torch.compile: {counter.frame_count} graphs over {n} steps")
    rec.target(
        f"compilations over {n} compiled training steps, imported OneCycleLR, tensor lr",
        None,
        "1 (no recompilation)",
        counter.frame_count == 1,
        value=counter.frame_count,
    )


def main() -> None:
    args = parse_args(__doc__)
    rec = Record("importers", "8. Imported schedules")
    torch_steps(rec, args.quick)
    optax_steps(rec, args.quick)
    torch_compile(rec, args.quick)
    rec.note(
        "The imported specs: `lrspec.from_torch(OneCycleLR(max_lr=0.1, total_steps=10**6))`, "
        "`lrspec.from_transformers('warmup_stable_decay', ...)` (1-sqrt cooldown for torch; a "
        "linear one for optax, whose own composition has no 1-sqrt), "
        "`lrspec.from_optax('cosine_onecycle_schedule', ...)`."
    )
    rec.write(args.json)


if __name__ == "__main__":
    main()
