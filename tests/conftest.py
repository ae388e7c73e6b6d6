from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The user data directory (default database, PostgreSQL trials' key and anchor files) of the
# test session is a temporary folder, never the real ~/.local/share/ioreview.
import tempfile  # noqa: E402

os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="ioreview-tests-data-")

import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

# --- PostgreSQL (shared/design.md, "Servers") ----------------------------------------------
# postgres_server: session-wide admin URL, from IOREVIEW_TEST_PG_URL or a throw-away server
#   started by tests/pg_server.py; skipped when neither works, failed with IOREVIEW_REQUIRE_PG=1.
# postgres_url:    a fresh empty database per test (dropped afterwards); its URL.
# db_url:          parametrized "sqlite" (a path string) / "postgresql" (postgres_url).

PG_URL_ENV = "IOREVIEW_TEST_PG_URL"
REQUIRE_PG_ENV = "IOREVIEW_REQUIRE_PG"


def _pg_unavailable(reason: str):
    if os.environ.get(REQUIRE_PG_ENV, "").strip() not in ("", "0"):
        pytest.fail(f"PostgreSQL required ({REQUIRE_PG_ENV}={os.environ[REQUIRE_PG_ENV]}) but unavailable: {reason}",
                    pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


def _with_dbname(url: str, dbname: str) -> str:
    """``url`` pointing at database ``dbname`` (URL or key=value conninfo)."""
    if url.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path="/" + dbname))
    from psycopg.conninfo import make_conninfo

    return make_conninfo(url, dbname=dbname)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Admin URL (superuser, database ``postgres``) of the test PostgreSQL server."""
    try:
        import psycopg
    except ImportError as exc:
        _pg_unavailable(f"psycopg is not installed ({exc}); pip install 'psycopg[binary]>=3.1'")
    url = os.environ.get(PG_URL_ENV, "").strip()
    server = None
    if not url:
        from pg_server import PostgresServer, PostgresUnavailable

        server = PostgresServer()
        try:
            url = server.start()
        except PostgresUnavailable as exc:
            _pg_unavailable(str(exc))
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        if server is not None:
            server.stop()
        source = f"{PG_URL_ENV}={url}" if server is None else url
        _pg_unavailable(f"cannot connect to {source}: {exc}")
    try:
        yield url
    finally:
        if server is not None:
            server.stop()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """URL of a fresh, empty database on the test server, dropped after the test."""
    import psycopg
    from psycopg import sql

    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_dbname(postgres_server, name)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A trial database location: a SQLite file path, or a fresh PostgreSQL database URL."""
    if request.param == "sqlite":
        return str(tmp_path / "trial.sqlite")
    return request.getfixturevalue("postgres_url")


def pytest_collection_modifyitems(config, items):
    # Tests that use the server directly also get the marker, so `-m "not postgres"` skips them.
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def trial_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a service test on each backend: `make_world` (tests/test_trial_helpers.py) opens a
    SQLite file, or a fresh PostgreSQL database."""
    import test_trial_helpers as helpers

    helpers.BACKEND_DB = (request.getfixturevalue("postgres_url")
                          if request.param == "postgresql" else None)
    try:
        yield request.param
    finally:
        helpers.BACKEND_DB = None


@pytest.fixture
def messages(monkeypatch) -> list[str]:
    """Message boxes would block a UI test: record their text instead (in the order shown)."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []

    def record(_parent, _title, text, *args, **kwargs):
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    for name in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, record)
    return shown
