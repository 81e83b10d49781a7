"""The demo: one spec, one model, one dataset, trained in Keras, PyTorch and optax.

The seed's example end to end: a small classifier compiled with SGD and
``lrspec.InverseTimeDecay(0.1, 1.0, 0.5).to_keras()``, ``sparse_categorical_crossentropy``,
``model.fit(data, labels, epochs=5)``; then the same model (same initial weights), data,
batches and schedule in PyTorch (``spec.to_torch(optimizer)``) and optax
(``optax.sgd(learning_rate=spec)``). It prints a per-epoch table for each framework as it
trains, the largest learning-rate difference between them, and saves a figure::

    python -m lrspec demo                 # or: lrspec demo --epochs 2 --out demo.png

The figure goes to ``out/lrspec-demo.png`` unless ``out`` (``--out``) says otherwise (the
repository ignores ``out/``); missing folders are created.

The learning rate is per optimizer update: ``lr(k) = 0.1 / (1 + 0.5 k)`` at update k. The
tables show the rate of each epoch's last update; the figure shows every update.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import lrspec

UsageError = ValueError  # the command line turns it into one line and exit status 2

__all__ = ["DEFAULT_OUT", "Run", "make_data", "run"]

#: where the figure goes by default: a folder the repository ignores
DEFAULT_OUT = str(Path("out", "lrspec-demo.png"))

FEATURES, HIDDEN, CLASSES = 4, 16, 3
FRAMEWORKS = ("keras", "torch", "optax")
_NEEDS = {"keras": ("keras",), "torch": ("torch",), "optax": ("jax", "optax")}
_EXTRA = {"keras": "tensorflow", "torch": "torch", "optax": "jax"}


@dataclasses.dataclass
class Run:
    """What one framework's training produced."""

    framework: str
    title: str
    lrs: list[float] = dataclasses.field(default_factory=list)  # applied at each update
    losses: list[float] = dataclasses.field(default_factory=list)  # per epoch
    accuracies: list[float] = dataclasses.field(default_factory=list)  # per epoch
    epoch_lrs: list[float] = dataclasses.field(default_factory=list)  # last update of each epoch


def make_data(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs: ``CLASSES`` clusters in ``FEATURES`` dimensions, shuffled once.

    >>> data, labels = make_data(8)
    >>> data.shape, labels.dtype
    ((8, 4), dtype('int64'))
    """
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 2.0, size=(CLASSES, FEATURES))
    labels = rng.integers(0, CLASSES, size=samples)
    data = centers[labels] + rng.normal(0.0, 1.0, size=(samples, FEATURES))
    return data.astype(np.float32), labels.astype(np.int64)


def initial_weights(seed: int = 1) -> list[np.ndarray]:
    """Glorot-uniform kernels and zero biases, shared by the three frameworks."""
    rng = np.random.default_rng(seed)

    def glorot(n_in: int, n_out: int) -> np.ndarray:
        limit = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-limit, limit, size=(n_in, n_out)).astype(np.float32)

    return [
        glorot(FEATURES, HIDDEN),
        np.zeros(HIDDEN, np.float32),
        glorot(HIDDEN, CLASSES),
        np.zeros(CLASSES, np.float32),
    ]


def _batches(samples: int, batch_size: int) -> list[slice]:
    # the order model.fit(..., shuffle=False) uses, last batch possibly smaller
    return [slice(i, min(i + batch_size, samples)) for i in range(0, samples, batch_size)]


class _Printer:
    """Prints one framework's per-epoch table row by row, as training goes."""

    def __init__(self, run: Run, epochs: int) -> None:
        self.run, self.epochs = run, epochs
        print(f"\n== {run.title}")
        print(f"{'epoch':>7}  {'loss':>8}  {'accuracy':>8}  {'learning rate (last update)':>27}")
        sys.stdout.flush()

    def epoch(self, loss: float, accuracy: float) -> None:
        run = self.run
        run.losses.append(loss)
        run.accuracies.append(accuracy)
        run.epoch_lrs.append(run.lrs[-1])
        n = len(run.losses)
        print(f"{f'{n}/{self.epochs}':>7}  {loss:8.4f}  {accuracy:8.4f}  {run.lrs[-1]:27.7g}")
        sys.stdout.flush()


def train_keras(
    spec: lrspec.Schedule, data: np.ndarray, labels: np.ndarray, epochs: int, batch_size: int
) -> Run:
    """The seed's example: ``model.fit`` with SGD and ``spec.to_keras()``."""
    import keras

    run = Run(
        "keras",
        f"Keras {keras.__version__} ({keras.backend.backend()} backend): "
        "model.fit(data, labels, epochs), SGD(learning_rate=spec.to_keras())",
    )
    printer = _Printer(run, epochs)

    class Recorder(keras.callbacks.Callback):  # type: ignore[misc]
        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            # optimizer.learning_rate is the schedule at the current iteration: the rate
            # this batch's update applies
            lr = self.model.optimizer.learning_rate
            run.lrs.append(float(keras.ops.convert_to_numpy(lr)))

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            logs = logs or {}
            printer.epoch(float(logs["loss"]), float(logs["accuracy"]))

    model = keras.Sequential(
        [
            keras.Input((FEATURES,)),
            keras.layers.Dense(HIDDEN, activation="relu"),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ]
    )
    model.set_weights(initial_weights())
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=spec.to_keras()),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    # shuffle=False: the three frameworks see the same batches in the same order
    model.fit(
        data,
        labels,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=False,
        verbose=0,
        callbacks=[Recorder()],
    )
    return run


def train_torch(
    spec: lrspec.Schedule, data: np.ndarray, labels: np.ndarray, epochs: int, batch_size: int
) -> Run:
    """The same model in PyTorch, SGD driven by ``spec.to_torch(optimizer)``."""
    import torch

    run = Run(
        "torch",
        f"PyTorch {torch.__version__}: SGD + scheduler = spec.to_torch(optimizer), "
        "scheduler.step() after each optimizer.step()",
    )
    printer = _Printer(run, epochs)
    w1, b1, w2, b2 = initial_weights()
    first, second = torch.nn.Linear(FEATURES, HIDDEN), torch.nn.Linear(HIDDEN, CLASSES)
    model = torch.nn.Sequential(first, torch.nn.ReLU(), second)
    with torch.no_grad():
        for layer, (w, b) in zip((first, second), ((w1, b1), (w2, b2)), strict=True):
            layer.weight.copy_(torch.from_numpy(w.T.copy()))
            layer.bias.copy_(torch.from_numpy(b))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = spec.to_torch(optimizer)
    x_all, y_all = torch.from_numpy(data), torch.from_numpy(labels)
    for _ in range(epochs):
        total_loss, correct = 0.0, 0
        for batch in _batches(len(data), batch_size):
            x, y = x_all[batch], y_all[batch]
            run.lrs.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.zero_grad()
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(y)
            correct += int((logits.argmax(dim=1) == y).sum())
        printer.epoch(total_loss / len(data), correct / len(data))
    return run


def train_optax(
    spec: lrspec.Schedule, data: np.ndarray, labels: np.ndarray, epochs: int, batch_size: int
) -> Run:
    """The same model in JAX: ``optax.sgd`` with ``learning_rate=spec``, wrapped in
    ``optax.inject_hyperparams`` so the state records the rate each update applied."""
    import jax
    import jax.numpy as jnp
    import optax

    run = Run(
        "optax",
        f"JAX {jax.__version__} + optax {optax.__version__}: "
        "optax.inject_hyperparams(optax.sgd)(learning_rate=spec), jitted update",
    )
    printer = _Printer(run, epochs)
    params = dict(zip(("w1", "b1", "w2", "b2"), map(jnp.asarray, initial_weights()), strict=True))
    optimizer = optax.inject_hyperparams(optax.sgd)(learning_rate=spec)
    state = optimizer.init(params)

    def loss_fn(p: dict[str, Any], x: Any, y: Any) -> tuple[Any, Any]:
        hidden = jax.nn.relu(x @ p["w1"] + p["b1"])
        logits = hidden @ p["w2"] + p["b2"]
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return loss, logits

    @jax.jit
    def update(p: dict[str, Any], s: Any, x: Any, y: Any) -> tuple[Any, ...]:
        (loss, logits), grads = jax.value_and_grad(loss_fn, has_aux=True)(p, x, y)
        updates, s = optimizer.update(grads, s, p)
        correct = (logits.argmax(axis=1) == y).sum()
        return optax.apply_updates(p, updates), s, loss, correct

    for _ in range(epochs):
        total_loss, correct = 0.0, 0
        for batch in _batches(len(data), batch_size):
            x, y = jnp.asarray(data[batch]), jnp.asarray(labels[batch].astype(np.int32))
            params, state, loss, hits = update(params, state, x, y)
            run.lrs.append(float(state.hyperparams["learning_rate"]))
            total_loss += float(loss) * len(y)
            correct += int(hits)
        printer.epoch(total_loss / len(data), correct / len(data))
    return run


_TRAIN = {"keras": train_keras, "torch": train_torch, "optax": train_optax}


def _missing(framework: str) -> str | None:
    """The first module ``framework`` needs that cannot be imported, if any."""
    for module in _NEEDS[framework]:
        try:
            importlib.import_module(module)
        except ImportError:
            return module
    return None


def compare(runs: list[Run], spec: lrspec.Schedule) -> None:
    """Print the largest learning-rate difference between frameworks (and from the spec)."""
    if not runs:
        return
    updates = len(runs[0].lrs)
    exact = np.array([spec(k) for k in range(updates)])  # float64, Python path
    print(f"\nlearning rates at the {updates} updates, against lrspec's float64 value:")
    for run in runs:
        diff = np.abs(np.array(run.lrs) - exact)
        ulps = diff / np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
        print(f"  {run.framework:6} {diff.max():.3g} at most ({ulps.max():.2f} float32 ulp)")
    worst, where = 0.0, ""
    for i, a in enumerate(runs):
        for b in runs[i + 1 :]:
            diff = np.abs(np.array(a.lrs) - np.array(b.lrs))
            if diff.max() >= worst:
                k = int(diff.argmax())
                worst, where = float(diff.max()), f"{a.framework} vs {b.framework}, update {k}"
    if len(runs) > 1:
        rel = worst / float(exact[int(where.rsplit(" ", 1)[1])])
        print(
            f"largest learning-rate difference between frameworks: {worst:.3g} "
            f"(relative {rel:.2g}; {where})"
        )


def plot(runs: list[Run], spec: lrspec.Schedule, out: str) -> bool:
    """Save the learning-rate curves (every update) and loss curves (every epoch)."""
    try:
        import matplotlib
    except ImportError:
        print("note: matplotlib is not installed (pip install 'lrspec[plot]'): no figure")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = {
        "keras": {"linestyle": "-", "linewidth": 3.2, "alpha": 0.55, "color": "tab:red"},
        "torch": {"linestyle": "--", "linewidth": 1.8, "color": "tab:blue"},
        "optax": {"linestyle": ":", "linewidth": 2.2, "color": "tab:green"},
    }
    fig, (ax_lr, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
    for run in runs:
        style = styles[run.framework]
        ax_lr.plot(range(len(run.lrs)), run.lrs, label=run.framework, **style)
        epochs = range(1, len(run.losses) + 1)
        ax_loss.plot(epochs, run.losses, marker="o", label=run.framework, **style)
    ax_lr.set_xlabel("optimizer update (step)")
    ax_lr.set_ylabel("learning rate applied")
    ax_lr.set_title("InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)", fontsize=10)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss (cross-entropy)")
    ax_loss.set_title("same model, weights, data and batches", fontsize=10)
    ax_loss.xaxis.get_major_locator().set_params(integer=True)
    for ax in (ax_lr, ax_loss):
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle("lrspec: one schedule, three frameworks", fontsize=12)
    fig.tight_layout()
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=100)
    except OSError as err:
        raise UsageError(f"cannot write {out}: {err.strerror}") from None
    finally:
        plt.close(fig)
    print(f"figure: {out}")
    return True


def run(
    epochs: int = 5,
    samples: int = 600,
    batch_size: int = 32,
    out: str = DEFAULT_OUT,
    frameworks: str = "keras,torch,optax",
) -> int:
    """Train in each framework, print the tables and the comparison, save the figure."""
    chosen = [f.strip() for f in frameworks.split(",") if f.strip()]
    for name in chosen:
        if name not in FRAMEWORKS:
            raise UsageError(f"unknown framework {name!r}; choose from {', '.join(FRAMEWORKS)}")
    if not 1 <= epochs <= 1000:
        raise UsageError(f"--epochs must be between 1 and 1000, got {epochs}")
    if not 1 <= batch_size <= samples <= 1_000_000:
        raise UsageError(
            f"need 1 <= --batch-size <= --samples <= 1000000, got {batch_size} and {samples}"
        )
    if Path(out).suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"--out must end in .png or .svg, got {out!r}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    started = time.perf_counter()
    spec = lrspec.InverseTimeDecay(0.1, 1.0, 0.5)
    data, labels = make_data(samples)
    updates = -(-samples // batch_size) * epochs
    print(f"schedule: {spec!r}")
    print("  lr at update k = 0.1 / (1 + 0.5 k)  (decay_steps=1.0: the rate falls every update)")
    print(
        f"data: {samples} points in {CLASSES} Gaussian blobs, {FEATURES} features (generated); "
        f"model: Dense({HIDDEN}, relu) -> Dense({CLASSES}, softmax); "
        f"{epochs} epochs x {-(-samples // batch_size)} batches of {batch_size} = {updates} updates"
    )
    runs = []
    for name in chosen:
        missing = _missing(name)
        if missing is not None:
            print(
                f"\nnote: {missing} is not installed, so the {name} run is skipped "
                f"(pip install 'lrspec[{_EXTRA[name]}]')"
            )
            continue
        runs.append(_TRAIN[name](spec, data, labels, epochs, batch_size))
    if not runs:
        print("\nnothing to train: none of keras, torch, optax is installed", file=sys.stderr)
        return 1
    compare(runs, spec)
    plot(runs, spec, out)
    print(f"demo took {time.perf_counter() - started:.1f} s")
    return 0
