"""The SQLite implementation of the store: one file through sqlite-utils, WAL, foreign keys on.

A write unit of work is `BEGIN IMMEDIATE` (SQLite has one writer, so the audit chain's
"read the last hash, then insert" is safe); a read-only one is a deferred `BEGIN`, which in WAL
mode never blocks and is never blocked by a writer.  One connection per store, shared by the
threads of one process under the engine's lock.

Waiting for the write lock is ours, not SQLite's: its busy handler sleeps ever longer (up to
100 ms) between attempts, so a writer that waits loses to writers that commit and begin again
back to back, and after the busy timeout a "database is locked" reached the user although no
transaction took long.  `_begin` instead tries again every millisecond or so, with jitter so
that waiting processes do not move in step, for as long as `write_wait_s`; only a database
held that long raises `DatabaseBusy`.

Commits are durable (`PRAGMA synchronous = FULL`: the WAL is synced at every commit), so a
signed read survives a power cut as well as a killed process; it costs one fsync per write
transaction (measured with benchmarks/bench_service.py, see the README).
"""
from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .engine import (ADJUDICATION_SIGNED_COLUMNS, PANEL_CASE_DECIDED_COLUMNS,
                     PROTECTED_MESSAGES, DatabaseBusy, ProtectedRecord, SqlBackend,
                     StoreConflict, StoreError, protected_message)

__all__ = ["SQLiteStore"]


def _refuse(message_key: str) -> str:
    return f"SELECT RAISE(ABORT, '{PROTECTED_MESSAGES[message_key]}');"


def _not_only_superseded(kept: Sequence[str]) -> str:
    """An UPDATE of a superseded row, or of a decided one that does more than mark it
    superseded (status, time) with the `kept` columns as they were."""
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in kept)
    return ("OLD.status = 'superseded' OR (OLD.status = 'decided' AND NOT ("
            f"NEW.status = 'superseded' AND NEW.superseded_at IS NOT NULL AND {unchanged}))")


_SIGNED_VERSION = ("EXISTS (SELECT 1 FROM signature_record s WHERE s.entity_kind = 'read'"
                   " AND s.entity_id = {row}.read_id AND s.version = {row}.version)")

#: name -> statement of the triggers that keep the audit trail, signatures and signed read
#: versions append-only (schema 7), and signed adjudications, committee votes and decisions and
#: export records (schema 10)
PROTECTIVE_TRIGGERS: dict[str, str] = {
    **{f"{table}_no_{op.lower()}": (
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table}"
        f" BEGIN {_refuse(what)} END")
       for table, what in (("audit", "audit"), ("audit_seal", "audit_seal"),
                           ("signature_record", "signature"), ("signature", "signature"))
       for op in ("UPDATE", "DELETE")},
    **{f"{table}_signed_{op.lower()}": (
        f"CREATE TRIGGER IF NOT EXISTS {table}_signed_{op.lower()} BEFORE {op} ON {table}"
        f" WHEN {_SIGNED_VERSION.format(row='NEW' if op == 'INSERT' else 'OLD')}"
        f" BEGIN {_refuse('read_version')} END")
       for table in ("read_value", "annotation", "key_image")
       for op in ("INSERT", "UPDATE", "DELETE")},
    "review_read_locked_update": (
        "CREATE TRIGGER IF NOT EXISTS review_read_locked_update BEFORE UPDATE ON review_read"
        " WHEN OLD.status = 'submitted' AND (NEW.status <> 'submitted'"
        " OR NEW.version < OLD.version OR NEW.assignment_id <> OLD.assignment_id"
        " OR NEW.protocol_version_id <> OLD.protocol_version_id"
        " OR NEW.submitted_at IS NOT OLD.submitted_at)"
        f" BEGIN {_refuse('locked_read')} END"),
    "review_read_locked_delete": (
        "CREATE TRIGGER IF NOT EXISTS review_read_locked_delete BEFORE DELETE ON review_read"
        f" WHEN OLD.status = 'submitted' BEGIN {_refuse('locked_read')} END"),
    # schema 10: signed adjudications, committee votes and decisions, export records
    **{f"{table}_no_{op.lower()}": (
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table}"
        f" BEGIN {_refuse(what)} END")
       for table, what in (("panel_ballot", "committee"), ("panel_vote", "committee"),
                           ("export_record", "export"))
       for op in ("UPDATE", "DELETE")},
    # a decided adjudication may only be marked superseded (an amendment reopened the case)
    "adjudication_signed_update": (
        "CREATE TRIGGER IF NOT EXISTS adjudication_signed_update BEFORE UPDATE ON adjudication"
        f" WHEN {_not_only_superseded(ADJUDICATION_SIGNED_COLUMNS)}"
        f" BEGIN {_refuse('adjudication')} END"),
    "adjudication_signed_delete": (
        "CREATE TRIGGER IF NOT EXISTS adjudication_signed_delete BEFORE DELETE ON adjudication"
        f" WHEN OLD.status <> 'pending' BEGIN {_refuse('adjudication')} END"),
    **{f"adjudication_decision_signed_{op.lower()}": (
        f"CREATE TRIGGER IF NOT EXISTS adjudication_decision_signed_{op.lower()} BEFORE {op}"
        " ON adjudication_decision WHEN EXISTS (SELECT 1 FROM adjudication a WHERE a.id ="
        f" {'NEW' if op == 'INSERT' else 'OLD'}.adjudication_id AND a.status <> 'pending')"
        f" BEGIN {_refuse('adjudication')} END")
       for op in ("INSERT", "UPDATE", "DELETE")},
    "panel_session_closed_update": (
        "CREATE TRIGGER IF NOT EXISTS panel_session_closed_update BEFORE UPDATE ON panel_session"
        f" WHEN OLD.status = 'closed' BEGIN {_refuse('committee')} END"),
    "panel_session_closed_delete": (
        "CREATE TRIGGER IF NOT EXISTS panel_session_closed_delete BEFORE DELETE ON panel_session"
        f" WHEN OLD.status = 'closed' BEGIN {_refuse('committee')} END"),
    **{f"panel_result_closed_{op.lower()}": (
        f"CREATE TRIGGER IF NOT EXISTS panel_result_closed_{op.lower()} BEFORE {op}"
        " ON panel_result WHEN EXISTS (SELECT 1 FROM panel_session p WHERE p.id ="
        f" {'NEW' if op == 'INSERT' else 'OLD'}.session_id AND p.status = 'closed')"
        f" BEGIN {_refuse('committee')} END")
       for op in ("INSERT", "UPDATE", "DELETE")},
    # a decided committee case may only be marked superseded
    "panel_case_decided_update": (
        "CREATE TRIGGER IF NOT EXISTS panel_case_decided_update BEFORE UPDATE ON panel_case"
        f" WHEN {_not_only_superseded(PANEL_CASE_DECIDED_COLUMNS)}"
        f" BEGIN {_refuse('committee')} END"),
    "panel_case_decided_delete": (
        "CREATE TRIGGER IF NOT EXISTS panel_case_decided_delete BEFORE DELETE ON panel_case"
        f" WHEN OLD.status <> 'open' BEGIN {_refuse('committee')} END"),
}


class _Cursor:
    """A cursor whose fetches raise the store's errors, as its statement does: SQLite reads a
    page, and finds it damaged, only when a row on it is fetched (`audit verify` on a damaged
    file raised sqlite3's DatabaseError from `fetchall`).  Anything else (`description`,
    `rowcount`, `lastrowid`) is the cursor's own."""

    __slots__ = ("_cursor", "_translate")

    def __init__(self, cursor: sqlite3.Cursor,
                 translate: Callable[[sqlite3.Error], StoreError]) -> None:
        self._cursor = cursor
        self._translate = translate

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def _fetch(self, fetch: Callable[..., Any], *args: Any) -> Any:
        try:
            return fetch(*args)
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    def fetchone(self) -> Any:
        return self._fetch(self._cursor.fetchone)

    def fetchall(self) -> list[Any]:
        return self._fetch(self._cursor.fetchall)  # type: ignore[no-any-return]

    def fetchmany(self, size: int = 1) -> list[Any]:
        return self._fetch(self._cursor.fetchmany, size)  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[Any]:
        while rows := self.fetchmany(256):
            yield from rows


class SQLiteStore(SqlBackend):
    """A trial database in one SQLite file."""

    dialect = "sqlite"
    #: PRAGMA synchronous: FULL syncs the WAL at every commit (signatures are never lost)
    synchronous = "FULL"

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000,
                 migrate: bool = True, write_wait_s: float = 120.0) -> None:
        super().__init__()
        self.write_wait_s = float(write_wait_s)
        self._busy_timeout_ms = int(busy_timeout_ms)
        self.path = Path(path)
        self.location = self.target = str(path)
        memory = str(path) == ":memory:"
        if not memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                                   timeout=busy_timeout_ms / 1000)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if not memory:
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a usable ioreview database ({exc})") from exc
        self.conn = conn
        if migrate:
            self.migrate()

    @property
    def default_archive_root(self) -> Path | None:
        if self.location == ":memory:":
            return None
        return self.path.resolve().parent / "archive"

    def close(self) -> None:
        self._close_anchor()
        self.conn.close()

    @property
    def db(self) -> Any:
        """A sqlite-utils view of the connection (for tests and tools; imported on first use:
        it brings pandas, ~1 s of start-up no command needs)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    def _table_exists(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                 (name,)).fetchone() is not None

    # -- statements -----------------------------------------------------------------------------
    def _execute(self, sql: str, params: Sequence[Any]) -> Any:
        try:
            return _Cursor(self.conn.execute(sql, tuple(params)), self._translate_error)
        except sqlite3.Error as exc:
            raise self._translate_error(exc) from exc

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self.conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise self._translate_error(exc) from exc

    def _translate_error(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        protected = protected_message(text)
        if protected is not None:
            return ProtectedRecord(f"{self.path}: refused: {protected}.")
        if isinstance(exc, sqlite3.IntegrityError):
            return StoreConflict(f"{self.path}: the change conflicts with the stored data "
                                 f"({text}); reload and try again")
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return DatabaseBusy(f"{self.path}: another process is writing to this database; "
                                "try again in a moment")
        if type(exc) is sqlite3.DatabaseError:  # "file is not a database", "malformed"
            return StoreError(f"{self.path}: the database file is damaged or not an ioreview "
                              f"database ({text}); restore it from a backup")
        return StoreError(f"{self.path}: {text}")

    def _begin(self, write: bool) -> None:
        if not write:
            try:
                self.conn.execute("BEGIN")
            except sqlite3.OperationalError as exc:
                raise self._translate_error(exc) from exc
            return
        # our own wait for the write lock (see the module docstring): SQLite's busy handler
        # off while we poll, back on for the statements of the transaction
        self.conn.execute("PRAGMA busy_timeout = 0")
        try:
            self._wait_for_write_lock()
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")

    def _wait_for_write_lock(self) -> None:
        start = time.monotonic()
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise StoreError(f"{self.path}: cannot start a transaction ({exc})") from exc
                waited = time.monotonic() - start
                if waited > self.write_wait_s:
                    raise DatabaseBusy(
                        f"{self.path}: another process has held this database for more than "
                        f"{self.write_wait_s:.0f} s; check that no ioreview process is stuck, "
                        "then try again") from exc
            # ~1 ms apart with jitter: a waiting writer meets the gap between another
            # process's back-to-back transactions, and waiters do not retry in step
            time.sleep(random.uniform(0.0002, 0.0015))

    def _commit(self) -> None:
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._translate_error(exc) from exc

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                raise self._translate_error(exc) from exc

    # -- tamper evidence -------------------------------------------------------------------------
    def _protect_records(self, uow: Any) -> None:
        for statement in PROTECTIVE_TRIGGERS.values():
            uow.execute(statement)

    def missing_protections(self) -> list[str]:
        if not self._table_exists("audit_seal"):
            return []
        with self._lock:
            present = {n for (n,) in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()}
        return sorted(set(PROTECTIVE_TRIGGERS) - present)

    # -- backup ---------------------------------------------------------------------------------
    def backup_to(self, path: Path) -> tuple[int, str]:
        """Copy the database into the new file `path` with SQLite's online backup API, in one
        read transaction, and return the audit trail's (length, head) of that copy."""
        with self.unit_of_work("system", write=False) as uow:
            last = uow.tuples("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            target = sqlite3.connect(str(path))
            try:
                self.conn.backup(target)
            except sqlite3.Error as exc:
                raise self._translate_error(exc) from exc
            finally:
                target.close()
        return (int(last[0][0]), last[0][1]) if last else (0, "0" * 64)

    def is_empty(self) -> bool:
        """No trial in this database yet (no audit trail)."""
        return not self._table_exists("audit")

    # -- store-internal conveniences (tests of this backend) -------------------------------------
    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        with self.unit_of_work("system", write=False) as uow:
            return uow.rows(sql, params)

    def scalar(self, sql: str, params: Any = ()) -> Any:
        with self.unit_of_work("system", write=False) as uow:
            return uow.scalar(sql, params)
