"""The only package that knows SQL: the storage port, its SQLite and PostgreSQL
implementations, migrations and the audit chain."""
from __future__ import annotations

from pathlib import Path

from .audit import AuditRecord, utc_now
from .engine import DatabaseBusy, ReadOnlyViolation, StoreConflict, StoreError, UnitOfWork
from .port import TrialStore
from .postgres import PostgresStore, is_postgres_url
from .sqlite import SQLiteStore

__all__ = ["AuditRecord", "DatabaseBusy", "PostgresStore", "ReadOnlyViolation", "SQLiteStore",
           "StoreConflict", "StoreError", "TrialStore", "UnitOfWork", "is_postgres_url",
           "open_store", "utc_now"]


def open_store(target: str | Path, *, migrate: bool = True) -> SQLiteStore | PostgresStore:
    """Open (creating and migrating if needed) the trial database named by `target`: a
    `postgresql://user@host:port/name` URL, or the path of a SQLite file."""
    if is_postgres_url(target):
        return PostgresStore(str(target), migrate=migrate)
    _create_private(target)
    return SQLiteStore(target, migrate=migrate)


def _create_private(target: str | Path) -> None:
    """A new SQLite file is created readable by its owner only (0600); SQLite gives its WAL
    and shared-memory files the database file's permissions."""
    import os

    if str(target) == ":memory:" or Path(target).exists():
        return
    try:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another process created it meanwhile
    except OSError:
        pass  # SQLiteStore reports what is wrong with the place
