"""The throw-away PostgreSQL server and the per-test databases of the conftest."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

import pg_server

# Tests using postgres_server/postgres_url get the `postgres` marker from the conftest.

TABLE = "isolation_probe"
_earlier_databases: list[str] = []  # databases of earlier tests in this file, to check they are gone


def _dbname(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(url)["dbname"]


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return [r[0] for r in rows]


def test_server_starts_and_answers(postgres_server):
    assert postgres_server.startswith("postgresql://") or "=" in postgres_server
    with psycopg.connect(postgres_server) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
        assert conn.execute("SHOW server_encoding").fetchone() == ("UTF8",)


def test_select_one_in_fresh_database(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.execute("SELECT current_database()").fetchone()[0].startswith("t_")


# The next two tests run in file order: the first creates a table, the second must not see it.
def test_fresh_database_is_empty_then_create_table(postgres_url):
    assert _tables(postgres_url) == []
    _earlier_databases.append(_dbname(postgres_url))
    with psycopg.connect(postgres_url) as conn:
        conn.execute(f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, note text)")
        conn.execute(f"INSERT INTO {TABLE} VALUES (1, 'left behind')")
    assert _tables(postgres_url) == [TABLE]


def test_table_of_previous_test_is_absent(postgres_url):
    assert TABLE not in _tables(postgres_url)
    assert _tables(postgres_url) == []


def test_earlier_databases_were_dropped(postgres_server, postgres_url):
    with psycopg.connect(postgres_server) as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}
    assert _dbname(postgres_url) in names
    assert _earlier_databases and not names & set(_earlier_databases)


def test_db_url_gives_both_backends(db_url, request):
    if request.node.callspec.params["db_url"] == "sqlite":
        assert db_url.endswith("trial.sqlite") and not os.path.exists(db_url)
    else:
        assert _dbname(db_url).startswith("t_")
        assert _tables(db_url) == []


def test_missing_binaries_give_a_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pg_server.glob, "glob", lambda pattern: [])
    with pytest.raises(pg_server.PostgresUnavailable, match="binaries not found"):
        pg_server.PostgresServer().start()


def test_failing_initdb_gives_a_reason():
    if os.geteuid() == 0:
        pwd = pytest.importorskip("pwd")
        try:
            pwd.getpwnam(pg_server.OS_USER)
        except KeyError:
            pytest.skip("root without a postgres OS user: the failure comes earlier, before initdb")
    # Not under tmp_path: pytest's base temp dir is private (0700) and, as root, the tools run
    # as the postgres user.
    bindir = Path(tempfile.mkdtemp(prefix="ioreview-fake-pg-"))
    try:
        bindir.chmod(0o755)
        for name in ("initdb", "pg_ctl"):
            tool = bindir / name
            tool.write_text("#!/bin/sh\necho 'initdb: error: simulated failure' >&2\nexit 1\n")
            tool.chmod(0o755)
        server = pg_server.PostgresServer(bindir=bindir)
        with pytest.raises(pg_server.PostgresUnavailable, match=r"(?s)initdb .* failed.*simulated failure"):
            server.start()
        assert server.root is None  # the server's temp dir was removed
    finally:
        shutil.rmtree(bindir, ignore_errors=True)
