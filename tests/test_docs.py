"""The README's Python examples run, so they cannot rot.

Every fenced ``python`` block of README.md is executed; a block that imports a framework is
skipped only where that framework is not installed. Blocks run in order and share a namespace
per document, as a reader pasting them into one session would.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("torch", "jax", "optax", "keras", "tensorflow")
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks(doc: str) -> list[str]:
    return BLOCK.findall((ROOT / doc).read_text())


def _needs(code: str) -> list[str]:
    return [name for name in FRAMEWORKS if re.search(rf"^\s*(import|from) {name}\b", code, re.M)]


@pytest.mark.parametrize("index", range(len(_blocks("README.md"))))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    code = _blocks("README.md")[index]
    for module in _needs(code):
        pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)  # examples may write files
    exec(compile(code, f"README.md[python block {index}]", "exec"), {"__name__": "__readme__"})


def test_readme_has_examples():
    assert len(_blocks("README.md")) >= 4
