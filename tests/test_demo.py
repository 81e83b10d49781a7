"""The README's demo, run as a subprocess with fewer samples and epochs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hiding import hiding
from oracle import exact_float

import lrspec
from lrspec.cli import quiet

# The command line quiets the frameworks itself: no TF_CPP_MIN_LOG_LEVEL here
ENV = {k: v for k, v in os.environ.items() if k not in quiet.ENV} | {"PYTHONWARNINGS": "ignore"}
#: a framework's C++ log line on stderr (absl / glog)
LOG_LINE = re.compile(r"^[IWEF]\d{4} |^WARNING: All log messages before absl", re.MULTILINE)
DEMO_SPEC = lrspec.InverseTimeDecay(0.1, 1.0, 0.5)  # the demo's schedule
ROW = re.compile(r"^\s+(\d+)/(\d+)\s+([\d.]+)\s+([\d.]+)\s+(\S+)\s*$")


def tables(stdout: str) -> dict[str, list[tuple[int, float, float, float]]]:
    """framework title's first word -> its per-epoch rows (epoch, loss, accuracy, lr)."""
    out: dict[str, list[tuple[int, float, float, float]]] = {}
    current = None
    for line in stdout.splitlines():
        if line.startswith("== "):
            current = line.split()[1]
            out[current] = []
        elif current is not None and (match := ROW.match(line)):
            epoch, _, loss, accuracy, lr = match.groups()
            out[current].append((int(epoch), float(loss), float(accuracy), float(lr)))
    return out


def test_demo_trains_the_same_model_in_three_frameworks(tmp_path):
    for name in ("torch", "jax", "optax", "tensorflow", "keras"):
        pytest.importorskip(name)
    pytest.importorskip("matplotlib")
    import matplotlib.image

    out = tmp_path / "demo.png"
    proc = subprocess.run(
        [sys.executable, "-m", "lrspec", "demo", "--epochs", "2", "--samples", "96",
         "--batch-size", "32", "--out", str(out)],
        capture_output=True, text=True, timeout=600, env=ENV, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert not LOG_LINE.search(proc.stderr), proc.stderr  # TensorFlow's chatter dropped
    found = tables(proc.stdout)
    assert list(found) == ["Keras", "PyTorch", "JAX"], proc.stdout
    for rows in found.values():
        assert [r[0] for r in rows] == [1, 2]
        # 96 samples in batches of 32: updates 0-2 in epoch 1, 3-5 in epoch 2; the table
        # shows the rate of each epoch's last update, to 7 significant digits
        for (_, _, _, lr), k in zip(rows, (2, 5), strict=True):
            assert lr == pytest.approx(exact_float(DEMO_SPEC, k), rel=1e-6)
    # same weights, data and batches: the frameworks' losses agree (printed to 4 decimals)
    losses = np.array([[r[1] for r in rows] for rows in found.values()])
    assert np.ptp(losses, axis=0).max() <= 2e-4, losses
    assert (losses[:, 1] < losses[:, 0]).all()  # and training lowers the loss
    (line,) = [s for s in proc.stdout.splitlines() if "between frameworks" in s]
    difference = float(line.split(":")[1].split()[0])
    assert difference <= 1e-8  # float32 rounding of rates near 0.1 is ~7e-9 at most
    image = matplotlib.image.imread(out)
    assert image.shape == (420, 1100, 4)
    assert len(np.unique(image[..., :3].reshape(-1, 3), axis=0)) > 50


# the demo's CLI in a fresh process as if Keras were not installed (tests/hiding.py)
MAIN = """
from lrspec.cli import main
sys.exit(main({argv!r}))
"""


def test_demo_without_keras_notes_it_and_trains_the_others(tmp_path):
    for name in ("torch", "jax", "optax"):
        pytest.importorskip(name)
    argv = ["demo", "--epochs", "1", "--samples", "64", "--out", str(tmp_path / "d.png")]
    code = hiding({"keras", "tensorflow"}, MAIN.format(argv=argv))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=ENV
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "note: keras is not installed" in proc.stdout
    assert list(tables(proc.stdout)) == ["PyTorch", "JAX"]
    assert (tmp_path / "d.png").stat().st_size > 10_000


def test_demo_figure_goes_to_an_ignored_folder_by_default(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    argv = ["demo", "--epochs", "1", "--samples", "32", "--frameworks", "torch"]
    for extra, where in (([], "out/lrspec-demo.png"), (["--output", "f/d.svg"], "f/d.svg")):
        proc = subprocess.run([sys.executable, "-m", "lrspec", *argv, *extra], capture_output=True,
                              text=True, timeout=600, env=ENV, cwd=tmp_path)  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert f"figure: {Path(where)}" in proc.stdout
        assert (tmp_path / where).stat().st_size > 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "out"]
    # the repository ignores the default folder
    root = Path(__file__).resolve().parent.parent
    if (root / ".git").exists() and shutil.which("git"):
        check = subprocess.run(["git", "check-ignore", "-q", "out/lrspec-demo.png"], cwd=root)
        assert check.returncode == 0, "out/ is not ignored by .gitignore"
