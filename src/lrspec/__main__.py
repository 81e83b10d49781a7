"""``python -m lrspec ...``: the command line (see :mod:`lrspec.cli`)."""

from __future__ import annotations

import sys

from lrspec.cli import main

if __name__ == "__main__":
    sys.exit(main())
