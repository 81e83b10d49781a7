"""Developer sessions: tests per backend (only that framework installed), all backends
together, lint, typecheck, docs, demo, benchmarks and a long property-test run.

    nox                 # every test session, lint, typecheck and the docs (what CI runs)
    nox -s demo         # the README's demo
    nox -s docs         # build the documentation site (mkdocs --strict) into site/
    nox -s bench        # regenerate benchmarks/RESULTS.md
    nox -s fuzz         # tests/test_properties.py with many more examples

Environments. Each per-backend test session has its own virtualenv under .nox/ with only
that framework. Every session that needs everything (tests-all, typecheck, docs, demo,
bench, fuzz) runs in ONE shared environment, .nox/_all, built once and rebuilt only when
pyproject.toml, ci/constraints.txt or the requirements below change (delete .nox/_all to
force it). Files that two environments hold identically (the frameworks' wheels are the
same) are hard-linked, so each is stored once on disk.
"""

from __future__ import annotations

import filecmp
import hashlib
import os
import sys
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
    "docs",
]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

HERE = Path(__file__).parent
CONSTRAINTS = HERE / "ci" / "constraints.txt"
ALL_ENV = HERE / ".nox" / "_all"

# framework name -> extra that installs it (CPU builds for tests)
EXTRAS = {
    "numpy": "test",
    "torch": "torch,test",
    "jax": "jax,test",
    "tensorflow": "tensorflow-cpu,test",
}
# the shared environment: every framework, the trainers of docs/recipes.md, mypy, mkdocs
ALL_EXTRAS = "torch,jax,tensorflow-cpu,plot,test,typecheck,docs,recipes"
# importers' tests (lrspec.from_transformers, lrspec.from_timm) run with torch
TORCH_EXTRAS = ["transformers>=4.40"]
# installed with --no-deps: timm requires torchvision, whose wheels do not load beside the
# CPU torch (tests/test_importers.py reads timm's schedulers without it); tf-keras (see
# tf_keras_requirement) requires the `tensorflow` package, not `tensorflow-cpu`
TORCH_NO_DEPS = ["timm>=1.0"]

TEST_ENV = {
    # nothing is downloaded: the recipes use tiny models built in place
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}


def constraints() -> list[str]:
    if os.environ.get("LRSPEC_CONSTRAINTS", "") == "none":
        return []
    return ["-c", str(CONSTRAINTS)]


def python_of(env: Path) -> Path:
    return env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def tf_keras_requirement(session: nox.Session, python: str) -> str:
    """tf-keras of the installed TensorFlow's minor version (they are released together)."""
    version = session.run(
        python,
        "-c",
        "from importlib.metadata import version; print(version('tensorflow-cpu'))",
        silent=True,
        external=True,
    )
    major, minor = str(version).strip().split(".")[:2]
    return f"tf-keras=={major}.{minor}.*"


def site_packages(env: Path) -> list[Path]:
    return [
        p for p in [*env.glob("lib/python*/site-packages"), env / "Lib/site-packages"] if p.is_dir()
    ]


def share_files(env: Path, others: list[Path], min_size: int = 1 << 13) -> None:
    """Hard-link each file of env's site-packages that another environment holds byte for
    byte at the same path. pip replaces files rather than writing into them, so the
    environments stay independent; a file that cannot be linked is left as it is."""
    for root in site_packages(env):
        twins = [o / root.relative_to(env) for o in others if o != env]
        twins = [t for t in twins if t.is_dir()]
        for path in root.rglob("*") if twins else ():
            if path.is_symlink() or not path.is_file():
                continue
            stat = path.stat()
            if stat.st_size < min_size:
                continue
            for twin in (t / path.relative_to(root) for t in twins):
                try:
                    other = twin.stat()
                    if other.st_ino == stat.st_ino:
                        break
                    if other.st_size != stat.st_size or not filecmp.cmp(path, twin, False):
                        continue
                    tmp = path.with_name(path.name + ".lrspec-link")
                    os.link(twin, tmp)
                    os.replace(tmp, path)
                    break
                except OSError:
                    continue


def nox_envs() -> list[Path]:
    root = HERE / ".nox"
    return sorted(p for p in root.iterdir() if site_packages(p)) if root.is_dir() else []


def install(session: nox.Session, extras: str, *more: str, no_deps: list[str] = ()) -> None:
    session.install("-e", f".[{extras}]", *more, *constraints())
    if no_deps:
        session.install("--no-deps", *no_deps, *constraints())
    if session.virtualenv.location:
        share_files(Path(session.virtualenv.location), nox_envs())


def all_env(session: nox.Session) -> str:
    """The shared environment's interpreter, created or updated when its inputs changed."""
    python = str(python_of(ALL_ENV))
    digest = hashlib.sha256()
    for part in (
        (HERE / "pyproject.toml").read_bytes(),
        CONSTRAINTS.read_bytes() if constraints() else b"no constraints",
        repr((ALL_EXTRAS, TORCH_EXTRAS, TORCH_NO_DEPS, sys.version_info[:2])).encode(),
    ):
        digest.update(part)
    stamp = ALL_ENV / ".lrspec-inputs"
    if not (Path(python).exists() and stamp.exists() and stamp.read_text() == digest.hexdigest()):
        if not Path(python).exists():
            session.run(sys.executable, "-m", "virtualenv", str(ALL_ENV), external=True)
        pip = [python, "-m", "pip", "install", "--quiet"]
        session.run(*pip, "-e", f".[{ALL_EXTRAS}]", *TORCH_EXTRAS, *constraints(), external=True)
        no_deps = [*TORCH_NO_DEPS, tf_keras_requirement(session, python)]
        session.run(*pip, "--no-deps", *no_deps, *constraints(), external=True)
        share_files(ALL_ENV, nox_envs())
        stamp.write_text(digest.hexdigest())
    bin_dir = str(Path(python).parent)
    session.env["VIRTUAL_ENV"] = str(ALL_ENV)
    session.env["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    return python


def pytest_args(session: nox.Session) -> list[str]:
    workers = os.environ.get("LRSPEC_TEST_WORKERS", "2")
    return ["-n", workers, "--durations=15", *session.posargs]


def _tests_session(backend: str) -> None:
    @nox.session(name=f"tests-{backend}", tags=["tests"])
    def tests(session: nox.Session) -> None:
        if backend == "torch":
            install(session, EXTRAS[backend], *TORCH_EXTRAS, no_deps=TORCH_NO_DEPS)
        elif backend == "tensorflow":
            install(session, EXTRAS[backend])
            tf_keras = tf_keras_requirement(session, "python")
            session.install("--no-deps", tf_keras, *constraints())
        else:
            install(session, EXTRAS[backend])
        session.env.update(TEST_ENV, LRSPEC_TEST_BACKENDS=backend)
        session.run("python", "-m", "pytest", *pytest_args(session))

    tests.__doc__ = f"The suite with only {backend} installed (its backend's tests)."


for _backend in EXTRAS:
    _tests_session(_backend)


@nox.session(name="tests-all", tags=["tests"], venv_backend="none")
def tests_all(session: nox.Session) -> None:
    """The whole suite with every framework (cross-backend tests, recipes, docs examples)."""
    python = all_env(session)
    session.env.update(TEST_ENV, LRSPEC_TEST_BACKENDS="")
    session.run(python, "-m", "pytest", *pytest_args(session), external=True)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(venv_backend="none")
def typecheck(session: nox.Session) -> None:
    python = all_env(session)
    session.run(python, "-m", "mypy", external=True)


@nox.session(venv_backend="none")
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/; --strict: a broken link or reference fails."""
    python = all_env(session)
    session.env.update(TEST_ENV, NO_MKDOCS_2_WARNING="1")  # Material's end-of-life banner
    session.run(python, "-m", "mkdocs", "build", "--strict", *session.posargs, external=True)


@nox.session(venv_backend="none")
def demo(session: nox.Session) -> None:
    """One schedule trained in Keras, PyTorch and optax, side by side."""
    python = all_env(session)
    session.run(python, "-m", "lrspec", "demo", *session.posargs, external=True)


@nox.session(venv_backend="none")
def bench(session: nox.Session) -> None:
    """Regenerate benchmarks/RESULTS.md."""
    python = all_env(session)
    session.run(python, "benchmarks/run_all.py", *session.posargs, external=True)


@nox.session(venv_backend="none")
def fuzz(session: nox.Session) -> None:
    """tests/test_properties.py with many more hypothesis examples (not part of CI): 2000 per
    test, or LRSPEC_FUZZ_EXAMPLES; the last line gives the examples run per backend."""
    python = all_env(session)
    session.env.update(TEST_ENV, LRSPEC_TEST_BACKENDS="", LRSPEC_HYPOTHESIS_PROFILE="fuzz")
    args = ["tests/test_properties.py", *pytest_args(session)]
    session.run(python, "-m", "pytest", *args, external=True)
