"""Keras 2 (``tf_keras``, or ``tf.keras`` under ``TF_USE_LEGACY_KERAS=1``): ``spec.to_tf_keras()``;
and the registration of both Keras adapters in a fresh process, warnings as errors.

The learning rate an update applied is read back exactly with a probe: a one-weight model
``y = w * x`` with ``x = 1`` and the mean absolute error against a far lower target, so that
dL/dw = 1 exactly (batches of 4); ``w`` is set to 0 before each batch, and plain SGD then
leaves ``w = -lr``. The reference is ``lrspec.reference`` (exact fractions, via
``tests/oracle.py``), and tf_keras's own ``InverseTimeDecay`` for what resuming means.

Loading in a fresh process (lrspec imported before or after tf_keras, no ``custom_objects``)
and the ``TF_USE_LEGACY_KERAS=1`` cases run this file as a script in a subprocess
(``python tests/test_tf_keras.py <command> ...``), which prints JSON; that is why nothing here
imports lrspec or a framework at module level. tf-keras installs beside tensorflow only with
``--no-deps`` (the noxfile does so in the TensorFlow session); elsewhere these tests skip.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # oracle, when run as a script
from oracle import exact, ulp_error_exact

HERE = Path(__file__).resolve()
SPEC = "InverseTimeDecay(0.1, 3.0, 0.5, staircase=True)"  # a stair every 3 updates
BATCH, BATCHES = 4, 3  # 12 samples: 3 updates per epoch
FORMATS = ("m.keras", "m.h5", "m_savedmodel")
OPTIMIZERS = ("SGD", "legacy.SGD")  # tf_keras's optimizers and its legacy (OptimizerV2) ones
#: Keras's TensorFlow backend, not lrspec (numpy 2's copy= keyword; pyproject.toml ignores it too)
KERAS_OWN = "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}


# --- workers: run here or in a subprocess ---------------------------------------------------


def _spec() -> Any:
    import lrspec

    return lrspec.InverseTimeDecay(0.1, 3.0, 0.5, staircase=True)


def _optimizer(k: Any, name: str, schedule: Any) -> Any:
    if name == "legacy.SGD":
        return k.optimizers.legacy.SGD(learning_rate=schedule)
    return k.optimizers.SGD(learning_rate=schedule)


def _probe_model(k: Any, optimizer: Any) -> Any:
    model = k.Sequential(
        [k.layers.Input((1,)), k.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    model.compile(optimizer=optimizer, loss="mae")  # built in: loads without custom_objects
    return model


def _data() -> tuple[np.ndarray, np.ndarray]:
    # y_pred = w * 1 > -1000: d|y_pred - y|/dw = 1 for each sample, mean over 4 samples = 1
    return np.ones((BATCH * BATCHES, 1), np.float32), np.full((BATCH * BATCHES, 1), -1e3, "f4")


def _reader(k: Any) -> Any:
    """A callback recording each update's step and the rate it applied (the probe)."""

    class Reader(k.callbacks.Callback):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.steps: list[int] = []
            self.rates: list[float] = []

        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            self.model.layers[0].kernel.assign([[0.0]])

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self.steps.append(int(self.model.optimizer.iterations.numpy()) - 1)
            self.rates.append(-float(self.model.layers[0].kernel.numpy()[0, 0]))

    return Reader()


def _fit(k: Any, model: Any, epochs: int) -> dict[str, list[Any]]:
    reader = _reader(k)
    data, target = _data()
    model.fit(data, target, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0,
              callbacks=[reader])  # fmt: skip
    return {"steps": reader.steps, "rates": reader.rates}


def _schedule_of(optimizer: Any) -> Any:
    if hasattr(optimizer, "_get_hyper"):  # legacy OptimizerV2
        return optimizer._get_hyper("learning_rate")
    return optimizer._learning_rate


def save_models(directory: str) -> dict[str, Any]:
    """For each optimizer: a probe model trained one epoch with ``spec.to_tf_keras()`` and its
    twin with tf_keras's own ``InverseTimeDecay``, saved in every format tf_keras writes."""
    import tf_keras as k

    import lrspec

    spec = _spec()
    report: dict[str, Any] = {}
    for opt in OPTIMIZERS:
        native = k.optimizers.schedules.InverseTimeDecay(**spec.get_config())
        for kind, schedule in (("ours", spec.to_tf_keras()), ("native", native)):
            model = _probe_model(k, _optimizer(k, opt, schedule))
            report[f"{opt}/{kind}"] = _fit(k, model, epochs=1)
            for name in FORMATS:
                path = Path(directory, f"{opt}-{kind}-{name}")
                with warnings.catch_warnings():  # "HDF5 is legacy"
                    warnings.simplefilter("ignore", UserWarning)
                    model.save(path, save_format="tf" if "savedmodel" in name else None)
    report["spec"] = lrspec.serialize(spec)
    return report


def load_models(order: str, directory: str) -> dict[str, Any]:
    """In a fresh process: import lrspec ``before`` or ``after`` tf_keras, load each saved
    model without ``custom_objects`` and train it on."""
    if order == "before":
        import lrspec
    import tf_keras as k

    if order == "after":
        import lrspec
    report: dict[str, Any] = {}
    for path in sorted(Path(directory).iterdir()):
        model = k.models.load_model(path)
        schedule = _schedule_of(model.optimizer)
        kind = type(schedule)
        report[path.name] = {
            "class": f"{kind.__module__}.{kind.__qualname__}",
            "spec": lrspec.serialize(schedule.spec) if hasattr(schedule, "spec") else None,
            "optimizer": type(model.optimizer).__module__,
            **_fit(k, model, epochs=1),
        }
    return report


def legacy_env(directory: str) -> dict[str, Any]:
    """Under TF_USE_LEGACY_KERAS=1: ``tf.keras`` is tf_keras and takes ``to_tf_keras()``;
    ``to_keras()`` is still a Keras 3 schedule. Saves a tf.keras model to ``directory``."""
    import lrspec

    spec = _spec()
    keras3 = spec.to_keras()  # before any Keras is imported
    first = spec.to_tf_keras()  # imports tf_keras (and TensorFlow), registering it
    import keras
    import tensorflow as tf

    tf_keras_base = tf.keras.optimizers.schedules.LearningRateSchedule
    model = _probe_model(tf.keras, tf.keras.optimizers.SGD(learning_rate=spec.to_tf_keras()))
    fitted = _fit(tf.keras, model, epochs=2)
    model.save(Path(directory, "legacy.keras"))
    k3 = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    k3.compile(optimizer=keras.optimizers.SGD(learning_rate=keras3), loss="mae")
    k3.fit(*_data(), batch_size=BATCH, epochs=1, verbose=0)
    return {
        "tf.keras": tf.keras.__name__,
        "tf_keras_schedule": isinstance(first, tf_keras_base),
        "keras3_schedule": isinstance(keras3, keras.optimizers.schedules.LearningRateSchedule),
        "keras3_is_tf_keras": isinstance(keras3, tf_keras_base),
        "keras3_iterations": int(keras.ops.convert_to_numpy(k3.optimizer.iterations)),
        "from_keras": lrspec.serialize(lrspec.from_keras(
            tf.keras.optimizers.schedules.InverseTimeDecay(**spec.get_config()))),
        **fitted,
    }  # fmt: skip


def legacy_load(directory: str) -> dict[str, Any]:
    import lrspec

    assert "tensorflow" not in sys.modules
    import tensorflow as tf

    model = tf.keras.models.load_model(Path(directory, "legacy.keras"))
    schedule = _schedule_of(model.optimizer)
    return {
        "class": f"{type(schedule).__module__}.{type(schedule).__qualname__}",
        "spec": lrspec.serialize(schedule.spec),
        **_fit(tf.keras, model, epochs=1),
    }


def keras3_save(directory: str) -> dict[str, Any]:
    """Issue 13's false warning: ``to_keras()`` before anything imported Keras."""
    import lrspec

    frameworks = sorted(m for m in ("keras", "tensorflow", "tf_keras") if m in sys.modules)
    schedule = _spec().to_keras()
    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule), loss="mae")
    model.fit(*_data(), batch_size=BATCH, epochs=1, verbose=0)
    model.save(Path(directory, "k3.keras"))
    return {
        "before": frameworks,
        "registered": lrspec.adapters.keras.registered("keras"),
        "class": f"{type(schedule).__module__}.{type(schedule).__qualname__}",
    }


def keras3_load(directory: str) -> dict[str, Any]:
    import lrspec

    assert "keras" not in sys.modules
    import keras

    model = keras.models.load_model(Path(directory, "k3.keras"))
    schedule = model.optimizer._learning_rate
    return {
        "class": f"{type(schedule).__module__}.{type(schedule).__qualname__}",
        "spec": lrspec.serialize(schedule.spec),
        "iterations": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
    }


def _run(command: str, *args: str, env: dict[str, str] | None = None) -> Any:
    """This file as a script in a fresh process, every warning an error."""
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-W", KERAS_OWN, str(HERE), command, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **QUIET, **(env or {})},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "Warning" not in proc.stderr, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- helpers ---------------------------------------------------------------------------------


def _needs(*modules: str) -> None:
    for module in modules:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")


@pytest.fixture(scope="module")
def k() -> Any:
    """tf_keras in this process."""
    pytest.importorskip("tensorflow")
    return pytest.importorskip("tf_keras")


def _assert_rates(steps: list[int], rates: list[float], spec: Any) -> None:
    assert len(steps) == len(rates) > 0
    errors = [
        ulp_error_exact(r, exact(spec, s), np.float32) for s, r in zip(steps, rates, strict=True)
    ]
    assert max(errors) <= 1, f"{max(errors)} ulp at step {steps[int(np.argmax(errors))]}"


# --- in this process -------------------------------------------------------------------------


def test_to_tf_keras_is_a_tf_keras_schedule(k):
    import lrspec

    keras = pytest.importorskip("keras")

    spec = _spec()
    schedule = spec.to_tf_keras()
    assert isinstance(schedule, k.optimizers.schedules.LearningRateSchedule)
    assert not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule)
    assert isinstance(spec.to_keras(), keras.optimizers.schedules.LearningRateSchedule)
    assert schedule.spec is spec and lrspec.from_keras(schedule) is spec
    assert repr(schedule) == f"TfKerasSchedule({spec!r})"
    assert type(schedule).from_config(schedule.get_config()).spec == spec
    assert k.saving.get_registered_name(type(schedule)) == "lrspec>KerasSchedule"
    again = k.optimizers.schedules.deserialize(k.optimizers.schedules.serialize(schedule))
    assert type(again) is type(schedule) and again.spec == spec
    with pytest.raises(TypeError, match="spec must be an lrspec schedule"):
        type(schedule)(0.1)
    with pytest.raises(ValueError, match="needs a 'spec'"):
        type(schedule).from_config({})


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_keras3_schedule_in_a_keras2_optimizer_says_what_to_use(k, optimizer):
    pytest.importorskip("keras")
    # tf_keras's optimizers call it when they are made, the legacy ones when they apply it
    with pytest.raises(TypeError, match=r"spec\.to_tf_keras\(\) instead of spec\.to_keras\(\)"):
        model = _probe_model(k, _optimizer(k, optimizer, _spec().to_keras()))  # the mistake
        _fit(k, model, epochs=1)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_fit_applies_spec_at_every_update(k, optimizer):
    spec = _spec()
    model = _probe_model(k, _optimizer(k, optimizer, spec.to_tf_keras()))
    fitted = _fit(k, model, epochs=3)
    assert fitted["steps"] == list(range(3 * BATCHES))
    _assert_rates(fitted["steps"], fitted["rates"], spec)
    assert len(set(fitted["rates"])) == 3  # staircase: a stair every 3 updates


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_tf_function_loop_applies_spec_and_traces_once(k, optimizer):
    import tensorflow as tf

    import lrspec

    spec = lrspec.Warmup(lrspec.CosineDecay(0.1, 20, alpha=0.1), warmup_steps=4)
    opt = _optimizer(k, optimizer, spec.to_tf_keras())
    w = tf.Variable(0.0)
    traces = []

    @tf.function
    def update() -> None:
        traces.append(1)
        w.assign(0.0)
        opt.apply_gradients([(tf.constant(1.0), w)])

    steps, rates, traced = [], [], []
    for _ in range(30):
        update()
        steps.append(int(opt.iterations.numpy()) - 1)
        rates.append(-float(w.numpy()))
        traced.append(len(traces))
    assert steps == list(range(30))
    _assert_rates(steps, rates, spec)
    # traced on the first call (twice where the optimizer creates its variables), never again
    assert traced[1:] == [traced[0]] * 29


def test_int64_counter_past_int32_keeps_decaying(k):
    import tensorflow as tf

    import lrspec

    # tf_keras's optimizers count in int64: the stair at 2**31 is exact (the legacy ones hand
    # the schedule a float32 step, rounded: their stairs can be early past 2**24 steps)
    spec = lrspec.InverseTimeDecay(0.1, 2.0**30, 1.0, staircase=True)
    opt = k.optimizers.SGD(learning_rate=spec.to_tf_keras())
    w = tf.Variable(0.0)
    opt.build([w])
    opt.iterations.assign(2**31 - 2)
    steps, rates = [], []
    for _ in range(4):
        w.assign(0.0)
        opt.apply_gradients([(tf.constant(1.0), w)])
        steps.append(int(opt.iterations.numpy()) - 1)
        rates.append(-float(w.numpy()))
    assert steps == [2**31 - 2, 2**31 - 1, 2**31, 2**31 + 1]
    _assert_rates(steps, rates, spec)
    assert rates[1] > rates[2] > 0


def test_from_keras_reads_tf_keras_schedules(k):
    import tensorflow as tf

    import lrspec

    schedules = k.optimizers.schedules
    natives = [
        schedules.InverseTimeDecay(0.1, 3.0, 0.5, staircase=True),
        schedules.ExponentialDecay(0.1, 10, 0.5),
        schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]),
        schedules.PolynomialDecay(0.1, 100, 0.001, power=2.0, cycle=True),
        schedules.CosineDecay(0.1, 100, alpha=0.1, warmup_target=0.2, warmup_steps=10),
        schedules.CosineDecayRestarts(0.1, 10, 2.0, 0.5, 0.1),
    ]
    for native in natives:
        assert type(native).__module__.startswith("tf_keras.")
        spec = lrspec.from_keras(native)
        assert type(spec).__name__ == type(native).__name__
        for step in (0, 1, 5, 9, 10, 11, 20, 31, 99, 100, 101, 250):
            ours = float(spec(tf.constant(step, tf.int64)))
            theirs = float(native(tf.constant(step, tf.int64)))
            assert ours == pytest.approx(theirs, rel=2e-6), (native, step)
    with pytest.raises(TypeError, match="cannot convert"):
        lrspec.from_keras(k.optimizers.SGD())
    # a look-alike from another package (whose name merely starts like one) is not read
    lookalike = type("InverseTimeDecay", (), {"__module__": "tf_keras_extras.schedules"})
    lookalike.get_config = lambda self: natives[0].get_config()
    with pytest.raises(TypeError, match="cannot convert"):
        lrspec.from_keras(lookalike())


# --- saving, and loading in a fresh process -----------------------------------------------


@pytest.fixture(scope="module")
def saved(k, tmp_path_factory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("tf_keras_saved")
    return {"dir": str(directory), **save_models(str(directory))}


def test_saved_twins_trained_alike(saved):
    spec = _spec()
    for opt in OPTIMIZERS:
        ours, native = saved[f"{opt}/ours"], saved[f"{opt}/native"]
        assert ours["steps"] == native["steps"] == list(range(BATCHES))
        _assert_rates(ours["steps"], ours["rates"], spec)


@pytest.mark.parametrize("order", ["before", "after"])
def test_load_model_without_custom_objects(saved, order):
    import lrspec

    spec = _spec()
    report = _run("load", order, saved["dir"])
    assert len(report) == len(OPTIMIZERS) * 2 * len(FORMATS)
    for opt in OPTIMIZERS:
        for name in FORMATS:
            ours, native = report[f"{opt}-ours-{name}"], report[f"{opt}-native-{name}"]
            where = f"{opt} {name}"
            assert ours["class"] == "lrspec.adapters.tf_keras.TfKerasSchedule", where
            assert lrspec.deserialize(ours["spec"]) == spec, where
            assert ours["optimizer"] == native["optimizer"], where
            # resumes where tf_keras resumes with its own schedule (whether a format keeps
            # the optimizer's step count is tf_keras's business), at spec's rates
            assert ours["steps"] == native["steps"], where
            _assert_rates(ours["steps"], ours["rates"], spec)
    # the native format keeps the step count of tf_keras's optimizers
    assert report["SGD-ours-m.keras"]["steps"] == list(range(BATCHES, 2 * BATCHES))


def test_legacy_tf_keras_env(k, tmp_path):
    """TF_USE_LEGACY_KERAS=1: tf.keras takes to_tf_keras() and to_keras() stays Keras 3."""
    _needs("keras")
    import lrspec

    spec = _spec()
    env = {"TF_USE_LEGACY_KERAS": "1", "KERAS_BACKEND": "tensorflow"}
    report = _run("legacy-env", str(tmp_path), env=env)
    assert report["tf.keras"].startswith("tf_keras")
    assert report["tf_keras_schedule"] and report["keras3_schedule"]
    assert not report["keras3_is_tf_keras"]
    assert report["keras3_iterations"] == BATCHES
    assert lrspec.deserialize(report["from_keras"]) == spec
    assert report["steps"] == list(range(2 * BATCHES))
    _assert_rates(report["steps"], report["rates"], spec)
    loaded = _run("legacy-load", str(tmp_path), env=env)
    assert loaded["class"] == "lrspec.adapters.tf_keras.TfKerasSchedule"
    assert lrspec.deserialize(loaded["spec"]) == spec
    assert loaded["steps"] == list(range(2 * BATCHES, 3 * BATCHES))
    _assert_rates(loaded["steps"], loaded["rates"], spec)


# --- Keras 3: no false registration warning (issue 13) ---------------------------------------


def _keras3_backend() -> str:
    _needs("keras")
    for backend in ("tensorflow", "jax", "torch"):
        if importlib.util.find_spec(backend) is not None:
            return backend
    pytest.skip("no Keras backend is installed")


@pytest.mark.parametrize("legacy", [False, True], ids=["keras3", "TF_USE_LEGACY_KERAS=1"])
def test_to_keras_before_keras_is_imported_warns_nothing(legacy, tmp_path):
    import lrspec

    env = {"KERAS_BACKEND": _keras3_backend()}
    if legacy:
        _needs("tensorflow", "tf_keras")
        env.update(TF_USE_LEGACY_KERAS="1", KERAS_BACKEND="tensorflow")
    saved = _run("keras3-save", str(tmp_path), env=env)
    assert saved["before"] == []
    assert saved["registered"]
    assert saved["class"] == "lrspec.adapters.keras.KerasSchedule"
    loaded = _run("keras3-load", str(tmp_path), env=env)
    assert loaded["class"] == "lrspec.adapters.keras.KerasSchedule"
    assert lrspec.deserialize(loaded["spec"]) == _spec()
    assert loaded["iterations"] == BATCHES


# --- script entry: the subprocess side ----------------------------------------------------


def main(argv: list[str]) -> None:
    command, *args = argv
    workers = {
        "load": load_models,
        "legacy-env": legacy_env,
        "legacy-load": legacy_load,
        "keras3-save": keras3_save,
        "keras3-load": keras3_load,
    }
    if command not in workers:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(workers[command](*args)))


if __name__ == "__main__":
    main(sys.argv[1:])
