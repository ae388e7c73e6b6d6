"""The PostgreSQL implementation of the store (psycopg 3), for several reading workstations.

The same portable statements as SQLite, with `?` placeholders translated to psycopg's `%s`.
Identity columns and `RETURNING id` give new ids; a transaction-scoped advisory lock around the
audit append keeps the hash chain one line while several workstations write.  Read-only units of
work run as `READ ONLY` transactions.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from .engine import DatabaseBusy, SqlBackend, StoreConflict, StoreError

__all__ = ["PostgresStore", "is_postgres_url"]

#: advisory lock key for the audit chain ("IORV" as an integer)
AUDIT_LOCK_KEY = 0x494F5256


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


@functools.lru_cache(maxsize=1024)
def _translate(sql: str) -> str:
    """`?` placeholders to `%s` (a literal `%` doubled); no statement here quotes a `?`."""
    return sql.replace("%", "%%").replace("?", "%s")


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


class PostgresStore(SqlBackend):
    """A trial database on a PostgreSQL server, named by a `postgresql://` URL."""

    dialect = "postgresql"

    def __init__(self, url: str, *, migrate: bool = True, connect_timeout_s: int = 10) -> None:
        super().__init__()
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise StoreError("PostgreSQL needs the psycopg package (pip install "
                             "'psycopg[binary]')") from exc
        self._psycopg = psycopg
        self.url = self.target = url
        self.location = _redact(url)
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout_s,
                                        application_name="ioreview")
        except psycopg.Error as exc:
            raise StoreError(f"{self.location}: cannot connect to the PostgreSQL server "
                             f"({str(exc).strip()})") from exc
        if migrate:
            self.migrate()

    def close(self) -> None:
        self.conn.close()

    def _table_exists(self, name: str) -> bool:
        with self._lock:
            return self.conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                                     (name,)).fetchone()[0]

    def _execute(self, sql: str, params: Sequence[Any]) -> Any:
        try:
            return self.conn.execute(_translate(sql), tuple(params))
        except self._psycopg.Error as exc:
            raise self._translate_error(exc) from exc

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            with self.conn.cursor() as cur:
                cur.executemany(_translate(sql), rows)
        except self._psycopg.Error as exc:
            raise self._translate_error(exc) from exc

    def _translate_error(self, exc: Exception) -> StoreError:
        errors = self._psycopg.errors
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, self._psycopg.IntegrityError):
            return StoreConflict(f"{self.location}: the change conflicts with the stored data "
                                 f"({text}); reload and try again")
        if isinstance(exc, (errors.LockNotAvailable, errors.DeadlockDetected,
                            errors.SerializationFailure)):
            return DatabaseBusy(f"{self.location}: the database is busy with another "
                                "workstation's change; try again")
        if isinstance(exc, self._psycopg.OperationalError) or self.conn.closed:
            return StoreError(f"{self.location}: the connection to the server failed ({text}); "
                              "check the server and start ioreview again")
        return StoreError(f"{self.location}: {text}")

    def _begin(self, write: bool) -> None:
        try:
            self.conn.execute("BEGIN" if write else "BEGIN READ ONLY")
        except self._psycopg.OperationalError as exc:
            raise StoreError(f"{self.location}: the connection to the server failed "
                             f"({str(exc).strip()})") from exc

    def _commit(self) -> None:
        try:
            self.conn.execute("COMMIT")
        except self._psycopg.Error as exc:
            raise self._translate_error(exc) from exc

    def _rollback(self) -> None:
        if not self.conn.closed:
            try:
                self.conn.execute("ROLLBACK")
            except self._psycopg.OperationalError:
                pass  # the connection is gone: the server rolled back

    def _lock_audit_chain(self, uow: Any) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK_KEY,))
