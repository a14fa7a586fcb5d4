"""Developer sessions: ``nox -s tests lint typecheck docs package demo bench``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.default_venv_backend = "venv"


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (PostgreSQL tests skip unless FMC_TEST_POSTGRES_DSN is set)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on fmc/ and on a typed usage file."""
    session.install("-e", ".[lint,test]")
    session.run("mypy", "--strict", "fmc", "tests/typing_usage.py")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML docs and run their doctests, warnings as errors."""
    session.install("-e", ".[docs,test]")
    for builder in ("html", "doctest"):
        session.run(
            "sphinx-build", "-W", "--keep-going", "-b", builder, "docs", f"docs/_build/{builder}"
        )


@nox.session
def package(session: nox.Session) -> None:
    """Build the wheel and sdist of ``fmc-messenger``, check them, import the wheel."""
    session.install(".[release]")
    dist = session.create_tmp()
    session.run("python", "-m", "build", "--outdir", dist, ".")
    session.run("twine", "check", "--strict", *_dist_files(dist))
    session.run("python", "-m", "pip", "install", "--force-reinstall", "--no-deps", *_wheels(dist))
    session.run("python", "-c", "import fmc; print('fmc', fmc.__version__)")


def _dist_files(directory: str) -> list[str]:
    from pathlib import Path

    return sorted(str(p) for p in Path(directory).iterdir() if p.suffix in (".whl", ".gz"))


def _wheels(directory: str) -> list[str]:
    return [name for name in _dist_files(directory) if name.endswith(".whl")]


@nox.session
def demo(session: nox.Session) -> None:
    """Run ``fmc demo``: the whole flow on loopback against the fake Graph API."""
    session.install("-e", ".")
    session.run("fmc", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks; ``nox -s bench -- --quick`` finishes in under a minute."""
    session.install("-e", ".[test,bench]")
    session.run("python", "benchmarks/run.py", *session.posargs)
