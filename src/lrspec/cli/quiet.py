"""Keeping the frameworks' start-up chatter out of the command line's output.

TensorFlow (and JAX, on a machine without a GPU) log from C++ straight to file descriptor 2,
some of it before their log level is read (``oneDNN custom operations are on``, ``cuInit``
errors, ``All log messages before absl::InitializeLog() ...``). :func:`quiet_env` sets the
log levels before any framework is imported; :func:`quiet` captures file descriptor 2 while
a framework is imported and used, and writes back what is not such a log line, so that
Python's own warnings and errors still reach stderr.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator

__all__ = ["ENV", "drop_noise", "quiet", "quiet_env"]

#: set (where the user has not) before any framework is imported
ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # TensorFlow's C++ log: fatal only
    "GRPC_VERBOSITY": "ERROR",
    "GLOG_minloglevel": "3",
}
#: Python loggers of the frameworks (absl: TensorFlow's; jax's "no GPU found" warning)
_LOGGERS = ("absl", "tensorflow", "jax._src.xla_bridge", "h5py")

# A C++ (absl/glog) log line: "I0000 00:00:1796401974.581566   16695 port.cc:153] ..."
# (before absl is initialised the time is "00:00:<seconds since the epoch>")
_LOG_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [^ \]]+:\d+\] ")
_NOISE = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "To enable the following instructions:",  # the second line of TF's CPU-feature notice
)


def quiet_env() -> None:
    """Set the frameworks' log levels (environment and Python loggers), unless already set."""
    import logging  # here: only commands that import a framework need it

    for key, value in ENV.items():
        os.environ.setdefault(key, value)
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def drop_noise(text: str) -> str:
    """``text`` without the frameworks' C++ log lines."""
    kept = [
        line
        for line in text.splitlines(keepends=True)
        if not _LOG_LINE.match(line) and not line.startswith(_NOISE)
    ]
    return "".join(kept)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Capture file descriptor 2 inside the block; write back all but the C++ log lines.
    The frameworks' log levels are set first (:func:`quiet_env`)."""
    import tempfile

    quiet_env()
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded, closed): nothing to filter
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = drop_noise(capture.read().decode("utf-8", "replace"))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()
