"""Every test, lint and benchmark session. Plain `nox` runs what needs no outside service.

Sessions install with uv, constrained to the versions pinned in uv.lock.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["tests", "connector", "lint", "typing", "docs"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
CONNECTORS = ["memory", "salesforce", "hubspot"]
SOURCES = ["core/src", *(f"connectors/{c}/src" for c in CONNECTORS)]
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Test folders with sessions (and dependencies) of their own.
_OWN_SESSIONS = ["--ignore=tests/fuzz", "--ignore=tests/browser"]


def _constraints(session: nox.Session) -> list[str]:
    """`-c` arguments pinning every dependency to uv.lock."""
    path = Path(session.create_tmp()) / "constraints.txt"
    session.run_install(
        "uv",
        "export",
        "--frozen",
        "--all-packages",
        "--all-groups",
        "--no-hashes",
        "--no-emit-workspace",
        "--no-header",
        "--output-file",
        str(path),
        silent=True,
    )
    return ["-c", str(path)]


def _install(session: nox.Session, *packages: str) -> None:
    session.install(*_constraints(session), *packages)


def _workspace(*connectors: str) -> list[str]:
    return ["-e", "./core[testing,postgres]", *(f"-e./connectors/{c}" for c in connectors)]


@nox.session
def tests(session: nox.Session) -> None:
    """Core and cross-package tests (engine, server on SQLite, CLI, end to end)."""
    _install(session, *_workspace(*CONNECTORS), "pytest-timeout")
    session.run("pytest", "tests", *_OWN_SESSIONS, "-m", "not postgres", *session.posargs)


@nox.session
@nox.parametrize("name", CONNECTORS, ids=CONNECTORS)
def connector(session: nox.Session, name: str) -> None:
    """One connector's own tests and the conformance suite, with only core + that connector."""
    _install(session, *_workspace(name), "pytest-timeout")
    session.run("pytest", f"connectors/{name}/tests", *session.posargs)


@nox.session
def postgres(session: nox.Session) -> None:
    """The storage and server tests again, on a real PostgreSQL (CRMLINK_TEST_POSTGRES_URL)."""
    _install(session, *_workspace(*CONNECTORS), "pytest-timeout")
    env = {"CRMLINK_TEST_POSTGRES_URL": os.environ.get("CRMLINK_TEST_POSTGRES_URL", POSTGRES_URL)}
    session.run("pytest", "tests", *_OWN_SESSIONS, "-m", "postgres", *session.posargs, env=env)


@nox.session
def fuzz(session: nox.Session) -> None:
    """A bounded schemathesis run against the live server's /openapi.json."""
    _install(session, *_workspace("memory"), "pytest-timeout", "schemathesis", "hypothesis")
    session.run("pytest", "tests/fuzz", "-m", "fuzz", *session.posargs)


@nox.session
def browser(session: nox.Session) -> None:
    """CRM Link in a real headless Chromium (Debian's `chromium`, not a downloaded one)."""
    _install(session, *_workspace("memory", "salesforce"), "pytest-timeout", "playwright")
    session.run("pytest", "tests/browser", "-m", "browser", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    _install(session, "ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict on every package's src/."""
    _install(session, *_workspace(*CONNECTORS), "mypy", "types-requests")
    session.run("mypy", *SOURCES)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site, failing on broken links."""
    _install(session, "mkdocs")
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", str(Path(session.create_tmp()) / "site")
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (not in the default run): `nox -s bench -- engine_overhead`."""
    _install(session, *_workspace(*CONNECTORS))
    names = session.posargs or sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py"))
    for name in names:
        session.run("python", f"benchmarks/{name}.py")
