"""4. Keras/TensorFlow: ``model.fit`` epoch time of the InverseTimeDecay example with
``spec.to_keras()`` vs Keras's own ``InverseTimeDecay``; traces of the train step counted.
"""

from __future__ import annotations

from _common import (
    Record,
    interleaved,
    log,
    parse_args,
    quantiles,
    quiet_frameworks,
    ratios,
    wall_note,
)

quiet_frameworks()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import lrspec  # noqa: E402

LR0, DECAY_STEPS, DECAY_RATE = 0.1, 1.0, 0.5
SAMPLES, FEATURES, CLASSES, BATCH = 2048, 20, 10, 32


def build(schedule):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((FEATURES,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main() -> None:
    args = parse_args(__doc__)
    rounds = 5 if args.quick else 101
    # one thread per pool: on a shared 2-core machine, oversubscribed pools add bursts
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    rec = Record("keras", "4. Keras/TensorFlow: `model.fit` of the InverseTimeDecay example")
    rng = np.random.default_rng(0)
    data = rng.normal(size=(SAMPLES, FEATURES)).astype("float32")
    labels = rng.integers(0, CLASSES, size=SAMPLES)

    spec = lrspec.InverseTimeDecay(LR0, DECAY_STEPS, DECAY_RATE)
    traced: dict[str, list[bool]] = {"lrspec": [], "keras": []}

    def counting(base, name):
        class Counting(base):
            """Records each Python-level call: in graph mode, one per trace."""

            def __call__(self, step):
                traced[name].append(not tf.executing_eagerly())
                return super().__call__(step)

        Counting.__name__ = base.__name__
        return Counting

    lrspec_schedule = counting(type(spec.to_keras()), "lrspec")(spec)
    keras_schedule = counting(keras.optimizers.schedules.InverseTimeDecay, "keras")(
        LR0, DECAY_STEPS, DECAY_RATE
    )
    models = {"lrspec": build(lrspec_schedule), "keras": build(keras_schedule)}

    def epochs(name):
        def run(n):
            models[name].fit(data, labels, batch_size=BATCH, epochs=n, verbose=0, shuffle=False)

        return run

    for name in models:  # first epoch: tracing
        epochs(name)(1)
    first = {name: sum(calls) for name, calls in traced.items()}
    times, wall = interleaved({name: epochs(name) for name in models}, 1, rounds, warmup=0)

    # same training: both optimizers applied the same learning rates
    w = [m.layers[0].kernel.numpy() for m in models.values()]
    np.testing.assert_allclose(w[0], w[1], rtol=1e-4, atol=1e-6)
    lr = [float(m.optimizer.learning_rate) for m in models.values()]
    assert abs(lr[0] - lr[1]) <= 1e-6 * lr[1], lr

    ratio = quantiles(ratios(times, "lrspec", "keras"))
    log(f"keras: lrspec/keras epoch = {ratio['median']:.3f}")
    rec.target(
        "`model.fit` epoch time, `spec.to_keras()` / Keras's `InverseTimeDecay`",
        ratio,
        "<= 1.02",
        ratio["median"] <= 1.02,
        unit="x",
        note=wall_note(wall, "lrspec", "keras"),
    )
    steps = models["lrspec"].optimizer.iterations.numpy()
    total = {name: sum(calls) for name, calls in traced.items()}
    retraces = total["lrspec"] - first["lrspec"]
    rec.target(
        f"retraces of the train step with `spec.to_keras()` after the first epoch "
        f"({rounds} more epochs, {steps} steps in all)",
        None,
        "0 (traced once)",
        retraces == 0 and first["lrspec"] == first["keras"],
        value=retraces,
        note=f"first epoch: {first['lrspec']} traces, as with Keras's own schedule "
        f"({first['keras']}): tf.function traces a second time when its first call creates "
        "variables (the optimizer's and metrics')",
    )
    rows = []
    for name in models:
        t = quantiles(times[name])
        rows.append(
            [
                "`spec.to_keras()`" if name == "lrspec" else "Keras `InverseTimeDecay`",
                f"{t['median'] * 1e3:.1f} [{t['q1'] * 1e3:.1f}, {t['q3'] * 1e3:.1f}]",
                f"{t['median'] / (SAMPLES // BATCH) * 1e6:.0f}",
            ]
        )
    rec.table(
        f"The example: Dense(64, relu) + Dense({CLASSES}, softmax), SGD, "
        f"sparse_categorical_crossentropy, {SAMPLES} samples x {FEATURES} features, batch "
        f"{BATCH}; {rounds} interleaved rounds of one epoch each (Keras backend: "
        f"{keras.backend.backend()})",
        ["schedule", "ms per epoch (CPU), median [IQR]", "us per step"],
        rows,
    )
    # The schedules alone, in a tf.function on an int64 step variable (as the optimizer
    # calls them): what each adds to one training step.
    step_var = tf.Variable(0, dtype=tf.int64)
    alone = {}
    ops: dict[str, list[str]] = {"cast only": ["ReadVariableOp", "Cast"]}
    for name, sched in (
        ("lrspec", spec.to_keras()),
        ("keras", keras.optimizers.schedules.InverseTimeDecay(LR0, DECAY_STEPS, DECAY_RATE)),
    ):
        fn = tf.function(lambda sched=sched: sched(step_var), autograph=False)
        fn()
        graph = fn.get_concrete_function().graph
        skip = {"Placeholder", "Const", "Identity", "NoOp"}
        ops[name] = [op.type for op in graph.get_operations() if op.type not in skip]

        def run(n, fn=fn):
            for _ in range(n):
                fn()

        alone[name] = run
    plain = tf.function(lambda: tf.cast(step_var, tf.float32), autograph=False)
    plain()

    def run_plain(n):
        for _ in range(n):
            plain()

    alone["cast only"] = run_plain
    cpu_alone, _ = interleaved(alone, 200, 11 if args.quick else 41)
    per_call = {name: quantiles(v)["median"] for name, v in cpu_alone.items()}
    step_time = quantiles(times["keras"])["median"] / (SAMPLES // BATCH)
    extra = per_call["lrspec"] - per_call["keras"]
    rec.table(
        "The schedule alone, called in a `tf.function` on an int64 step variable "
        "(a tf.function call costs tens of microseconds by itself: compare the rows)",
        ["schedule", "us per call (median)", "operations in the traced graph"],
        [[name, f"{t * 1e6:.1f}", ", ".join(ops[name])] for name, t in per_call.items()],
    )
    rec.note(
        f"The lrspec schedule costs {extra * 1e6:+.1f} us per call against Keras's, "
        f"{extra / step_time:+.2%} of a training step of this example "
        f"({step_time * 1e6:.0f} us): what the schedule can change in the epoch-time ratio. "
        "Inside the training graph TensorFlow runs it with the rest of the step."
    )
    if ratio["median"] > 1.02:
        rec.note(
            f"**On the missed epoch-time target:** the median ratio {ratio['median']:.3f} "
            f"has a 95% confidence interval of {ratio['ci_low']:.3f}-{ratio['ci_high']:.3f} "
            "on this shared machine, wider than the 2% being tested; the schedule itself "
            f"accounts for {extra / step_time:+.2%} of a step (above), with "
            f"{len(ops['lrspec'])} graph operations against Keras's {len(ops['keras'])}. "
            "Nothing in the library to fix for it; a quiet machine would resolve it."
        )
    rec.write(args.json)


if __name__ == "__main__":
    main()
