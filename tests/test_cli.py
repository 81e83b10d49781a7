"""The command line, run as a subprocess (``python -m lrspec ...``), and its schedule parser.

References are the exact values of ``lrspec.reference`` (independent of the formulas).
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import math
import os
import re
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hiding import hiding
from oracle import exact_float, ulp_error_exact

import lrspec
from lrspec import cli, reference
from lrspec.cli import parse, quiet, tables
from lrspec.demo import DEFAULT_OUT
from lrspec.schedules import SCHEDULES

# The command line quiets the frameworks itself: no TF_CPP_MIN_LOG_LEVEL here
ENV = {k: v for k, v in os.environ.items() if k not in quiet.ENV} | {"PYTHONWARNINGS": "ignore"}
FRAMEWORKS = ("torch", "jax", "tensorflow", "keras", "tf_keras", "matplotlib")


def run(*args: str, cwd=None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lrspec", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=ENV,
    )


# main() in a fresh process (tests/hiding.py), then the frameworks it imported, as JSON on the
# last line
MAIN = """
import json
from lrspec.cli import main
status = main({argv!r})
sys.stdout.flush()
print(json.dumps([status, sorted(m for m in {frameworks!r} if m in sys.modules)]))
"""


def run_main(*argv: str, hidden: tuple[str, ...] = ()) -> tuple[int, list[str], str, str]:
    """(exit status, frameworks imported, stdout before the report, stderr)."""
    code = hiding(hidden, MAIN.format(argv=list(argv), frameworks=FRAMEWORKS))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=ENV)  # fmt: skip
    *out, last = proc.stdout.splitlines() or [""]
    assert last.startswith("["), proc.stdout + proc.stderr
    status, imported = json.loads(last)
    return status, imported, "\n".join(out), proc.stderr


#: what a framework's C++ logging looks like on stderr (absl / glog line prefixes)
LOG_LINE = re.compile(r"^[IWEF]\d{4} |^WARNING: All log messages before absl", re.MULTILINE)


# --- help and entry points ----------------------------------------------------------------


def test_top_level_help_lists_every_command():
    proc = run("--help")
    assert proc.returncode == 0, proc.stderr
    for command in ("table", "check", "plot", "demo"):
        assert command in proc.stdout
    assert "InverseTimeDecay" in proc.stdout  # the known schedules


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("table", ["--steps", "--backend", "'all'", "default: python and numpy", "--format"]),
        ("check", ["--start", "--stop", "--ulp", "exact", "1 ulp", "3 ulp", "2 ulp", "'all'"]),
        ("plot", ["--out", "--yscale", "--xscale", "--backend", ".svg", "(default: lrspec.png)"]),
        ("demo", ["--epochs", "--out", "Keras", "PyTorch", "optax", f"(default: {DEFAULT_OUT})"]),
    ],
)
def test_command_help(command, words):
    proc = run(command, "--help")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())  # argparse wraps lines
    for word in words:
        assert word in text, word


def test_console_script_points_at_main():
    (entry,) = importlib.metadata.entry_points(group="console_scripts", name="lrspec")
    assert entry.value == "lrspec.cli:main"
    assert entry.load() is cli.main


def test_no_command_prints_help_and_exits_2():
    proc = run()
    assert proc.returncode == 2
    assert "table" in proc.stdout


# --- table ----------------------------------------------------------------------------------


def test_table_matches_closed_form_in_every_backend():
    steps = [0, 1, 2, 3, 5, 7, 1000, 123456]
    spec = lrspec.InverseTimeDecay(0.1, decay_steps=2.0, decay_rate=0.5, staircase=True)
    proc = run(
        "table",
        "InverseTimeDecay(0.1, decay_steps=2.0, decay_rate=0.5, staircase=True)",
        "--steps",
        ",".join(map(str, steps)),
        "--format",
        "csv",
        "--backend",
        "all",
    )
    assert proc.returncode == 0, proc.stderr
    assert not LOG_LINE.search(proc.stderr), proc.stderr  # the frameworks' chatter dropped
    lines = [line for line in proc.stdout.splitlines() if not line.startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    header, body = rows[0], rows[1:]
    backends = [h.split(" ")[0] for h in header[1:]]
    expected = set(lrspec.available_backends()) | (
        {"jax-x64"} if "jax" in lrspec.available_backends() else set()
    )
    assert set(backends) == expected
    assert [int(r[0]) for r in body] == steps
    for column, name in enumerate(header[1:], start=1):
        dtype = np.float32 if "float32" in name else np.float64
        kind = "float32" if dtype is np.float32 else "float64"
        for row in body:
            exact = reference.exact(spec, int(row[0]))
            # the text is the shortest repr of a value of the column's dtype: read it back as
            # that dtype; it is within 1 ulp (float32) / 2 ulp (float64) of the exact value
            value = dtype(row[column])
            assert str(value) == row[column] or repr(float(value)) == row[column], (name, row)
            error = ulp_error_exact(float(value), exact, dtype)
            assert error <= reference.bound(spec, kind), (name, row, float(exact))


def test_table_by_default_imports_no_framework():
    status, imported, out, err = run_main("table", "InverseTimeDecay(0.1, 1.0, 0.5)")
    assert (status, imported, err) == (0, [], "")
    header = out.splitlines()[1].split()
    assert header == ["step", "python", "(float64)", "numpy", "(float64)"]


def test_named_backends_import_only_their_framework():
    pytest.importorskip("torch")
    argv = ["table", "InverseTimeDecay(0.1, 1.0, 0.5)", "--steps", "1", "--format", "csv"]
    status, imported, out, err = run_main(*argv, "--backend", "numpy,torch")
    assert status == 0, err
    assert imported == ["torch"]
    assert out.splitlines()[1] == "step,numpy (float64),torch (float32)"


def test_a_broken_backend_is_one_line():
    pytest.importorskip("torch")
    # torch is found but its import fails (as a broken install's would): exit status 2
    code = (
        "import sys; sys.modules['torch'] = None; from lrspec.cli import main; "
        "sys.exit(main(['table', 'Constant(0.1)', '--backend', 'torch']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("lrspec: error: backend 'torch' cannot be imported: ")
    assert proc.stderr.count("\n") == 1


def test_table_reads_json_and_files(tmp_path):
    spec = lrspec.InverseTimeDecay(0.2, 10.0, 1.0)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(lrspec.serialize(spec)))
    expr = tmp_path / "s.txt"
    expr.write_text("InverseTimeDecay(0.2, 10.0, 1.0)\n")
    outputs = []
    for source in (json.dumps(lrspec.serialize(spec)), str(path), str(expr)):
        proc = run("table", source, "--steps", "0:30:10", "--backend", "numpy", "--format", "csv")
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout)
        body = [r for r in csv.reader(io.StringIO(proc.stdout)) if not r[0].startswith("#")][1:]
        assert [(int(s), float(v)) for s, v in body] == [
            (k, exact_float(spec, k)) for k in (0, 10, 20, 30)
        ]
    assert outputs[0] == outputs[1] == outputs[2]


def test_table_reads_keras_serialized_form():
    keras = pytest.importorskip("keras")
    schedule = keras.optimizers.schedules.InverseTimeDecay(0.1, 4.0, 2.0, staircase=True)
    text = json.dumps(keras.optimizers.schedules.serialize(schedule))
    assert cli.parse_schedule(text) == lrspec.InverseTimeDecay(0.1, 4.0, 2.0, staircase=True)


# --- check ----------------------------------------------------------------------------------


def test_check_passes_for_a_good_schedule():
    proc = run("check", "InverseTimeDecay(0.1, 1.0, 0.5, staircase=True)", "--stop", "3000",
               "--backend", "all")  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not LOG_LINE.search(proc.stderr), proc.stderr
    lines = proc.stdout.splitlines()
    for backend in tables.installed_variants():
        (row,) = [line for line in lines if line.split()[:1] == [backend]]
        assert row.split()[-1] == "ok", row
        assert float(row.split()[2]) <= reference.BOUNDS["rational"]["float32-jax"]


def test_check_fails_beyond_the_bound():
    # 0.1 / (1 + 0.5 k) is not a float at step 0 (0.1) nor at step 1: any float differs from
    # it, so a bound of 0 ulp must fail
    proc = run("check", "InverseTimeDecay(0.1, 1.0, 0.5)", "--stop", "10", "--ulp", "0",
               "--backend", "numpy")  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (row,) = [line for line in proc.stdout.splitlines() if line.startswith("numpy")]
    assert row.split()[-1] == "FAIL"
    assert 0 < float(row.split()[2]) <= reference.BOUNDS["rational"]["float64"]


def test_check_measures_in_ulps_of_the_value_plus_the_peak_as_the_tests_do():
    """A cosine's end cancels: 2.4 ulps of its tiny rate there, but well within an ulp of
    the rate plus an ulp of the peak (the promise of reference.BOUNDS, and what the property
    tests measure): ``check`` passes it, where it used to report a failure."""
    proc = run("check", "CosineDecay(0.1, 1000, alpha=0.0)", "--stop", "1000", "--ulp", "1",
               "--backend", "numpy")  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (row,) = [line for line in proc.stdout.splitlines() if line.startswith("numpy")]
    assert float(row.split()[2]) > 1 and row.split()[-1] == "ok", row
    assert "ulps of the spec's peak (0.1)" in proc.stdout


def test_check_passes_a_bound_of_zero_where_every_value_is_a_float():
    # 1 / (1 + 1 * floor(k / 4)) at k < 4 is 1.0, and 0.5 at 4 <= k < 8: exact floats
    proc = run("check", "InverseTimeDecay(1.0, 4, 1.0, staircase=True)", "--stop", "7",
               "--ulp", "0", "--backend", "numpy", "--backend", "python")  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


#: an expression of every schedule the parser knows
EXPRESSIONS = [
    "InverseTimeDecay(0.1, 3.0, 0.5)",
    "ExponentialDecay(0.1, 100, 0.5)",
    "ExponentialDecay(0.1, 100, 0.5, staircase=True)",
    "PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001])",
    "PolynomialDecay(0.1, 100, 0.001, power=0.5)",
    "PolynomialDecay(0.1, 100, 0.001, power=2.0, cycle=True)",
    "CosineDecay(0.1, 100, alpha=0.1)",
    "CosineDecay(0.0, 100, warmup_target=0.2, warmup_steps=10)",
    "CosineDecayRestarts(0.1, 10, t_mul=2.0, m_mul=0.5, alpha=0.1)",
    "Constant(0.25)",
    "Linear(0.1, 0.0, 50)",
    "InverseSqrt(0.01, warmup_steps=16)",
    "Warmup(Constant(0.1), warmup_steps=4, initial_learning_rate=0.0)",
    "Join([Constant(0.1), Linear(0.1, 0.0, 10)], boundaries=[100])",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_exact_reference_agrees_with_the_formulas(expression):
    """The exact values ``check`` measures against are Fractions, and lrspec's float64
    formulas (written independently) are within their bound of them; rates that cancel
    (cosine ends, rising ramps) in ulps of the peak too, as in tests/test_properties.py."""
    name = expression.split("(")[0]
    if name not in SCHEDULES:
        pytest.skip(f"{name} is not part of this checkout")
    spec = cli.parse_schedule(expression)
    steps = [0, 1, 2, 3, 4, 5, 9, 10, 11, 15, 16, 17, 20, 21, 29, 30, 31, 50, 99, 100, 101]
    exact = [reference.exact(spec, k) for k in steps]
    assert all(isinstance(value, Fraction) for value in exact)
    peak = max(exact)
    for k, value, got in zip(steps, exact, spec(np.asarray(steps)), strict=True):
        error = abs(Fraction(float(got)) - value)
        unit = reference.ulp(value, "float64") + reference.ulp(peak, "float64")
        assert error <= reference.bound(spec, "float64") * unit, (k, float(got), float(value))


def test_exact_cosine_is_accurate_where_it_is_tiny():
    # (1 + cos(pi t)) / 2 at t = 1 - 1e-6 is sin(pi 5e-7)**2 ~ 2.467e-12: a float64 cosine
    # loses ~5 digits there; the reference must not
    spec = cli.parse_schedule("CosineDecay(1.0, 1000000)")
    expected = math.sin(math.pi / 2_000_000) ** 2  # cos(pi t / 2)**2 = sin(pi (1 - t) / 2)**2
    got = float(reference.exact(spec, 999999))
    assert abs(got - expected) <= 4e-16 * expected


def test_ulp():
    assert reference.ulp(Fraction(1), "float64") == Fraction(2) ** -52
    assert reference.ulp(Fraction(1), "float32") == Fraction(2) ** -23
    assert reference.ulp(Fraction(3, 4), "float32") == Fraction(2) ** -24
    assert reference.ulp(Fraction(0.1), "float32") == Fraction(float(np.spacing(np.float32(0.1))))
    assert reference.ulp(Fraction(0), "float32") == Fraction(2) ** -149


# --- plot ------------------------------------------------------------------------------------


def _read_png(path):
    pytest.importorskip("matplotlib")
    import matplotlib.image

    return matplotlib.image.imread(path)


def test_plot_writes_a_real_png(tmp_path):
    pytest.importorskip("matplotlib")  # the plot extra
    out = tmp_path / "lr.png"
    proc = run(
        "plot",
        "InverseTimeDecay(0.1, 1.0, 0.5)",
        "InverseTimeDecay(0.1, 10.0, 0.5, staircase=True)",
        "--stop", "200", "--yscale", "log", "--width", "640", "--height", "400",
        "--backend", "numpy", "--backend", "python",
        "-o", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    image = _read_png(out)
    assert image.shape == (400, 640, 4)
    pixels = image[..., :3].reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 50  # text, axes and curves, not a flat colour
    assert pixels.std() > 0.05


def _colour_pixels(path, rgb) -> int:
    pixels = _read_png(path)[..., :3].reshape(-1, 3)
    return int((np.abs(pixels * 255 - np.array(rgb)).max(axis=1) < 8).sum())


def test_plot_draws_each_backend_in_its_own_colour(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "lr.png"
    # one schedule, two backends: the curves coincide, and both colours show (the first
    # backend's line is the widest; matplotlib's first two colours, tab:blue and tab:orange)
    proc = run("plot", "InverseTimeDecay(0.1, 1.0, 0.5)", "--stop", "100", "--backend",
               "numpy,python", "-o", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for rgb in ((0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E)):
        assert _colour_pixels(out, rgb) > 100, rgb
    proc = run("plot", "InverseTimeDecay(0.1, 1.0, 0.5)", "--stop", "100", "-o", str(out),
               "--backend", "numpy")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert _colour_pixels(out, (0xFF, 0x7F, 0x0E)) == 0  # one backend, one colour


def test_plot_every_backend_to_svg_with_a_wrapped_title(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "lr.svg"
    spec = "Warmup(CosineDecay(0.1, 9000, alpha=0.01), warmup_steps=1000)"
    proc = run("plot", spec, "--xscale", "log", "--backend", "all", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert not LOG_LINE.search(proc.stderr), proc.stderr
    text = out.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    # matplotlib notes each line of text it draws in a comment
    notes = re.findall(r"<!-- (.*?) -->", text)
    for backend in tables.installed_variants():  # one legend entry per backend
        assert backend in notes
    title = parse.describe(cli.parse_schedule(spec))
    assert len(title) > 120  # longer than a line of a 900-pixel figure
    start = [n.startswith("Warmup(") for n in notes].index(True)
    lines = notes[start : start + len(title) // 40]
    assert len(lines[0]) < len(title)
    assert " ".join(lines).startswith(title)  # wrapped, not cut


def test_plot_without_matplotlib_fails_first(tmp_path):
    # before parsing the schedule or importing a framework: one line, exit status 2
    argv = ["plot", "InverseTimeDecay(0.1, 1.0, 0.5)", "--backend", "all"]
    status, imported, out, err = run_main(*argv, "-o", str(tmp_path / "x.png"),
                                          hidden=("matplotlib",))  # fmt: skip
    assert (status, imported, out) == (2, [], "")
    assert err.strip() == "lrspec: error: plot needs matplotlib: pip install 'lrspec[plot]'"
    assert list(tmp_path.iterdir()) == []


def test_drop_noise_keeps_python_output():
    text = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1796401974.581566   16695 port.cc:153] oneDNN custom operations are on.\n"
        "E0000 00:00:1733935021.123456    1234 cuda_executor.cc:1228] failed call to cuInit: "
        "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n"
        "W1204 16:45:01.123456  4242 tf_logging.cc:12] something\n"
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild ...\n"
        "/x/y.py:3: UserWarning: a real warning\n"
        "  warnings.warn('a real warning')\n"
    )
    assert quiet.drop_noise(text) == (
        "/x/y.py:3: UserWarning: a real warning\n  warnings.warn('a real warning')\n"
    )


# --- bad input: one line on stderr, exit status 2 ---------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["table", "__import__('os').system('echo pwned')"],
        ["table", "lrspec.InverseTimeDecay(0.1, 1.0, 0.5)"],
        ["table", "InverseTimeDecay(0.1, 1.0, 0.5).__class__"],
        ["table", "Nope(0.1, 1.0, 0.5)"],
        ["table", "InverseTimeDecay(0.1, 1.0, x)"],
        ["table", "InverseTimeDecay(0.1, 1.0, 0.5 * 2)"],
        ["table", "InverseTimeDecay(0.1, 1.0, *[0.5])"],
        ["table", "InverseTimeDecay(0.1, 0.0, 0.5)"],
        ["table", "InverseTimeDecay(0.1, 1.0)"],
        ["table", "InverseTimeDecay(" * 200 + ")" * 200],
        ["table", "InverseTimeDecay(0.1, 1.0, 0.5, name='" + "x" * 30_000 + "')"],
        ["table", "{not json"],
        ["table", '{"class_name": "Nope", "config": {}}'],
        ["table", "missing-file.json"],
        ["table", "0.1"],
        ["table", "InverseTimeDecay(0.1, 1.0, 0.5)", "--steps", "a,b"],
        ["table", "InverseTimeDecay(0.1, 1.0, 0.5)", "--steps", "-1"],
        ["table", "InverseTimeDecay(0.1, 1.0, 0.5)", "--steps", "0:10000000000"],
        ["table", "InverseTimeDecay(0.1, 1.0, 0.5)", "--backend", "cupy"],
        ["check", "InverseTimeDecay(0.1, 1.0, 0.5)", "--backend", "numpy,cupy"],
        ["table"],
        ["frobnicate"],
        ["check", "InverseTimeDecay(0.1, 1.0, 0.5)", "--stop", "ten"],
        ["plot", "InverseTimeDecay(0.1, 1.0, 0.5)", "-o", "lr.jpg"],
        ["plot", "InverseTimeDecay(0.1, 1.0, 0.5)", "--start", "10", "--stop", "5"],
        ["demo", "--frameworks", "mxnet"],
        ["demo", "--epochs", "0"],
    ],
    ids=lambda a: " ".join(a)[:60],
)
def test_bad_input_gives_one_line_and_status_2(args, tmp_path):
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("lrspec: error: ")
    assert len(lines[0]) < 600
    assert "pwned" not in proc.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written


# --- the expression parser, in process ----------------------------------------------------------


def test_expression_parses_keywords_positionals_and_literals():
    spec = cli.parse_schedule("  InverseTimeDecay(1, decay_steps=2.5, decay_rate=+5e-1, "
                              "staircase=True, name='s')  ")  # fmt: skip
    assert spec == lrspec.InverseTimeDecay(1, 2.5, 0.5, staircase=True, name="s")
    assert cli.parse_schedule("InverseTimeDecay(0.1, 1.0, 0.5)") == lrspec.InverseTimeDecay(
        0.1, 1.0, 0.5
    )


def test_expression_nests_schedules_and_lists():
    if not {"Warmup", "CosineDecay", "Join", "Constant", "Linear"} <= set(SCHEDULES):
        pytest.skip("the schedule family is not part of this checkout")
    nested = cli.parse_schedule("Warmup(CosineDecay(0.1, 1000), warmup_steps=100)")
    assert nested == SCHEDULES["Warmup"](SCHEDULES["CosineDecay"](0.1, 1000), warmup_steps=100)
    join = cli.parse_schedule("Join((Constant(0.1), Linear(0.1, 0.0, 10)), boundaries=[100])")
    assert join(99) == 0.1 and abs(join(105) - 0.05) < 1e-17
    assert cli.parse_schedule(json.dumps(lrspec.serialize(nested))) == nested


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("__import__('os')", "unknown schedule '__import__'"),
        ("InverseTimeDecay(os, 1.0, 0.5)", "unknown name 'os'"),
        ("__import__('os').system('true')", "attribute access"),
        ("lrspec.InverseTimeDecay(0.1, 1.0, 0.5)", "attribute access"),
        ("InverseTimeDecay.from_config({})", "attribute access"),
        ("Schedule()", "unknown schedule 'Schedule'"),
        ("open('/etc/passwd')", "unknown schedule 'open'"),
        ("InverseTimeDecay(0.1, 1.0, 0.5)()", "only schedule classes"),
        ("(lambda: 1)()", "only schedule classes"),
        ("InverseTimeDecay(0.1, 1.0, {'a': 1})", "Dict is not allowed"),
        ("InverseTimeDecay(0.1, 1.0, 2 ** 10000)", "BinOp is not allowed"),
        ("InverseTimeDecay(0.1, 1.0, 0.5, **{})", "**kwargs"),
        ("InverseTimeDecay(0.1, 1.0, -'a')", "only to a number"),
        ("[InverseTimeDecay(0.1, 1.0, 0.5)]", "must be a schedule call"),
        ("1.5", "must be a schedule call"),
        ("InverseTimeDecay(0.1, 1.0, 0.5", "invalid schedule expression"),
        ("InverseTimeDecay(0.1, 1.0, b'x')", "not allowed"),
        ("InverseTimeDecay(0.1, 1.0, 0.5, bogus=1)", "InverseTimeDecay(...)"),
        ("InverseTimeDecay(0.1, 1.0, 0.5, staircase='yes')", "staircase"),
        ("x" * (parse.MAX_INPUT_CHARS + 1), "limit"),
        ("InverseTimeDecay(" + "[" * 50 + "]" * 50 + ", 1, 1)", "nested deeper"),
        ("InverseTimeDecay(0.1, 1.0, [" + "0," * 5000 + "])", "syntax nodes"),
    ],
)
def test_expression_parser_rejects(text, words):
    with pytest.raises(cli.UsageError) as info:
        cli.parse_schedule(text)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_huge_file_is_refused_unread(tmp_path):
    path = tmp_path / "big.json"
    path.write_text("{" + " " * (parse.MAX_INPUT_CHARS * 10) + "}")
    with pytest.raises(cli.UsageError, match="larger than the limit"):
        cli.parse_schedule(str(path))


def test_steps_syntax():
    assert cli.parse_steps("0:6:3, 10, 1e3").tolist() == [0, 3, 6, 10, 1000]
    assert cli.parse_steps("0:6:3").dtype == np.int64
    assert cli.parse_steps("2.5,3").dtype == np.float64
    for bad in ("", "1:2:0", "1:2:3:4", "0.5:3", "nan", "inf", "-2", "0:" + "9" * 30):
        with pytest.raises(cli.UsageError):
            cli.parse_steps(bad)
