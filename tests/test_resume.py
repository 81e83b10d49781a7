"""Resume after a crash, per framework: train, save what a user saves mid-run, resume in a
fresh process, and get exactly the learning rates and parameters of an uninterrupted run,
also with the step counter at 10**6.

The training code is in this module, so the parent (uninterrupted run) and the child
process (the resumed run) execute the very same functions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from oracle import exact_float

import lrspec

SPEC = lrspec.InverseTimeDecay(0.1, 3.0, 0.5)
STAIRS = lrspec.InverseTimeDecay(0.05, 4, 1.5, staircase=True)
BEFORE, AFTER = 6, 6  # updates before the checkpoint, and after it
# (first step, spec): a fresh run, and one whose counters were set to 10**6
CASES = pytest.mark.parametrize(("start", "spec_name"), [(0, "smooth"), (10**6, "stairs")])
HERE = Path(__file__).parent


def resume_in_fresh_process(function: str, *args: object) -> None:
    """Run ``function(*args)`` of this module in a new interpreter."""
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r}); import test_resume; "
        f"test_resume.{function}(*{json.dumps(args)})"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]


def _spec(name: str) -> lrspec.InverseTimeDecay:
    return {"smooth": SPEC, "stairs": STAIRS}[name]


# --- PyTorch: model, optimizer and scheduler state dicts -----------------------------------


def _torch_model(torch, seed: int):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.9, weight_decay=1e-3)
    return model, optimizer


def _torch_train(torch, model, optimizer, scheduler, steps):
    lrs = []
    for k in steps:
        x = torch.sin(torch.arange(32, dtype=torch.float32) * (k % 97 + 1)).reshape(8, 4)
        y = x.sum(dim=1, keepdim=True).cos()
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
        scheduler.step()
    return lrs


def _torch_params(model) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in model.parameters()]


def torch_resume(ckpt: str, out: str, start: int, spec_name: str) -> None:
    """The resumed run, in a fresh process: a differently initialized model, then the state
    dicts (plain values: ``weights_only=True``); the spec is read back from the scheduler's
    state, and the scheduler built after ``optimizer.load_state_dict`` (the usual order)."""
    import torch

    model, optimizer = _torch_model(torch, seed=1234)
    saved = torch.load(ckpt, weights_only=True)
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    spec = lrspec.deserialize(saved["scheduler"]["spec"])
    assert spec == _spec(spec_name)
    scheduler = spec.to_torch(optimizer)
    scheduler.load_state_dict(saved["scheduler"])
    k0 = start + BEFORE
    lrs = _torch_train(torch, model, optimizer, scheduler, range(k0, k0 + AFTER))
    np.savez(out, *_torch_params(model), lrs=np.array(lrs))


@CASES
def test_torch_resume_in_a_fresh_process(tmp_path, start, spec_name):
    torch = pytest.importorskip("torch")
    spec = _spec(spec_name)
    model, optimizer = _torch_model(torch, seed=0)
    # start > 0: a run whose counter is already at ``start`` (torch's own resume argument)
    scheduler = spec.to_torch(optimizer, last_epoch=start - 1)
    lrs = _torch_train(torch, model, optimizer, scheduler, range(start, start + BEFORE))
    ckpt = tmp_path / "ckpt.pt"
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
        },
        ckpt,
    )
    k0 = start + BEFORE
    lrs += _torch_train(torch, model, optimizer, scheduler, range(k0, k0 + AFTER))

    out = tmp_path / "resumed.npz"
    resume_in_fresh_process("torch_resume", str(ckpt), str(out), start, spec_name)
    resumed = np.load(out)
    assert resumed["lrs"].tolist() == lrs[BEFORE:]
    for i, param in enumerate(_torch_params(model)):
        np.testing.assert_array_equal(resumed[f"arr_{i}"], param)
    want = [exact_float(spec, k) for k in range(start, start + BEFORE + AFTER)]
    np.testing.assert_allclose(lrs, want, rtol=4.5e-16)


# --- Keras: a .keras file -----------------------------------------------------------------

_KERAS_X = np.sin(np.arange(64, dtype="float32")).reshape(16, 4)
_KERAS_Y = np.cos(_KERAS_X.sum(axis=1, keepdims=True))
_BATCH = 4  # 16 samples: 4 updates per epoch
_EPOCHS = 2  # before the save, and after it


def _keras_fit(keras, model, epochs: int):
    lrs, iterations = [], []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            iterations.append(int(model.optimizer.iterations.numpy()))
            lrs.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))

    model.fit(
        _KERAS_X,
        _KERAS_Y,
        batch_size=_BATCH,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        callbacks=[Record()],
    )
    return lrs, iterations


def keras_resume(path: str, out: str) -> None:
    """The resumed run, in a fresh process that loads the file with plain ``load_model``
    (no ``custom_objects``)."""
    import keras

    model = keras.models.load_model(path)
    assert type(model.optimizer._learning_rate).__name__ == "KerasSchedule"
    lrs, iterations = _keras_fit(keras, model, epochs=_EPOCHS)
    np.savez(
        out,
        *[np.asarray(w) for w in model.get_weights()],
        lrs=np.array(lrs),
        iterations=np.array(iterations),
    )


@CASES
def test_keras_resume_from_a_keras_file_in_a_fresh_process(tmp_path, start, spec_name):
    keras = pytest.importorskip("keras")
    pytest.importorskip("tensorflow")
    spec = _spec(spec_name)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)]
    )
    optimizer = keras.optimizers.SGD(learning_rate=spec.to_keras(), momentum=0.9)
    model.compile(optimizer=optimizer, loss="mse")
    optimizer.build(model.trainable_variables)
    optimizer.iterations.assign(start)
    lrs, its = _keras_fit(keras, model, epochs=_EPOCHS)
    path = tmp_path / "model.keras"
    model.save(path)
    more_lrs, more_its = _keras_fit(keras, model, epochs=_EPOCHS)

    out = tmp_path / "resumed.npz"
    resume_in_fresh_process("keras_resume", str(path), str(out))
    resumed = np.load(out)
    assert resumed["iterations"].tolist() == more_its
    assert resumed["lrs"].tolist() == more_lrs
    for i, weight in enumerate(model.get_weights()):
        np.testing.assert_array_equal(resumed[f"arr_{i}"], weight)
    updates = 2 * _EPOCHS * len(_KERAS_X) // _BATCH
    assert its + more_its == list(range(start, start + updates))
    want = np.float32([exact_float(spec, k) for k in its + more_its])
    np.testing.assert_array_equal(np.float32(lrs + more_lrs), want)


# --- optax: the optimizer state pytree -----------------------------------------------------


def _optax_setup(jax, optax, spec):
    import jax.numpy as jnp

    key = jax.random.PRNGKey(0)
    k1, k2 = jax.random.split(key)
    params = {
        "w1": jax.random.normal(k1, (4, 8)),
        "b1": jnp.zeros(8),
        "w2": jax.random.normal(k2, (8, 1)),
    }
    opt = optax.inject_hyperparams(optax.adam)(learning_rate=spec)
    return params, opt


def _optax_train(jax, optax, opt, params, state, steps):
    import jax.numpy as jnp

    def loss(p, x, y):
        h = jnp.tanh(x @ p["w1"] + p["b1"])
        return jnp.mean((h @ p["w2"] - y) ** 2)

    @jax.jit
    def step(p, s, x, y):
        g = jax.grad(loss)(p, x, y)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s

    lrs = []
    for k in steps:
        x = jnp.sin(jnp.arange(32, dtype=jnp.float32) * (k % 97 + 1)).reshape(8, 4)
        y = jnp.cos(x.sum(axis=1, keepdims=True))
        params, state = step(params, state, x, y)
        lrs.append(float(state.hyperparams["learning_rate"]))
    return params, state, lrs


def _set_counts(jax, state, start: int):
    """Every step counter in the state (inject_hyperparams' and adam's) set to ``start``."""
    import jax.numpy as jnp

    return jax.tree.map(
        lambda leaf: jnp.asarray(start, leaf.dtype) if leaf.dtype == jnp.int32 else leaf, state
    )


def optax_resume(ckpt: str, out: str, start: int, spec_name: str) -> None:
    import jax
    import optax

    spec = _spec(spec_name)
    params, opt = _optax_setup(jax, optax, spec)
    # the structure comes from a fresh init; the values from the saved leaves
    treedef = jax.tree.structure((params, opt.init(params)))
    saved = np.load(ckpt)
    leaves = [saved[f"arr_{i}"] for i in range(treedef.num_leaves)]
    params, state = jax.tree.unflatten(treedef, leaves)
    k0 = start + BEFORE
    params, state, lrs = _optax_train(jax, optax, opt, params, state, range(k0, k0 + AFTER))
    np.savez(out, *[np.asarray(x) for x in jax.tree.leaves((params, state))], lrs=np.array(lrs))


@CASES
def test_optax_resume_from_saved_state_in_a_fresh_process(tmp_path, start, spec_name):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    spec = _spec(spec_name)
    params, opt = _optax_setup(jax, optax, spec)
    state = _set_counts(jax, opt.init(params), start)
    params, state, lrs = _optax_train(jax, optax, opt, params, state, range(start, start + BEFORE))
    ckpt = tmp_path / "state.npz"
    np.savez(ckpt, *[np.asarray(x) for x in jax.tree.leaves((params, state))])
    k0 = start + BEFORE
    params, state, more = _optax_train(jax, optax, opt, params, state, range(k0, k0 + AFTER))

    out = tmp_path / "resumed.npz"
    resume_in_fresh_process("optax_resume", str(ckpt), str(out), start, spec_name)
    resumed = np.load(out)
    assert resumed["lrs"].tolist() == more
    for i, leaf in enumerate(jax.tree.leaves((params, state))):
        np.testing.assert_array_equal(resumed[f"arr_{i}"], np.asarray(leaf))
    assert int(state.count) == start + BEFORE + AFTER
    want = [exact_float(spec, k) for k in range(start, start + BEFORE + AFTER)]
    np.testing.assert_allclose(lrs + more, want, rtol=3 * 2**-23)
