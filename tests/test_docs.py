"""The Python examples of README.md and of every page of docs/ run, so they cannot rot.

Every fenced ``python`` block is executed, in a fresh namespace and a temporary working
directory (examples may write files); a block that imports a framework is skipped only
where that framework is not installed. The recipes page (trainers: Hugging Face, Lightning,
Flax, Keras) is run by tests/test_recipes.py with the same machinery.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
# modules a block may import that are not always installed (module -> also needed)
OPTIONAL = {
    "torch": (),
    "jax": (),
    "optax": (),
    "keras": (),
    "tensorflow": (),
    "tf_keras": (),
    "matplotlib": (),
    "transformers": ("accelerate",),  # Trainer needs accelerate
    "pytorch_lightning": (),
    "lightning": (),
    "flax": (),
    "timm": (),
}
# lrspec calls that load a framework although the block does not import it
USES = {
    ".to_torch(": "torch",
    "from_torch(": "torch",
    "from_timm(": "torch",
    ".to_optax(": "optax",
    "from_optax(": "optax",
    ".to_keras(": "keras",
    ".to_tf_keras(": "tf_keras",
}
RECIPES = "docs/recipes.md"
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]


def blocks(doc: str) -> list[str]:
    return BLOCK.findall((ROOT / doc).read_text())


def needs(code: str) -> list[str]:
    found = [m for m in OPTIONAL if re.search(rf"^\s*(import|from) {m}\b", code, re.M)]
    calls = re.sub(r"#.*", "", code)  # not in comments
    found += [m for call, m in USES.items() if call in calls and m not in found]
    return [*found, *(extra for m in found for extra in OPTIONAL[m])]


def run_block(doc: str, index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = blocks(doc)[index]
    for module in needs(code):
        pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # nothing is downloaded
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    exec(compile(code, f"{doc}[python block {index}]", "exec"), {"__name__": "__docs__"})


CASES = [(doc, i) for doc in PAGES if doc != RECIPES for i in range(len(blocks(doc)))]


@pytest.mark.parametrize(("doc", "index"), CASES, ids=[f"{d}[{i}]" for d, i in CASES])
def test_example_runs(doc, index, tmp_path, monkeypatch):
    run_block(doc, index, tmp_path, monkeypatch)


def test_readme_has_examples():
    assert len(blocks("README.md")) >= 4


def test_every_page_with_examples_is_run():
    pages_with_code = {doc for doc in PAGES if blocks(doc)}
    assert pages_with_code <= {doc for doc, _ in CASES} | {RECIPES}
    assert {"docs/torch.md", "docs/composing.md", "docs/recipes.md"} <= pages_with_code


def test_blocks_are_only_python_or_shell_or_text():
    """A block in another language (or unlabelled) would silently escape the tests."""
    for doc in PAGES:
        for lang in re.findall(r"^```(\S*)", (ROOT / doc).read_text(), re.M):
            assert lang in ("python", "bash", "console", "text", "toml", "yaml", "json", ""), (
                doc,
                lang,
            )


def test_every_promise_in_guarantees_names_tests_that_exist():
    """Each row of docs/guarantees.md names its proof as ``tests/file.py::test``: every one
    of them is a test function of that file, and every row of a table names at least one."""
    text = (ROOT / "docs" / "guarantees.md").read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text)
    assert len(named) > 50, named
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M)
    ]
    assert not missing, missing
    rows = [r for r in text.splitlines() if r.startswith("| ") and not r.startswith("| Promise")]
    rows = [r for r in rows if not r.startswith("| Limit")]
    assert all("tests/" in r for r in rows), [r for r in rows if "tests/" not in r]
