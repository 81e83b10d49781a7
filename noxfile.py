"""Developer sessions: tests per backend (only that framework installed), all backends
together, lint, typecheck, demo and benchmarks.

    nox                 # every test session, lint and typecheck (what CI runs)
    nox -s demo         # the README's demo
    nox -s bench        # regenerate benchmarks/RESULTS.md
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = [
    "tests-numpy",
    "tests-torch",
    "tests-jax",
    "tests-tensorflow",
    "tests-all",
    "lint",
    "typecheck",
]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

HERE = Path(__file__).parent
CONSTRAINTS = HERE / "ci" / "constraints.txt"

# framework name -> extra that installs it (CPU builds for tests)
EXTRAS = {
    "numpy": "test",
    "torch": "torch,test",
    "jax": "jax,test",
    "tensorflow": "tensorflow-cpu,test",
    "all": "torch,jax,tensorflow-cpu,plot,test",
}


def install(session: nox.Session, extras: str, *more: str) -> None:
    args = ["-e", f".[{extras}]", *more]
    if os.environ.get("LRSPEC_CONSTRAINTS", "") != "none":
        args += ["-c", str(CONSTRAINTS)]
    session.install(*args)


def pytest_args(session: nox.Session) -> list[str]:
    workers = os.environ.get("LRSPEC_TEST_WORKERS", "2")
    return ["-n", workers, "--durations=15", *session.posargs]


def _tests_session(backend: str) -> None:
    @nox.session(name=f"tests-{backend}", tags=["tests"])
    def tests(session: nox.Session) -> None:
        install(session, EXTRAS[backend])
        session.env["LRSPEC_TEST_BACKENDS"] = "" if backend == "all" else backend
        session.run("python", "-m", "pytest", *pytest_args(session))

    tests.__doc__ = (
        "The whole suite with every framework (cross-backend tests)."
        if backend == "all"
        else f"The suite with only {backend} installed (its backend's tests)."
    )


for _backend in EXTRAS:
    _tests_session(_backend)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    install(session, "typecheck")
    session.run("mypy")


@nox.session
def demo(session: nox.Session) -> None:
    """The seed's example trained in Keras, PyTorch and optax, side by side."""
    install(session, EXTRAS["all"])
    session.run("python", "-m", "lrspec", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Regenerate benchmarks/RESULTS.md."""
    install(session, EXTRAS["all"])
    session.run("python", "benchmarks/run_all.py", *session.posargs)
