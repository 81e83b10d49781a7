"""The spec: validation at construction, configs, serialization, equality, repr."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest

import lrspec
from lrspec import InverseTimeDecay

GOOD = dict(initial_learning_rate=0.1, decay_steps=1.0, decay_rate=0.5)


@pytest.mark.parametrize(
    ("arg", "value", "error"),
    [
        ("decay_steps", 0, ValueError),
        ("decay_steps", -1.0, ValueError),
        ("decay_steps", math.nan, ValueError),
        ("decay_steps", math.inf, ValueError),
        ("decay_rate", -0.1, ValueError),
        ("decay_rate", math.nan, ValueError),
        ("decay_rate", -math.inf, ValueError),
        ("decay_rate", math.inf, ValueError),
        ("initial_learning_rate", -0.1, ValueError),
        ("initial_learning_rate", math.nan, ValueError),
        ("initial_learning_rate", math.inf, ValueError),
        ("initial_learning_rate", 1e39, ValueError),  # no float32 holds it
        ("initial_learning_rate", "0.1", TypeError),
        ("initial_learning_rate", None, TypeError),
        ("decay_steps", True, TypeError),
        ("decay_rate", [0.5], TypeError),
        ("decay_rate", np.array([0.5]), TypeError),
        ("decay_rate", np.bool_(True), TypeError),
        ("decay_rate", 1j, TypeError),
        ("staircase", 1, TypeError),
        ("staircase", "yes", TypeError),
        ("name", 3, TypeError),
    ],
)
def test_bad_arguments_name_the_argument_and_value(arg, value, error):
    with pytest.raises(error) as info:
        InverseTimeDecay(**{**GOOD, arg: value})
    message = str(info.value)
    assert arg in message
    assert (
        repr(value)[:10] in message
        or str(value) in message
        or repr(float(value) if isinstance(value, (int, float)) else value) in message
    )


def test_error_message_format():
    with pytest.raises(ValueError, match=r"^decay_steps must be > 0, got decay_steps=0$"):
        InverseTimeDecay(0.1, 0, 0.5)


def test_int_initial_rate_does_not_truncate_decay_rate():
    """Keras computes in the initial rate's dtype: an int rate truncates decay_rate 0.5 to 0."""
    s = InverseTimeDecay(1, 1, 0.5)
    assert s(2) == 0.5
    assert s.get_config()["initial_learning_rate"] == 1


@pytest.mark.parametrize(
    "value", [np.float16(0.1), np.float32(0.1), np.float64(0.1), np.array(0.1), np.int64(2)]
)
def test_numpy_scalar_arguments(value):
    s = InverseTimeDecay(value, np.int32(10), np.float32(0.5))
    assert s.initial_learning_rate == float(value)
    assert type(s.initial_learning_rate) in (int, float)
    json.dumps(s.get_config())


def test_bfloat16_argument():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    s = InverseTimeDecay(ml_dtypes.bfloat16(0.1), 10, 0.5)
    assert s.initial_learning_rate == float(ml_dtypes.bfloat16(0.1))
    assert s(0) == float(ml_dtypes.bfloat16(0.1))


def test_negative_eager_steps_raise():
    s = InverseTimeDecay(**GOOD)
    with pytest.raises(ValueError, match="step"):
        s(-1)
    with pytest.raises(ValueError, match="step"):
        s(np.array([0, -5]))
    with pytest.raises(ValueError, match="step"):
        s(math.nan)
    with pytest.raises(ValueError, match="step"):
        s(math.inf)
    with pytest.raises(ValueError, match="step"):
        s(np.array([1.0, np.inf]))
    with pytest.raises(TypeError, match="step"):
        s(True)
    with pytest.raises(TypeError, match="step"):
        s("3")
    with pytest.raises(TypeError, match="step"):
        s([1, 2])


def test_config_round_trip_by_values():
    s = InverseTimeDecay(0.3, 7, 0.25, staircase=True, name="mine")
    cfg = s.get_config()
    assert cfg == dict(
        initial_learning_rate=0.3, decay_steps=7, decay_rate=0.25, staircase=True, name="mine"
    )
    t = InverseTimeDecay.from_config(json.loads(json.dumps(cfg)))
    assert t == s
    steps = np.arange(0, 1000, 3)
    np.testing.assert_array_equal(t(steps), s(steps))


def test_immutable_hashable_picklable_repr():
    s = InverseTimeDecay(**GOOD)
    with pytest.raises(AttributeError):
        s.decay_rate = 1.0  # type: ignore[misc]
    assert hash(s) == hash(InverseTimeDecay(**GOOD))
    assert s != InverseTimeDecay(0.1, 1.0, 0.5, staircase=True)
    assert pickle.loads(pickle.dumps(s)) == s
    assert repr(s) == (
        "InverseTimeDecay(initial_learning_rate=0.1, decay_steps=1.0, decay_rate=0.5, "
        "staircase=False, name='InverseTimeDecay')"
    )


def test_serialize_round_trip():
    s = InverseTimeDecay(0.1, 3, 0.5, staircase=True)
    data = lrspec.serialize(s)
    assert data["class_name"] == "InverseTimeDecay"
    assert lrspec.deserialize(json.loads(json.dumps(data))) == s


@pytest.mark.parametrize(
    "data",
    [
        {"class_name": "os.system", "config": {}},
        {"class_name": "InverseTimeDecay", "config": {}, "module": "evil.module"},
        {"class_name": "InverseTimeDecay"},
        {"class_name": 3, "config": {}},
        "InverseTimeDecay",
    ],
)
def test_deserialize_rejects_unknown_or_malformed(data):
    with pytest.raises((ValueError, TypeError)):
        lrspec.deserialize(data)


def test_deserialize_bad_config_names_the_argument():
    with pytest.raises(TypeError, match="decay_rat"):
        lrspec.deserialize(
            {
                "class_name": "InverseTimeDecay",
                "config": {"initial_learning_rate": 0.1, "decay_steps": 1, "decay_rat": 0.5},
            }
        )
