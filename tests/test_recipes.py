"""docs/recipes.md runs: each trainer recipe (Hugging Face Trainer, PyTorch Lightning, Flax
TrainState and nnx.Optimizer, Keras BackupAndRestore) trains a tiny model, reads back the
rate applied at every update, interrupts and resumes, and asserts ``spec(k)`` at update k.

The page's own blocks are executed (they hold the assertions), so the docs cannot drift
from what is tested. A recipe is skipped only where its trainer is not installed.
"""

from __future__ import annotations

import re

import pytest
from test_docs import RECIPES, ROOT, blocks, run_block


def _title(index: int) -> str:
    """The section heading above the block, as the test id."""
    text = (ROOT / RECIPES).read_text()
    code = blocks(RECIPES)[index]
    heading = re.findall(r"^## (.*)$", text[: text.index(code)], re.M)[-1]
    return re.sub(r"\W+", "-", heading).strip("-").lower() + f"-{index}"


INDICES = range(len(blocks(RECIPES)))


@pytest.mark.parametrize("index", INDICES, ids=[_title(i) for i in INDICES])
def test_recipe_runs(index, tmp_path, monkeypatch):
    run_block(RECIPES, index, tmp_path, monkeypatch)


def test_every_trainer_has_a_recipe():
    code = "\n".join(blocks(RECIPES))
    for used in (
        "Trainer(",
        "resume_from_checkpoint",
        '"interval": "step"',
        "ckpt_path=",
        "TrainState",
        "nnx.Optimizer",
        "optax.adam(spec)",
        "BackupAndRestore",
    ):
        assert used in code, used
