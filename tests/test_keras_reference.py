"""Against Keras's own InverseTimeDecay: configs, serialization, values within 4 float32 ulp."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lrspec

keras = pytest.importorskip("keras")

PARAMS = [
    dict(initial_learning_rate=0.1, decay_steps=1.0, decay_rate=0.5),
    dict(initial_learning_rate=0.01, decay_steps=1000, decay_rate=0.3),
    dict(initial_learning_rate=1.0, decay_steps=2.5, decay_rate=0.75),
    dict(initial_learning_rate=3e-4, decay_steps=100, decay_rate=2.0),
]


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize("kw", PARAMS, ids=lambda kw: str(tuple(kw.values())))
def test_get_config_equals_keras(kw, staircase):
    ours = lrspec.InverseTimeDecay(**kw, staircase=staircase)
    theirs = keras.optimizers.schedules.InverseTimeDecay(**kw, staircase=staircase)
    assert ours.get_config() == theirs.get_config()
    json.dumps(ours.get_config())


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize("kw", PARAMS, ids=lambda kw: str(tuple(kw.values())))
def test_values_within_4_ulp_of_keras(backend, kw, staircase):
    theirs = keras.optimizers.schedules.InverseTimeDecay(**kw, staircase=staircase)
    ours = lrspec.InverseTimeDecay(**kw, staircase=staircase)
    steps = np.arange(10**5 + 1)
    want = np.asarray(
        keras.ops.convert_to_numpy(theirs(keras.ops.convert_to_tensor(steps))), dtype=np.float32
    )
    got = backend.evaluate(ours, steps, "int64" if backend.has_int64 else "int32").astype(
        np.float32
    )
    ulps = np.abs(got.astype(np.float64) - want) / np.spacing(want)
    assert ulps.max() <= 4, f"step {int(ulps.argmax())}: {ulps.max()} ulp"


def test_deserialize_reads_keras_serialize_output():
    theirs = keras.optimizers.schedules.InverseTimeDecay(0.1, 5, 0.5, staircase=True)
    data = json.loads(json.dumps(keras.optimizers.schedules.serialize(theirs)))
    assert lrspec.deserialize(data) == lrspec.InverseTimeDecay(0.1, 5, 0.5, staircase=True)


def test_from_keras():
    theirs = keras.optimizers.schedules.InverseTimeDecay(0.1, 5, 0.5, name="x")
    ours = lrspec.from_keras(theirs)
    assert ours == lrspec.InverseTimeDecay(0.1, 5, 0.5, name="x")


def test_from_keras_rejects_schedules_it_does_not_know():
    class Halving(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.1 * 0.5**step

    with pytest.raises(TypeError, match="Halving"):
        lrspec.from_keras(Halving())
