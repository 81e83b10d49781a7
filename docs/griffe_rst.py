"""A griffe extension for the API reference: lrspec's docstrings, written to read well in
``help()`` (reST-flavoured: ``::`` literal blocks, ``>>>`` examples, :func:`roles`), become
Markdown that mkdocstrings renders as intended.

- a paragraph ending in ``::`` followed by an indented block: the block becomes a fenced
  Python block (the paragraph keeps one colon);
- a run of ``>>>`` lines and their output: a fenced ``pycon`` block;
- ``:func:`name```, ``:meth:``, ``:class:``, ``:mod:``, ``:data:``, ``:attr:``: ``name`` in code.

Loaded by mkdocs.yml (``extensions`` of the mkdocstrings Python handler); not shipped.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

ROLE = re.compile(r":(?:func|meth|class|mod|data|attr|obj|exc):`~?([^`]+)`")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def to_markdown(text: str) -> str:
    """The docstring ``text`` with literal blocks and examples fenced, roles as code."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith(">>>"):
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            out += ["```pycon", *textwrap.dedent("\n".join(block)).splitlines(), "```"]
            continue
        if stripped.endswith("::") and not stripped.startswith(".."):
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and _indent(lines[j]) > _indent(line):
                base = _indent(line)
                block, k = [], j
                while k < len(lines) and (not lines[k].strip() or _indent(lines[k]) > base):
                    block.append(lines[k])
                    k += 1
                while block and not block[-1].strip():
                    block.pop()
                head = line[: line.rstrip().rfind("::")] + ("" if stripped == "::" else ":")
                out += [ROLE.sub(r"`\1`", head), ""]
                fence = " " * base
                body = textwrap.dedent("\n".join(block)).splitlines()
                out += [fence + "```python", *(fence + b for b in body), fence + "```", ""]
                i = k
                continue
        out.append(ROLE.sub(r"`\1`", line))
        i += 1
    return "\n".join(out)


class RestToMarkdown(griffe.Extension):
    """Rewrites every loaded object's docstring with :func:`to_markdown`."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
