"""Configs from untrusted files: ``lrspec.deserialize`` (and the CLI's schedule parser) build
only lrspec's own classes, import nothing, evaluate nothing, and fail clearly and quickly on
hostile or malformed input."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap

import pytest

import lrspec

GOOD_CONFIG = {"initial_learning_rate": 0.1, "decay_steps": 1.0, "decay_rate": 0.5}
GOOD = {"class_name": "InverseTimeDecay", "config": GOOD_CONFIG}

# What a hostile file can say to make a naive loader import or call something.
HOSTILE = [
    {"class_name": "os.system", "config": {"command": "echo pwned"}},
    {"class_name": "system", "module": "os", "config": {"command": "echo pwned"}},
    {"class_name": "eval", "module": "builtins", "config": {"source": "1+1"}},
    {"class_name": "builtins.eval", "config": {}},
    {"class_name": "__import__", "module": "builtins", "config": {"name": "os"}},
    {"class_name": "InverseTimeDecay", "module": "os", "config": GOOD_CONFIG},
    {"class_name": "InverseTimeDecay", "module": "keras.src.os", "config": GOOD_CONFIG},
    {"class_name": "InverseTimeDecay", "module": "lrspec.backends", "config": GOOD_CONFIG},
    {"class_name": "get_ops", "module": "lrspec.backends", "config": {"name": "torch"}},
    {"class_name": "Schedule", "module": "lrspec", "config": {}},  # the abstract base
    {"class_name": "__class__", "config": {}},
    {"class_name": "__init_subclass__", "config": {}},
    {"class_name": "SCHEDULES", "config": {}},
    {"class_name": "KerasSchedule", "registered_name": "os>system", "config": {"spec": "ls"}},
    {"class_name": "system", "registered_name": "lrspec>system", "config": {"spec": "ls"}},
    # Keras's own module, but a Keras class lrspec does not mirror
    {"class_name": "Adam", "module": "keras.optimizers", "config": {}},
    {"class_name": "Constant", "module": "keras.initializers", "config": {"value": 1.0}},
]


def _check_clear_error(err: BaseException) -> None:
    assert isinstance(err, (ValueError, TypeError)), f"{type(err).__name__}: {err}"
    # a clear error is also a short one: never the whole (possibly huge) input echoed back
    assert 0 < len(str(err)) < 2000


@pytest.mark.parametrize("data", HOSTILE, ids=lambda d: f"{d.get('module')}:{d['class_name']}")
def test_hostile_class_names_and_modules_are_refused(data):
    with pytest.raises((ValueError, TypeError)) as info:
        lrspec.deserialize(data)
    _check_clear_error(info.value)


def test_nothing_is_imported_or_called(tmp_path, monkeypatch):
    """A module named by the file would leave a trace if it were ever imported."""
    trace = tmp_path / "imported"
    (tmp_path / "lrspec_canary.py").write_text(
        f"open({str(trace)!r}, 'w').close()\n"
        "class InverseTimeDecay:\n"
        "    def __init__(self, **kw):\n"
        f"        open({str(trace)!r} + '.called', 'w').close()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    attempts = [
        {"class_name": "InverseTimeDecay", "module": "lrspec_canary", "config": GOOD_CONFIG},
        {"class_name": "lrspec_canary.InverseTimeDecay", "config": GOOD_CONFIG},
        {
            "class_name": "InverseTimeDecay",
            "registered_name": "lrspec_canary>InverseTimeDecay",
            "module": "lrspec_canary",
            "config": GOOD_CONFIG,
        },
        {"class_name": "KerasSchedule", "config": {"spec": {**GOOD, "module": "lrspec_canary"}}},
    ]
    for data in attempts:
        with pytest.raises((ValueError, TypeError)):
            lrspec.deserialize(data)
    assert "lrspec_canary" not in sys.modules
    assert not trace.exists()
    assert not os.path.exists(str(trace) + ".called")


@pytest.mark.parametrize(
    "data",
    [
        None,
        "InverseTimeDecay",
        json.dumps(GOOD),  # a JSON string is not parsed by deserialize
        b"InverseTimeDecay",
        pickle.dumps(lrspec.InverseTimeDecay(0.1, 1.0, 0.5)),  # never unpickled
        ["InverseTimeDecay", GOOD_CONFIG],
        ("InverseTimeDecay", GOOD_CONFIG),
        42,
        3.5,
        True,
        {},
        {"config": GOOD_CONFIG},
        {"class_name": "InverseTimeDecay"},
        {"class_name": None, "config": GOOD_CONFIG},
        {"class_name": ["InverseTimeDecay"], "config": GOOD_CONFIG},
        {"class_name": "InverseTimeDecay", "config": None},
        {"class_name": "InverseTimeDecay", "config": [0.1, 1.0, 0.5]},
        {"class_name": "InverseTimeDecay", "config": "initial_learning_rate=0.1"},
        {"class_name": "KerasSchedule", "config": {"spec": None}},
        {"class_name": "KerasSchedule", "config": {"spec": "InverseTimeDecay"}},
        {"class_name": "KerasSchedule", "config": {}},
    ],
    ids=repr,
)
def test_malformed_documents_give_a_clear_error(data):
    with pytest.raises((ValueError, TypeError)) as info:
        lrspec.deserialize(data)
    _check_clear_error(info.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("initial_learning_rate", "__import__('os').system('echo pwned')"),
        ("initial_learning_rate", "0.1"),  # numbers in strings are not parsed either
        ("initial_learning_rate", {"class_name": "InverseTimeDecay", "config": GOOD_CONFIG}),
        ("initial_learning_rate", [0.1]),
        ("initial_learning_rate", None),
        ("decay_steps", True),
        ("decay_steps", 0),
        ("decay_steps", -1),
        ("decay_rate", -0.5),
        pytest.param("decay_rate", 10**400, id="decay_rate-10**400"),
        pytest.param("decay_steps", -(10**400), id="decay_steps--10**400"),
        ("initial_learning_rate", 1e300),
        ("staircase", "true"),
        ("staircase", 1),
        ("name", 7),
        ("name", ["a"]),
    ],
)
def test_wrong_types_and_values_in_a_config_name_the_argument(key, value):
    data = {"class_name": "InverseTimeDecay", "config": {**GOOD_CONFIG, key: value}}
    with pytest.raises((ValueError, TypeError)) as info:
        lrspec.deserialize(data)
    _check_clear_error(info.value)
    assert key in str(info.value)


def test_json_special_floats_are_refused():
    """Python's json reads NaN/Infinity: a file can carry them; the spec must refuse them."""
    for token in ("NaN", "Infinity", "-Infinity"):
        text = json.dumps(GOOD).replace("0.5", token)
        with pytest.raises(ValueError, match="decay_rate"):
            lrspec.deserialize(json.loads(text))


@pytest.mark.parametrize("extra", [{"evil": "os.system"}, {"__class__": "x"}, {"_lrspec": 1}])
def test_extra_config_keys_are_refused(extra):
    with pytest.raises(TypeError) as info:
        lrspec.deserialize({"class_name": "InverseTimeDecay", "config": {**GOOD_CONFIG, **extra}})
    _check_clear_error(info.value)
    assert next(iter(extra)) in str(info.value)


def test_extra_top_level_keys_are_ignored_like_keras():
    """Keras's own serialize() writes extra keys (``registered_name``, ``build_config``...):
    they carry nothing that deserialize acts on."""
    data = {**GOOD, "registered_name": None, "build_config": {"x": 1}, "shared_object_id": 3}
    assert lrspec.deserialize(data) == lrspec.InverseTimeDecay(0.1, 1.0, 0.5)


def _nested(depth: int) -> dict:
    data: dict = GOOD
    for _ in range(depth):
        data = {"class_name": "KerasSchedule", "config": {"spec": data}}
    return data


def test_moderate_keras_wrapping_still_loads():
    assert lrspec.deserialize(_nested(3)) == lrspec.InverseTimeDecay(0.1, 1.0, 0.5)


def test_deeply_nested_config_gives_a_clear_error_not_recursion_error():
    """A file of nested wrappers must not exhaust the interpreter's stack: RecursionError is
    neither a ValueError nor a TypeError, and may escape as a crash in C code."""
    with pytest.raises((ValueError, TypeError)) as info:
        lrspec.deserialize(_nested(sys.getrecursionlimit() * 2))
    _check_clear_error(info.value)


def test_huge_config_gives_a_short_clear_error():
    extra = {f"key{i}": i for i in range(200_000)}
    with pytest.raises(TypeError) as info:
        lrspec.deserialize({"class_name": "InverseTimeDecay", "config": {**GOOD_CONFIG, **extra}})
    _check_clear_error(info.value)


@pytest.mark.parametrize(
    "data",
    [
        {"class_name": "x" * 1_000_000, "config": {}},
        {"class_name": "InverseTimeDecay", "config": {}, "module": "m" * 1_000_000},
        {"config": {f"key{i}": i for i in range(200_000)}},
        list(range(1_000_000)),
        "x" * 1_000_000,
    ],
    ids=["long-class-name", "long-module", "huge-config-no-class", "huge-list", "huge-str"],
)
def test_huge_documents_are_not_echoed_into_the_error(data):
    with pytest.raises((ValueError, TypeError)) as info:
        lrspec.deserialize(data)
    _check_clear_error(info.value)


def test_keras_adapter_from_config_refuses_hostile_specs():
    pytest.importorskip("keras")
    from lrspec.adapters.keras import KerasSchedule

    for data in HOSTILE[:5]:
        with pytest.raises((ValueError, TypeError)):
            KerasSchedule.from_config({"spec": data})


# --- the CLI's schedule parser ----------------------------------------------------------

CLI_HOSTILE = [
    json.dumps({"class_name": "os.system", "config": {"command": "touch {trace}"}}),
    json.dumps({"class_name": "system", "module": "os", "config": {"command": "touch {trace}"}}),
    "__import__('os').system('touch {trace}')",
    "InverseTimeDecay(__import__('os').system('touch {trace}'), 1, 0.5)",
    "open('{trace}', 'w')",
    "(lambda: open('{trace}', 'w'))()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "InverseTimeDecay.__init__.__globals__",
    # (one command-line argument holds at most 128 KiB on Linux)
    "[" * 30_000 + "]" * 30_000,
    "{" * 60_000,
    "(" * 30_000 + "0.1" + ")" * 30_000,
    '{"class_name": "KerasSchedule", "config": {"spec": ' * 2000 + json.dumps(GOOD) + "}}" * 2000,
    "InverseTimeDecay(" + "1+" * 50_000 + "1, 1, 0.5)",
    "9" * 100_000,
    "",
    "{}",
    "null",
]


def _cli_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("lrspec.cli") is not None


@pytest.mark.skipif(not _cli_available(), reason="lrspec.cli is not part of this checkout")
@pytest.mark.parametrize("text", CLI_HOSTILE, ids=lambda t: t[:40])
def test_cli_refuses_hostile_schedules(text, tmp_path):
    """``python -m lrspec table '<schedule>'`` exits with a usage error and a short message,
    never a traceback, never runs what the text says."""
    trace = tmp_path / "pwned"
    arg = text.replace("{trace}", str(trace))
    proc = subprocess.run(
        [sys.executable, "-m", "lrspec", "table", arg],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.returncode not in (0, None), proc.stdout[:500]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "RecursionError" not in proc.stderr
    assert 0 < len(proc.stderr) < 4000
    assert not trace.exists()


@pytest.mark.skipif(not _cli_available(), reason="lrspec.cli is not part of this checkout")
def test_cli_still_reads_a_good_schedule(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "lrspec", "table", json.dumps(lrspec.serialize(_spec()))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    # the rate at step 2 of InverseTimeDecay(0.1, 1, 0.5) is 0.05
    assert "0.05" in proc.stdout


def _spec() -> lrspec.InverseTimeDecay:
    return lrspec.InverseTimeDecay(0.1, 1.0, 0.5)


def test_deserialize_runs_in_a_process_without_frameworks():
    """Reading a config imports no framework, so a hostile config cannot reach one."""
    code = textwrap.dedent(
        f"""
        import sys, lrspec
        lrspec.deserialize({GOOD!r})
        for data in {HOSTILE!r}:
            try:
                lrspec.deserialize(data)
            except (ValueError, TypeError):
                pass
        frameworks = ("torch", "jax", "tensorflow", "keras")
        loaded = [m for m in frameworks if m in sys.modules]
        print(loaded)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
