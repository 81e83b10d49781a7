"""3. JAX/optax: a jitted training step whose optimizer takes the spec as its learning rate,
vs the same step with a hand-written ``jnp`` closure of the formula; compilations counted.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from _common import Record, interleaved, log, parse_args, quantiles, ratios, us, wall_note

import lrspec

LR0, DECAY_STEPS, DECAY_RATE = 0.1, 1.0, 0.5
BATCH, D_IN, HIDDEN, D_OUT = 128, 32, 256, 10


def hand_written(count):
    return LR0 / (1 + DECAY_RATE * count / DECAY_STEPS)


def init_params(key):
    k1, k2 = jax.random.split(key)
    return {
        "w1": jax.random.normal(k1, (D_IN, HIDDEN)) * 0.1,
        "b1": jnp.zeros(HIDDEN),
        "w2": jax.random.normal(k2, (HIDDEN, D_OUT)) * 0.1,
        "b2": jnp.zeros(D_OUT),
    }


def loss_fn(params, x, y):
    h = jax.nn.relu(x @ params["w1"] + params["b1"])
    logits = h @ params["w2"] + params["b2"]
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def make_step(learning_rate, traces: list[int]):
    opt = optax.sgd(learning_rate=learning_rate)

    @jax.jit
    def step(params, opt_state, x, y):
        traces.append(1)  # runs once per trace, never in compiled calls
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return opt, step


def hlo_ops(fn) -> int:
    """Operations in the optimized HLO of ``fn`` on an int32 count (parameters, constants
    and fusion wrappers excluded), and whether they all sit in one fused kernel."""
    text = jax.jit(fn).lower(jnp.int32(7)).compile().as_text()
    skip = ("parameter(", "constant(", " fusion(")
    lines = [ln for ln in text.splitlines() if " = " in ln and not any(k in ln for k in skip)]
    return len(lines), text.count(" fusion(")


def measure(quick: bool):
    """Interleaved timing of the jitted step with each learning rate; returns
    ``(cpu, wall, traces, calls, steps, (repeat, number))``."""
    # short blocks, many rounds: adjacent blocks see the same machine load
    repeat = 11 if quick else 201
    number = 10 if quick else 25
    spec = lrspec.InverseTimeDecay(LR0, DECAY_STEPS, DECAY_RATE)

    key = jax.random.PRNGKey(0)
    x = jax.random.normal(key, (BATCH, D_IN))
    y = jax.random.randint(key, (BATCH,), 0, D_OUT)
    schedules = {
        "hand-written jnp closure": hand_written,
        "spec as learning_rate": spec,
        "spec.to_optax()": spec.to_optax(),
        "constant lr 0.1": LR0,
    }
    traces = {name: [] for name in schedules}
    calls = dict.fromkeys(schedules, 0)
    states = {}
    runs = {}
    for name, sched in schedules.items():
        opt, step = make_step(sched, traces[name])
        params = init_params(key)
        states[name] = [params, opt.init(params)]

        def run(n, step=step, state=states[name], name=name):
            calls[name] += n
            params, opt_state = state
            for _ in range(n):
                params, opt_state, loss = step(params, opt_state, x, y)
            loss.block_until_ready()
            state[:] = [params, opt_state]

        runs[name] = (run, step)

    # same learning rates, same training: the spec's run matches the hand-written one
    after = {}
    for name in ("hand-written jnp closure", "spec as learning_rate"):
        run, _ = runs[name]
        run(10)
        after[name] = states[name][0]["w1"]
    np.testing.assert_allclose(
        after["hand-written jnp closure"], after["spec as learning_rate"], rtol=1e-5
    )

    times, wall = interleaved({k: r for k, (r, _) in runs.items()}, number=number, repeat=repeat)
    steps = {name: step for name, (_, step) in runs.items()}
    return times, wall, traces, calls, steps, (repeat, number)


def main() -> None:
    args = parse_args(__doc__)
    rec = Record("jax", "3. JAX/optax: jitted training step")
    spec = lrspec.InverseTimeDecay(LR0, DECAY_STEPS, DECAY_RATE)
    times, wall, traces, calls, steps, (repeat, number) = measure(args.quick)
    for name in ("spec as learning_rate", "spec.to_optax()"):
        ratio = quantiles(ratios(times, name, "hand-written jnp closure"))
        log(f"jax: {name} / hand-written = {ratio['median']:.3f}")
        rec.target(
            f"jitted train step time, `optax.sgd({'spec' if 'as' in name else name})` / "
            "hand-written closure",
            ratio,
            "<= 1.02",
            ratio["median"] <= 1.02,
            unit="x",
            note=wall_note(wall, name, "hand-written jnp closure"),
        )
    for name in ("spec as learning_rate", "spec.to_optax()"):
        step = steps[name]
        n_traces, cache = len(traces[name]), step._cache_size()
        rec.target(
            f"compilations of the jitted step with {name} ({calls[name]} calls)",
            None,
            "1",
            n_traces == 1 and cache == 1,
            value=n_traces,
            note=f"traces {n_traces}, jit cache entries {cache}",
        )
    rows = []
    base = quantiles(times["hand-written jnp closure"])
    for name in times:
        t = quantiles(times[name])
        r = quantiles(ratios(times, name, "hand-written jnp closure"))
        rows.append(
            [
                name,
                f"{t['median'] * 1e6:.1f}",
                f"{r['median']:.3f} [{r['q1']:.3f}, {r['q3']:.3f}]",
                str(len(traces[name])),
            ]
        )
    rec.table(
        f"MLP {D_IN}-{HIDDEN}-{D_OUT}, batch {BATCH}, optax.sgd, CPU; {repeat} interleaved "
        f"rounds of {number} steps",
        ["learning rate", "us per step (median)", "ratio to hand-written, median [IQR]", "traces"],
        rows,
    )
    rec.measure("hand-written step, per step", us(base), "us")
    (hand_ops, hand_fusions), (spec_ops, spec_fusions) = hlo_ops(hand_written), hlo_ops(spec)
    rec.note(
        "The schedule alone, jitted on an int32 count, optimized HLO: hand-written "
        f"{hand_ops} operations in {hand_fusions} fused kernel(s), lrspec {spec_ops} in "
        f"{spec_fusions} (lrspec reads a wrapped int32 counter as uint32 and clamps at the "
        "initial rate; its constants are folded when the spec is first evaluated)."
    )
    rec.write(args.json)


if __name__ == "__main__":
    main()
