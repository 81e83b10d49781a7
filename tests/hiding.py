"""Code for a fresh Python process that runs as if some packages were not installed: every
import finder answers None for them (raising from ``find_spec`` instead would break torch,
which probes for tensorflow with ``find_spec``)."""

from __future__ import annotations

_PRELUDE = """
import sys

class Hide:
    def __init__(self, inner):
        self.inner = inner

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HIDDEN:
            return None
        return self.inner.find_spec(name, path, target)

    def __getattr__(self, attr):
        return getattr(self.inner, attr)

sys.meta_path[:] = [Hide(finder) for finder in sys.meta_path]
"""


def hiding(hidden: set[str] | tuple[str, ...], body: str) -> str:
    """``body`` (Python source) preceded by the finders that hide the packages ``hidden``."""
    return f"HIDDEN = {set(hidden)!r}\n{_PRELUDE}\n{body}"
