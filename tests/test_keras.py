"""``spec.to_keras()`` in real Keras: training, every optimizer, every Keras backend, saving.

The learning rate an update applied is read back exactly with a probe: a weight ``p`` whose
loss term is ``p`` (so dL/dp = 1) is set to 0 before each batch; plain SGD then leaves
``p = -lr``. References are Keras's own ``InverseTimeDecay`` and the exact value of
``lrspec.reference``.

Keras picks its backend once per process, so the JAX and torch backends, and loading a saved
model in a fresh process (lrspec imported before or after keras), run this file as a script
in a subprocess (``python tests/test_keras.py <command> ...``), which prints JSON. That is why
nothing here imports lrspec or a framework at module level.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

HERE = Path(__file__).resolve()
SEED = dict(initial_learning_rate=0.1, decay_steps=1.0, decay_rate=0.5)  # the seed's example
WRAP_START = 2**31 - 2  # an int32 counter wraps after two updates
STAIRS = dict(initial_learning_rate=0.1, decay_steps=2**30, decay_rate=1.0)  # a stair at 2**31
OPTIMIZERS = [
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "Nadam",
    "Ftrl",
    "Lion",
    "Lamb",
    "Adafactor",
    "Muon",
    "ScheduleFreeAdamW",
]
FRAMEWORKS = ("keras", "tensorflow", "torch", "jax")


# --- workers: run here (TensorFlow backend) or in a subprocess (any backend) -------------


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 4)).astype("float32"), rng.integers(0, 3, size=40)


def _model(keras: Any, probe: bool = True) -> Any:
    """The seed's kind of model: a small softmax classifier (plus the lr probe)."""

    class Probe(keras.layers.Layer):  # type: ignore[misc]
        """Identity, with a weight ``p`` whose loss term is ``p`` (dL/dp = 1)."""

        def build(self, shape: Any) -> None:
            self.p = self.add_weight(shape=(), initializer="zeros", name="p")

        def call(self, x: Any) -> Any:
            self.add_loss(self.p * 1.0)
            return x

    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    x = inputs
    if probe:
        layer = Probe()
        x = layer(x)
    x = keras.layers.Dense(8, activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    model.probe = layer if probe else None
    return model


def _reader(keras: Any, extra: Any = None) -> Any:
    """A callback recording, per update: the step Keras hands the schedule, the rate the
    optimizer reports before the update, and (with a probe) the rate the update applied."""

    class ReadLR(keras.callbacks.Callback):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.steps: list[int] = []
            self.reported: list[float] = []
            self.applied: list[float] = []
            self.extra: list[float] = []

        def _sync(self) -> None:
            if hasattr(self.model, "jax_state_sync"):  # JAX keeps state outside variables
                self.model.jax_state_sync()

        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            self._sync()
            opt = self.model.optimizer
            self.steps.append(int(keras.ops.convert_to_numpy(opt.iterations)))
            self.reported.append(float(keras.ops.convert_to_numpy(opt.learning_rate)))
            if extra is not None:
                self.extra.append(float(keras.ops.convert_to_numpy(extra(opt.iterations))))
            if self.model.probe is not None:
                self.model.probe.p.assign(0.0)

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if self.model.probe is not None:
                self._sync()
                self.applied.append(-float(keras.ops.convert_to_numpy(self.model.probe.p)))

    return ReadLR()


def fit_report(
    keras: Any, schedule: Any, epochs: int = 5, start: int = 0, extra: Any = None
) -> dict[str, Any]:
    """The seed's example: SGD, sparse_categorical_crossentropy, ``model.fit(data, labels,
    epochs=...)``; optionally from optimizer step ``start``."""
    data, labels = _data()
    model = _model(keras)
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if start:
        optimizer.build(model.trainable_variables)
        optimizer.iterations.assign(start)
    reader = _reader(keras, extra)
    model.fit(
        data, labels, epochs=epochs, batch_size=10, shuffle=False, verbose=0, callbacks=[reader]
    )
    return {
        "backend": keras.backend.backend(),
        "counter_dtype": str(optimizer.iterations.dtype),
        "steps": reader.steps,
        "reported": reader.reported,
        "applied": reader.applied,
        "extra": reader.extra,
        "weights": [w.tolist() for w in model.get_weights()],
    }


def backend_report() -> dict[str, Any]:
    """Everything the backend tests check, from one process."""
    import keras

    import lrspec

    spec = lrspec.InverseTimeDecay(**SEED)
    stairs = lrspec.InverseTimeDecay(**STAIRS, staircase=True).to_keras()
    return {
        "ours": fit_report(keras, spec.to_keras()),
        "keras": fit_report(keras, keras.optimizers.schedules.InverseTimeDecay(**SEED)),
        "wrap": fit_report(keras, spec.to_keras(), epochs=1, start=WRAP_START, extra=stairs),
    }


def load_report(order: str, path: str) -> dict[str, Any]:
    """Load ``path`` in this fresh process with no custom_objects, and keep training."""
    from_tf = False
    if order == "before":
        import lrspec

        report: dict[str, Any] = {
            "frameworks_after_import_lrspec": [m for m in FRAMEWORKS if m in sys.modules],
            "hook_installed": any(type(f).__name__ == "_Finder" for f in sys.meta_path),
        }
        # TensorFlow asks for keras's spec while importing, then imports keras through
        # tf.keras's machinery: the hook must survive both.
        importlib.util.find_spec("keras")
        report["frameworks_after_find_spec"] = [m for m in FRAMEWORKS if m in sys.modules]
        import tensorflow as tf

        keras = tf.keras
        from_tf = True
    elif order == "after":
        import keras

        import lrspec

        report = {}
    else:  # "during": lrspec imported while keras is still initialising

        class Trigger:
            def find_spec(self, name: str, path: Any, target: Any = None) -> None:
                if name.startswith("keras."):
                    sys.meta_path.remove(self)
                    import lrspec  # noqa: F401

        sys.meta_path.insert(0, Trigger())
        import keras

        import lrspec

        report = {}
    model = keras.models.load_model(path)
    schedule = model.optimizer._learning_rate
    from lrspec.adapters.keras import KerasSchedule

    report.update(
        loaded_via_tf_keras=from_tf,
        schedule_class=f"{type(schedule).__module__}.{type(schedule).__qualname__}",
        is_ours=isinstance(schedule, KerasSchedule),
        spec=lrspec.serialize(schedule.spec) if isinstance(schedule, KerasSchedule) else None,
        iterations=int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
    )
    data, labels = _data()
    reader = _reader(keras)
    model.probe = None
    model.fit(data, labels, epochs=2, batch_size=10, shuffle=False, verbose=0, callbacks=[reader])
    report.update(
        steps=reader.steps,
        reported=reader.reported,
        weights=[w.tolist() for w in model.get_weights()],
    )
    return report


def _run(command: str, *args: str, backend: str = "tensorflow", cwd: Path | None = None) -> Any:
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, str(HERE), command, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- helpers ------------------------------------------------------------------------------


def _needs(*modules: str) -> None:
    for module in modules:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")


@pytest.fixture(scope="module")
def keras_tf() -> Any:
    """Keras in this process, on the TensorFlow backend."""
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("this process's Keras backend is not tensorflow")
    return keras


def _exact(step: int, spec: dict[str, Any] = SEED, staircase: bool = False) -> Fraction:
    from oracle import exact  # imports lrspec: never at module level here

    import lrspec

    return exact(lrspec.InverseTimeDecay(**spec, staircase=staircase), step)


def _assert_ulps(got: list[float], want: list[Fraction], ulps: float, what: str) -> None:
    from oracle import ulp_error_exact

    errors = [ulp_error_exact(g, w, np.float32) for g, w in zip(got, want, strict=True)]
    assert len(got) == len(want)
    assert max(errors) <= ulps, f"{what}: {max(errors)} ulp at update {int(np.argmax(errors))}"


def _assert_close_to_keras(ours: list[float], keras_rates: list[float]) -> None:
    """Within 4 float32 ulp of Keras's own rates (Keras's float32 path is ~2.3 ulp off)."""
    a, b = np.float32(ours), np.float32(keras_rates)
    ulps = np.abs(a.astype(np.float64) - b) / np.spacing(b)
    assert ulps.max() <= 4, f"{ulps.max()} ulp at update {int(ulps.argmax())}"


def _weights(report: dict[str, Any]) -> list[np.ndarray]:
    return [np.asarray(w, dtype=np.float32) for w in report["weights"]]


# --- the seed's example on the TensorFlow backend ------------------------------------------


@pytest.fixture(scope="module")
def seed_runs(keras_tf: Any) -> dict[str, Any]:
    return _backend_report("tensorflow")


def test_seed_example_rates_equal_keras_inverse_time_decay(seed_runs):
    ours, theirs = seed_runs["ours"], seed_runs["keras"]
    assert ours["steps"] == theirs["steps"] == list(range(20))  # 5 epochs of 4 batches
    _assert_close_to_keras(ours["reported"], theirs["reported"])
    _assert_close_to_keras(ours["applied"], theirs["applied"])
    # what the update applied is what the optimizer reports, and the exact rate within 1 ulp
    assert ours["applied"] == ours["reported"]
    _assert_ulps(ours["applied"], [_exact(k) for k in ours["steps"]], 1, "applied")


def test_seed_example_weights_equal_keras_run(seed_runs):
    for ours, theirs in zip(_weights(seed_runs["ours"]), _weights(seed_runs["keras"]), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    # and training did move them: the comparison is not between two untouched models
    start = _model(pytest.importorskip("keras")).get_weights()
    assert not np.allclose(start[1], _weights(seed_runs["ours"])[1])


# --- every optimizer ----------------------------------------------------------------------


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_applies_spec_rates(keras_tf, name):
    """Two updates with the schedule are bit-identical to two with a float lr set to
    spec(0), then spec(1): the optimizer applied exactly those rates."""
    import lrspec

    cls = getattr(keras_tf.optimizers, name, None)
    if cls is None:
        pytest.skip(f"keras.optimizers.{name} does not exist in this Keras")
    spec = lrspec.InverseTimeDecay(**SEED)
    rng = np.random.default_rng(1)
    init = [rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(3,)).astype("float32")]
    grads = [[rng.normal(size=w.shape).astype("float32") for w in init] for _ in range(2)]

    def train(learning_rate: Any, rates: list[float] | None) -> tuple[Any, list[Any]]:
        variables = [keras_tf.Variable(w) for w in init]
        optimizer = cls(learning_rate=learning_rate)
        optimizer.build(variables)
        reported = []
        for k, g in enumerate(grads):
            if rates is not None:
                optimizer.learning_rate = rates[k]
            reported.append(float(optimizer.learning_rate))
            optimizer.apply_gradients(zip(g, variables, strict=True))
        assert int(optimizer.iterations) == 2
        return reported, [v.numpy() for v in variables]

    reported, ours = train(spec.to_keras(), None)
    assert reported == [float(np.float32(spec(0))), float(np.float32(spec(1)))]
    _, want = train(0.1, [spec(0), spec(1)])
    for got, ref in zip(ours, want, strict=True):
        np.testing.assert_array_equal(got, ref)
    assert not np.array_equal(ours[0], init[0])  # the updates did something


# --- the JAX and torch backends (and TensorFlow, through the same code) --------------------


@cache
def _backend_report(backend: str) -> dict[str, Any]:
    keras = sys.modules.get("keras")
    if keras is not None and keras.backend.backend() == backend:
        return backend_report()
    return dict(_run("backend", backend=backend))


@pytest.fixture(params=["tensorflow", "jax", "torch"])
def keras_backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    _needs("keras", request.param)
    return _backend_report(request.param)


def test_backend_rates_are_exact(keras_backend):
    ours = keras_backend["ours"]
    assert ours["steps"] == list(range(20))
    _assert_ulps(ours["applied"], [_exact(k) for k in ours["steps"]], 1, "applied")
    _assert_ulps(ours["reported"], [_exact(k) for k in ours["steps"]], 1, "reported")
    _assert_close_to_keras(ours["applied"], keras_backend["keras"]["applied"])


def test_backend_weights_equal_keras_run(keras_backend):
    ours, theirs = _weights(keras_backend["ours"]), _weights(keras_backend["keras"])
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_backend_counter_past_int32_keeps_decaying(keras_backend):
    wrap = keras_backend["wrap"]
    true_steps = [WRAP_START + k for k in range(4)]
    if keras_backend["ours"]["counter_dtype"] == "int32":
        # what Keras hands the schedule on JAX and torch: a wrapped int32 counter
        assert wrap["steps"] == [s if s < 2**31 else s - 2**32 for s in true_steps]
    else:
        assert wrap["steps"] == true_steps
    _assert_ulps(wrap["applied"], [_exact(s) for s in true_steps], 1, "applied")
    assert all(r > 0 for r in wrap["applied"])
    assert wrap["applied"] == sorted(wrap["applied"], reverse=True)
    # a stair exactly at 2**31: the rate steps down when the counter wraps, never back up
    _assert_ulps(wrap["extra"], [_exact(s, STAIRS, True) for s in true_steps], 1, "stairs")
    assert wrap["extra"][1] > wrap["extra"][2]


def test_backend_counter_dtypes(keras_backend):
    backend = keras_backend["ours"]["backend"]
    assert keras_backend["ours"]["counter_dtype"] == (
        "int64" if backend == "tensorflow" else "int32"
    )


# --- configs and serialization ------------------------------------------------------------

SPECS = [
    dict(SEED),
    dict(initial_learning_rate=3e-4, decay_steps=100, decay_rate=2.0, staircase=True, name=None),
]


@pytest.mark.parametrize("kw", SPECS, ids=["seed", "staircase"])
def test_config_round_trips(keras_tf, kw):
    import lrspec
    from lrspec.adapters.keras import KerasSchedule

    spec = lrspec.InverseTimeDecay(**kw)
    schedule = spec.to_keras()
    steps = keras_tf.ops.convert_to_tensor(np.arange(0, 5000, 7))

    def same(other: Any) -> None:
        assert type(other) is KerasSchedule and other.spec == spec
        np.testing.assert_array_equal(np.asarray(other(steps)), np.asarray(schedule(steps)))

    config = json.loads(json.dumps(schedule.get_config()))
    same(KerasSchedule.from_config(config))
    saved = json.loads(json.dumps(keras_tf.saving.serialize_keras_object(schedule)))
    assert saved["registered_name"] == "lrspec>KerasSchedule"
    assert keras_tf.saving.get_registered_name(KerasSchedule) == "lrspec>KerasSchedule"
    same(keras_tf.saving.deserialize_keras_object(saved))
    same(
        keras_tf.optimizers.schedules.deserialize(keras_tf.optimizers.schedules.serialize(schedule))
    )
    assert lrspec.from_keras(schedule) == spec
    assert lrspec.deserialize(saved) == spec
    # inside an optimizer's config, as model.save writes it
    optimizer = keras_tf.optimizers.SGD(learning_rate=schedule)
    config = json.loads(json.dumps(optimizer.get_config()))
    assert lrspec.deserialize(config["learning_rate"]) == spec
    same(keras_tf.optimizers.SGD.from_config(config)._learning_rate)


def test_rejects_what_is_not_a_spec(keras_tf):
    from lrspec.adapters.keras import KerasSchedule

    with pytest.raises(TypeError, match="spec must be an lrspec schedule"):
        KerasSchedule(keras_tf.optimizers.schedules.InverseTimeDecay(**SEED))


# --- tf.function and XLA ------------------------------------------------------------------


def test_custom_training_loop_traces_once(keras_tf):
    import tensorflow as tf

    import lrspec

    spec = lrspec.InverseTimeDecay(**SEED)
    model = _model(keras_tf)
    optimizer = keras_tf.optimizers.SGD(learning_rate=spec.to_keras())
    loss_fn = keras_tf.losses.SparseCategoricalCrossentropy()
    data, labels = _data()
    traces = []

    @tf.function
    def train_step(x: Any, y: Any) -> Any:
        traces.append(1)  # Python side: runs once per trace
        model.probe.p.assign(0.0)
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True)) + tf.add_n(model.losses)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return -model.probe.p.value

    applied = []
    for k in range(30):
        batch = slice(10 * (k % 4), 10 * (k % 4) + 10)
        applied.append(float(train_step(tf.constant(data[batch]), tf.constant(labels[batch]))))
    assert len(traces) == 1
    assert int(optimizer.iterations) == 30
    _assert_ulps(applied, [_exact(k) for k in range(30)], 1, "applied")


@pytest.mark.parametrize("staircase", [False, True])
def test_xla_evaluation_of_int64_variable_traces_once(keras_tf, staircase):
    import tensorflow as tf

    import lrspec

    spec = lrspec.InverseTimeDecay(0.01, 3, 0.7, staircase=staircase)
    step = tf.Variable(0, dtype=tf.int64)
    traces = []

    @tf.function(jit_compile=True)
    def rate() -> Any:
        traces.append(1)
        return spec(step), spec.to_keras()(step)

    values = [0, 1, 2, 3, 4, 1000, 2**24 + 1, 2**31 + 5, 2**40 + 3, 2**53 + 2, 2**62]
    for value in values:
        step.assign(value)
        direct, through_keras = rate()
        want = _exact(
            value, dict(initial_learning_rate=0.01, decay_steps=3, decay_rate=0.7), staircase
        )
        assert direct.dtype == tf.float32
        _assert_ulps([float(direct)], [want], 1, f"step {value}")
        assert float(through_keras) == float(direct)
    assert len(traces) == 1


# --- saving, and loading in a fresh process -----------------------------------------------


@pytest.fixture(scope="module")
def saved_model(keras_tf, tmp_path_factory) -> dict[str, Any]:
    """A model trained for one epoch and saved, then trained on uninterrupted."""
    import lrspec

    path = tmp_path_factory.mktemp("saved") / "m.keras"
    data, labels = _data()
    model = _model(keras_tf, probe=False)
    spec = lrspec.InverseTimeDecay(0.1, 3.0, 0.5, staircase=True)
    model.compile(
        optimizer=keras_tf.optimizers.SGD(spec.to_keras()), loss="sparse_categorical_crossentropy"
    )
    model.fit(data, labels, epochs=1, batch_size=10, shuffle=False, verbose=0)
    model.save(path)
    reader = _reader(keras_tf)
    model.fit(data, labels, epochs=2, batch_size=10, shuffle=False, verbose=0, callbacks=[reader])
    return {
        "path": str(path),
        "spec": spec,
        "steps": reader.steps,
        "reported": reader.reported,
        "weights": [w for w in model.get_weights()],
    }


@pytest.mark.parametrize("order", ["before", "after", "during"])
def test_load_model_without_custom_objects(saved_model, order, tmp_path):
    import lrspec

    report = _run("load", order, saved_model["path"], cwd=tmp_path)
    assert report["is_ours"], report["schedule_class"]
    assert report["schedule_class"] == "lrspec.adapters.keras.KerasSchedule"
    assert lrspec.deserialize(report["spec"]) == saved_model["spec"]
    assert report["iterations"] == 4
    assert report["steps"] == saved_model["steps"] == list(range(4, 12))
    assert report["reported"] == saved_model["reported"]
    _assert_ulps(
        report["reported"],
        [
            _exact(k, dict(initial_learning_rate=0.1, decay_steps=3.0, decay_rate=0.5), True)
            for k in report["steps"]
        ],
        1,
        "reported",
    )
    for got, want in zip(report["weights"], saved_model["weights"], strict=True):
        np.testing.assert_allclose(np.float32(got), want, rtol=1e-6, atol=1e-7)
    if order == "before":
        # import lrspec alone imports no framework, though the hook is installed and keras's
        # spec was looked up; tf.keras then loads the file
        assert report["frameworks_after_import_lrspec"] == []
        assert report["hook_installed"]
        assert report["frameworks_after_find_spec"] == []
        assert report["loaded_via_tf_keras"]


# --- script entry: the subprocess side ----------------------------------------------------


def main(argv: list[str]) -> None:
    command, *args = argv
    if command == "backend":
        result = backend_report()
    elif command == "load":
        result = load_report(*args)
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
